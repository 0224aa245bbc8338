"""Bytes the channel steps write (issue 13), in one run:

(a) rplhighpass: bytes written to storage (``/proc/<pid>/io`` write_bytes of the job's own
    process) relative to its output file's size, the current write-once version against the
    former two-pass version (forward pass written into the output, then overwritten by the
    backward pass), restated below from ``git show 0edab8a^:hippoflow/ripple/filters.py`` as a
    reference only.
(b) rplsplit with ``split_compression`` none / gzip / scaleoffset on a generated Ripple day
    (hippoflow.synth: LFP, spikes and noise on the 0.25 uV grid): size of the split files
    relative to float32, split seconds per channel-hour on one core, and the cost of reading
    every split file back with h5py.  The size ratios are merged into benchmarks/work/rates.json
    (``split_size_ratio``), which python -m hippoflow.estimate reads.
"""

from __future__ import annotations

import shutil
import sys

from benchmarks._measure import REPO, WORK, measure, merge_rates, row
from benchmarks.bench_filters import make_channel

MINUTES = 10.0  # high-pass channel length
SPLIT_CHANNELS = 32
SPLIT_SECONDS = 60.0

IO = """
def written():
    with open("/proc/self/io") as f:
        return dict(line.split(": ") for line in f.read().splitlines())
"""

NEW = (
    IO
    + """
import os, sys
from hippoflow.ripple import steps
from hippoflow.naming import HIGHPASS_ARGS
raw, out = sys.argv[1:3]
w0 = written()
steps.rplhighpass(raw, out, HIGHPASS_ARGS, progress=False)
os.sync()
w1 = written()
print(int(w1["wchar"]) - int(w0["wchar"]), int(w1["write_bytes"]) - int(w0["write_bytes"]),
      file=sys.stderr)
"""
)

# The former rplhighpass core (two passes through the output file), restated for reference.
OLD = (
    IO
    + """
import os, sys
import numpy as np
from scipy import signal
from hippoflow import dpt
from hippoflow.naming import HIGHPASS_ARGS
from hippoflow.ripple import filters
raw, out = sys.argv[1:3]
x = dpt.open_array(raw)
n = x.shape[0]
sos = filters.bandpass_sos(*HIGHPASS_ARGS["HighPassFrequency"], HIGHPASS_ARGS["HighOrder"] // 2,
                           30000.0)
padlen = filters.pyhipp_padlen(HIGHPASS_ARGS["HighOrder"])
w0 = written()
info = dpt.read_flat_dict(raw, "analogInfo")
with dpt.StreamedObject(out, "data", n, np.float32, {"analogInfo": info}, {}, dirs=[os.path.dirname(os.path.abspath(out))],
                        chunk=filters.CHUNK, cache_bytes=0) as obj:
    d = obj.dataset
    read = lambda s, e: x[s:e]
    def write(s, y):
        d[s:s + y.size] = y
    sos = np.asarray(sos, dtype=np.float64)
    zi0 = signal.sosfilt_zi(sos)
    head = read(0, padlen + 1).astype(np.float64)
    left = 2 * head[0] - head[padlen:0:-1]
    tail = read(n - padlen - 1, n).astype(np.float64)
    right = 2 * tail[-1] - tail[-2::-1]
    _, zi = signal.sosfilt(sos, left, zi=zi0 * left[0])
    for s in range(0, n, filters.CHUNK):
        e = min(n, s + filters.CHUNK)
        y, zi = signal.sosfilt(sos, np.asarray(read(s, e), dtype=np.float64), zi=zi)
        write(s, y.astype(np.float32))
    yr, zi = signal.sosfilt(sos, right, zi=zi)
    _, zb = signal.sosfilt(sos, yr[::-1], zi=zi0 * yr[-1])
    for e in range(n, 0, -filters.CHUNK):
        s = max(0, e - filters.CHUNK)
        seg = np.asarray(d[s:e], dtype=np.float64)[::-1]
        y, zb = signal.sosfilt(sos, seg, zi=zb)
        write(s, y[::-1].astype(np.float32))
    obj.commit()
os.sync()
w1 = written()
print(int(w1["wchar"]) - int(w0["wchar"]), int(w1["write_bytes"]) - int(w0["write_bytes"]),
      file=sys.stderr)
"""
)

SPLIT = """
import sys, time
from pathlib import Path
from hippoflow.ripple.steps import rplsplit
from hippoflow.synth import day as gen
session, out, mode, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ids = gen.electrode_ids(n)
paths = [out / f"channel{e:03d}" / "rplraw_d41d.hkl" for e in ids]
rplsplit(sorted(session.glob("*.ns5")), sorted(session.glob("*.nev"))[0], ids, paths, {},
         progress=False, compression=mode)
"""

READ = """
import sys
from pathlib import Path
from hippoflow import dpt
for p in sorted(Path(sys.argv[1]).glob("*/rplraw_d41d.hkl")):
    dpt.open_array(p)[...]  # h5py underneath: every HDF5 reader decodes the filters
"""


def _bytes_written(script: str, raw, out) -> tuple[float, float]:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", script, str(raw), str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    wchar, to_disk = done.stderr.strip().splitlines()[-1].split()
    return float(wchar), float(to_disk)


def highpass_rows(work) -> list[dict]:
    raw = work / "rplraw_d41d.hkl"
    make_channel(raw, MINUTES / 60)
    rows = []
    ratios = {}
    for label, script in (("two-pass", OLD), ("write-once", NEW)):
        out = work / f"hp_{label}.hkl"
        wchar, to_disk = _bytes_written(script, raw, out)
        ratios[label] = (wchar / out.stat().st_size, to_disk / out.stat().st_size)
        out.unlink()
    (old, old_disk), (new, new_disk) = ratios["two-pass"], ratios["write-once"]
    # wchar: bytes the job hands to the file system, what crosses NFS/Lustre to the servers;
    # write_bytes: what reached the local disk, where a rewrite of still-dirty pages is merged
    rows.append(
        row(
            "rplhighpass bytes written (wchar) / output size, two-pass (before 0edab8a)",
            old,
            "x",
            target="2.0 (issue 13)",
        )
    )
    rows.append(
        row(
            "rplhighpass bytes written (wchar) / output size, write-once",
            new,
            "x",
            baseline=round(old, 3),
            ratio=new / old,
            target="<= 1.05",
            ok=new <= 1.05,
        )
    )
    rows.append(row("rplhighpass local-disk write_bytes / output size, two-pass", old_disk, "x"))
    rows.append(row("rplhighpass local-disk write_bytes / output size, write-once", new_disk, "x"))
    return rows


def split_rows(work) -> tuple[list[dict], dict]:
    from hippoflow.synth import day as gen

    opts = gen.Options(
        out=work / "data",
        channels=SPLIT_CHANNELS,
        seconds=SPLIT_SECONDS,
        sessions=1,
        eye=False,
        seed=3,
    )
    (day,) = gen.generate(opts, log=lambda *_: None)
    session = day / "session01"
    ch_hours = SPLIT_CHANNELS * SPLIT_SECONDS / 3600
    float32 = SPLIT_CHANNELS * SPLIT_SECONDS * 30000 * 4
    rows, ratios = [], {}
    base_s = None
    for mode in ("none", "gzip", "scaleoffset"):
        out = work / mode
        wall, _ = measure(
            [sys.executable, "-c", SPLIT, str(session), str(out), mode, str(SPLIT_CHANNELS)]
        )
        size = sum(p.stat().st_size for p in out.glob("*/rplraw_d41d.hkl"))
        read_s, _ = measure([sys.executable, "-c", READ, str(out)])
        ratios[mode] = round(size / float32, 3)
        if mode == "none":
            base_s = wall
        rows.append(row(f"split {mode}: size / float32", size / float32, "x"))
        rows.append(
            row(
                f"split {mode}: write s per channel-hour (1 core, incl. start-up)",
                wall / ch_hours,
                "s",
                baseline=None if mode == "none" else round(base_s / ch_hours, 2),
                ratio=None if mode == "none" else wall / base_s,
            )
        )
        rows.append(
            row(f"split {mode}: read-back s per channel-hour (h5py)", read_s / ch_hours, "s")
        )
        shutil.rmtree(out)
    return rows, ratios


def run() -> list[dict]:
    work = WORK / "bytes"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        rows = highpass_rows(work)
        more, ratios = split_rows(work)
        rows += more
    finally:
        shutil.rmtree(work, ignore_errors=True)
    merge_rates({"split_size_ratio": ratios})
    return rows
