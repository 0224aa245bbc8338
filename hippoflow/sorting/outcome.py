"""A day-channel sort that failed on its data, and what the workflow does with it
(docs/design/failed-sorts.md).

When the sorter runs past its time limit or ends with an error of its own, the ``sort`` step
still writes its object: no unit, and ``failed`` (:data:`FAILED`), the cause.  So the jobs
after it run: the curation gives no cell and passes ``failed`` on, and each session's NWB
file is written without that channel's units, saying so.  The failure is not hidden:

- the day's ``sort_outcome`` job (:func:`sort_outcome`) fails naming each failed
  day-channel and its cause (a non-zero exit, a line in the run summary);
- the failed sort object is dated 1970-01-01 (:func:`mark_for_redo`, by the curation and by
  ``sort_outcome``, after Snakemake has touched it at the end of the sort), older than its
  inputs: the next run redoes the sort, and with it the curation, the NWB files and
  everything else made from it, from any working directory.

Inputs: sort or curated objects (DPT ``.hkl``).  Outputs: the day's outcome table
(``<day>/sort/outcome.tsv``: array, channel, sessions, units, outcome).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hippoflow import dpt
from hippoflow.atomic import write_text

#: the key of a sort (and curated) object naming why the sorting failed
FAILED = "failed"
#: the modification time a failed sort object is given (ns since the epoch: 1970-01-01)
REDO_MTIME_NS = 0


def mark_for_redo(sort_path) -> None:
    """Date a failed sort object 1970-01-01: older than its inputs, so Snakemake redoes the
    sort at the next run (its own touch at the end of the job cannot be undone earlier)."""
    st = os.stat(sort_path)
    if st.st_mtime_ns != REDO_MTIME_NS:
        os.utime(sort_path, ns=(st.st_atime_ns, REDO_MTIME_NS))


def _label(path) -> tuple[str, str]:
    m = re.search(r"array(\d+)/channel(\d+)/", str(path))
    return (m.group(1), m.group(2)) if m else ("?", str(path))


def sort_outcome(curated_paths, out_path, subject: str, day: str, log) -> None:
    """The day's sort outcomes: the table ``out_path`` when every day-channel was sorted;
    otherwise each failed sort is marked for redo and the job ends with
    ``hippoflow: sort failed: ...`` naming each failed day-channel and its cause."""
    rows, failed = ["array\tchannel\tsessions\tunits\toutcome"], []
    for path in curated_paths:
        obj = dpt.load_object(path)
        array, channel = _label(path)
        cause = obj.get(FAILED)
        if cause:
            sort_file = obj.get("sort_file")
            if sort_file and Path(sort_file).exists():
                mark_for_redo(sort_file)
            named = f"array{array} channel{channel}" in str(cause)  # the sort's label names it
            failed.append(
                str(cause) if named else f"{subject} {day} array{array} channel{channel}: {cause}"
            )
        rows.append(
            f"{array}\t{channel}\t{len(obj['sessions'])}\t{len(obj['cells'])}\t"
            + (f"failed: {cause}" if cause else "sorted")
        )
    if failed:
        said = (
            f"sort failed: {len(failed)} of {len(rows) - 1} day-channel sort(s) of {subject} "
            f"{day}: " + "; ".join(failed) + " (the sessions' NWB files are written without "
            "these units; the next run redoes these sorts)"
        )
        log.error("%s", said)  # one line: the run summary's cause of this job
        raise SystemExit(f"hippoflow: {said}")
    write_text(out_path, "\n".join(rows) + "\n")
    log.info("%d day-channel sorts, none failed", len(rows) - 1)
