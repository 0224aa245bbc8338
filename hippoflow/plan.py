"""Planning: what the raw tree holds and which jobs the workflow derives from it.

Inputs: the raw tree ``<data_root>/<subject>/<day>/<session>/`` (only ``.ns5`` headers are
read, plus directory listings for ``.nev``, Unity logs and EyeLink files) and the config's
selections. Outputs: a :class:`Plan` with the session table, channel sets, each day-channel's
sessions, the problems found while planning, and the target paths of every domain, relative
to the output root.

Used at workflow parse time, which every cluster job repeats, so nothing here reads signal
data.  Nothing in the raw tree's content stops planning: problems (a dangling symlink, a file
that is not a readable regular file, an unreadable header, two .ns5 files, a .nev/.ns5 pair
of different file specs, an unknown channel, a missing or extra Unity log, a selected day or
subject that does not exist) are recorded, not raised: the workflow turns each into a failing
job of its own (``rules/problems.smk``), and the jobs that do not need the file are still
planned.  Gaps that may be deliberate (a session without .nev or .ns5, folders that look like
days or sessions but do not match the level patterns) are :attr:`Plan.warnings`, shown when
planning and in the run summary (:mod:`hippoflow.summary`).
``rules/common.smk`` only wraps this module for Snakemake.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hippoflow.behaviour.unity import find_logs
from hippoflow.errors import InputError
from hippoflow.naming import (
    BINDATA_NAME,
    DAY_RE,
    EDFSPLIT_NAME,
    EYELINK_NAME,
    GAZE_CSV_NAME,
    RPLPARALLEL_NAME,
    SESSION_RE,
    SUBJECT_RE,
    UNITY_ARGS,
    UNITY_NAME,
    is_fixation,
    session_order,
)
from hippoflow.ripple import nsx
from hippoflow.ripple.nev import NEV_ID

EYE_SUFFIXES = (".edf", ".asc")
FIXATION_FILE_PREFIX = "P"  # PyHipp's CalibFileNameChar: P<n>_<m>.edf is the fixation session
PROBLEM_PREFIX = ".hippoflow-problem-"

log = logging.getLogger(__name__)
# PyHipp's Waveform reads a day-channel's templates here (relative to the day; no array level)
WAVEFORM_TEMPLATES = "mountains/channel{channel}/output/templates.hkl"


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


def file_problem(path) -> str | None:
    """Why a raw file cannot be read (a dangling symlink, not a regular file, no read
    permission), or None.  Reads nothing but the file's metadata (a FIFO is never opened)."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return f"dangling symbolic link (to {os.readlink(path)}, which does not exist)"
        return "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(st.st_mode):
        kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"))
        kind = next((k for test, k in kinds if test(st.st_mode)), "a special file")
        return f"not a regular file ({kind})"
    if not os.access(path, os.R_OK):
        return "not readable (permission denied)"
    return None


def _file_key(prefix: str, path: Path) -> str:
    """A problem key naming a file (it becomes part of a file name)."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9._-]', '_', path.name)}"


def _readable(paths: list[Path], prefix: str, problems: dict[str, str]) -> list[Path]:
    """The paths that are readable regular files; each other one becomes a problem."""
    good = []
    for p in paths:
        why = file_problem(p)
        if why is None:
            good.append(p)
        else:
            problems[_file_key(prefix, p)] = f"{p}: {why}"
    return good


def nev_version(path) -> tuple[int, int] | None:
    """File spec of a .nev from its first 10 bytes; None when it does not start NEURALEV
    (the rplparallel job then says what the file is)."""
    with open(path, "rb") as f:
        head = f.read(10)
    if len(head) < 10 or not head.startswith(NEV_ID):
        return None
    return head[8], head[9]


def _selected(name: str, selection) -> bool:
    return selection in (None, "all") or name in [str(s) for s in selection]


def header_channels(ns5: Path, header: nsx.NsxHeader | None = None) -> list[tuple[str, str]]:
    """(array, channel) pairs of the electrodes of an .ns5 header, in file order.

    Channel: the electrode id, written with at least 3 digits (``001``, ``033``, ``1000``).

    Array: from the physical-connector byte of the electrodes, with PyHipp's directories as
    the reference. The rule: **a file in which any electrode is on connector 0 is 0-based
    and array = connector + 1** (the lab's Ripple files: channels 1-32 on connector 0 are
    ``array01``, 33-64 on connector 1 ``array02``, as PyHipp's ``connector_ID + 1`` made
    them); **otherwise the file is 1-based and array = connector** (Blackrock's numbering,
    bank A = 1 = ``array01``). neo reports the byte unchanged in every version, so this rule
    is applied here. Only electrodes decide: an analog input's connector does not.

    Channels that are not electrodes (analog inputs, units that are not a voltage: see
    :func:`hippoflow.ripple.nsx.non_electrode_reason`) are not returned (no job splits
    them) and are listed in one log line.
    """
    header = header or nsx.read_nsx_header(ns5)
    electrodes = header.electrodes()
    skipped = header.non_electrodes()
    if skipped:
        log.info(
            "%s: %d channel(s) not electrodes, not split: %s",
            ns5,
            len(skipped),
            nsx.describe_channels(skipped),
        )
    zero_based = any(ch.bank == 0 for ch in electrodes)
    if not zero_based and electrodes and _looks_ripple(header):
        log.warning(
            "%s: a Ripple-style file (analog inputs from id %d) with no electrode on "
            "connector 0: its connectors are taken as 1-based (array = connector; lowest "
            "connector %d)",
            ns5,
            nsx.ANALOG_INPUT_FIRST_ID,
            min(ch.bank for ch in electrodes),
        )
    shift = 1 if zero_based else 0
    return [(f"{ch.bank + shift:02d}", f"{ch.electrode_id:03d}") for ch in electrodes]


def _looks_ripple(header: nsx.NsxHeader) -> bool:
    """Ripple's NIP numbers analog inputs from 10241 (Blackrock right after its electrodes)."""
    return any(ch.electrode_id >= nsx.ANALOG_INPUT_FIRST_ID for ch in header.channels)


# Folder names that look like a day (8 digits with separators: 2018-11-06, 2018_11_06) or a
# session (Session02, session_03, session 4) but do not match the level patterns
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
    day or a session but do not match the level patterns."""
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
                s.nev = _readable(sorted(session_dir.glob("*.nev")), "nev_file", s.problems)
                s.ns5 = _readable(sorted(session_dir.glob("*.ns5")), "ns5_file", s.problems)
                if s.ns5:
                    _session_channels(s, channels)
                if len(s.nev) == 1:
                    _nev_version(s)
                day_sessions.append(s)
            _unknown_channels(day_sessions, channels)
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


def _session_channels(s: Session, selection) -> None:
    if len(s.ns5) > 1:
        names = ", ".join(p.name for p in s.ns5)
        s.problems["ns5_count"] = (
            f"{s.path}: expected exactly one .ns5 per session, found {len(s.ns5)}: {names}"
        )
        return
    try:
        header = nsx.read_nsx_header(s.ns5[0])
        available = header_channels(s.ns5[0], header)
    except InputError as exc:
        s.problems["ns5_header"] = str(exc)
        return
    except Exception as exc:  # noqa: BLE001 - no header content may stop planning
        s.problems["ns5_header"] = (
            f"{s.ns5[0]}: header cannot be read ({type(exc).__name__}: {exc})"
        )
        return
    s.ns5_version = header.version
    ids = [int(c) for _, c in available]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        s.problems["ns5_header"] = (
            f"{s.ns5[0]}: electrode id(s) {', '.join(map(str, twice))} listed more than once "
            "in the header: which column holds which electrode is ambiguous"
        )
        return
    s.available = available
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
        available.update(int(c) for _, c in s.available)
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


def eyelink_files(day_dir) -> tuple[list[Path], list[Path]]:
    """(navigation files, fixation files) of a day: ``*.edf``/``*.asc`` in the day folder,
    fixation files being those whose name starts with ``P`` (PyHipp's CalibFileNameChar).
    When both an ``.edf`` and its ``.asc`` export exist, the ``.edf`` is used."""
    day_dir = Path(day_dir)
    if not day_dir.is_dir():
        return [], []
    files = sorted(p for p in day_dir.iterdir() if p.is_file() and p.suffix.lower() in EYE_SUFFIXES)
    stems = {p.stem for p in files if p.suffix.lower() == ".edf"}
    files = [p for p in files if p.suffix.lower() == ".edf" or p.stem not in stems]
    fixation = [p for p in files if p.name.startswith(FIXATION_FILE_PREFIX)]
    navigation = [p for p in files if not p.name.startswith(FIXATION_FILE_PREFIX)]
    return navigation, fixation


# ----------------------------------------------------------------------------- the plan
SessionKey = tuple[str, str, str]  # (subject, day, session)
DayKey = tuple[str, str]  # (subject, day)
# where a problem is reported: a session, a day, a subject, or () for the whole run
Where = tuple[str, ...]


@dataclass
class Plan:
    """Everything the rules need to know about the selected part of the raw tree."""

    sessions: list[Session]
    unity_logs: dict[SessionKey, list[Path]]
    eye_files: dict[DayKey, tuple[list[Path], list[Path]]]
    problems: dict[tuple[Where, str], str]
    eyelink: bool = True  # config behaviour.eyelink: make EyeLink objects and the raycast
    nwb: bool = True  # config nwb.enabled: an NWB file per session
    warnings: list[str] = field(default_factory=list)  # skipped, may be deliberate

    def __post_init__(self):
        self.by_key = {s.key: s for s in self.sessions}
        self.day_sessions: dict[DayKey, list[str]] = {}
        for s in self.sessions:
            self.day_sessions.setdefault((s.subject, s.day), []).append(s.name)
        # one split rule per distinct channel set (normally one): its outputs are listed
        self.channel_sets: dict[tuple, list[str]] = {}
        for s in self.neural_sessions():
            self.channel_sets.setdefault(tuple(s.channels), []).append(s.rel)
        # (subject, day) -> {(array, channel): sessions holding it, in session order}
        self.day_channels: dict[DayKey, dict[tuple[str, str], list[str]]] = {}
        for s in self.neural_sessions():
            for ac in s.channels:
                self.day_channels.setdefault((s.subject, s.day), {}).setdefault(ac, []).append(
                    s.name
                )
        for chans in self.day_channels.values():
            for ac in chans:
                chans[ac] = session_order(chans[ac])
        # (subject, day, channel) -> arrays holding it (one, unless sessions disagree)
        self.channel_arrays: dict[tuple[str, str, str], list[str]] = {}
        for (subject, day), chans in self.day_channels.items():
            for a, c in sorted(chans):
                self.channel_arrays.setdefault((subject, day, c), []).append(a)
        for (subject, day, c), arrays in self.channel_arrays.items():
            if len(arrays) > 1:
                first = session_order(
                    {s for a in arrays for s in self.day_channels[(subject, day)][(a, c)]}
                )[0]
                self.problems[((subject, day, first), f"channel{c}_arrays")] = (
                    f"{subject}/{day}: channel {c} is in arrays "
                    + ", ".join(
                        f"array{a} ({', '.join(self.day_channels[(subject, day)][(a, c)])})"
                        for a in arrays
                    )
                    + f": the sessions' .ns5 headers disagree on its bank; its templates file "
                    f"{WAVEFORM_TEMPLATES.format(channel=c)} has no array level"
                )

    # ---- session kinds
    def neural_sessions(self) -> list[Session]:
        """Sessions whose single .ns5 header was read: they get split/filter jobs."""
        return [s for s in self.sessions if s.channels]

    def marker_sessions(self) -> list[Session]:
        """Sessions with exactly one .nev: they get rplparallel (and qc_trials)."""
        return [s for s in self.sessions if len(s.nev) == 1]

    def unity_sessions(self) -> list[Session]:
        """Sessions with one .nev and one Unity log: unity + align_unity."""
        return [s for s in self.marker_sessions() if len(self.unity_logs[s.key]) == 1]

    def eyelink_sessions(self) -> list[Session]:
        """Sessions with one .nev whose EyeLink object is made (navigation and sessioneye)."""
        if not self.eyelink:
            return []
        return [
            s
            for s in self.marker_sessions()
            if is_fixation(s.name) or len(self.unity_logs[s.key]) == 1
        ]

    # ---- per-job inputs
    def ns5(self, key: SessionKey) -> list[str]:
        return [str(p) for p in self.by_key[key].ns5]

    def nev(self, key: SessionKey) -> list[str]:
        return [str(p) for p in self.by_key[key].nev]

    def _paired(self, s: Session) -> bool:
        """One .nev and one .ns5 whose file specs were read and agree."""
        return s.nev_version is not None and s.nev_version == s.ns5_version

    def pair_ns5(self, key: SessionKey) -> list[str]:
        """The .ns5 rplparallel reads beside its .nev: only a readable header of the same file
        spec (a bad .ns5 does not stop the session's markers and behaviour)."""
        s = self.by_key[key]
        return [str(s.ns5[0])] if self._paired(s) else []

    def pair_nev(self, key: SessionKey) -> list[str]:
        """The .nev rplsplit checks beside its .ns5: only one whose file spec was read and
        agrees (a bad .nev does not stop the split of a good .ns5)."""
        s = self.by_key[key]
        return [str(s.nev[0])] if self._paired(s) else []

    def channels(self, key: SessionKey) -> list[tuple[str, str]]:
        return self.by_key[key].channels

    def sort_sessions(self, day: DayKey, array: str, channel: str) -> list[str]:
        return self.day_channels[day][(array, channel)]

    def channel_array(self, day: DayKey, channel: str) -> str:
        """The array of a day's channel (for its templates file, which names no array)."""
        arrays = self.channel_arrays.get((*day, channel), [])
        if len(arrays) != 1:
            raise InputError(
                f"{'/'.join(day)}: channel {channel} is in {len(arrays)} arrays "
                f"({', '.join(arrays) or 'none'}), expected one"
            )
        return arrays[0]

    def navigation_eye_files(self, day: DayKey) -> list[str]:
        return [str(p) for p in self.eye_files.get(day, ([], []))[0]]

    def fixation_eye_files(self, day: DayKey) -> list[str]:
        return [str(p) for p in self.eye_files.get(day, ([], []))[1]]

    def raw_files(self) -> list[str]:
        """Every readable raw .ns5/.nev of the plan (the provenance page lists their digests)."""
        return sorted({str(p) for s in self.sessions for p in s.ns5 + s.nev})

    # ---- targets (paths relative to the output root)
    def problem_targets(self) -> list[str]:
        return list(self.problem_messages())

    def problem_messages(self) -> dict[str, str]:
        """Target (relative to the output root) -> message of every planning problem."""
        return {
            "".join(f"{part}/" for part in where) + PROBLEM_PREFIX + name: msg
            for (where, name), msg in self.problems.items()
        }

    def problem_message(self, target: str) -> str:
        """The message of a problem target (``rules/problems.smk``)."""
        return self.problem_messages()[target]

    def ripple_targets(self, lfp_name: str, highpass_name: str) -> list[str]:
        targets = []
        for s in self.sessions:
            if len(s.nev) == 1:
                targets.append(f"{s.rel}/{RPLPARALLEL_NAME}")
            for array, channel in s.channels:
                base = f"{s.rel}/array{array}/channel{channel}/"
                targets += [base + lfp_name, base + highpass_name]
        return targets

    def sorting_targets(self) -> list[str]:
        targets = []
        for (subject, day), chans in self.day_channels.items():
            for a, c in sorted(chans):
                base = f"{subject}/{day}/sort/array{a}/channel{c}"
                targets += [f"{base}/cells.tsv", f"{base}/qc_sort.png"]
                if len(self.channel_arrays[(subject, day, c)]) == 1:
                    templates = WAVEFORM_TEMPLATES.format(channel=c)
                    targets.append(f"{subject}/{day}/{templates}")
            targets.append(f"{subject}/{day}/sort/metrics.html")
        return targets

    def qc_targets(self) -> list[str]:
        targets = []
        for s in self.sessions:
            if len(s.nev) == 1:
                targets.append(f"{s.rel}/qc_trials.png")
            if s.channels:
                targets.append(f"{s.rel}/qc_lfp_spectrum.png")
        return targets

    def behaviour_targets(self) -> list[str]:
        targets = [f"{s.rel}/{UNITY_NAME}" for s in self.unity_sessions()]
        eye = self.eyelink_sessions()
        targets += [f"{s.rel}/{EYELINK_NAME}" for s in eye]
        targets += [
            f"{s.rel}/{name}"
            for s in eye
            if not is_fixation(s.name)
            for name in (BINDATA_NAME, GAZE_CSV_NAME)
        ]
        return targets

    def report_targets(self) -> list[str]:
        return ["provenance.html"] if self.sessions else []

    def edfsplit_path(self, day: DayKey) -> str:
        return f"{day[0]}/{day[1]}/{EDFSPLIT_NAME}"

    def sort_left_out(self, day: DayKey, array: str, channel: str) -> dict[str, str]:
        """Sessions of the day that a day-channel's sort goes without, each with the reason
        (in session order): no .ns5, an .ns5 with a planning problem (its problem's message),
        or a header without this channel.  The sort runs on :meth:`sort_sessions`."""
        used = set(self.day_channels.get(day, {}).get((array, channel), []))
        out = {}
        for name in session_order(self.day_sessions.get(day, [])):
            if name in used:
                continue
            s = self.by_key[(*day, name)]
            ns5_problems = [m for k, m in s.problems.items() if k.startswith("ns5")]
            if not s.ns5:
                out[name] = f"{s.path}: no .ns5 file"
            elif ns5_problems:
                out[name] = "; ".join(ns5_problems)
            else:
                out[name] = f"{s.ns5[0]}: no electrode {int(channel)} on array{array} in its header"
        return out

    def nwb_targets(self) -> list[str]:
        """``<session>/<subject>_<day>_<session>.nwb`` of every session with one .nev (its
        trials), when nwb.enabled."""
        if not self.nwb:
            return []
        return [f"{s.rel}/{s.subject}_{s.day}_{s.name}.nwb" for s in self.marker_sessions()]


def selection(config: Mapping, key: str):
    """A config selection (``subjects``, ``days``, ``channels``): "all" or a list of names
    (channel numbers as ints)."""
    value = config.get(key, "all")
    if value == "all":
        return value
    return [int(v) if key == "channels" else str(v) for v in value]


UNITY_GLOB = f"{UNITY_ARGS['DirName']}/{UNITY_ARGS['FileName']}.txt"  # RawData*/session*.txt


def make_plan(config: Mapping) -> Plan:
    """The plan for a validated config (``data_root``, selections, ``behaviour.eyelink``)."""
    data_root = str(config["data_root"])
    warnings: list[str] = []
    subjects, days = selection(config, "subjects"), selection(config, "days")
    sessions = discover(data_root, subjects, days, selection(config, "channels"), warnings)
    eyelink = bool((config.get("behaviour") or {}).get("eyelink", True))
    problems = {(s.key, k): msg for s in sessions for k, msg in s.problems.items()}
    problems.update(_missing_selections(data_root, sessions, subjects, days))
    for s in sessions:
        if len(s.nev) > 1:
            problems[(s.key, "nev_count")] = (
                f"{s.path}: expected one .nev per session, found {len(s.nev)}: "
                + ", ".join(p.name for p in s.nev)
            )
    unity_logs = {}
    for s in sessions:
        found = sorted(s.path.glob(UNITY_GLOB))
        bad: dict[str, str] = {}
        _readable(found, "unity_log", bad)
        problems.update(((s.key, k), m) for k, m in bad.items())
        unity_logs[s.key] = logs = [p for p in find_logs(s.path) if file_problem(p) is None]
        if len(logs) > 1:
            problems[(s.key, "unity_logs")] = (
                f"{s.path}: expected one Unity log ({UNITY_GLOB}), found "
                f"{len(logs)}: " + ", ".join(str(p.relative_to(s.path)) for p in logs)
            )
        elif not logs and not bad and len(s.nev) == 1 and not is_fixation(s.name):
            made = "unity, eyelink and raycast outputs" if eyelink else "unity object"
            problems[(s.key, "unity_log_missing")] = (
                f"{s.path}: no Unity log ({UNITY_GLOB}): the session's {made} are not made"
            )
        warnings += _session_gaps(s)
    eye_files = {}
    for s in sessions:
        day = (s.subject, s.day)
        if day not in eye_files:
            eye_files[day] = eyelink_files(s.path.parent)
            bad = {}
            _readable(_eye_entries(s.path.parent), "eye_file", bad)
            problems.update(((day, k), m) for k, m in bad.items())
    nwb = bool((config.get("nwb") or {}).get("enabled", True))
    return Plan(
        sessions, unity_logs, eye_files, problems, eyelink=eyelink, nwb=nwb, warnings=warnings
    )


def _eye_entries(day_dir: Path) -> list[Path]:
    """Every entry of a day folder named like an EyeLink file (also dangling symlinks)."""
    try:
        return sorted(p for p in day_dir.iterdir() if p.suffix.lower() in EYE_SUFFIXES)
    except OSError:
        return []


def _session_gaps(s: Session) -> list[str]:
    """Warnings for a session folder without a .nev or .ns5 (nothing broken: maybe meant)."""
    bad = {k for k in s.problems if k.startswith(("nev_file", "ns5_file"))}
    if s.nev or s.ns5 or bad:
        out = []
        if not s.nev and not any(k.startswith("nev_file") for k in bad):
            out.append(
                f"{s.path}: no .nev file: the session's markers (rplparallel), trial QC and "
                "behaviour outputs are not made"
            )
        if not s.ns5 and not any(k.startswith("ns5_file") for k in bad):
            out.append(f"{s.path}: no .ns5 file: no channel of the session is split or sorted")
        return out
    return [f"{s.path}: session folder without .nev or .ns5 file: skipped"]


def _missing_selections(data_root, sessions, subjects, days) -> dict:
    """A subject or day named in the config's selection that no session has: a problem of
    the run (it would otherwise be skipped without a word)."""
    problems = {}
    for key, wanted, have in (
        ("subjects", subjects, {s.subject for s in sessions}),
        ("days", days, {s.day for s in sessions}),
    ):
        if wanted in (None, "all"):
            continue
        for name in wanted:
            if name not in have:
                problems[((), f"{key}_{_file_key('', Path(name))[1:]}")] = (
                    f"{data_root}: {key} selection names {name!r}, but no "
                    f"{key[:-1]} folder of that name with session folders was found "
                    f"(pattern {SUBJECT_RE if key == 'subjects' else DAY_RE})"
                )
    return problems


# ----------------------------------------------------------------------------- resources
def _size(paths) -> int:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p))


def mem_for(paths, factor=1.0, base=600, each=False) -> int:
    """Memory (MB) for a job: base + factor x total input size (``each``: x the largest
    input's size, for a job that handles its inputs one at a time).

    The base covers the job's own Snakemake (~160 MB on a cluster node) plus the script's
    interpreter and libraries (~150 MB): 300 MB was killed by Slurm's limit at 322 MB.
    """
    if each:
        paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        size = max((_size(p) for p in paths), default=0)
    else:
        size = _size(paths)
    return int(base + factor * size / 1e6)


def runtime_for(paths, minutes_per_gb=5.0, base=10) -> int:
    """Runtime (minutes) for a job from its input size."""
    return int(base + minutes_per_gb * _size(paths) / 1e9)
