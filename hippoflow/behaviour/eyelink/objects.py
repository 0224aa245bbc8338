"""EyeLink recordings: reading (.edf / .asc, by content), EDFSplit and the Eyelink object.

Formats
    * SR Research binary ``.edf`` (starts with ``SR_RESEARCH``): read through the edfapi
      library bundled in ``eyelinkio``, with its *low-level* calls so that sample, event and
      message times stay absolute tracker times in ms (``eyelinkio.read_edf`` rebases time to
      zero and squeezes recording gaps: not used here).  The library crashes (SIGSEGV) on some
      corrupt files, so by default it runs in a child process and a crash becomes an
      :class:`~hippoflow.errors.InputError`.
    * EyeLink ASCII ``.asc`` (``edf2asc`` output, and what :mod:`hippoflow.synth.eyelink`
      writes): parsed natively.
    * European Data Format files (start with ``0`` and seven spaces; confirmed with pyedflib)
      are not EyeLink recordings and are rejected with a message saying so.

Messages keep their text exactly as recorded (surrounding whitespace stripped).  Trial
messages may carry an EyeLink time offset (``MSG 1000 -5 Start Trial 13`` means 1005 ms);
that is interpreted only for the named navigation messages and ``Trigger Version 84``.
The fixation task's ``1  0  0  0  0  0  0  0`` style messages are matched by their whole
8-digit pattern and never read as an offset.
"""

from __future__ import annotations

import array
import csv
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hippoflow.atomic import atomic_output
from hippoflow.errors import InputError

SCREEN = (1920, 1080)
MESSAGE_TYPE = 24  # edfapi MESSAGEEVENT: the "Type" column of missingData.csv
TRIGGER_TEXT = "Trigger Version 84"
MISSING_CSV_COLUMNS = ["Type", "Timestamps", "Messages", "Session", "Trial", "Event"]

_KINDS = {"Start Trial": 0, "Cue Offset": 1, "End Trial": 2, "Timeout": 2}
_TRIAL_RE = re.compile(r"^(?:(-?\d+)\s+)?(Start Trial|Cue Offset|End Trial|Timeout)\s+(\d+)$")
_TRIGGER_RE = re.compile(r"^(?:(-?\d+)\s+)?Trigger Version 84$")
_EIGHT_RE = re.compile(r"^[0-9](?:\s+[0-9]){7}$")
_FIX_START_RE = re.compile(r"^1(?:\s+0){7}$")
_EDF_MISSING = 1e8 - 1  # edfapi writes 1e8 for missing float sample data


@dataclass
class Recording:
    """One EyeLink recording (a whole file, or one navigation session of it).

    Times are absolute tracker times in ms.  ``gx``, ``gy`` (pixels, NaN when missing) and
    ``pupil`` are the left eye's (the right eye's in a right-eye-only recording).
    ``fixations`` is float64 (n, 4): start, end, mean gx, mean gy; ``saccades`` and
    ``blinks`` are int64 (n, 2): start, end (``end`` is the event's last sample, as the
    tracker reports it).  ``blocks`` are the recording blocks (START time, END time).
    ``file_start_ms`` is the first sample time of the whole file (PyHipp's ``expTime``),
    kept by :func:`split_navigation`; ``session_index``/``n_sessions`` say which navigation
    session this is; ``bounds`` are the [T_k, T_k+1) limits used by the split.
    """

    path: str
    samples_time: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    pupil: np.ndarray
    sampling_rate: float
    messages: list[tuple[int, str]]
    fixations: np.ndarray
    saccades: np.ndarray
    blinks: np.ndarray
    blocks: list[tuple[int, int]]
    eye: str = "left"
    format: str = ""
    header: list[str] = field(default_factory=list)
    file_start_ms: int | None = None
    session_index: int = 0
    n_sessions: int = 1
    bounds: tuple[float, float] = (-np.inf, np.inf)

    def __post_init__(self):
        if self.file_start_ms is None and len(self.samples_time):
            self.file_start_ms = int(self.samples_time[0])

    @property
    def label(self) -> str:
        """The file, plus the navigation session when this is one of several."""
        if self.n_sessions > 1 or self.session_index:
            return f"{self.path} (navigation session {self.session_index + 1} of {self.n_sessions})"
        return str(self.path)


# ---------------------------------------------------------------------------------------
# Sniffing


def sniff(path) -> str:
    """The kind of file by content: 'eyelink-edf', 'eyelink-asc' or 'european-edf'.

    Anything else raises InputError naming the file and showing its first bytes.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{path}: empty file, not an EyeLink recording")
    if head.startswith(b"SR_RESEARCH"):
        return "eyelink-edf"
    if head.startswith(b"0       "):
        try:
            import pyedflib

            reader = pyedflib.EdfReader(str(path))
            reader.close()
        except Exception as exc:  # noqa: BLE001 - any pyedflib failure means "not readable"
            raise InputError(
                f"{path}: starts like a European Data Format (EDF) file but pyedflib cannot "
                f"read it ({exc}); it is not an EyeLink recording either"
            ) from None
        return "european-edf"
    if b"\x00" not in head:
        text = head.decode("latin-1")
        for line in text.splitlines()[:5000]:
            if re.match(r"^(\*\*|MSG\s|START\s|END\s|SAMPLES\s|EVENTS\s|SFIX\s|EFIX\s)", line):
                return "eyelink-asc"
    raise InputError(
        f"{path}: not an EyeLink recording (a binary .edf starts with b'SR_RESEARCH', an "
        f".asc is edf2asc text with '**', MSG and START lines); its first bytes are "
        f"{head[:24]!r}"
    )


def read_recording(path, *, isolate: bool = True) -> Recording:
    """Read an EyeLink recording, deciding the format by content (not by extension).

    ``isolate`` runs the SR Research library in a child process so that a corrupt .edf that
    crashes it gives an InputError instead of killing the caller.
    """
    kind = sniff(path)
    if kind == "eyelink-edf":
        return _read_edf(Path(path), isolate=isolate)
    if kind == "eyelink-asc":
        return _read_asc(Path(path))
    labels = _european_labels(path)
    raise InputError(
        f"{path}: is a European Data Format (EDF/EDF+) file (signals: {labels}), not an "
        f"EyeLink recording; EyeLink .edf files start with 'SR_RESEARCH'. Supply the eye "
        f"tracker's own .edf (or its edf2asc .asc export)"
    )


def _european_labels(path) -> str:
    try:
        import pyedflib

        reader = pyedflib.EdfReader(str(path))
        try:
            labels = reader.getSignalLabels()
        finally:
            reader.close()
        return ", ".join(labels) if labels else "none"
    except Exception:  # noqa: BLE001
        return "unreadable"


# ---------------------------------------------------------------------------------------
# Binary .edf through edfapi (low level)


def _read_edf(path: Path, isolate: bool = True) -> Recording:
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    # edfapi segfaults on a file cut inside its text preamble: check it is complete first
    if b"ENDP:" not in head:
        raise InputError(
            f"{path}: EyeLink .edf preamble is incomplete (no 'ENDP:' marker): truncated file"
        )
    if not isolate:
        data = _edf_lowlevel(str(path))
        return _recording_from_dump(path, data)
    with tempfile.TemporaryDirectory(prefix="hippoflow_edf_") as tmp:
        out = Path(tmp) / "dump.npz"
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "hippoflow.behaviour.eyelink.objects",
                "--dump-edf",
                str(path),
                str(out),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            if proc.returncode < 0 or proc.returncode == 139:
                raise InputError(
                    f"{path}: the SR Research EDF library crashed reading this file (signal "
                    f"{-proc.returncode if proc.returncode < 0 else 11}): corrupt or truncated "
                    f".edf"
                )
            if "InputError" in proc.stderr:
                raise InputError(detail.split("InputError: ", 1)[-1])
            raise InputError(f"{path}: reading the .edf failed: {detail}")
        with np.load(out, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    return _recording_from_dump(path, data)


def _edf_lowlevel(path: str) -> dict:
    """Walk the file with edfapi's edf_get_next_data; returns plain arrays."""
    import ctypes as ct

    from eyelinkio.edf import _edf2py as lib
    from eyelinkio.edf._defines import event_constants as ec

    err = ct.c_int(0)
    handle = lib.edf_open_file(os.path.abspath(path).encode(), 2, 1, 1, ct.byref(err))
    if not handle or err.value != 0:
        raise InputError(
            f"{path}: the SR Research EDF library cannot open this file (error {err.value}): "
            f"corrupt or truncated .edf"
        )
    T_SAMPLE, T_MSG, T_REC = ec["SAMPLE_TYPE"], ec["MESSAGEEVENT"], ec["RECORDING_INFO"]
    T_EFIX, T_ESACC, T_EBLINK = ec["ENDFIX"], ec["ENDSACC"], ec["ENDBLINK"]
    T_NONE = ec["NO_PENDING_ITEMS"]
    eye_idx = None  # 0 left, 1 right
    rate = np.nan
    fs = lib.FSAMPLE
    head = max(fs.gy.offset, fs.gx.offset, fs.pa.offset, fs.time.offset) + 8
    sample_dtype = np.dtype(
        {
            "names": ["time", "pa", "gx", "gy"],
            "formats": ["<u4", ("<f4", 2), ("<f4", 2), ("<f4", 2)],
            "offsets": [fs.time.offset, fs.pa.offset, fs.gx.offset, fs.gy.offset],
            "itemsize": head,
        }
    )
    string_at = ct.string_at
    raw_samples, blobs, sample_eye = [], [], array.array("b")
    msg_t, msg_txt = [], []
    fix, sacc, blink = [], [], []
    blocks, open_block = [], None
    try:
        tlen = lib.edf_get_preamble_text_length(handle)
        buf = ct.create_string_buffer(tlen + 1)
        lib.edf_get_preamble_text(handle, buf, tlen + 1)
        preamble = buf.value.decode("latin-1")
        get_next, get_data = lib.edf_get_next_data, lib.edf_get_float_data
        while True:
            t = get_next(handle)
            if t == T_NONE:
                break
            if t == T_SAMPLE:  # copy the head of the FSAMPLE struct; decoded below
                raw_samples.append(string_at(get_data(handle), head))
                sample_eye.append(eye_idx or 0)
                if len(raw_samples) >= _CHUNK:  # bound memory: many small bytes -> one
                    blobs.append(b"".join(raw_samples))
                    raw_samples.clear()
            elif t == T_MSG:
                e = get_data(handle).contents.fe
                n = e.message.contents.len
                raw = ct.string_at(ct.addressof(e.message.contents) + 2, max(n, 0))
                msg_t.append(e.sttime)
                msg_txt.append(raw.split(b"\x00", 1)[0].decode("utf-8", "replace").strip())
            elif t in (T_EFIX, T_ESACC, T_EBLINK):
                e = get_data(handle).contents.fe
                if eye_idx is not None and e.eye != eye_idx:
                    continue
                if t == T_EFIX:
                    fix.append((e.sttime, e.entime, e.gavx, e.gavy))
                elif t == T_ESACC:
                    sacc.append((e.sttime, e.entime))
                else:
                    blink.append((e.sttime, e.entime))
            elif t == T_REC:
                r = get_data(handle).contents.rec
                if r.state:  # recording starts
                    if open_block is not None:
                        raise InputError(f"{path}: recording block at {open_block} never ends")
                    open_block = int(r.time)
                    rate = float(r.sample_rate)
                    # edfapi eye: 1 left, 2 right, 3 binocular -> keep the left when present
                    eye_idx = 1 if r.eye == 2 else 0
                else:
                    if open_block is None:
                        raise InputError(f"{path}: recording END at {r.time} without a START")
                    blocks.append((open_block, int(r.time)))
                    open_block = None
    finally:
        lib.edf_close_file(handle)
    if open_block is not None:
        raise InputError(
            f"{path}: recording block started at {open_block} ms has no end: truncated"
        )
    blobs.append(b"".join(raw_samples))
    arr = np.frombuffer(b"".join(blobs), dtype=sample_dtype)
    blobs.clear()
    rows = np.arange(arr.size)
    eyes = np.frombuffer(sample_eye, dtype=np.int8).astype(np.int64)
    return {
        "times": arr["time"].astype(np.int64),
        "gx": arr["gx"][rows, eyes].astype(np.float64),
        "gy": arr["gy"][rows, eyes].astype(np.float64),
        "pupil": arr["pa"][rows, eyes].astype(np.float64),
        "rate": np.float64(rate),
        "eye": np.str_("right" if eye_idx == 1 else "left"),
        "msg_t": np.asarray(msg_t, dtype=np.int64),
        "msg_txt": np.asarray(msg_txt, dtype=np.str_) if msg_txt else np.zeros(0, "U1"),
        "fix": np.asarray(fix, dtype=np.float64).reshape(-1, 4),
        "sacc": np.asarray(sacc, dtype=np.int64).reshape(-1, 2),
        "blink": np.asarray(blink, dtype=np.int64).reshape(-1, 2),
        "blocks": np.asarray(blocks, dtype=np.int64).reshape(-1, 2),
        "header": np.asarray(preamble.splitlines() or [""], dtype=np.str_),
    }


def _recording_from_dump(path: Path, d: dict) -> Recording:
    gx, gy, pupil = d["gx"].copy(), d["gy"].copy(), d["pupil"].copy()
    for a in (gx, gy, pupil):
        a[np.abs(a) >= _EDF_MISSING] = np.nan
    fix = d["fix"].copy()
    fix[np.abs(fix) >= _EDF_MISSING] = np.nan
    return Recording(
        path=str(path),
        samples_time=d["times"],
        gx=gx,
        gy=gy,
        pupil=pupil,
        sampling_rate=float(d["rate"]),
        messages=[(int(t), str(s)) for t, s in zip(d["msg_t"], d["msg_txt"], strict=True)],
        fixations=fix,
        saccades=d["sacc"],
        blinks=d["blink"],
        blocks=[(int(a), int(b)) for a, b in d["blocks"]],
        eye=str(d["eye"]),
        format="eyelink-edf",
        header=[h for h in (str(x).lstrip("*").strip() for x in d["header"]) if h],
    )


# ---------------------------------------------------------------------------------------
# ASCII .asc


_KNOWN = {
    "MSG", "START", "END", "SAMPLES", "EVENTS", "PRESCALER", "VPRESCALER", "PUPIL", "INPUT",
    "BUTTON", "SFIX", "EFIX", "SSACC", "ESACC", "SBLINK", "EBLINK",
}  # fmt: skip


_CHUNK = 1 << 18  # samples parsed into Python lists before converting to arrays


def _num(tok: str) -> float:
    return np.nan if tok == "." else float(tok)


def _read_asc(path: Path) -> Recording:
    times, xs, ys, ps = [], [], [], []
    chunks: list[tuple[np.ndarray, ...]] = []

    def flush():
        chunks.append(
            (
                np.asarray(times, dtype=np.int64),
                np.asarray(xs, dtype=np.float64),
                np.asarray(ys, dtype=np.float64),
                np.asarray(ps, dtype=np.float64),
            )
        )
        for lst in (times, xs, ys, ps):
            lst.clear()

    messages: list[list] = []
    fix, sacc, blink = [], [], []
    blocks, open_block = [], None
    header = []
    rate = np.nan
    eye_letter = None  # 'L' or 'R' once known
    col = (1, 2, 3)
    last_was_msg = False
    with open(path, encoding="latin-1", newline="") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            c = line[:1]
            if c.isdigit():
                last_was_msg = False
                parts = line.split()
                if len(parts) <= col[2]:
                    raise InputError(
                        f"{path}: line {lineno}: sample line has {len(parts)} fields, expected "
                        f"at least {col[2] + 1} (truncated file?): {line[:60]!r}"
                    )
                try:
                    times.append(int(parts[0]) if parts[0].isdigit() else int(float(parts[0])))
                    xs.append(_num(parts[col[0]]))
                    ys.append(_num(parts[col[1]]))
                    ps.append(_num(parts[col[2]]))
                except ValueError:
                    raise InputError(
                        f"{path}: line {lineno}: malformed sample line {line[:60]!r}"
                    ) from None
                if len(times) >= _CHUNK:  # keep memory bounded: lists -> arrays
                    flush()
                continue
            if not line.strip():
                last_was_msg = False
                continue
            if line.startswith("**"):
                header.append(line[2:].strip())
                continue
            parts = line.split()
            key = parts[0]
            if key not in _KNOWN:
                if last_was_msg:  # a message text holding a newline continues here
                    messages[-1][1] += "\n" + line
                continue
            last_was_msg = False
            try:
                if key == "MSG":
                    bits = line.split(None, 2)
                    messages.append([int(bits[1]), bits[2] if len(bits) > 2 else ""])
                    last_was_msg = True
                elif key == "START":
                    if open_block is not None:
                        raise InputError(
                            f"{path}: line {lineno}: START while the block started at "
                            f"{open_block} ms has no END"
                        )
                    open_block = int(parts[1])
                elif key == "END":
                    if open_block is None:
                        raise InputError(f"{path}: line {lineno}: END without START")
                    blocks.append((open_block, int(parts[1])))
                    open_block = None
                elif key in ("SAMPLES", "EVENTS"):
                    eyes = [p for p in parts if p in ("LEFT", "RIGHT")]
                    if "RATE" in parts:
                        r = float(parts[parts.index("RATE") + 1])
                        if key == "SAMPLES" or np.isnan(rate):
                            rate = r
                    if key == "SAMPLES" and eyes:
                        eye_letter = "L" if "LEFT" in eyes else "R"
                        col = (1, 2, 3)  # the first eye listed (LEFT comes first)
                    elif eye_letter is None and eyes:
                        eye_letter = "L" if "LEFT" in eyes else "R"
                elif key == "EFIX":
                    if eye_letter is None or parts[1] == eye_letter:
                        fix.append((int(parts[2]), int(parts[3]), _num(parts[5]), _num(parts[6])))
                elif key == "ESACC":
                    if eye_letter is None or parts[1] == eye_letter:
                        sacc.append((int(parts[2]), int(parts[3])))
                elif key == "EBLINK":
                    if eye_letter is None or parts[1] == eye_letter:
                        blink.append((int(parts[2]), int(parts[3])))
            except (IndexError, ValueError):
                raise InputError(
                    f"{path}: line {lineno}: malformed {key} line {line[:60]!r}"
                ) from None
    if open_block is not None:
        raise InputError(
            f"{path}: recording block started at {open_block} ms has no END line: truncated file"
        )
    if not blocks and not messages:
        raise InputError(f"{path}: no recording blocks (START/END) and no messages")
    flush()
    t, gx, gy, pupil = (np.concatenate([c[i] for c in chunks]) for i in range(4))
    chunks.clear()
    if t.size > 1 and np.any(np.diff(t) <= 0):
        i = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise InputError(f"{path}: sample times go backwards at {t[i]} -> {t[i + 1]} ms")
    return Recording(
        path=str(path),
        samples_time=t,
        gx=gx,
        gy=gy,
        pupil=pupil,
        sampling_rate=float(rate),
        messages=[(int(tm), txt.strip()) for tm, txt in messages],
        fixations=np.asarray(fix, dtype=np.float64).reshape(-1, 4),
        saccades=np.asarray(sacc, dtype=np.int64).reshape(-1, 2),
        blinks=np.asarray(blink, dtype=np.int64).reshape(-1, 2),
        blocks=blocks,
        eye="right" if eye_letter == "R" else "left",
        format="eyelink-asc",
        header=[h for h in header if h],
    )


# ---------------------------------------------------------------------------------------
# EDFSplit


def trigger_times(rec: Recording) -> list[int]:
    """Times (ms) of the ``Trigger Version 84`` session-start messages, offset applied."""
    out = []
    for t, text in rec.messages:
        m = _TRIGGER_RE.match(text)
        if m:
            out.append(t - int(m.group(1) or 0))
    return out


def _slice(rec: Recording, lo: float, hi: float, k: int, n: int) -> Recording:
    st = rec.samples_time
    i0, i1 = np.searchsorted(st, lo, "left"), np.searchsorted(st, hi, "left")

    def overlapping(ev):
        if not len(ev):
            return ev
        keep = (ev[:, 0] < hi) & (ev[:, 1] >= lo)
        return ev[keep]

    return replace(
        rec,
        samples_time=st[i0:i1],
        gx=rec.gx[i0:i1],
        gy=rec.gy[i0:i1],
        pupil=rec.pupil[i0:i1],
        messages=[(t, s) for t, s in rec.messages if lo <= t < hi],
        fixations=overlapping(rec.fixations),
        saccades=overlapping(rec.saccades),
        blinks=overlapping(rec.blinks),
        blocks=[(a, b) for a, b in rec.blocks if a < hi and b >= lo],
        file_start_ms=rec.file_start_ms,
        session_index=k,
        n_sessions=n,
        bounds=(lo, hi),
    )


def split_navigation(rec: Recording, n_sessions: int | None = None) -> list[Recording]:
    """EDFSplit: one Recording per navigation session.

    Sessions start at each ``Trigger Version 84`` message T_k; session k keeps the samples
    and messages with time in [T_k, T_k+1) (T_1 taken as -inf, i.e. everything before the
    first trigger belongs to session 1; the last bound is open) and the fixations, saccades,
    blinks and recording blocks that overlap that interval (not clipped).  A file without
    any trigger is one session.  ``n_sessions`` (the number of navigation session folders)
    must equal the number found, else InputError naming both counts.
    """
    trig = trigger_times(rec)
    found = max(len(trig), 1)
    if n_sessions is not None and found != n_sessions:
        raise InputError(
            f"{rec.path}: {len(trig)} '{TRIGGER_TEXT}' session-start messages but "
            f"{n_sessions} navigation sessions expected"
        )
    if len(trig) > 1 and np.any(np.diff(trig) <= 0):
        raise InputError(f"{rec.path}: '{TRIGGER_TEXT}' messages are not in time order: {trig}")
    bounds = [-np.inf] + list(map(float, trig[1:])) + [np.inf]
    return [_slice(rec, bounds[k], bounds[k + 1], k, found) for k in range(found)]


# ---------------------------------------------------------------------------------------
# Trial messages and their reconciliation with the Ripple markers


def navigation_trial_messages(rec: Recording) -> list[tuple[float, int, int, str]]:
    """(time ms, column 0/1/2, code, text) of each Start/Cue/End/Timeout message in order."""
    out = []
    for t, text in rec.messages:
        m = _TRIAL_RE.match(text)
        if m:
            off = int(m.group(1) or 0)
            out.append((float(t - off), _KINDS[m.group(2)], int(m.group(3)), text))
    return out


def fixation_trial_messages(rec: Recording) -> list[tuple[float, int, int, str]]:
    """(time ms, column, code, text) of fixation-task trial starts (code 1) and ends (code 2).

    A trial starts at a message matching ``1  0  0  0  0  0  0  0`` as a whole; the last
    other 8-digit message before the next trial start (or the end) is the trial end; any
    8-digit messages in between (reward) are not trial markers.
    """
    eight = [(float(t), s) for t, s in rec.messages if _EIGHT_RE.match(s)]
    out = []
    pending_end = None
    for t, s in eight:
        if _FIX_START_RE.match(s):
            if pending_end is not None:
                out.append(pending_end)
                pending_end = None
            out.append((t, 0, 1, s))
        elif out:  # ignore end-like messages before the first trial start
            pending_end = (t, 1, 2, s)
    if pending_end is not None:
        out.append(pending_end)
    return out


def reward_times(rec: Recording) -> np.ndarray:
    """Times (ms) of fixation-task 8-digit messages that are neither trial start nor end."""
    marks = {t for t, *_ in fixation_trial_messages(rec)}
    return np.array(
        [t for t, s in rec.messages if _EIGHT_RE.match(s) and float(t) not in marks], float
    )


def _align_dp(e_codes, e_t, r_codes, r_t, anchor_cost) -> tuple[np.ndarray, float]:
    """Order-preserving match of EyeLink events to Ripple slots with equal codes.

    Minimises the summed |EyeLink interval - Ripple interval| between consecutive matched
    events (ms).  Returns slot index per EyeLink event and the cost (inf if impossible).
    """
    m, n = len(e_codes), len(r_codes)
    D = n - m
    ds = np.arange(D + 1)
    cost = np.where(r_codes[ds] == e_codes[0], anchor_cost(ds), np.inf)
    if not np.isfinite(cost).any():
        return np.full(m, -1), 0.0
    back = np.zeros((m, D + 1), dtype=np.int64)
    for j in range(1, m):
        slots = j + ds  # slot of event j for each d
        ok = r_codes[slots] == e_codes[j]
        de = e_t[j] - e_t[j - 1]
        dr = r_t[slots][:, None] - r_t[j - 1 + ds][None, :]  # [d, d']
        step = cost[None, :] + np.abs(de - dr)
        step[ds[:, None] < ds[None, :]] = np.inf  # d' <= d
        best = np.argmin(step, axis=1)
        new = step[ds, best]
        new[~ok] = np.inf
        back[j] = best
        cost = new
        if not np.isfinite(cost).any():
            return np.full(m, -1), float(j)  # j: first event without a consistent slot
    d = int(np.argmin(cost))
    total = float(cost[d])
    slot = np.empty(m, dtype=np.int64)
    for j in range(m - 1, -1, -1):
        slot[j] = j + d
        d = int(back[j, d])
    return slot, total


def reconcile(
    eye_events,
    ripple_markers,
    ripple_times,
    *,
    label: str,
    eye_anchor_ms: float | None = None,
    ripple_anchor_s: float | None = None,
    tolerance_s: float = 0.5,
    max_missing: int = 300,
) -> dict:
    """Match EyeLink trial messages to the Ripple markers; fill what EyeLink lacks.

    ``eye_events``: (time ms, column, code, text) from :func:`navigation_trial_messages` or
    :func:`fixation_trial_messages`.  The Ripple markers (N x k codes, times in s) are
    flattened (start, cue, end, start, ...); the EyeLink messages are placed in that
    sequence in order, by equal code, where their intervals disagree least with Ripple's:
    missing EyeLink messages (whole trials included) fall where the gaps disagree most.
    A missing time is filled from the nearest matched message plus the Ripple interval
    (scaled by the clock ratio fitted on the matched messages).  Any remaining interval
    disagreement above ``tolerance_s`` between consecutive EyeLink messages is an error.

    Returns dict: ``times_ms`` (N x k EyeLink-clock times, filled ones included),
    ``matched`` (N x k bool), ``discrepancies`` (N x k s, |Ripple - EyeLink| for the
    intervals previous end->start (first row: session start->start when both anchors are
    known, else 0), start->cue, cue->end), ``clock_ratio`` (EyeLink ms per Ripple ms) and
    ``missing`` (list of (row, column) of filled slots).
    """
    codes = np.rint(np.asarray(ripple_markers, dtype=np.float64)).astype(np.int64)
    rt = np.asarray(ripple_times, dtype=np.float64) * 1000.0
    if codes.ndim != 2 or codes.shape != rt.shape:
        raise InputError(
            f"{label}: Ripple markers {codes.shape} and times {rt.shape} are not N x k tables"
        )
    N, k = codes.shape
    r_codes, r_t = codes.ravel(), rt.ravel()
    n = r_codes.size
    m = len(eye_events)
    if m > n:
        raise InputError(
            f"{label}: {m} EyeLink trial messages but only {n} Ripple markers "
            f"({N} trials): EyeLink has messages Ripple lacks"
        )
    if m == 0:
        raise InputError(f"{label}: no EyeLink trial messages to match {N} Ripple trials")
    if n - m > max_missing:
        raise InputError(
            f"{label}: {n - m} of {n} trial messages missing from EyeLink (more than "
            f"{max_missing}): not the recording of this session?"
        )
    e_t = np.array([e[0] for e in eye_events], dtype=np.float64)
    e_codes = np.array([e[2] for e in eye_events], dtype=np.int64)
    if eye_anchor_ms is not None and ripple_anchor_s is not None:
        a_e, a_r = float(eye_anchor_ms), float(ripple_anchor_s) * 1000.0

        def anchor_cost(ds):
            return np.abs((e_t[0] - a_e) - (r_t[ds] - a_r))
    else:

        def anchor_cost(ds):
            return np.zeros(ds.shape)

    slot, total = _align_dp(e_codes, e_t, r_codes, r_t, anchor_cost)
    if not np.isfinite(total) or slot[0] < 0:
        j = int(total) if np.isfinite(total) else 0
        t, _, c, text = eye_events[j]
        raise InputError(
            f"{label}: EyeLink trial messages cannot be matched to the Ripple markers in "
            f"order: message {j + 1} of {m} ({text!r} at {t:.0f} ms, code {c}) has no "
            f"Ripple marker left with that code ({m} EyeLink messages, {n} Ripple markers)"
        )
    # consecutive matched intervals must agree with Ripple
    if m > 1:
        d_int = np.abs(np.diff(e_t) - np.diff(r_t[slot]))
        bad = np.flatnonzero(d_int > tolerance_s * 1000.0)
        if bad.size:
            j = int(bad[np.argmax(d_int[bad])])
            row = int(slot[j + 1] // k) + 1
            raise InputError(
                f"{label}: EyeLink and Ripple disagree by {d_int[j] / 1000:.3f} s (tolerance "
                f"{tolerance_s} s) on the interval ending at trial {row}: EyeLink "
                f"{(e_t[j + 1] - e_t[j]) / 1000:.3f} s between {eye_events[j][3]!r} and "
                f"{eye_events[j + 1][3]!r}, Ripple {(r_t[slot[j + 1]] - r_t[slot[j]]) / 1000:.3f} s"
            )
    matched = np.zeros(n, dtype=bool)
    matched[slot] = True
    times = np.full(n, np.nan)
    times[slot] = e_t
    if m >= 2 and r_t[slot[-1]] > r_t[slot[0]]:
        ratio = float(np.polyfit(r_t[slot], e_t, 1)[0])
    else:
        ratio = 1.0
    idx = np.flatnonzero(matched)
    for i in np.flatnonzero(~matched):
        pos = np.searchsorted(idx, i)
        cands = [idx[p] for p in (pos - 1, pos) if 0 <= p < idx.size]
        ref = min(cands, key=lambda q: (abs(r_t[q] - r_t[i]), q > i))
        times[i] = times[ref] + ratio * (r_t[i] - r_t[ref])
    tt = times.reshape(N, k)
    disc = np.zeros((N, k))
    disc[1:, 0] = np.abs((rt[1:, 0] - rt[:-1, -1]) - (tt[1:, 0] - tt[:-1, -1])) / 1000.0
    if eye_anchor_ms is not None and ripple_anchor_s is not None:
        disc[0, 0] = abs((rt[0, 0] - ripple_anchor_s * 1000.0) - (tt[0, 0] - eye_anchor_ms)) / 1000
    disc[:, 1:] = np.abs(np.diff(rt, axis=1) - np.diff(tt, axis=1)) / 1000.0
    missing = [(int(i // k), int(i % k)) for i in np.flatnonzero(~matched)]
    return {
        "times_ms": tt,
        "matched": matched.reshape(N, k),
        "discrepancies": disc,
        "clock_ratio": ratio,
        "missing": missing,
    }


def _message_text(code: int, column: int, fixation: bool) -> str:
    if fixation:
        return "1  0  0  0  0  0  0  0" if column == 0 else "trial end (8-digit code)"
    if column == 0:
        return f"Start Trial {code}"
    if column == 1:
        return f"Cue Offset {code}"
    return f"End Trial {code}" if code // 10 == 3 else f"Timeout {code}"


# ---------------------------------------------------------------------------------------
# The Eyelink object


def session_object(
    rec: Recording,
    ripple_markers: np.ndarray,
    ripple_times: np.ndarray,
    fixation: bool = False,
    *,
    ripple_session_start: float | None = None,
    session: str | None = None,
    screen: tuple[int, int] = SCREEN,
    tolerance_s: float = 0.5,
) -> dict:
    """PyHipp's ``eyelink`` attributes for one session (navigation or ``sessioneye``).

    ``rec`` is one session of :func:`split_navigation` (navigation) or the whole ``P*``
    file (``fixation=True``).  ``ripple_markers``/``ripple_times`` are the session's
    ``rplparallel`` ``markers`` and ``timeStamps`` (N x 3 navigation, N x 2 fixation with
    codes 1 start, 2 end).  ``ripple_session_start`` (``rplparallel.sessionStartTime``,
    the 84 marker, s) anchors the first trial to the ``Trigger Version 84`` message.

    Keys (times in s unless said; "absolute" = EyeLink tracker clock / 1000):
      trial_timestamps  N x k, trial message times relative to ``expTime`` (PyHipp), i.e.
                        absolute = trial_timestamps + expTime; missing ones filled.
      trial_codes       the Ripple markers (N x k).
      trial_sample_index N x k int, index into ``timestamps`` of the first sample at or
                        after each trial time (-1 when no such sample).
      eye_pos           S x 2 (gx, gy) pixels; NaN when missing or outside the screen
                        [0, 1920] x [0, 1080].
      timestamps        S absolute sample times.
      fix_times         F x 3 [start, end, duration] absolute (fixations overlapping the
                        session); fix_event (F,) and sacc_event (A,) durations in ms
                        (end - start, as PyHipp).
      timeouts          absolute times of the trial ends whose Ripple code is 4x.
      session_start     absolute time of the session start: navigation, the ``Trigger
                        Version 84`` message (the first sample without one); fixation, the
                        first trial start.  session_start_index: index in ``timestamps`` of
                        the first sample at or after it (PyHipp used a sample's time; at
                        1000 Hz without gaps the two agree).
      expTime           absolute time of the file's first sample (PyHipp), s.
      noOfTrials, noOfSessions, samplingRate (Hz, from the recording), discrepancies
                        (N x k, |Ripple - EyeLink| interval differences, see reconcile).
      reward_times      (fixation only) absolute times of the other 8-digit messages.
      missing           rows for missingData.csv (dicts with the MISSING_CSV_COLUMNS keys;
                        Timestamps = filled EyeLink time, absolute ms).
      clock_ratio       EyeLink ms per Ripple ms fitted on the matched messages.
    """
    label = rec.label if session is None else f"{rec.label} [{session}]"
    markers = np.asarray(ripple_markers, dtype=np.float64)
    rtimes = np.asarray(ripple_times, dtype=np.float64)
    if markers.ndim == 1:
        markers = markers.reshape(1, -1)
        rtimes = rtimes.reshape(1, -1)
    if rec.samples_time.size == 0:
        raise InputError(f"{label}: no gaze samples in this session")
    want_k = 2 if fixation else 3
    if markers.shape[1] != want_k:
        raise InputError(
            f"{label}: Ripple markers have {markers.shape[1]} columns, expected {want_k} for a "
            f"{'fixation' if fixation else 'navigation'} session"
        )
    if fixation:
        events = fixation_trial_messages(rec)
        anchor_e = anchor_r = None
    else:
        events = navigation_trial_messages(rec)
        trig = trigger_times(rec)
        anchor_e = float(trig[0]) if trig else None
        anchor_r = ripple_session_start
    res = reconcile(
        events,
        markers,
        rtimes,
        label=label,
        eye_anchor_ms=anchor_e,
        ripple_anchor_s=anchor_r,
        tolerance_s=tolerance_s,
    )
    tt = res["times_ms"]
    st = rec.samples_time
    exp_ms = float(
        rec.file_start_ms if rec.file_start_ms is not None else (st[0] if st.size else 0)
    )
    gx, gy = rec.gx.copy(), rec.gy.copy()
    off = (gx < 0) | (gx > screen[0]) | (gy < 0) | (gy > screen[1])
    gx[off] = np.nan
    gy[off] = np.nan
    sidx = np.searchsorted(st, tt, "left")
    sidx[sidx >= st.size] = -1
    fx = rec.fixations
    fix_times = np.column_stack([fx[:, 0], fx[:, 1], fx[:, 1] - fx[:, 0]]) / 1000.0
    start_ms = tt[0, 0] if fixation else (anchor_e if anchor_e is not None else float(st[0]))
    ss_idx = int(np.searchsorted(st, start_ms, "left")) if st.size else 0
    ss_idx = min(ss_idx, max(st.size - 1, 0))
    end_codes = np.rint(markers[:, -1]).astype(int)
    timeouts = tt[end_codes // 10 == 4, -1] / 1000.0 if not fixation else np.zeros(0)
    who = session or (f"session{rec.session_index + 1:02d}" if not fixation else "sessioneye")
    missing_rows = [
        {
            "Type": MESSAGE_TYPE,
            "Timestamps": round(float(tt[r, c]), 3),
            "Messages": _message_text(int(round(markers[r, c])), c, fixation),
            "Session": who,
            "Trial": r + 1,
            "Event": ("start", "end")[c] if fixation else ("start", "cue", "end")[c],
        }
        for r, c in res["missing"]
    ]
    out = {
        "trial_timestamps": (tt - exp_ms) / 1000.0,
        "trial_codes": markers,
        "trial_sample_index": sidx.astype(np.int64),
        "eye_pos": np.column_stack([gx, gy]),
        "timestamps": st.astype(np.float64) / 1000.0,
        "fix_times": fix_times,
        "fix_event": (fx[:, 1] - fx[:, 0]).astype(np.int64),
        "sacc_event": (rec.saccades[:, 1] - rec.saccades[:, 0]).astype(np.int64),
        "timeouts": timeouts,
        "session_start": float(start_ms) / 1000.0,
        "session_start_index": ss_idx,
        "expTime": exp_ms / 1000.0,
        "noOfTrials": int(markers.shape[0]),
        "noOfSessions": int(rec.n_sessions) if not fixation else 1,
        "samplingRate": float(rec.sampling_rate),
        "discrepancies": res["discrepancies"],
        "clock_ratio": res["clock_ratio"],
        "missing": missing_rows,
    }
    if fixation:
        out["reward_times"] = reward_times(rec) / 1000.0
    return out


def write_missing_csv(path, rows) -> None:
    """missingData.csv (header always written, even with no rows), atomically."""
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MISSING_CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)


# ---------------------------------------------------------------------------------------
# Child-process entry point for the isolated .edf reader


def _dump_edf(src: str, dst: str) -> None:
    # the library chatters on stdout: keep the pipe clean for our own messages
    data = _edf_lowlevel(src)
    np.savez(dst, **data)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--dump-edf":
        try:
            _dump_edf(sys.argv[2], sys.argv[3])
        except InputError as exc:
            print(f"InputError: {exc}", file=sys.stderr)
            sys.exit(2)
        sys.exit(0)
    print(
        "usage: python -m hippoflow.behaviour.eyelink.objects --dump-edf SRC.edf DST.npz",
        file=sys.stderr,
    )
    sys.exit(64)
