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

from hippoflow.digests import (
    ALGORITHM,
    EYELINK_RECORD,
    NEV_RECORD,
    NS5_RECORD,
    UNITY_RECORD,
    read_record,
    sha256_file,
)
from hippoflow.errors import InputError
from hippoflow.naming import (
    EDFSPLIT_NAME,
    EYELINK_NAME,
    FIXATION_SESSION,
    RPLPARALLEL_NAME,
    UNITY_NAME,
    is_fixation,
)
from hippoflow.plan.discovery import Session

PROBLEM_KEY = "ns5_changed"
#: the problems of the other raw files (their records: hippoflow.digests), and the jobs that
#: wait on each: rplparallel (the .nev), unity (the Unity log), edfsplit (the day's
#: navigation EyeLink file, a problem of the day), eyelink of sessioneye (the fixation file)
NEV_KEY = "nev_changed"
UNITY_KEY = "unity_changed"
EYE_NAVIGATION_KEY = "eye_navigation_changed"
EYE_FIXATION_KEY = "eye_fixation_changed"
#: a day's problem of a session folder gone from the raw tree whose data the day's sorts hold
GONE_PREFIX = "session_gone_"


def _when(ns: int) -> str:
    return _dt.datetime.fromtimestamp(ns / 1e9).isoformat(sep=" ", timespec="seconds")


def _redo(s: Session, where: Path, record: Path) -> str:
    """The command that redoes the session: its record (the split is then redone) and its
    markers, and, for a navigation session, the day's EDFSplit object (split by the day's
    navigation sessions as they were), when they exist."""
    stale = [record]
    if len(s.nev) == 1:
        stale.append(where / RPLPARALLEL_NAME)
    if not is_fixation(s.name):
        stale.append(where.parent / EDFSPLIT_NAME)
    names = " ".join(str(p) for p in stale[:1] + [p for p in stale[1:] if p.exists()])
    return (
        f"to redo the session's outputs from the file as it is now: rm {names} and run "
        "again (the split, markers and everything made from them are then redone)"
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
                    f"{digest[:12]}...): the outputs are kept (the file is read again at "
                    "every run until `python -m hippoflow.digests --refresh --data-root "
                    f"{s.path.parents[2]} --output-root {output_root}` records its new time)"
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


def _refresh_hint(output_root) -> str:
    return (
        "(the file is read again at every run until `python -m hippoflow.digests --refresh "
        f"--data-root <data_root> --output-root {output_root}` records its new time)"
    )


def compare(raw: Path, record_path: Path) -> tuple[str, str] | None:
    """How ``raw`` differs from the file its record describes: None (no record, the same
    size and modification time, or newer than the record: Snakemake redoes its reader by
    itself); ``("damaged", why)``; ``("same", how)`` (the same content under another
    modification time: read once, only when the sizes are equal); ``("changed", how)``."""
    try:
        rec_stat = record_path.stat()
    except OSError:
        return None
    try:
        record = read_record(record_path)
        then = (int(record["size"]), int(record["mtime_ns"]))
    except (InputError, TypeError, ValueError) as exc:
        return ("damaged", str(exc))
    try:
        st = raw.stat()
    except OSError:
        return None  # gone: no job reads it now
    now = (st.st_size, st.st_mtime_ns)
    if now == then or st.st_mtime_ns > rec_stat.st_mtime_ns:
        return None
    was = f"it was {then[0]} bytes, modified {_when(then[1])}"
    if now[0] != then[0]:
        return ("changed", f"{was}; it is now {now[0]} bytes, modified {_when(now[1])}")
    digest = sha256_file(raw)
    if digest == record.get(ALGORITHM):
        return (
            "same",
            f"modified {_when(now[1])}, not {_when(then[1])} as when its outputs were made, "
            f"but its content is the same ({ALGORITHM} {digest[:12]}...)",
        )
    return (
        "changed",
        f"{was}, {ALGORITHM} {str(record.get(ALGORITHM))[:12]}...; it is now {now[0]} bytes, "
        f"modified {_when(now[1])}, {ALGORITHM} {digest[:12]}...",
    )


def _other_files(sessions: list[Session], logs: dict, eyes: dict, output_root):
    """(problem key, raw file, record, what is made from it, files to remove to redo it) of
    every .nev, Unity log and EyeLink file that one of its readers recorded."""
    out = Path(output_root)
    days, navigation = {}, {}
    for s in sessions:
        where = out / s.rel
        days.setdefault((s.subject, s.day), where.parent)
        if not is_fixation(s.name):
            navigation.setdefault((s.subject, s.day), []).append(where / EYELINK_NAME)
        if len(s.nev) == 1:
            yield (
                (s.key, NEV_KEY),
                s.nev[0],
                where / NEV_RECORD,
                "the session's markers and the behaviour, trial QC and NWB files made from them",
                [where / RPLPARALLEL_NAME],
            )
        if len(logs.get(s.key, [])) == 1:
            yield (
                (s.key, UNITY_KEY),
                Path(logs[s.key][0]),
                where / UNITY_RECORD,
                "the session's Unity objects, raycast and NWB file",
                [where / UNITY_NAME],
            )
    for day, where in days.items():
        nav, fix = eyes.get(day, ([], []))
        if len(nav) == 1:
            yield (
                (day, EYE_NAVIGATION_KEY),
                Path(nav[0]),
                where / EYELINK_RECORD,
                "the day's EDFSplit object and the navigation sessions' EyeLink objects, "
                "raycast and NWB files",
                [where / EDFSPLIT_NAME, *navigation.get(day, [])],
            )
        if len(fix) == 1:
            eye = where / FIXATION_SESSION
            yield (
                ((*day, FIXATION_SESSION), EYE_FIXATION_KEY),
                Path(fix[0]),
                eye / EYELINK_RECORD,
                "sessioneye's EyeLink object and NWB file",
                [eye / EYELINK_NAME],
            )


def changed_other(
    sessions: list[Session], logs: dict, eyes: dict, output_root, problems: dict, warnings: list
) -> None:
    """As :func:`changed_raw`, for the .nev, Unity log and EyeLink files: a problem for each
    that is not the file its reader's outputs were made from (its reader waits on it), a
    warning for a new modification time of the same content.  Checked only while one of
    those outputs is left (else Snakemake redoes them, writing a new record), and a .nev
    only when its session's .ns5 did not change (then that problem says it all)."""
    out = Path(output_root)
    for key, raw, record, made, stale in _other_files(sessions, logs, eyes, output_root):
        if not any(p.exists() for p in stale):
            continue  # nothing made from it is left: Snakemake redoes it, with a new record
        if key[1] == NEV_KEY and (key[0], PROBLEM_KEY) in problems:
            continue  # the session's .ns5 changed too (a replaced folder): one problem
        if key[1] in (UNITY_KEY, EYE_FIXATION_KEY) and (
            any((key[0], k) in problems for k in (PROBLEM_KEY, NEV_KEY))
            or not (out / "/".join(key[0]) / RPLPARALLEL_NAME).exists()
        ):
            continue  # the session's markers are redone, and with them this file's reader
        found = compare(raw, record)
        if found is None:
            continue
        kind, how = found
        if kind == "same":
            warnings.append(f"{raw}: {how}: the outputs are kept {_refresh_hint(output_root)}")
            continue
        names = " ".join(str(p) for p in [record] + [p for p in stale if p.exists()])
        redo = (
            f"to redo them from the file as it is now: rm {names} and run again (they and "
            "everything made from them are then redone)"
        )
        if kind == "damaged":
            problems[key] = (
                f"{record}: damaged digest record of {raw} ({how}): whether {made} were made "
                f"from this file is unknown; {redo}"
            )
        else:
            problems[key] = (
                f"{raw}: not the file {made} were made from ({how}; record {record}): they "
                f"are of the old file and are not used; {redo}"
            )


def gone_sessions(sessions: list[Session], data_root, output_root, problems, warnings) -> None:
    """Output folders of sessions whose raw folder no longer exists (deleted, or renamed),
    in the days planned: a warning naming each; when the session was split and a sort of
    its day still holds its data, a problem of the day that the day's sorts wait on."""
    out, data = Path(output_root), Path(data_root)
    by_day: dict = {}
    for s in sessions:
        by_day.setdefault((s.subject, s.day), set()).add(s.name)
    for (subject, day), names in sorted(by_day.items()):
        here = out / subject / day
        try:
            found = sorted(p for p in here.iterdir() if p.name.startswith("session"))
        except OSError:
            continue
        for where in found:
            if where.name in names or (data / subject / day / where.name).exists():
                continue
            if not where.is_dir() or not any(
                (where / n).exists() for n in (NS5_RECORD, NEV_RECORD, RPLPARALLEL_NAME)
            ):
                continue
            raw = data / subject / day / where.name
            holders = (
                _sorts_holding(here / "sort", where.name) if (where / NS5_RECORD).exists() else []
            )
            if holders:
                problems[((subject, day), GONE_PREFIX + where.name)] = (
                    f"{raw}: session folder gone from the raw tree (deleted or renamed), but "
                    f"{len(holders)} sort(s) of the day hold its data (e.g. {holders[0]}): "
                    "the day's sorts, cells and NWB files are not redone from them; to redo "
                    f"the day's sorts without it: rm -r {where} {here / 'sort'} and run again"
                )
            warnings.append(
                f"{where}: outputs of session {where.name}, whose raw folder {raw} no longer "
                "exists (deleted or renamed): they are made from no recording now and are not "
                f"updated (rm -r {where} if the session was deleted)"
            )


def _sorts_holding(sort_dir: Path, session: str) -> list[Path]:
    """The day's sort objects whose ``sessions`` list ``session`` (only that list is read,
    with h5py, in the rare days that have a gone session)."""
    import h5py

    def text(item) -> str:
        value = item[()]
        if hasattr(value, "ravel") and value.dtype.kind == "S":  # hickle: one char per cell
            return b"".join(value.ravel()).decode()
        return value.decode() if isinstance(value, bytes) else str(value)

    out = []
    for path in sorted(sort_dir.glob("array*/channel*/mountainsort_*.hkl")):
        try:
            with h5py.File(path, "r") as f:
                node = f["data"]['"sessions"']
                names = [text(node[k]) for k in node] if isinstance(node, h5py.Group) else []
        except (OSError, KeyError):
            continue
        if session in names:
            out.append(path)
    return out
