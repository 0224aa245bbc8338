"""Node-local scratch space for a job's temporary files (never beside its outputs).

Inputs: the ``scratch_dir`` config key (``null`` = ``$TMPDIR``, else the system's temporary
directory; ``$VARS`` and ``~`` are expanded on the node that runs the job). Outputs: a
directory that exists, for ``tempfile`` to create the job's own files in.  On a cluster the
scratch directory is the compute node's local disk, so a job's temporary bytes never cross the
shared storage that holds the inputs and outputs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def scratch_root(configured: str | os.PathLike | None = None) -> Path:
    """The directory for a job's temporary files: ``configured`` (env vars and ``~``
    expanded), else ``$TMPDIR``, else the system's temporary directory; created if missing."""
    if configured not in (None, ""):
        root = Path(os.path.expandvars(os.path.expanduser(str(configured))))
    else:
        root = Path(tempfile.gettempdir())  # honours $TMPDIR
    root.mkdir(parents=True, exist_ok=True)
    return root
