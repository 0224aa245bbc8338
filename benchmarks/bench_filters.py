"""rplhighpass and rpllfp on a 1-hour channel vs PyHipp's float64 (b, a) filtfilt."""

from __future__ import annotations

import shutil
import sys

import numpy as np

from benchmarks._measure import WORK, measure, row
from hippoflow import dpt

FS = 30000
HOURS = 1.0

OURS = """
import sys
from hippoflow.ripple import steps as ripple_steps
from hippoflow.naming import HIGHPASS_ARGS, LFP_ARGS
kind, raw, out = sys.argv[1:4]
if kind == "hp":
    ripple_steps.rplhighpass(raw, out, HIGHPASS_ARGS, progress=False)
else:
    ripple_steps.rpllfp(raw, out, LFP_ARGS)
"""

PYHIPP = """
import sys
import hickle, numpy as np
from scipy import signal
kind, raw, out = sys.argv[1:4]
x = hickle.load(raw)["data"].astype(np.float64)  # PyHipp filtered float64 data
if kind == "hp":
    b, a = signal.butter(4, [500 / 15000, 7500 / 15000], "bandpass")
    y = signal.filtfilt(b, a, x, padtype="odd", padlen=3 * (max(len(b), len(a)) - 1))
else:
    x = signal.resample_poly(x, 1000, 30000)
    b, a = signal.butter(4, [1 / 500, 150 / 500], "bandpass")
    y = signal.filtfilt(b, a, x, padtype="odd", padlen=3 * (max(len(b), len(a)) - 1))
hickle.dump({"data": y.astype("float32")}, out, mode="w")
"""


def make_channel(path, hours=HOURS, seed=0):
    n = int(hours * 3600 * FS)
    rng = np.random.default_rng(seed)
    info = {
        "SampleRate": float(FS),
        "ProbeInfo": "raw 1",
        "MaxVal": 0.0,
        "MinVal": 0.0,
        "NumberSamples": n,
        "Units": "uV",
    }
    with dpt.StreamedObject(path, "data", n, np.float32, {"analogInfo": info}, {}, ["."]) as o:
        step = 10_000_000
        for s in range(0, n, step):
            m = min(step, n - s)
            t = np.arange(s, s + m) / FS
            o.dataset[s : s + m] = (
                40 * np.sin(2 * np.pi * 8 * t) + 20 * rng.standard_normal(m)
            ).astype(np.float32)
        o.commit()
    return n


def run(hours: float = HOURS) -> list[dict]:
    work = WORK / "filters"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    raw = work / "rplraw_d41d.hkl"
    n = make_channel(raw, hours)
    out_mb = n * 4 / 1e6
    rows = []
    try:
        for kind, label, out_size in (
            ("hp", "rplhighpass", out_mb),
            ("lfp", "rpllfp", out_mb / 30),
        ):
            ours_s, ours_mb = measure(
                [sys.executable, "-c", OURS, kind, str(raw), str(work / f"o_{kind}.hkl")]
            )
            old_s, old_mb = measure(
                [sys.executable, "-c", PYHIPP, kind, str(raw), str(work / f"p_{kind}.hkl")]
            )
            limit = 3 * out_size + 200
            rows += [
                row(
                    f"{label}: 1 h channel, wall",
                    ours_s,
                    "s",
                    baseline="PyHipp filtfilt (b,a) f64",
                    ratio=old_s / ours_s,
                    target=">= 4x faster",
                    ok=old_s / ours_s >= 4,
                    pyhipp_s=round(old_s, 2),
                ),
                row(
                    f"{label}: peak RSS",
                    ours_mb,
                    "MB",
                    baseline="PyHipp peak RSS",
                    ratio=old_mb / ours_mb,
                    target=f"<= {limit:.0f} MB (3x output + 200)",
                    ok=ours_mb <= limit,
                    pyhipp_mb=round(old_mb),
                ),
            ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows
