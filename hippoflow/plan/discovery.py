"""Discovery: the sessions of the selected subjects and days of the raw tree.

Inputs: the folders ``<data_root>/<subject>/<day>/<session>/`` and their .ns5/.nev files
(only .ns5 headers and a .nev's first bytes are read).  Outputs: :class:`Session` records
with their files, channels and problems, and warnings for folders that are skipped.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from hippoflow.errors import InputError
from hippoflow.naming import DAY_RE, SESSION_RE, SUBJECT_RE
from hippoflow.plan.channels import session_channels, unknown_channels
from hippoflow.plan.files import ignored_warnings, nev_version, not_recordings, readable


@dataclass
class Session:
    subject: str
    day: str
    name: str
    path: Path
    nev: list[Path] = field(default_factory=list)
    ns5: list[Path] = field(default_factory=list)
    channels: list[tuple[str, str]] = field(default_factory=list)  # (array "01", channel "001")
    available: list[tuple[str, str]] = field(default_factory=list)  # every electrode of the header
    problems: dict[str, str] = field(default_factory=dict)  # key -> message
    ns5_version: tuple[int, int] | None = None  # file spec of the .ns5 header, when read
    nev_version: tuple[int, int] | None = None  # file spec of the .nev, when it starts NEURALEV

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subject, self.day, self.name)

    @property
    def rel(self) -> str:
        return f"{self.subject}/{self.day}/{self.name}"


def _dirs(parent: Path, pattern: str) -> list[Path]:
    rx = re.compile(pattern)
    return [p for p in _subdirs(parent) if rx.fullmatch(p.name)]


def _subdirs(parent: Path) -> list[Path]:
    try:
        return sorted(p for p in parent.iterdir() if p.is_dir())
    except OSError:  # not a directory, or not listable (reported by the caller's checks)
        return []


def _selected(name: str, selection) -> bool:
    return selection in (None, "all") or name in [str(s) for s in selection]


LOOKS_LIKE_DAY = r"[0-9]{4}[-_. ][0-9]{2}[-_. ][0-9]{2}|[0-9]{2}[-_. ][0-9]{2}[-_. ][0-9]{4}"
LOOKS_LIKE_SESSION = r"(?i)session.*"


def misnamed_dirs(parent: Path, pattern: str, looks_like: str) -> list[Path]:
    """Sub-folders of ``parent`` that look like ``looks_like`` but do not match ``pattern``."""
    rx, like = re.compile(pattern), re.compile(looks_like)
    return [p for p in _subdirs(parent) if like.fullmatch(p.name) and not rx.fullmatch(p.name)]


def dangling_dirs(parent: Path, pattern: str, looks_like: str = "") -> list[Path]:
    """Entries of ``parent`` named like a folder of this level (``pattern`` or
    ``looks_like``) that are symbolic links to nothing: skipped, with a warning."""
    rxs = [re.compile(x) for x in (pattern, looks_like) if x]
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return []
    return [
        p
        for p in entries
        if any(rx.fullmatch(p.name) for rx in rxs) and p.is_symlink() and not p.exists()
    ]


def _dangling_warning(p: Path, level: str) -> str:
    return f"{p}: {level} folder skipped: a symbolic link to {os.readlink(p)}, which does not exist"


def discover(
    data_root, subjects="all", days="all", channels="all", warnings: list[str] | None = None
) -> list[Session]:
    """All sessions of the selected subjects and days, with their channels.

    ``warnings`` (when given) collects the folders skipped because their names look like a
    day or a session but do not match the level patterns, and the files ignored because
    they are not recordings (:func:`hippoflow.plan.files.not_recordings`)."""
    root = Path(data_root)
    if not root.is_dir():
        raise InputError(f"{root}: data_root does not exist or is not a directory")
    warnings = [] if warnings is None else warnings
    sessions = []
    warnings += [_dangling_warning(p, "subject") for p in dangling_dirs(root, SUBJECT_RE)]
    for subject_dir in _dirs(root, SUBJECT_RE):
        if not _selected(subject_dir.name, subjects):
            continue
        warnings += [
            _dangling_warning(p, "day")
            for p in dangling_dirs(subject_dir, DAY_RE, LOOKS_LIKE_DAY)
            if _selected(p.name, days)
        ]
        for p in misnamed_dirs(subject_dir, DAY_RE, LOOKS_LIKE_DAY):
            warnings.append(
                f"{p}: folder skipped: looks like a day but day folders are named by digits "
                f"only (pattern {DAY_RE}, e.g. 20181106)"
            )
        for day_dir in _dirs(subject_dir, DAY_RE):
            if not _selected(day_dir.name, days):
                continue
            for p in misnamed_dirs(day_dir, SESSION_RE, LOOKS_LIKE_SESSION):
                warnings.append(
                    f"{p}: folder skipped: looks like a session but session folders are "
                    f"named session01, session02, ..., sessioneye (pattern {SESSION_RE})"
                )
            warnings += [
                _dangling_warning(p, "session")
                for p in dangling_dirs(day_dir, SESSION_RE, LOOKS_LIKE_SESSION)
            ]
            day_sessions = []
            for session_dir in _dirs(day_dir, SESSION_RE):
                s = Session(subject_dir.name, day_dir.name, session_dir.name, session_dir)
                ignored: dict[Path, str] = {}
                nev, ns5 = (
                    not_recordings(sorted(session_dir.glob(f"*{ext}")), ignored)
                    for ext in (".nev", ".ns5")
                )
                warnings += ignored_warnings(ignored)
                s.nev = readable(nev, "nev_file", s.problems)
                s.ns5 = readable(ns5, "ns5_file", s.problems)
                if s.ns5:
                    session_channels(s, channels)
                if len(s.nev) == 1:
                    _nev_version(s)
                day_sessions.append(s)
            unknown_channels(day_sessions, channels)
            sessions.extend(day_sessions)
    return sessions


def _nev_version(s: Session) -> None:
    """Read the .nev's file spec; check it against the .ns5's (the pair check, at planning:
    a mismatch fails a job of its own, the split and the markers are still made)."""
    try:
        s.nev_version = nev_version(s.nev[0])
    except OSError as exc:
        s.problems["nev_file"] = f"{s.nev[0]}: cannot be read ({exc.strerror or exc})"
        s.nev = []
        return
    if s.nev_version and s.ns5_version and s.nev_version != s.ns5_version:
        a, b = s.nev_version
        c, d = s.ns5_version
        s.problems["pair"] = (
            f"{s.nev[0]}: file spec {a}.{b} differs from {s.ns5[0].name} (spec {c}.{d}): the "
            "pair does not come from one recording (the split of the .ns5 and the markers "
            "of the .nev are still made: check that the two files belong together)"
        )
