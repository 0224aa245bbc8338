"""Behaviour benchmark: Unity parsing and alignment of a 1-hour navigation session.

A synthetic 1-hour session (generator trial plan, ~216 k Unity frames at ~60 Hz, a 1 kHz
EyeLink object of 3.6 M samples on a drifting tracker clock) is written once; a child
process then runs the workflow's own steps (``hippoflow.behaviour.steps.unity`` and
``align_unity`` / ``align_eyelink``), timing each stage, and its peak RSS is measured;
a second child runs the session's raycast job on the aligned objects (random gaze).
Baseline for the EyeLink alignment: the PyHipp method rescales the samples trial interval
by interval in a Python loop and then walks every sample to re-find fixation times; the
same two loops are timed here on the same data.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

from benchmarks._measure import WORK, measure, row

SECONDS = 3600.0
TARGET_S = 20.0  # unity parse + both alignments, one session

CHILD = r"""
import json, sys, time
import numpy as np
from hippoflow import dpt
from hippoflow.behaviour import steps as behaviour
work = sys.argv[1]
t = {}
t0 = time.perf_counter()
behaviour.unity(work + "/log.txt", work + "/rpl.hkl", work + "/u_unaligned.hkl")
t["unity"] = time.perf_counter() - t0
t0 = time.perf_counter()
behaviour.align_unity(work + "/u_unaligned.hkl", work + "/rpl.hkl", work + "/unity.hkl")
t["align_unity"] = time.perf_counter() - t0
t0 = time.perf_counter()
behaviour.align_eyelink(work + "/e_unaligned.hkl", work + "/rpl.hkl", work + "/eyelink.hkl")
t["align_eyelink"] = time.perf_counter() - t0
u = dpt.load_object(work + "/unity.hkl")
e = dpt.load_object(work + "/eyelink.hkl")
rpl = dpt.load_object(work + "/rpl.hkl")
trig = u["unityTriggers"][0]
t["unity_marker_err_ms"] = float(np.max(np.abs(u["unityTime"][0][trig + 1] - rpl["timeStamps"])) * 1e3)
truth = np.load(work + "/truth.npz")
t["eyelink_sample_err_ms"] = float(np.max(np.abs(e["timestamps"] - truth["eye_true"])) * 1e3)
t["frames"] = int(u["unityData"][0].shape[0])
t["trials"] = int(trig.shape[0])
t["samples"] = int(np.asarray(e["timestamps"]).size)
json.dump(t, open(work + "/timing.json", "w"))
"""


RAYCAST_CHILD = r"""
import json, sys, time
from hippoflow.behaviour import steps as behaviour
work = sys.argv[1]
t0 = time.perf_counter()
r = behaviour.raycast(
    work + "/unity.hkl", work + "/eyelink.hkl", work + "/binData.hdf", work + "/u.csv"
)
r["t"] = time.perf_counter() - t0
json.dump(r, open(work + "/raycast.json", "w"))
"""


def _make(work, seconds=SECONDS):
    """Write the synthetic session: Unity log, rplparallel and unaligned eyelink objects."""
    from types import SimpleNamespace

    import numpy as np

    from hippoflow import dpt
    from hippoflow.naming import EYELINK_ARGS
    from hippoflow.ripple import markers
    from hippoflow.synth import day as generate
    from hippoflow.synth import unity as synth_behaviour

    rng = np.random.default_rng(0)
    plan = generate.plan_trials(rng, seconds, True)
    ticks, values = generate.marker_stream(plan)
    rpl = markers.arrange_markers(values, ticks / 30000.0, "synthetic.nev")
    dpt.save_object(work / "rpl.hkl", rpl, {}, [str(work)])
    opts = SimpleNamespace(unity_header="text", seconds=seconds)
    log = synth_behaviour.session_log(rng, plan, seconds, opts)
    header = synth_behaviour.header_lines("text", "picasso", "20181105", "session01")
    synth_behaviour.write_log(work / "log.txt", header, log)
    # EyeLink object on a tracker clock: offset + 40 ppm drift, samples every ms
    offset, scale = 512_345.0, 1 + 40e-6
    tracker = np.arange(np.floor(offset), np.ceil(offset + seconds * 1000.0 * scale))
    eye_true = (tracker - offset) / (1000.0 * scale)
    trial_ms = np.rint(offset + plan["times"] * 1000.0 * scale)
    n = tracker.size
    fix_starts = tracker[::250][:-1]
    obj = {
        "trial_timestamps": (trial_ms - tracker[0]) / 1000.0,
        "trial_codes": plan["codes"].astype(float),
        "eye_pos": rng.uniform(0, 1000, size=(n, 2)),
        "timestamps": tracker / 1000.0,
        "fix_times": np.column_stack([fix_starts, fix_starts + 200, np.full(fix_starts.size, 200)])
        / 1000.0,
        "timeouts": trial_ms[plan["codes"][:, 2] // 10 == 4, 2] / 1000.0,
        "session_start": np.rint(offset + plan["session_start"] * 1000.0 * scale) / 1000.0,
        "expTime": tracker[0] / 1000.0,
        "samplingRate": 1000.0,
    }
    dpt.save_object(work / "e_unaligned.hkl", obj, EYELINK_ARGS, [str(work)])
    np.savez(work / "truth.npz", eye_true=eye_true)
    return plan, obj


def _pyhipp_style(obj, plan):
    """Seconds taken by PyHipp's per-interval loop plus its per-sample fixation walk."""
    import time

    import numpy as np

    ts = np.asarray(obj["timestamps"]) * 1000.0
    ts = ts.copy()
    el = (np.asarray(obj["trial_timestamps"]) * 1000.0).ravel()
    el = el[el < ts.size - 1]
    true = (plan["times"] * 1000.0).ravel()[: el.size]
    fix = (np.asarray(obj["fix_times"])[:, :2] * 1000.0).ravel()
    fix = fix[fix < ts[-1]]
    t0 = time.perf_counter()
    for j in range(el.size - 1):
        a, b = int(el[j]), int(el[j + 1])
        chunk = ts[a : b + 1].astype(float)
        chunk = (chunk - chunk[0]) * (true[j + 1] - true[j]) / (chunk[-1] - chunk[0]) + chunk[0]
        shift = chunk[-1] - ts[b]
        ts[a : b + 1] = chunk
        ts[b + 1 :] += shift
    index, diff = 0, float("nan")
    for k in range(ts.size):
        if index >= fix.size:
            break
        d = ts[k] - fix[index]
        if np.isnan(diff):
            diff = d
        elif d > 0:
            fix[index] = k if abs(diff) > abs(d) else k - 1
            diff = float("nan")
            index += 1
        else:
            diff = d
    return time.perf_counter() - t0


def run(seconds: float = SECONDS) -> list[dict]:
    work = WORK / "align"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        plan, obj = _make(work, seconds)
        baseline = _pyhipp_style(obj, plan)
        wall, rss = measure([sys.executable, "-c", CHILD, str(work)])
        t = json.loads((work / "timing.json").read_text())
        env = dict(os.environ, NUMBA_NUM_THREADS="1")
        rwall, rrss = measure([sys.executable, "-c", RAYCAST_CHILD, str(work)], env=env)
        rc = json.loads((work / "raycast.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    hours = seconds / 3600.0
    size = f"{hours:g} h: {t['frames']} Unity frames, {t['trials']} trials, {t['samples']} EyeLink samples"
    align_total = t["align_unity"] + t["align_eyelink"]
    target = TARGET_S * hours
    total = t["unity"] + align_total
    return [
        row("behaviour: unity parse + object", t["unity"], "s", size=size),
        row("behaviour: align unity", t["align_unity"], "s", size=size),
        row(
            "behaviour: align eyelink",
            t["align_eyelink"],
            "s",
            baseline=f"PyHipp-style loops {baseline:.1f} s",
            ratio=baseline / t["align_eyelink"] if t["align_eyelink"] else None,
            size=size,
        ),
        row(
            "behaviour: unity + alignment per session",
            total,
            "s",
            target=f"<= {target:g} s",
            ok=total <= target,
            size=size,
        ),
        row("behaviour: whole child (incl. imports, hickle I/O)", wall, "s", size=size),
        row("behaviour: peak RSS", rss, "MB", size=size),
        row(
            "behaviour: raycast job from the aligned objects (gaze table, rays, both files)",
            rc["t"],
            "s",
            ignored=rc["ignored"],
            size=size,
        ),
        row("behaviour: raycast job peak RSS", rrss, "MB", size=size),
        row(
            "behaviour: aligned Unity markers vs Ripple (max)",
            t["unity_marker_err_ms"],
            "ms",
            target="<= 1 ms",
            ok=t["unity_marker_err_ms"] <= 1.0,
        ),
        row(
            "behaviour: aligned EyeLink samples vs true time (max)",
            t["eyelink_sample_err_ms"],
            "ms",
            target="<= 1 ms",
            ok=t["eyelink_sample_err_ms"] <= 1.0,
        ),
    ]


if __name__ == "__main__":
    s = float(sys.argv[1]) if len(sys.argv) > 1 else SECONDS
    for r in run(s):
        print(r)
