"""EyeLink ASCII ``.asc`` reader (``edf2asc`` output, and what :mod:`hippoflow.synth.eyelink`
writes), parsed natively.

Inputs: a ``.asc`` file path (already sniffed as ``eyelink-asc`` by
:mod:`hippoflow.behaviour.eyelink.sniff`; any line ending, latin-1) and the eye to use
(``left``, PyHipp's choice, or ``right``).  Outputs: a
:class:`~hippoflow.behaviour.eyelink.recording.Recording` (:func:`read_asc`) with the
samples of the eye used, the ``MSG`` lines (a message holding a newline continues on the
following unknown lines), the ``EFIX``/``ESACC``/``EBLINK`` events of that eye, the
``START``/``END`` blocks, the ``**`` header and the reader's ``notes``; malformed or
truncated files raise :class:`~hippoflow.errors.InputError` naming the line.

How the edf2asc layouts are read:

* Samples are the lines starting with a digit: the time, then x, y and pupil of each eye
  the block's ``SAMPLES`` line lists (``LEFT`` before ``RIGHT``).  Velocity, resolution,
  input, status flags and remote-mode head-target columns come after those and are not
  read.  ``.`` is a missing value (NaN).
* Eye: in each block the eye asked for when the block records it, else the one eye it
  records (a warning, and a note); the events kept are those of the eye used.
  ``Recording.eye`` is the eye used (that of the first block when blocks differ, noted).
* Times are integer or (``edf2asc -ftime``) fractional milliseconds, on samples, messages
  and events; all are kept as float64.  Consecutive samples with an equal stamp are valid
  (at 2000 Hz edf2asc writes two samples per integer millisecond): the j-th repeat of a
  stamp is given ``+ j * 1000 / rate`` ms, the rate of the block's ``SAMPLES`` line (kept
  below the next stamp; a note if repeats are denser than the rate allows).  Only a
  stamp smaller than the previous one is an error.
* A block without ``END`` (the tracker stopped mid-block: the next ``START`` or the end of
  a complete file comes first) keeps its samples and ends at its last sample; a warning
  names the file and the block's ``START`` line, and a note records it.  A file whose
  last line is cut (no line end) inside a block is truncated: InputError.
* Sample and event coordinates must be ``GAZE`` (screen pixels).  ``HREF``
  (head-referenced angles, ``edf2asc -sh``) and ``PUPIL`` (raw camera coordinates,
  ``-sp``) are refused with an InputError naming the file, line and mode.  Remote mode
  (``HTARGET`` on the ``SAMPLES`` line) is read as above: the gaze columns come first;
  the head-target columns are not kept (noted).
* ``INPUT`` and ``BUTTON`` lines, ``SFIX``/``SSACC``/``SBLINK`` and the setup lines
  (``PRESCALER``, ``PUPIL`` ...) are skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from hippoflow.behaviour.eyelink.recording import CHUNK, Recording
from hippoflow.errors import InputError

log = logging.getLogger(__name__)

EYES = ("left", "right")

_KNOWN = {
    "MSG", "START", "END", "SAMPLES", "EVENTS", "PRESCALER", "VPRESCALER", "PUPIL", "INPUT",
    "BUTTON", "SFIX", "EFIX", "SSACC", "ESACC", "SBLINK", "EBLINK",
}  # fmt: skip
_NOT_PIXELS = {
    "HREF": "head-referenced eye angles (HREF, edf2asc -sh)",
    "PUPIL": "raw pupil-camera coordinates (PUPIL, edf2asc -sp)",
}
_NAME = {"L": "left", "R": "right"}


def _num(tok: str) -> float:
    return np.nan if tok == "." else float(tok)


def _ms(t: float) -> str:
    """A time in ms as written: no decimals for whole ms, up to three otherwise."""
    return f"{t:.0f}" if float(t).is_integer() else f"{t:.3f}".rstrip("0")


def read_asc(path: Path, eye: str = "left") -> Recording:
    """The recording of an EyeLink ASCII ``.asc`` file (edf2asc layout).

    ``eye`` (``left`` or ``right``) is used where a block records it; a block recording
    only the other eye gives that eye (warned and noted).
    """
    if eye not in EYES:
        raise ValueError(f"eye must be one of {EYES}, not {eye!r}")
    want = eye[0].upper()
    times, xs, ys, ps = [], [], [], []
    chunks: list[tuple[np.ndarray, ...]] = []
    n_done = 0  # samples already moved from the lists into chunks

    def flush():
        nonlocal n_done
        chunks.append(
            (
                np.asarray(times, dtype=np.float64),
                np.asarray(xs, dtype=np.float64),
                np.asarray(ys, dtype=np.float64),
                np.asarray(ps, dtype=np.float64),
            )
        )
        n_done += len(times)
        for lst in (times, xs, ys, ps):
            lst.clear()

    notes: list[str] = []

    def note(text: str, level: int = logging.WARNING) -> None:
        notes.append(text)
        log.log(level, "%s", text)

    messages: list[list] = []
    fix, sacc, blink = [], [], []
    blocks: list[tuple[float, float]] = []
    open_block = None  # (START time, its line number) while a block is open
    block_last = None  # last sample time of the open block
    block_n = 0  # samples in the open block
    header = []
    rates: list[tuple[int, float]] = []  # (index of the first sample, rate) per rate change
    events_rate = np.nan  # the EVENTS line's rate, for a file without samples
    used = None  # 'L' or 'R': the eye in use, once a block says which eyes it records
    first_used = None
    remote_noted = False
    col = (1, 2, 3)
    need = 4  # fields a sample line must have
    prev_t = -np.inf
    last_was_msg = False
    terminated = True  # the last line read ended with a line end

    def set_eye(parts: list[str], lineno: int) -> None:
        nonlocal used, first_used, col, need
        listed = [p[0] for p in parts if p in ("LEFT", "RIGHT")]
        if not listed:
            return
        letter = want if want in listed else listed[0]
        i = listed.index(letter)
        col, need = (1 + 3 * i, 2 + 3 * i, 3 + 3 * i), 4 + 3 * i
        if letter == used:
            return
        if used is not None:
            note(
                f"{path}: line {lineno}: the recorded eyes change: the {_NAME[letter]} eye "
                f"is used from this block on (the {_NAME[used]} eye before)"
            )
        if letter != want:
            note(
                f"{path}: line {lineno}: the {eye} eye was asked for but this recording has "
                f"only the {_NAME[letter]} eye: using the {_NAME[letter]} eye's gaze and "
                f"events"
            )
        used = letter
        first_used = first_used or letter

    def close_unended(why: str) -> None:
        start, ln = open_block
        end = block_last if block_last is not None else start
        note(
            f"{path}: line {ln}: the recording block started at {_ms(start)} ms has no END "
            f"line ({why}; the tracker stopped mid-block?): its {block_n} samples are kept "
            f"and the block taken to end at its last sample, {_ms(end)} ms"
        )
        blocks.append((start, end))

    with open(path, encoding="latin-1", newline="") as f:
        for lineno, line in enumerate(f, 1):
            terminated = line.endswith(("\n", "\r"))
            line = line.rstrip("\r\n")
            c = line[:1]
            if c.isdigit():
                last_was_msg = False
                parts = line.split()
                if len(parts) < need:
                    raise InputError(
                        f"{path}: line {lineno}: sample line has {len(parts)} fields, expected "
                        f"at least {need} (truncated file?): {line[:60]!r}"
                    )
                try:
                    t = float(parts[0])
                    xs.append(_num(parts[col[0]]))
                    ys.append(_num(parts[col[1]]))
                    ps.append(_num(parts[col[2]]))
                except ValueError:
                    raise InputError(
                        f"{path}: line {lineno}: malformed sample line {line[:60]!r}"
                    ) from None
                if t < prev_t:
                    raise InputError(
                        f"{path}: line {lineno}: sample times go backwards: {_ms(prev_t)} -> "
                        f"{_ms(t)} ms"
                    )
                times.append(t)
                prev_t = block_last = t
                block_n += 1
                if len(times) >= CHUNK:  # keep memory bounded: lists -> arrays
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
                    messages.append([float(bits[1]), bits[2] if len(bits) > 2 else ""])
                    last_was_msg = True
                elif key == "START":
                    if open_block is not None:
                        close_unended(f"another START follows at line {lineno}")
                    open_block, block_last, block_n = (float(parts[1]), lineno), None, 0
                elif key == "END":
                    if open_block is None:
                        raise InputError(f"{path}: line {lineno}: END without START")
                    blocks.append((open_block[0], float(parts[1])))
                    open_block = None
                elif key in ("SAMPLES", "EVENTS"):
                    what = parts[1] if len(parts) > 1 else ""
                    if what in _NOT_PIXELS:
                        raise InputError(
                            f"{path}: line {lineno}: {key.lower()} are {_NOT_PIXELS[what]}, "
                            f"not gaze in screen pixels (GAZE), which the workflow needs: "
                            f"export the .edf with edf2asc's default gaze coordinates, or "
                            f"give the .edf itself"
                        )
                    if key == "SAMPLES" and "HTARGET" in parts and not remote_noted:
                        remote_noted = True
                        note(
                            f"{path}: line {lineno}: remote mode (HTARGET): gaze read from the "
                            f"usual columns; the head-target columns (x, y, distance) are not "
                            f"kept",
                            logging.INFO,
                        )
                    if "RATE" in parts:
                        r = float(parts[parts.index("RATE") + 1])
                        if np.isnan(events_rate):
                            events_rate = r
                        if key == "SAMPLES" and (not rates or rates[-1][1] != r):
                            if rates:
                                note(
                                    f"{path}: line {lineno}: the sampling rate changes from "
                                    f"{rates[-1][1]:g} to {r:g} Hz; the recording's rate is "
                                    f"given as the first block's, {rates[0][1]:g} Hz"
                                )
                            rates.append((n_done + len(times), r))
                    set_eye(parts, lineno)
                elif key in ("EFIX", "ESACC", "EBLINK"):
                    if used is None or parts[1] == used:
                        a, b = float(parts[2]), float(parts[3])
                        if key == "EFIX":
                            fix.append((a, b, _num(parts[5]), _num(parts[6])))
                        elif key == "ESACC":
                            sacc.append((a, b))
                        else:
                            blink.append((a, b))
            except (IndexError, ValueError):
                raise InputError(
                    f"{path}: line {lineno}: malformed {key} line {line[:60]!r}"
                ) from None
    if open_block is not None:
        if not terminated:
            raise InputError(
                f"{path}: recording block started at {_ms(open_block[0])} ms (line "
                f"{open_block[1]}) has no END line and the last line is cut: truncated file"
            )
        close_unended("the file ends")
    if not blocks and not messages:
        raise InputError(f"{path}: no recording blocks (START/END) and no messages")
    flush()
    t, gx, gy, pupil = (np.concatenate([c[i] for c in chunks]) for i in range(4))
    chunks.clear()
    t = _spread_repeats(t, rates, path, note)
    return Recording(
        path=str(path),
        samples_time=t,
        gx=gx,
        gy=gy,
        pupil=pupil,
        sampling_rate=float(rates[0][1]) if rates else float(events_rate),
        messages=[(float(tm), txt.strip()) for tm, txt in messages],
        fixations=np.asarray(fix, dtype=np.float64).reshape(-1, 4),
        saccades=np.asarray(sacc, dtype=np.float64).reshape(-1, 2),
        blinks=np.asarray(blink, dtype=np.float64).reshape(-1, 2),
        blocks=blocks,
        eye=_NAME[first_used] if first_used else eye,
        format="eyelink-asc",
        header=[h for h in header if h],
        notes=notes,
    )


def _spread_repeats(t: np.ndarray, rates, path, note) -> np.ndarray:
    """Sub-millisecond times for consecutive samples sharing one stamp (2000 Hz .asc).

    In a run of k equal stamps, sample j (0-based) gets ``+ j * step`` with step the
    sample interval of its block (1000 / rate ms) or, if k samples at that interval would
    reach the next stamp (or the rate is unknown), the gap to the next stamp divided by k.
    """
    if t.size < 2:
        return t
    new_run = np.r_[True, t[1:] != t[:-1]]
    if new_run.all():
        return t
    n = t.size
    starts = np.flatnonzero(new_run)
    run_id = np.cumsum(new_run) - 1
    k = np.diff(np.r_[starts, n])
    rate = np.full(n, np.nan)
    for i0, r in rates:
        rate[i0:] = r
    with np.errstate(divide="ignore", invalid="ignore"):
        dt = 1000.0 / rate[starts]
        gap = np.r_[t[starts[1:]] - t[starts[:-1]], np.inf]
        step = np.fmin(dt, gap / k)
    step = np.where(np.isfinite(step), step, 1.0 / k)
    repeated = k > 1
    crowded = repeated & ~(step >= dt - 1e-9)  # denser than the rate allows, or no rate
    pos = np.arange(n) - starts[run_id]
    out = t + pos * step[run_id]
    n_rep = int((~new_run).sum())
    if crowded.any():
        j = int(np.flatnonzero(crowded)[0])
        note(
            f"{path}: {int(crowded.sum())} sample time stamps repeat more often than the "
            f"sampling rate allows (first {_ms(t[starts[j]])} ms, {int(k[j])} samples): their "
            f"samples are spread evenly up to the next stamp"
        )
    else:
        log.info(
            "%s: %d samples share their time stamp with the previous one (%s Hz): given "
            "sub-millisecond times (+%s ms steps)",
            path,
            n_rep,
            ", ".join(sorted({f"{r:g}" for r in rate[starts[repeated]]})),
            ", ".join(sorted({f"{s:g}" for s in step[repeated]})),
        )
    return out
