"""rule nwb at 124 channels: size, write time and peak memory of a session's NWB file with and
without the 30 kHz high-pass series.

A 1-hour, 124-channel session's high-pass inputs alone are 124 x 3600 s x 30 kHz x 4 B =
53.6 GB (and the file about as much again): more than this machine's free disk, and the
gzip pass would take most of an hour.  So the bench writes shorter sessions
(124 channels; with the high-pass series 60 s and 180 s, LFP only 600 s and 1800 s; inputs
built synthetically in benchmarks/work/nwb: float32 Gaussian noise of
10 uV, the worst case for compression, as RPLLFP/RPLHighPass files) and extrapolates time and
size to one hour with the straight line through the two lengths (both grow linearly: the
series are streamed buffer by buffer).  Peak memory is measured at both lengths: the same
value at 1x and 3x the length is what "bounded" means here (a buffer of 0.1 GB, not the
session: below 0.1 GB of series, memory grows with the data up to that).
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import sys

import hickle
import numpy as np

from benchmarks._measure import WORK, measure, merge_rates, row
from hippoflow import dpt
from hippoflow.naming import LFP_ARGS
from hippoflow.ripple.nsx import systemtime

CHANNELS = 124
LFP_RATE = float(LFP_ARGS["ResampleRate"])  # Hz, the rpllfp files' rate (PyHipp's default)
# s: with the high-pass series; LFP only at lengths whose LFP (0.5 MB/s at 124 channels)
# outgrows the 0.1 GB write buffer, else memory grows with the data up to the buffer's size
DURATIONS = {True: (60.0, 180.0), False: (600.0, 1800.0)}
HOUR = 3600.0
PER_CHANNEL_MB = 200  # noise generated per write (bounds this process's memory)

WRITE = """
import sys, json
from hippoflow.config import defaults
from hippoflow.nwb.steps import nwb
work, out, highpass = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
meta = json.load(open(work + "/meta.json"))
cfg = {**defaults("nwb"), "highpass": highpass}
nwb(out, subject="bench", day="20200101", session="session01", header=meta["header"],
    rpl=meta["rpl"], channels=meta["channels"], lfp=meta["lfp"],
    highpass=meta["highpass"] if highpass else [], cfg=cfg)
"""


def _channel_file(path, n, rate, rng, label):
    data = np.empty(n, dtype=np.float32)
    step = PER_CHANNEL_MB * 250_000
    for a in range(0, n, step):
        b = min(n, a + step)
        data[a:b] = rng.normal(0.0, 10.0, b - a)
    info = {
        "SampleRate": float(rate),
        "Units": "uV",
        "HighFreqCorner": 500.0 if rate > 1000 else 1.0,
        "LowFreqCorner": 7500.0 if rate > 1000 else 150.0,
        "LowFreqOrder": 8,
        "ProbeInfo": label,
        "NumberSamples": n,
    }
    hickle.dump({"data": data, "analogInfo": info}, str(path), mode="w")


def build(work, seconds: float, highpass: bool) -> dict:
    """Synthetic session: .ns5 header, RPLParallel, 124 RPLLFP and RPLHighPass files."""
    import json

    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    header = work / "session.ns5"
    head = bytearray(b"NEURALCD" + bytes(400))
    head[294:310] = systemtime(dt.datetime(2020, 1, 1, 10, 0, 0))
    header.write_bytes(bytes(head))
    n_trials = int(seconds // 10)
    starts = 1.0 + 10.0 * np.arange(n_trials)
    rpl = work / "rplparallel_d41d.hkl"
    dpt.save_object(
        rpl,
        {
            "markers": np.column_stack([11 + np.arange(n_trials) % 6] * 3).astype(np.uint16)
            + np.array([0, 10, 20], dtype=np.uint16),
            "timeStamps": np.column_stack([starts, starts + 2.0, starts + 8.0]),
        },
        {},
        [work],
    )
    channels, lfp, hp = [], [], []
    for k in range(CHANNELS):
        array, channel = f"{k // 32 + 1:02d}", f"{k + 1:03d}"
        channels.append([array, channel])
        lfp.append(str(work / f"lfp{k:03d}.hkl"))
        hp.append(str(work / f"hp{k:03d}.hkl"))
        _channel_file(lfp[-1], int(seconds * LFP_RATE), LFP_RATE, rng, f"lfp {k + 1}")
        if highpass:
            _channel_file(hp[-1], int(seconds * 30000), 30000, rng, f"hp {k + 1}")
    meta = {"header": str(header), "rpl": str(rpl), "channels": channels, "lfp": lfp}
    meta["highpass"] = hp
    (work / "meta.json").write_text(json.dumps(meta))
    return meta


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the launcher and the writer): the
    shared machine's load stretches wall time, not this."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(durations=DURATIONS) -> list[dict]:
    base = WORK / "nwb"
    shutil.rmtree(base, ignore_errors=True)
    measured = {}  # (highpass, seconds) -> (CPU s, peak MB, size GB, wall s)
    try:
        for highpass, lengths in durations.items():
            for seconds in lengths:
                work = base / f"s{int(seconds)}_{int(highpass)}"
                build(work, seconds, highpass)
                out = work / "out.nwb"
                cpu0 = _children_cpu()
                wall, peak = measure(
                    [sys.executable, "-c", WRITE, str(work), str(out), str(int(highpass))]
                )
                cpu = _children_cpu() - cpu0
                measured[(highpass, seconds)] = (cpu, peak, os.path.getsize(out) / 1e9, wall)
                shutil.rmtree(work)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    rows = []
    for highpass in (False, True):
        a, b = durations[highpass]
        what = "LFP + high-pass" if highpass else "LFP only"
        (wa, pa, sa, _), (wb, pb, sb, wall_b) = measured[(highpass, a)], measured[(highpass, b)]

        def hour(va, vb, a=a, b=b):
            return va + (vb - va) / (b - a) * (HOUR - a)

        note = f"{CHANNELS} ch; measured at {a:g} s and {b:g} s, line to 3600 s"
        rows += [
            row(f"nwb {what}: write CPU time, {b:g} s session", wb, "s", wall_s=round(wall_b, 1)),
            row(f"nwb {what}: file size, {b:g} s session", sb, "GB", channels=CHANNELS),
            row(f"nwb {what}: write CPU time, 1 h (extrapolated)", hour(wa, wb), "s", note=note),
            row(f"nwb {what}: file size, 1 h (extrapolated)", hour(sa, sb), "GB", note=note),
            row(
                f"nwb {what}: peak RSS at {b:g} s / at {a:g} s",
                pb / pa,
                "x",
                baseline=f"{pa:.0f} MB at {a:g} s",
                ratio=pb / pa,
                target="<= 1.2 (bounded: 3x the length, same memory)",
                ok=pb / pa <= 1.2,
                peak_mb={f"{a:g}s": round(pa), f"{b:g}s": round(pb)},
            ),
        ]
    # the estimator's W: NWB bytes per LFP byte (float32 noise at 1 kHz compresses worst; the
    # generated demo's 1/f LFP gave 0.79), merged into benchmarks/work/rates.json
    b = durations[False][1]
    ratio = measured[(False, b)][2] * 1e9 / (4.0 * CHANNELS * b * LFP_RATE)
    merge_rates({"nwb_size_ratio": round(ratio, 3)})
    rows.append(
        row(
            "nwb LFP only: file bytes per LFP byte (estimator's nwb_size_ratio)",
            ratio,
            "x",
            note=f"{b:g} s of float32 noise at {LFP_RATE:g} Hz, {CHANNELS} ch; into rates.json",
        )
    )
    return rows
