"""Sorting one day-channel: time and peak RSS for 2 sessions totalling 1 hour, and accuracy.

Data: band-limited Gaussian noise (500-7500 Hz, like rplhighpass output) with four units of
the generator's waveforms (high-pass filtered), Poisson trains with a 2 ms refractory period,
written as two rplhighpass-style DPT files (30 + 30 min).  The sort runs in a child process
limited to one thread (target: <= 0.25 x real time, <= 2 GiB): the sort step (MountainSort5 in
its own child process) then the curate step.  Accuracy is SpikeInterface's
ground-truth comparison, mean over units with SNR >= 5 (tests/unit/test_sorting.py's floor).

Parameter alternatives are compared on shorter data (2 x 90 s, 2 seeds) so the whole file stays
within a few minutes: ``HIPPOFLOW_BENCH_SORT_MINUTES`` (default 60) sets the long case's length,
``HIPPOFLOW_BENCH_SORT_ALTERNATIVES=0`` skips the comparison.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np
from scipy import signal

from benchmarks._measure import WORK, measure, row
from hippoflow import dpt
from hippoflow.synth import day as gen
from hippoflow.synth import groundtruth

FS = 30000
NOISE_UV = 7.0
SNR_FLOOR = 5.0
UNITS = 4
AMPLITUDES = (45.0, 110.0)  # generator amplitudes before high-pass: SNR about 5-12
RATES = (3.0, 10.0)
ONE_THREAD = {
    k: "1"
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
}
ALTERNATIVES = {
    "defaults (config)": {},
    "MS5 npca_per_channel 3": {"npca_per_channel": 3},
    "threshold 4.0": {"detect_threshold": 4.0},
    "threshold 5.5": {"detect_threshold": 5.5},
    "scheme 1": {"scheme": "1"},
    "scheme 3 (10 s blocks)": {"scheme": "3", "block_duration_sec": 60},
    "no satellite curation": {"max_coincidence": 1.0},
    "SpikeInterface whitening": {"normalize": "whiten"},
}

SORT = """
import json, sys
import numpy as np
from hippoflow.sorting import curate as curation
from hippoflow.sorting import sort as sorting
sources = json.loads(sys.argv[1]); params = json.loads(sys.argv[2])
raw = sorting.sort_day_channel([tuple(s) for s in sources], params, workdir=sys.argv[3])
res = curation.curate(raw, params)
np.savez(sys.argv[4], times=res["spike_times"], cells=res["spike_cells"],
         starts=res["session_starts"], noise=res["noise_uv"])
"""


def make_day(folder, seconds_per_session, seed=0):
    """Two high-pass sessions of one channel; returns (sources, true times, true units)."""
    rng = np.random.default_rng(seed)
    sos = signal.butter(4, [500, 7500], "bandpass", fs=FS, output="sos")
    tmpl = gen.unit_templates(rng, UNITS, AMPLITUDES)
    pad = np.zeros((UNITS, 200))
    tmpl_hp = signal.sosfiltfilt(sos, np.hstack([pad, tmpl, pad]), axis=1)[:, 200:-200]
    gain = NOISE_UV / np.sqrt(np.mean(signal.sosfilt(sos, rng.standard_normal(FS * 10)) ** 2))
    sources, all_t, all_u, start = [], [], [], 0
    for k, seconds in enumerate(seconds_per_session):
        n = int(seconds * FS)
        times, units = gen.spike_trains(rng, UNITS, n, RATES)
        path = folder / f"session{k + 1:02d}" / "rplhighpass_b59f.hkl"
        with dpt.StreamedObject(
            path, "data", n, np.float32, {"analogInfo": {"SampleRate": float(FS)}}, {}, [folder]
        ) as obj:
            zi = np.zeros((sos.shape[0], 2))
            chunk = FS * 20
            for s in range(0, n, chunk):
                e = min(n, s + chunk)
                x, zi = signal.sosfilt(sos, rng.standard_normal(e - s), zi=zi)
                x *= gain
                lo = np.searchsorted(times, s - gen.TEMPLATE_LEN)
                hi = np.searchsorted(times, e)
                for t0, u in zip(times[lo:hi], units[lo:hi], strict=True):
                    idx = np.arange(
                        t0 - gen.TEMPLATE_PEAK, t0 - gen.TEMPLATE_PEAK + gen.TEMPLATE_LEN
                    )
                    keep = (idx >= s) & (idx < e)
                    x[idx[keep] - s] += tmpl_hp[u][keep]
                obj.dataset[s:e] = x.astype(np.float32)
            obj.commit()
        sources.append((path.parent.name, str(path)))
        all_t.append(times + start)
        all_u.append(units)
        start += n
    snr = {u: float(np.abs(tmpl_hp[u]).max() / NOISE_UV) for u in range(UNITS)}
    return sources, np.concatenate(all_t), np.concatenate(all_u), snr


def sort_in_child(sources, params, folder) -> tuple[float, float, dict]:
    out = folder / "result.npz"
    env = dict(os.environ, **ONE_THREAD)
    cmd = [
        sys.executable,
        "-c",
        SORT,
        json.dumps(sources),
        json.dumps(params),
        str(folder / "w"),
        str(out),
    ]
    wall, rss = measure(cmd, env=env)
    with np.load(out) as r:
        return wall, rss, {k: r[k] for k in r.files}


def accuracy(gt_t, gt_u, snr, res) -> tuple[float, int, int]:
    o = np.argsort(gt_t, kind="stable")
    perf = groundtruth.compare(gt_t[o], gt_u[o], res["times"], res["cells"])
    acc = [float(perf.loc[u, "accuracy"]) for u in perf.index if snr[int(u)] >= SNR_FLOOR]
    return float(np.mean(acc)) if acc else 0.0, len(acc), int(np.unique(res["cells"]).size)


def run() -> list[dict]:
    rows = []
    minutes = float(os.environ.get("HIPPOFLOW_BENCH_SORT_MINUTES", "60"))
    folder = WORK / "sorting"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        seconds = minutes * 60
        sources, gt_t, gt_u, snr = make_day(folder / "long", [seconds / 2, seconds / 2])
        wall, rss, res = sort_in_child(sources, {}, folder / "long")
        rt = wall / seconds
        acc, n_acc, n_cells = accuracy(gt_t, gt_u, snr, res)
        label = f"{minutes:g} min, 2 sessions"
        rows.append(row(f"sort {label}: wall time", wall, "s", target=f"<= {0.25 * seconds:g} s"))
        rows.append(row(f"sort {label}: x real time", rt, "x", target="<= 0.25", ok=rt <= 0.25))
        rows.append(row(f"sort {label}: peak RSS", rss, "MB", target="<= 2048", ok=rss <= 2048))
        rows.append(
            row(
                f"sort {label}: mean accuracy (SNR >= {SNR_FLOOR:g}, {n_acc} units, {n_cells} cells)",
                acc,
                "",
                target=">= 0.9",
                ok=acc >= 0.9,
            )
        )
        shutil.rmtree(folder / "long", ignore_errors=True)
        if os.environ.get("HIPPOFLOW_BENCH_SORT_ALTERNATIVES", "1") != "0":
            rows += alternatives(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def alternatives(folder, seconds=90.0, seeds=(1, 2)) -> list[dict]:
    days = []
    for seed in seeds:
        d = folder / f"alt{seed}"
        days.append((d, *make_day(d, [seconds, seconds], seed=seed)))
    rows = []
    for name, params in ALTERNATIVES.items():
        accs, walls, cells = [], [], 0
        for d, sources, gt_t, gt_u, snr in days:
            wall, _, res = sort_in_child(sources, params, d)
            acc, _, n_cells = accuracy(gt_t, gt_u, snr, res)
            accs.append(acc)
            walls.append(wall)
            cells += n_cells
        rows.append(
            row(
                f"accuracy 2x{seconds:g} s, {name} ({cells} cells for {UNITS * len(seeds)} units, "
                f"{np.mean(walls):.1f} s per sort)",
                float(np.mean(accs)),
                "",
                target=">= 0.9" if not params else None,
                ok=bool(np.mean(accs) >= 0.9) if not params else None,
            )
        )
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
