"""Slurm sizing: each job's memory and runtime, from the size of its inputs or, for inputs
that do not exist yet when the job is submitted, from the ``.ns5`` headers.

Inputs: the paths of a job's input files (only their sizes are read), or a session's
``.ns5`` (only its headers are read).  Outputs: megabytes and minutes for the rules'
``resources``.  The node-local day group (docs/node-local.md) is submitted before its split
and high-pass files exist, and its members run side by side under a memory limit computed
from their requests: their sizes come from the headers, the same at submission and inside the
job.
"""

from __future__ import annotations

import functools
import os

from hippoflow.ripple import nsx

#: bytes per sample of a split, high-pass or LFP file (float32)
SAMPLE_BYTES = 4


def _size(paths) -> int:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p))


def mem_mb(megabytes: float, factor=1.0, base=600) -> int:
    """Memory (MB) for a job: base + factor x the megabytes it handles.

    The base covers the job's own Snakemake (~160 MB on a cluster node) plus the script's
    interpreter and libraries (~150 MB): 300 MB was killed by Slurm's limit at 322 MB.
    """
    return int(base + factor * megabytes)


def runtime_min(megabytes: float, minutes_per_gb=5.0, base=10) -> int:
    """Runtime (minutes) for a job: base + minutes_per_gb x the gigabytes it handles."""
    return int(base + minutes_per_gb * megabytes / 1e3)


def mem_for(paths, factor=1.0, base=600, each=False) -> int:
    """:func:`mem_mb` of a job's input files (``each``: of the largest input's size, for a
    job that handles its inputs one at a time)."""
    if each:
        paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        size = max((_size(p) for p in paths), default=0)
    else:
        size = _size(paths)
    return mem_mb(size / 1e6, factor, base)


def runtime_for(paths, minutes_per_gb=5.0, base=10) -> int:
    """:func:`runtime_min` of a job's input files."""
    return runtime_min(_size(paths) / 1e6, minutes_per_gb, base)


@functools.cache
def recording(ns5) -> tuple[int, float]:
    """(samples per channel over all data blocks, sampling rate) of an ``.ns5``, from its
    basic header and data-block headers (no sample is read)."""
    header = nsx.read_nsx_header(ns5)
    return sum(b.n_samples for b in nsx.nsx_data_blocks(header)), float(header.sampling_rate)


def channel_mb(ns5, rate: float | None = None) -> float:
    """Megabytes of one channel's float32 file made from an ``.ns5`` (split and high-pass at
    the file's rate; ``rate``: resampled, e.g. the LFP at 1000 Hz)."""
    n, fs = recording(ns5)
    return SAMPLE_BYTES * n * (1.0 if rate is None else rate / fs) / 1e6
