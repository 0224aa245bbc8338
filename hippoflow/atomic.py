"""Write outputs atomically: a temporary name beside the target, renamed only on success.

A job that fails or is killed never leaves a complete-looking output behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def tmp_path(path) -> Path:
    """Hidden temporary name beside ``path`` that keeps its extension (``.x.tmp123.png``)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")


@contextmanager
def atomic_output(path) -> Iterator[Path]:
    """``with atomic_output(p) as tmp:`` write ``tmp``; it becomes ``p`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text)
