"""SR Research binary ``.edf`` reader (edfapi through ``eyelinkio``, low-level calls).

Inputs: a ``.edf`` file path (already sniffed as ``eyelink-edf`` by
:mod:`hippoflow.behaviour.eyelink.sniff`).  Outputs: a
:class:`~hippoflow.behaviour.eyelink.recording.Recording` (:func:`read_edf`).

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
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from hippoflow.behaviour.eyelink.recording import CHUNK, Recording
from hippoflow.errors import InputError

_EDF_MISSING = 1e8 - 1  # edfapi writes 1e8 for missing float sample data


def read_edf(path: Path, isolate: bool = True) -> Recording:
    """The recording of an SR Research ``.edf``; ``isolate`` reads it in a child process."""
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
                if len(raw_samples) >= CHUNK:  # bound memory: many small bytes -> one
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
# Child-process entry point for the isolated reader


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
        "usage: python -m hippoflow.behaviour.eyelink.edf --dump-edf SRC.edf DST.npz",
        file=sys.stderr,
    )
    sys.exit(64)
