"""SR Research binary ``.edf`` reader (edfapi through ``eyelinkio``, low-level calls).

Inputs: a ``.edf`` file path (already sniffed as ``eyelink-edf`` by
:mod:`hippoflow.behaviour.eyelink.sniff`) and the eye to use (``left``, PyHipp's choice,
or ``right``: used where a block records it, else the block's one eye, warned and
noted).  Outputs: a :class:`~hippoflow.behaviour.eyelink.recording.Recording`
(:func:`read_edf`).  Sample times are float64 ms: edfapi's integer ``time`` plus 0.5 ms
where the sample's ``SAMPLE_ADD_OFFSET`` flag is set (the second sample of each
millisecond at 2000 Hz; edfapi's ``FLOAT_TIME``).

The edfapi library bundled in ``eyelinkio`` is walked with its *low-level* calls
(``edf_get_next_data``) so that sample, event and message times stay absolute tracker
times in ms (``eyelinkio.read_edf`` rebases time to zero and squeezes recording gaps: not
used here).  The library crashes (SIGSEGV) on some corrupt files, so by default it runs in
a child process, ``python -m hippoflow.behaviour.eyelink.edf --dump-edf SRC.edf DST.npz``
(the entry point at the end of this module), which writes the raw arrays to an ``.npz``;
a crash becomes an :class:`~hippoflow.errors.InputError`.
"""

from __future__ import annotations

import array
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from hippoflow.behaviour.eyelink.recording import CHUNK, Recording
from hippoflow.errors import InputError

log = logging.getLogger(__name__)

EYES = ("left", "right")
_EDF_MISSING = 1e8 - 1  # edfapi writes 1e8 for missing float sample data
_SAMPLE_ADD_OFFSET = 0x0002  # edf_data.h: add 0.5 ms to this sample's time


def read_edf(path: Path, isolate: bool = True, eye: str = "left") -> Recording:
    """The recording of an SR Research ``.edf``; ``isolate`` reads it in a child process."""
    if eye not in EYES:
        raise ValueError(f"eye must be one of {EYES}, not {eye!r}")
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    # edfapi segfaults on a file cut inside its text preamble: check it is complete first
    if b"ENDP:" not in head:
        raise InputError(
            f"{path}: EyeLink .edf preamble is incomplete (no 'ENDP:' marker): truncated file"
        )
    if not isolate:
        data = _edf_lowlevel(str(path), eye)
        return _recording_from_dump(path, data)
    with tempfile.TemporaryDirectory(prefix="hippoflow_edf_") as tmp:
        out = Path(tmp) / "dump.npz"
        env = dict(os.environ)
        # the directory holding the hippoflow package (edf.py is hippoflow/behaviour/eyelink/)
        root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "hippoflow.behaviour.eyelink.edf",
                "--dump-edf",
                str(path),
                str(out),
                "--eye",
                eye,
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


def _edf_lowlevel(path: str, eye: str = "left") -> dict:
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
    want = EYES.index(eye)  # edfapi eye index: 0 left, 1 right
    eye_idx = None  # the eye in use: 0 left, 1 right
    first_eye = None
    notes: list[str] = []
    rate = np.nan
    fs = lib.FSAMPLE
    used = (fs.time, fs.pa, fs.gx, fs.gy, fs.flags)
    head = max(f.offset + f.size for f in used)
    sample_dtype = np.dtype(
        {
            "names": ["time", "pa", "gx", "gy", "flags"],
            "formats": ["<u4", ("<f4", 2), ("<f4", 2), ("<f4", 2), "<u2"],
            "offsets": [f.offset for f in used],
            "itemsize": head,
        }
    )
    string_at = ct.string_at
    raw_samples, sample_eye = [], array.array("b")
    decoded: list[tuple[np.ndarray, ...]] = []  # (times, gx, gy, pupil) per chunk

    def decode():
        """The buffered raw samples -> compact arrays of the eye in use (bounds memory)."""
        arr = np.frombuffer(b"".join(raw_samples), dtype=sample_dtype)
        rows = np.arange(arr.size)
        eyes = np.frombuffer(sample_eye, dtype=np.int8).astype(np.int64)
        half = (arr["flags"] & _SAMPLE_ADD_OFFSET) != 0
        decoded.append(
            (
                arr["time"].astype(np.float64) + 0.5 * half,
                arr["gx"][rows, eyes].astype(np.float64),
                arr["gy"][rows, eyes].astype(np.float64),
                arr["pa"][rows, eyes].astype(np.float64),
            )
        )
        raw_samples.clear()
        del sample_eye[:]

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
            if t == T_SAMPLE:  # copy the head of the FSAMPLE struct; decoded in chunks
                raw_samples.append(string_at(get_data(handle), head))
                sample_eye.append(eye_idx or 0)
                if len(raw_samples) >= CHUNK:
                    decode()
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
                    if np.isnan(rate):
                        rate = float(r.sample_rate)
                    # edfapi eye: 1 left, 2 right, 3 binocular -> the one asked for if there
                    new = want if r.eye == 3 else (1 if r.eye == 2 else 0)
                    if new != eye_idx:
                        names = ("left", "right")
                        if eye_idx is not None:
                            notes.append(
                                f"{path}: the recorded eyes change: the {names[new]} eye is "
                                f"used from the block at {r.time} ms on (the "
                                f"{names[eye_idx]} eye before)"
                            )
                        if new != want:
                            notes.append(
                                f"{path}: the {eye} eye was asked for but the block at "
                                f"{r.time} ms records only the {names[new]} eye: using the "
                                f"{names[new]} eye's gaze and events"
                            )
                        eye_idx = new
                        first_eye = new if first_eye is None else first_eye
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
    decode()
    times, gx, gy, pupil = (np.concatenate([c[i] for c in decoded]) for i in range(4))
    decoded.clear()
    return {
        "times": times,
        "gx": gx,
        "gy": gy,
        "pupil": pupil,
        "rate": np.float64(rate),
        "eye": np.str_(EYES[first_eye] if first_eye is not None else eye),
        "notes": np.asarray(notes, dtype=np.str_) if notes else np.zeros(0, "U1"),
        "msg_t": np.asarray(msg_t, dtype=np.float64),
        "msg_txt": np.asarray(msg_txt, dtype=np.str_) if msg_txt else np.zeros(0, "U1"),
        "fix": np.asarray(fix, dtype=np.float64).reshape(-1, 4),
        "sacc": np.asarray(sacc, dtype=np.float64).reshape(-1, 2),
        "blink": np.asarray(blink, dtype=np.float64).reshape(-1, 2),
        "blocks": np.asarray(blocks, dtype=np.float64).reshape(-1, 2),
        "header": np.asarray(preamble.splitlines() or [""], dtype=np.str_),
    }


def _recording_from_dump(path: Path, d: dict) -> Recording:
    gx, gy, pupil = d["gx"].copy(), d["gy"].copy(), d["pupil"].copy()
    for a in (gx, gy, pupil):
        a[np.abs(a) >= _EDF_MISSING] = np.nan
    fix = d["fix"].copy()
    fix[np.abs(fix) >= _EDF_MISSING] = np.nan
    notes = [str(x) for x in d.get("notes", [])]
    for text in notes:
        log.warning("%s", text)
    return Recording(
        path=str(path),
        samples_time=np.asarray(d["times"], dtype=np.float64),
        gx=gx,
        gy=gy,
        pupil=pupil,
        sampling_rate=float(d["rate"]),
        messages=[(float(t), str(s)) for t, s in zip(d["msg_t"], d["msg_txt"], strict=True)],
        fixations=fix,
        saccades=d["sacc"],
        blinks=d["blink"],
        blocks=[(float(a), float(b)) for a, b in d["blocks"]],
        eye=str(d["eye"]),
        format="eyelink-edf",
        header=[h for h in (str(x).lstrip("*").strip() for x in d["header"]) if h],
        notes=notes,
    )


# ---------------------------------------------------------------------------------------
# Child-process entry point for the isolated reader


def _dump_edf(src: str, dst: str, eye: str = "left") -> None:
    # the library chatters on stdout: keep the pipe clean for our own messages
    data = _edf_lowlevel(src, eye)
    np.savez(dst, **data)


if __name__ == "__main__":
    if len(sys.argv) in (4, 6) and sys.argv[1] == "--dump-edf":
        eye = sys.argv[5] if len(sys.argv) == 6 and sys.argv[4] == "--eye" else "left"
        try:
            _dump_edf(sys.argv[2], sys.argv[3], eye)
        except InputError as exc:
            print(f"InputError: {exc}", file=sys.stderr)
            sys.exit(2)
        sys.exit(0)
    print(
        "usage: python -m hippoflow.behaviour.eyelink.edf --dump-edf SRC.edf DST.npz "
        "[--eye left|right]",
        file=sys.stderr,
    )
    sys.exit(64)
