"""Slurm sizing: each job's memory and runtime from the size of its inputs.

Inputs: the paths of a job's input files (only their sizes are read).  Outputs: megabytes
and minutes for the rules' ``resources``.
"""

from __future__ import annotations

import os


def _size(paths) -> int:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p))


def mem_for(paths, factor=1.0, base=600, each=False) -> int:
    """Memory (MB) for a job: base + factor x total input size (``each``: x the largest
    input's size, for a job that handles its inputs one at a time).

    The base covers the job's own Snakemake (~160 MB on a cluster node) plus the script's
    interpreter and libraries (~150 MB): 300 MB was killed by Slurm's limit at 322 MB.
    """
    if each:
        paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        size = max((_size(p) for p in paths), default=0)
    else:
        size = _size(paths)
    return int(base + factor * size / 1e6)


def runtime_for(paths, minutes_per_gb=5.0, base=10) -> int:
    """Runtime (minutes) for a job from its input size."""
    return int(base + minutes_per_gb * _size(paths) / 1e9)
