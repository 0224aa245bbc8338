"""Find subjects, days, sessions and channels in a raw tree (fast: headers only).

Used at workflow parse time, which every cluster job repeats, so nothing here reads
signal data.  Problems found here (an unreadable header, two .ns5 files, an unknown
channel) are recorded, not raised: the workflow turns each into a failing job of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hippoflow.errors import InputError
from hippoflow.ripple import nsx as blackrock

SUBJECT_RE = r"[a-zA-Z]+"
DAY_RE = r"[0-9]+"
SESSION_RE = r"session[a-z0-9]+"
ARRAY_RE = r"[0-9]{2}"
CHANNEL_RE = r"[0-9]{3}"


@dataclass
class Session:
    subject: str
    day: str
    name: str
    path: Path
    nev: list[Path] = field(default_factory=list)
    ns5: list[Path] = field(default_factory=list)
    channels: list[tuple[str, str]] = field(default_factory=list)  # (array "01", channel "001")
    problems: dict[str, str] = field(default_factory=dict)  # key -> message

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subject, self.day, self.name)

    @property
    def rel(self) -> str:
        return f"{self.subject}/{self.day}/{self.name}"


def _dirs(parent: Path, pattern: str) -> list[Path]:
    rx = re.compile(pattern)
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and rx.fullmatch(p.name))


def _selected(name: str, selection) -> bool:
    return selection in (None, "all") or name in [str(s) for s in selection]


def header_channels(ns5: Path) -> list[tuple[str, str]]:
    """(array, channel) pairs from an .ns5 header; array = 1-based bank (connector)."""
    header = blackrock.read_nsx_header(ns5)
    pairs = []
    for ch in header.channels:
        if ch.bank < 1:
            raise InputError(
                f"{ns5}: electrode {ch.electrode_id} has bank {ch.bank} (expected 1-based)"
            )
        pairs.append((f"{ch.bank:02d}", f"{ch.electrode_id:03d}"))
    return pairs


def discover(data_root, subjects="all", days="all", channels="all") -> list[Session]:
    """All sessions of the selected subjects and days, with their channels."""
    root = Path(data_root)
    if not root.is_dir():
        raise InputError(f"{root}: data_root does not exist or is not a directory")
    sessions = []
    for subject_dir in _dirs(root, SUBJECT_RE):
        if not _selected(subject_dir.name, subjects):
            continue
        for day_dir in _dirs(subject_dir, DAY_RE):
            if not _selected(day_dir.name, days):
                continue
            day_sessions = []
            for session_dir in _dirs(day_dir, SESSION_RE):
                s = Session(subject_dir.name, day_dir.name, session_dir.name, session_dir)
                s.nev = sorted(session_dir.glob("*.nev"))
                s.ns5 = sorted(session_dir.glob("*.ns5"))
                if s.ns5:
                    _session_channels(s, channels)
                day_sessions.append(s)
            _unknown_channels(day_sessions, channels)
            sessions.extend(day_sessions)
    return sessions


def _session_channels(s: Session, selection) -> None:
    if len(s.ns5) > 1:
        names = ", ".join(p.name for p in s.ns5)
        s.problems["ns5_count"] = (
            f"{s.path}: expected exactly one .ns5 per session, found {len(s.ns5)}: {names}"
        )
        return
    try:
        available = header_channels(s.ns5[0])
    except InputError as exc:
        s.problems["ns5_header"] = str(exc)
        return
    if selection in (None, "all"):
        s.channels = available
        return
    wanted = {int(n) for n in selection}
    s.channels = [(a, c) for a, c in available if int(c) in wanted]


def _unknown_channels(day_sessions: list[Session], selection) -> None:
    """A requested channel in no session header of the day fails a job of its own.

    (A channel present in only some sessions is fine: those sessions provide it.)
    """
    if selection in (None, "all"):
        return
    with_header = [s for s in day_sessions if len(s.ns5) == 1 and not s.problems]
    if not with_header:
        return
    have = set()
    for s in with_header:
        have.update(int(c) for _, c in s.channels)
    available = set()
    for s in with_header:
        available.update(int(c) for _, c in header_channels(s.ns5[0]))
    for number in selection:
        if int(number) not in have:
            first = with_header[0]
            first.problems[f"channel{int(number):03d}"] = (
                f"{first.ns5[0]}: channel {number} from config 'channels' is in no .ns5 header "
                f"of {first.subject}/{first.day} (they list {len(available)} channels: "
                f"{_ranges(sorted(available))})"
            )


def _ranges(numbers: list[int]) -> str:
    if not numbers:
        return "none"
    parts, start, prev = [], numbers[0], numbers[0]
    for n in numbers[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}-{prev}" if prev != start else f"{start}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)
