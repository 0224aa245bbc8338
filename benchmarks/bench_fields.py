"""fields per day-channel: the CPU it adds to a day, against the day's sorting CPU; and the
false-positive rate of random cells (the full measurement behind tests/unit/test_fields.py).

CPU: the child process writes one generated navigation session (the generator's Unity path
and gaze, the real raycast's bins: hippoflow.synth.fields), a curated sort of 3 cells at 5 Hz,
then runs the rule's step (:func:`hippoflow.fields.steps.fields`: loading, 1,000 shifts, every
file and picture) and takes its CPU time; at 5 and 15 minutes, extrapolated linearly to an
hour of navigation (a fixed part: imports, smoothing, files, pictures; a part per second of
recording: loading, counting, the shifts), plus the day-channel's share of the session's
``fields_samples`` job (reading binData.hdf once for the day's 124 channels). The baseline is
the day-channel's sorting CPU for an hour of recording, measured in the same run: the sort and
curate steps on a generated channel of the same 3 cells at 2 and 10 minutes (child
processes), extrapolated linearly to an hour. Target <= 0.05 x.

False positives: units firing at random (Poisson, 2-10 Hz) on generated sessions of 300 s
(seeds 100-109, 20 units each), 1,000 shifts: the fraction significant at alpha 0.01 and 0.05
for place and view; it should be at most the level (within its binomial spread).
"""

from __future__ import annotations

import json
import sys

from benchmarks._measure import WORK, load_rates, measure, merge_rates, row

SECONDS = (300.0, 900.0)  # two lengths of navigation measured, extrapolated to an hour
HOURS = 1.0
CELLS = 3
CHANNELS_PER_DAY = 124  # a day's channels: each navigation session's fields_samples job serves all
RATE_HZ = 5.0

CHILD = """
import json, os, sys, time
import numpy as np
from hippoflow import dpt
from hippoflow.behaviour.raycast.outputs import write_bindata
from hippoflow.fields import steps
from hippoflow.synth import fields as sf

seconds, n_cells, rate, out = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
sess = sf.session(seed=0, seconds=seconds)  # the generator's Unity path, the real raycast
unity = dict(sess["unity"], numSets=1, setidx=[0])
dpt.save_object(out + "/unity.hkl", unity, {}, [out])
v = sess["bindata"]
write_bindata(out + "/binData.hdf", v[:, 0], v[:, 1:].astype(np.int32))
dpt.save_object(out + "/eyelink.hkl", {"samplingRate": 1000.0}, {}, [out])
rng = np.random.default_rng(0)
fs = 30000.0
t0_, t1_ = sess["span"]
n_samples = int(t1_ * fs) + 1
times, cells = [], []
for c in range(1, n_cells + 1):
    st = np.sort(rng.integers(int(t0_ * fs), n_samples, rng.poisson(rate * (t1_ - t0_))))
    times.append(st)
    cells.append(np.full(st.size, c))
order = np.argsort(np.concatenate(times), kind="stable")
sort = {"cells": list(range(1, n_cells + 1)), "spike_times": np.concatenate(times)[order],
        "spike_cells": np.concatenate(cells)[order], "session_starts": [0],
        "session_samples": [n_samples], "sessions": ["session01"]}
dpt.save_object(out + "/curated.hkl", sort, {}, [out])
os.makedirs(out + "/session01/channel001", exist_ok=True)
steps.maps._shifted_counts  # noqa: B018 (import numba kernels before timing)
c0 = time.process_time()
steps.fields_samples(out + "/unity.hkl", out + "/binData.hdf", out + "/eyelink.hkl",
                     out + "/samples.h5", "session01", steps.Params().min_speed)
samples_cpu = time.process_time() - c0
c0, w0 = time.process_time(), time.perf_counter()
steps.fields(
    out + "/curated.hkl", {"session01": out + "/samples.h5"},
    {"session01": out + "/session01/channel001"}, out + "/fields", out + "/fields/fields.tsv",
    steps.Params(), day="20181105", array="01", channel="001",
    figures_dir=out + "/fields/figures",
)
print(json.dumps({"cpu": time.process_time() - c0, "samples_cpu": samples_cpu, "wall": time.perf_counter() - w0,
                  "seconds": t1_ - t0_, "spikes": int(sort["spike_times"].size)}))
"""

FP = """
import json, sys
import numpy as np
from hippoflow.fields import steps
from hippoflow.synth import fields as sf
params = steps.Params(shuffles=1000, alpha=0.05, min_shift=10.0)
res = {"place": [], "view": []}
for seed in range(100, 110):
    sess = sf.session(seed=seed, seconds=300.0)
    s = steps.make_session("s", sess["unity"], sess["bindata"], 1000.0, params.min_speed)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        sp = sf.random_unit(rng, sess, rate=float(rng.uniform(2, 10)))
        r = steps.cell_fields([s], {"s": sp}, params, rng)
        for kind in res:
            res[kind].append(r[kind]["p_value"])
print(json.dumps(res))
"""


SORT_SECONDS = (120.0, 600.0)  # two lengths of one channel sorted, extrapolated to an hour

SORT_CHILD = r"""
import json, resource, sys
from pathlib import Path
import numpy as np
from hippoflow import dpt
from hippoflow.sorting import curate, steps
from hippoflow.sorting.sort import limit_args, sort_args
from hippoflow.synth import groundtruth as gt

seconds, cells, rate, work = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
shapes = [(0.1, 0.4, 0.8, 0.3), (0.2, 1.0, 2.0, 0.15), (0.15, 0.6, 1.2, 0.2)]
units = tuple(gt.TrueUnit(10.0 + 4 * k, rate, shapes[k % 3]) for k in range(cells))
d = gt.make_random_member(gt.RandomMember(1, units, 5.0, 1, seconds))
path = work / f"sort_{seconds:g}" / "session01" / "rplhighpass_b59f.hkl"
dpt.save_object(path, {"data": d["data"][0], "analogInfo": {"SampleRate": gt.FS}}, {}, [path.parent])
def cpu():
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime
c0 = cpu()
out = path.parent.parent / "sort.hkl"
steps.sort([str(path)], ["session01"], sort_args({}), out, limits=limit_args({}))
cur = curate.curate(dpt.load_object(out), {})
print(json.dumps({"seconds": seconds, "cpu": cpu() - c0, "cells": len(cur["cells"])}))
"""


def sort_cpu_per_day_channel(hours: float, work) -> tuple[float, dict]:
    """The sort and curate steps' CPU for one day-channel of ``hours``, measured in this run:
    a generated channel of ``CELLS`` units sorted at two lengths (:data:`SORT_SECONDS`) in
    child processes, extrapolated linearly (a fixed part and a part per second)."""
    got = {}
    for seconds in SORT_SECONDS:
        out_json = work / f"sort_child_{seconds:g}.json"
        cmd = [sys.executable, "-c", SORT_CHILD, str(seconds), str(CELLS), str(RATE_HZ), str(work)]
        measure(cmd, stdout=out_json)
        got[seconds] = json.loads(out_json.read_text().strip().splitlines()[-1])
    (_, ga), (_, gb) = sorted(got.items())
    per_s = (gb["cpu"] - ga["cpu"]) / (gb["seconds"] - ga["seconds"])
    fixed = ga["cpu"] - per_s * ga["seconds"]
    return fixed + per_s * hours * 3600, {
        f"{g['seconds']:.0f} s sorted": round(g["cpu"], 2) for g in got.values()
    }


def run() -> list[dict]:
    return cpu_rows() + false_positive_rows()


def cpu_rows() -> list[dict]:
    work = WORK / "fields"
    work.mkdir(parents=True, exist_ok=True)
    got = {}
    for seconds in SECONDS:  # two lengths: CPU = fixed + per-second part, extrapolated
        out_json = work / f"child_{seconds:g}.json"
        cmd = [sys.executable, "-c", CHILD, str(seconds), str(CELLS), str(RATE_HZ), str(work)]
        wall, rss = measure(cmd, stdout=out_json)
        got[seconds] = json.loads(out_json.read_text().strip().splitlines()[-1])
    (_, ga), (_, gb) = sorted(got.items())

    def line(key):  # fixed + per second, from the two lengths
        per_s = (gb[key] - ga[key]) / (gb["seconds"] - ga["seconds"])
        return ga[key] - per_s * ga["seconds"], per_s

    fixed, per_s = line("cpu")
    s_fixed, s_per_s = line("samples_cpu")
    job = fixed + per_s * HOURS * 3600
    samples = (s_fixed + s_per_s * HOURS * 3600) / CHANNELS_PER_DAY
    cpu = job + samples
    base, sorted_cpu = sort_cpu_per_day_channel(HOURS, work)
    ratio = cpu / base
    # the estimator's rates (benchmarks/work/rates.json; config/rates.yaml by hand)
    rates = load_rates()
    merge_rates(
        {
            "seconds_per_job": {
                **rates.get("seconds_per_job", {}),
                "fields": round(max(fixed, 0.0), 2),
                "fields_samples": round(max(s_fixed, 0.0), 2),
            },
            # a day-channel of CELLS cells (the issue's ~3 per channel)
            "seconds_per_navigation_channel_hour": {"fields": round(per_s * 3600, 2)},
            "seconds_per_navigation_hour": {"fields_samples": round(s_per_s * 3600, 2)},
        }
    )
    rows = [
        row(
            f"fields CPU per day-channel ({HOURS:g} h navigation, {CELLS} cells, 1000 shifts)",
            cpu,
            "s",
            baseline=f"sort + curate {base:.1f} s (measured in this run)",
            ratio=ratio,
            target="<= 0.05",
            ok=ratio <= 0.05,
            peak_rss_mb=round(rss, 1),
            fields_job_cpu_s=round(job, 2),
            fields_job_fixed_cpu_s=round(fixed, 2),
            fields_job_cpu_s_per_navigation_hour=round(per_s * 3600, 2),
            fields_samples_cpu_s_per_session_hour=round(s_fixed + s_per_s * 3600, 2),
            fields_samples_share_s=round(samples, 3),
            measured={f"{g['seconds']:.0f} s": round(g["cpu"], 2) for g in got.values()},
            sort_measured=sorted_cpu,
        )
    ]
    return rows


def false_positive_rows() -> list[dict]:
    work = WORK / "fields"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    fp_json = work / "fp.json"
    measure([sys.executable, "-c", FP], stdout=fp_json)
    p = json.loads(fp_json.read_text().strip().splitlines()[-1])
    for kind in ("place", "view"):
        v = sorted(p[kind])
        n = len(v)
        for alpha in (0.01, 0.05):
            frac = sum(x <= alpha for x in v) / n
            rows.append(
                row(
                    f"false positives, random {kind} cells at alpha {alpha} ({n} cells)",
                    frac,
                    "fraction",
                    target=f"<= {alpha} (binomial spread)",
                    ok=frac <= alpha + 2 * (alpha * (1 - alpha) / n) ** 0.5,
                )
            )
    return rows


if __name__ == "__main__":  # `python -m benchmarks.bench_fields cpu`: the CPU rows only
    print(json.dumps(cpu_rows() if sys.argv[1:] == ["cpu"] else run(), indent=1))
