"""EyeLink ASCII ``.asc`` reader (``edf2asc`` output, and what :mod:`hippoflow.synth.eyelink`
writes), parsed natively.

Inputs: a ``.asc`` file path (already sniffed as ``eyelink-asc`` by
:mod:`hippoflow.behaviour.eyelink.sniff`; any line ending, latin-1).  Outputs: a
:class:`~hippoflow.behaviour.eyelink.recording.Recording` (:func:`read_asc`) with the
samples of the first eye listed, the ``MSG`` lines (a message holding a newline continues
on the following unknown lines), the ``EFIX``/``ESACC``/``EBLINK`` events of that eye, the
``START``/``END`` blocks and the ``**`` header; malformed or truncated files raise
:class:`~hippoflow.errors.InputError` naming the line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hippoflow.behaviour.eyelink.recording import CHUNK, Recording
from hippoflow.errors import InputError

_KNOWN = {
    "MSG", "START", "END", "SAMPLES", "EVENTS", "PRESCALER", "VPRESCALER", "PUPIL", "INPUT",
    "BUTTON", "SFIX", "EFIX", "SSACC", "ESACC", "SBLINK", "EBLINK",
}  # fmt: skip


def _num(tok: str) -> float:
    return np.nan if tok == "." else float(tok)


def read_asc(path: Path) -> Recording:
    """The recording of an EyeLink ASCII ``.asc`` file (edf2asc layout)."""
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
