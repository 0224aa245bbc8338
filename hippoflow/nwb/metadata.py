"""The file's metadata: session start time from the recording header, subject, lab fields.

Inputs: the session's ``.ns5`` (or, without one, its ``.nev``): only the header's time origin
is read (a SYSTEMTIME in UTC: bytes 294-309 of an NSx 2.2/2.3/3.0 header, 28-43 of a NEV
header); the ``nwb`` config section (species, sex, age, subject description, institution,
lab, experimenter).  Output: an empty :class:`pynwb.NWBFile` for the session.

Every time in the file is on the Ripple clock of the session's recording, whose zero is the
header's time origin: LFP sample k at k / rate, RPLParallel's ``timeStamps``, spike times
(sample / 30 kHz) and the aligned Unity and EyeLink times as the workflow stores them.
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Mapping
from pathlib import Path

from pynwb import NWBFile
from pynwb.file import Subject

from hippoflow.errors import InputError
from hippoflow.naming import is_fixation

# offset of the 16-byte SYSTEMTIME time origin in each header kind
_ORIGIN_OFFSET = {b"NEURALCD": 294, b"BRSMPGRP": 294, b"NEURALEV": 28, b"BREVENTS": 28}

TASK_NAVIGATION = (
    "virtual-maze navigation task (Unity): navigate to the cued poster; trial start, cue "
    "offset and end (or timeout) are parallel-port markers"
)
TASK_FIXATION = (
    "eye-tracker calibration (fixation) task; trial start, reward and end are parallel-port markers"
)


def recording_start(path) -> _dt.datetime:
    """The time origin of an ``.ns5``/``.nev`` header (UTC, millisecond precision)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(310)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    offset = _ORIGIN_OFFSET.get(head[:8])
    if offset is None:
        raise InputError(f"{path}: not an NSx/NEV file (starts with {head[:8]!r})")
    if len(head) < offset + 16:
        raise InputError(f"{path}: header too short for its time origin")
    year, month, _dow, day, hour, minute, second, ms = struct.unpack_from("<8H", head, offset)
    try:
        return _dt.datetime(year, month, day, hour, minute, second, ms * 1000, tzinfo=_dt.UTC)
    except ValueError as exc:
        raise InputError(
            f"{path}: header time origin {year:04d}-{month:02d}-{day:02d} "
            f"{hour:02d}:{minute:02d}:{second:02d} is not a date ({exc})"
        ) from exc


def session_description(session: str) -> str:
    task = TASK_FIXATION if is_fixation(session) else TASK_NAVIGATION
    return f"{session}: {task}"


def subject(subject_id: str, cfg: Mapping) -> Subject:
    return Subject(
        subject_id=subject_id,
        species=cfg["species"],
        sex=cfg["sex"],
        age=cfg["age"],
        description=cfg["subject_description"] or None,
    )


def make_file(
    subject_id: str, day: str, session: str, start: _dt.datetime, cfg: Mapping, identifier: str
) -> NWBFile:
    """The session's NWBFile with its metadata (no data yet)."""
    kw = {}
    for key in ("institution", "lab"):
        if cfg.get(key):
            kw[key] = cfg[key]
    if cfg.get("experimenter"):
        kw["experimenter"] = list(cfg["experimenter"])
    return NWBFile(
        session_description=session_description(session),
        identifier=identifier,
        session_start_time=start,
        timestamps_reference_time=start,
        session_id=f"{subject_id}_{day}_{session}",
        experiment_description=(
            "Ripple neural recordings with EyeLink eye tracking and Unity virtual-maze "
            "behaviour, processed by the hippoflow workflow"
        ),
        subject=subject(subject_id, cfg),
        **kw,
    )
