"""Write outputs atomically: a temporary name beside the target, renamed only on success.

A job that fails or is killed never leaves a complete-looking output behind.  A job killed
outright (SIGKILL, a node lost) cannot remove its temporary file: the next write of the same
output removes it (:func:`remove_leftovers`; Snakemake runs one job per output at a time and
the output tree's lock one run per tree), with a warning in the job's log.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


def tmp_path(path) -> Path:
    """Hidden temporary name beside ``path`` that keeps its extension (``.x.tmp123.png``)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")


def remove_leftovers(path) -> list[Path]:
    """Remove the temporary files of earlier writes of ``path`` (``.x.tmp<pid>.ext`` of
    another pid: writers that were killed); returns them."""
    path = Path(path)
    rx = re.compile(rf"\.{re.escape(path.stem)}\.tmp(\d+){re.escape(path.suffix)}")
    mine = tmp_path(path).name
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for p in entries:
        if p.name != mine and rx.fullmatch(p.name) and p.is_file():
            p.unlink(missing_ok=True)
            log.warning("%s: temporary file of an earlier write that did not finish removed", p)
            removed.append(p)
    return removed


@contextmanager
def atomic_output(path) -> Iterator[Path]:
    """``with atomic_output(p) as tmp:`` write ``tmp``; it becomes ``p`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
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
