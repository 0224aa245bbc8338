"""Outputs made from a raw file that has changed since: found at planning from the split's
digest record (:mod:`hippoflow.digests`), by content.

Snakemake redoes a job only when an input is newer than its outputs.  A session folder
replaced by another one (``mv`` keeps modification times), or a file restored from an older
copy, can be older than the outputs made from the file it replaced: Snakemake would call
those outputs up to date.  The split wrote the ``.ns5``'s size, modification time and
SHA-256 beside the session's outputs; here each split session's record is compared with its
``.ns5`` as it is now:

- same size and modification time: the file the outputs were made from;
- the ``.ns5`` newer than its record: Snakemake redoes the split (and everything after it)
  by itself, which writes a new record;
- otherwise the content decides: another size, or another SHA-256 (the file is read once,
  only in this case), makes a problem of the session, whose failing job the session's
  split and markers wait on (nothing of the session runs, nothing old passes as current);
  the message says what changed and the command that redoes the session.  The same content
  with another modification time is a warning; the outputs are kept.

A damaged record is a problem of the session too, with the same way forward.

Inputs: the sessions, the output root.  Outputs: problems keyed ``(session key, name)`` and
warning lines.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from hippoflow.digests import ALGORITHM, NS5_RECORD, read_record, sha256_file
from hippoflow.errors import InputError
from hippoflow.naming import RPLPARALLEL_NAME
from hippoflow.plan.discovery import Session

PROBLEM_KEY = "ns5_changed"


def _when(ns: int) -> str:
    return _dt.datetime.fromtimestamp(ns / 1e9).isoformat(sep=" ", timespec="seconds")


def _redo(s: Session, where: Path, record: Path) -> str:
    stale = [str(record)]
    if len(s.nev) == 1:
        stale.append(str(where / RPLPARALLEL_NAME))
    return (
        f"to redo the session's outputs from the file as it is now: rm {' '.join(stale)} "
        "and run again (the split, markers and everything made from them are then redone)"
    )


def changed_raw(sessions: list[Session], output_root, problems: dict, warnings: list) -> None:
    """Add a problem for each split session whose ``.ns5`` is not the file its outputs were
    made from (and a warning for a new modification time of the same content)."""
    for s in sessions:
        if not s.channels:
            continue
        where = Path(output_root) / s.rel
        record_path = where / NS5_RECORD
        try:
            rec_stat = record_path.stat()
        except OSError:
            continue  # no record: the split has not run (or is redone)
        ns5 = s.ns5[0]
        try:
            record = read_record(record_path)
            then = (int(record["size"]), int(record["mtime_ns"]))
        except (InputError, TypeError, ValueError) as exc:
            problems[(s.key, PROBLEM_KEY)] = (
                f"{record_path}: damaged digest record of {ns5} ({exc}): whether the "
                f"session's outputs were made from this file is unknown; {_redo(s, where, record_path)}"
            )
            continue
        st = ns5.stat()
        now = (st.st_size, st.st_mtime_ns)
        if now == then or st.st_mtime_ns > rec_stat.st_mtime_ns:
            continue  # the same file, or newer: Snakemake redoes the split itself
        was = f"it was {then[0]} bytes, modified {_when(then[1])}"
        if now[0] == then[0]:
            digest = sha256_file(ns5)
            if digest == record.get(ALGORITHM):
                warnings.append(
                    f"{ns5}: modified {_when(now[1])}, not {_when(then[1])} as when its "
                    f"outputs were made, but its content is the same ({ALGORITHM} "
                    f"{digest[:12]}...): the outputs are kept"
                )
                continue
            how = (
                f"{was}, {ALGORITHM} {str(record.get(ALGORITHM))[:12]}...; it is now "
                f"{now[0]} bytes, modified {_when(now[1])}, {ALGORITHM} {digest[:12]}..."
            )
        else:
            how = f"{was}; it is now {now[0]} bytes, modified {_when(now[1])}"
        problems[(s.key, PROBLEM_KEY)] = (
            f"{ns5}: not the file the session's outputs in {where} were made from ({how}; "
            f"record {record_path.name}): the split, LFP, markers, behaviour and NWB files of "
            f"the session and the day's sorts are of the old file and are not used; "
            + _redo(s, where, record_path)
        )
