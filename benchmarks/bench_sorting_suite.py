"""Ground-truth suite of the sort: SpikeInterface's own generator, the workflow's own steps.

Each member is one day-channel: 2-3 sessions at 30 kHz made with
``spikeinterface.core.generate_ground_truth_recording`` (SpikeInterface's templates, noise and
injection, nothing of :mod:`hippoflow.synth`), band-passed 500-7500 Hz with scipy (PyHipp's
RPLHighPass filter: Butterworth order 4, zero phase) and written as ``rplhighpass_b59f.hkl``
files.  The spike trains (Poisson with a 2.5 ms refractory period, or bursts of 2-5 spikes 3-6
ms apart) and the units' waveform parameters are stated per member below; each unit's size is
given as its peak SNR on the high-pass data (peak |template| / noise SD), the noise as its SD
after the high-pass (a few µV, like the lab's channels).  Amplitude drift across sessions
scales a unit's template per session.

The members then go through the workflow's file-level steps, exactly as the rules call them:
:func:`hippoflow.sorting.steps.sort`, :func:`~hippoflow.sorting.steps.curate`,
:func:`~hippoflow.sorting.steps.export_cells`; the cells are read back from the
``cellNN/spiketrain.csv`` files of each session.  Scores, per session and unit, come from
``spikeinterface.comparison.compare_sorter_to_ground_truth`` (exhaustive ground truth):

- accuracy of each true unit (mean over the sessions), the fraction found with accuracy >= 0.8;
- false units per channel: cells matched to no true unit (SpikeInterface's false-positive
  units of the day's comparison, i.e. best agreement < 0.2);
- numbering: whether each well-found true unit is matched to the same cellNN in every session.

Sorters (:data:`SORTERS`): MountainSort5 through the sort step exactly as the rule runs it
(child process, time limit), SpykingCircus2 and Tridesclous2 (SpikeInterface's internal
sorters, :mod:`hippoflow.sorting.agreement`, called in this process after a warm-up call so
that numba's one-off compilation, ~45 s CPU per process, is not counted per member) and the
agreements of MountainSort5 with them (SpikeInterface's ``compare_multiple_sorters``); each
sort is analysed as the sort step does and then curated, exported and scored the same way.
Time: CPU seconds (this process and the sorter's child) of sort + curate + export over the
recording's length, i.e. x real time on one core.

``python -m benchmarks sorting_suite`` runs the suite for every sorter (tables per sorter, per
condition, per SNR band) and the ablation of each curation rule on MountainSort5's sorts;
``HIPPOFLOW_SUITE_SORTERS`` chooses sorters, ``HIPPOFLOW_SUITE_ABLATION`` the sorters the
ablation runs on, ``HIPPOFLOW_SUITE_CACHE`` keeps sorts on disk between runs (curation and
scoring reruns then sort nothing), ``HIPPOFLOW_SUITE_SECONDS`` sets the session length
(default 90 s).  tests/unit/test_sorting_suite.py runs :data:`SMALL` members.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import signal

FS = 30000.0
SOS = signal.butter(4, [500, 7500], "bandpass", fs=FS, output="sos")
MS_BEFORE, MS_AFTER = 1.0, 3.0
WELL_FOUND = 0.8
SESSIONS = ("session01", "session02", "session03")
HIGHPASS_NAME = "rplhighpass_b59f.hkl"

log_ = logging.getLogger("hippoflow.suite")


@dataclass(frozen=True)
class Unit:
    """A true unit: peak SNR on the high-pass data, rate (Hz), waveform, bursts, drift.

    ``shape``: SpikeInterface's ``generate_single_fake_waveform`` parameters (ms; positive
    amplitude relative to the trough), ``None`` for a random draw in SpikeInterface's ranges.
    ``drift``: the template's scale in each session (1 = no drift).
    """

    snr: float
    rate: float
    shape: dict | None = None
    burst: bool = False
    drift: tuple = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Member:
    name: str
    condition: str
    units: tuple
    noise_uv: float = 5.0
    sessions: int = 3
    seconds: float = 90.0
    seed: int = 0


NARROW = {"depolarization_ms": 0.10, "repolarization_ms": 0.45, "recovery_ms": 1.0}
WIDE = {"depolarization_ms": 0.14, "repolarization_ms": 0.80, "recovery_ms": 1.5}
MID = {"depolarization_ms": 0.12, "repolarization_ms": 0.60, "recovery_ms": 1.2}


def _suite() -> list[Member]:
    m = []
    for seed in (1, 2, 3, 4):
        m.append(Member(f"one-{seed}", "1 unit", (Unit(8.0 + 4 * seed, 5.0),), 4.0, seed=seed))
        m.append(
            Member(
                f"three-{seed}",
                "3 distinct units",
                (Unit(20.0, 3.0, NARROW), Unit(11.0, 8.0, WIDE), Unit(6.0, 15.0, MID)),
                5.0,
                seed=seed,
            )
        )
        m.append(
            Member(
                f"five-{seed}",
                "5 units, SNR 4-25, 0.5-30 Hz",
                (
                    Unit(25.0, 0.5, MID),
                    Unit(15.0, 12.0, NARROW),
                    Unit(9.0, 30.0, WIDE),
                    Unit(6.0, 4.0),
                    Unit(4.0, 2.0),
                ),
                6.0,
                seed=seed,
            )
        )
        m.append(
            Member(
                f"similar-{seed}",
                "similar pair (same shape, amplitude 1 : 0.7)",
                (Unit(14.0, 6.0, MID), Unit(9.8, 6.0, MID), Unit(7.0, 10.0, NARROW)),
                5.0,
                seed=seed,
            )
        )
        m.append(
            Member(
                f"burst-{seed}",
                "bursting unit",
                (Unit(12.0, 4.0, WIDE, burst=True), Unit(8.0, 8.0, NARROW)),
                4.0,
                seed=seed,
            )
        )
        m.append(
            Member(
                f"drift-{seed}",
                "amplitude drift across sessions (x1.0 -> x0.75, x0.8 -> x1.2)",
                (
                    Unit(16.0, 5.0, MID, drift=(1.0, 0.875, 0.75)),
                    Unit(7.0, 10.0, NARROW, drift=(0.8, 1.0, 1.2)),
                ),
                5.0,
                seed=seed,
            )
        )
        m.append(
            Member(
                f"lowsnr-{seed}",
                "low SNR (3-5)",
                (Unit(5.0, 8.0, WIDE), Unit(3.5, 10.0, NARROW), Unit(3.0, 5.0, MID)),
                7.0,
                sessions=2,
                seed=seed,
            )
        )
    for seed in (1, 2):
        m.append(
            Member(
                f"busy-{seed}",
                "2 fast units (20-30 Hz), 3 uV noise",
                (Unit(10.0, 30.0, NARROW), Unit(7.0, 20.0, WIDE)),
                3.0,
                seed=seed,
            )
        )
        m.append(
            Member(
                f"mixed-{seed}",
                "4 units: similar pair, bursting, drifting",
                (
                    Unit(18.0, 3.0, MID, burst=True),
                    Unit(12.6, 5.0, MID),
                    Unit(9.0, 8.0, NARROW, drift=(1.0, 0.9, 0.8)),
                    Unit(6.0, 1.0, WIDE),
                ),
                5.0,
                seed=seed,
            )
        )
    return m


# Outside the goal: two units whose amplitudes cross (x1.0 -> x0.7 and x0.8 -> x1.2, SNR 14
# and 8) are one cluster to single-channel MountainSort5 in the session where they meet, and
# in the day's concatenation (measured: report/sorting-measurements.md).
STRESS = [
    Member(
        f"cross-{seed}",
        "stress: drifting amplitudes cross (x1.0 -> x0.7, x0.8 -> x1.2)",
        (
            Unit(14.0, 5.0, MID, drift=(1.0, 0.85, 0.7)),
            Unit(8.0, 10.0, NARROW, drift=(0.8, 1.0, 1.2)),
        ),
        5.0,
        seed=seed,
    )
    for seed in (1, 2)
]
SUITE = _suite()
# the members tests/unit/test_sorting_suite.py runs: short, one per hard case of issue 12
_BY_NAME = {m.name: m for m in SUITE}
SMALL = [
    replace(_BY_NAME["three-1"], name="small-three", seconds=25.0, sessions=2, seed=7),
    replace(_BY_NAME["similar-1"], name="small-similar", seconds=25.0, sessions=2, seed=8),
    replace(_BY_NAME["drift-1"], name="small-drift", seconds=20.0, seed=9),
]


# ---- data
def _trains(rng, unit: Unit, n: int) -> np.ndarray:
    """Sample indices of one unit in a session of n samples (3 ms kept clear at both ends)."""
    edge = int(0.003 * FS)
    refr = int(0.0025 * FS)
    if unit.burst:  # bursts of 2-5 spikes 3-6 ms apart; the unit's mean rate is unit.rate
        n_bursts = rng.poisson(unit.rate / 3.5 * n / FS)
        starts = np.sort(rng.integers(edge, n - edge, n_bursts))
        t = []
        for s in starts:
            k = rng.integers(2, 6)
            t.append(s + np.cumsum(np.r_[0, rng.integers(int(0.003 * FS), int(0.006 * FS), k - 1)]))
        t = np.sort(np.concatenate(t)) if t else np.zeros(0, np.int64)
        # bursts that overlap: keep the refractory period
        keep = np.r_[True, np.diff(t) >= refr]
        t = t[keep]
    else:
        isi = rng.exponential(FS / unit.rate, int(unit.rate * n / FS * 1.5) + 20) + refr
        t = edge + np.cumsum(isi).astype(np.int64)
    return t[(t >= edge) & (t < n - edge)].astype(np.int64)


def _highpass(x: np.ndarray) -> np.ndarray:
    return signal.sosfiltfilt(SOS, np.asarray(x, dtype=np.float64), axis=0)


def _templates(member: Member) -> np.ndarray:
    """Units x samples (unfiltered, µV) scaled so that each high-passed peak is SNR x noise."""
    from spikeinterface.core.generate import generate_templates

    n = len(member.units)
    rng = np.random.default_rng(1000 + member.seed)
    params = {k: [] for k in ("depolarization_ms", "repolarization_ms", "recovery_ms")}
    params["positive_amplitude"] = []
    for u in member.units:
        shape = u.shape or {
            "depolarization_ms": rng.uniform(0.09, 0.14),
            "repolarization_ms": rng.uniform(0.5, 0.8),
            "recovery_ms": rng.uniform(1.0, 1.5),
        }
        for k in ("depolarization_ms", "repolarization_ms", "recovery_ms"):
            params[k].append(shape[k])
        params["positive_amplitude"].append(shape.get("positive_amplitude", 0.1))
    unit_params = {k: np.array(v) for k, v in params.items()}
    unit_params.update(alpha=100.0, smooth_ms=0.05)
    tmpl = generate_templates(
        np.zeros((1, 2)),
        np.tile([0.0, 0.0, 10.0], (n, 1)),
        FS,
        MS_BEFORE,
        MS_AFTER,
        seed=member.seed,
        unit_params=unit_params,
        mode="sphere",
    )[:, :, 0].astype(np.float64)
    pad = np.zeros((n, 300))
    hp = _highpass(np.hstack([pad, tmpl, pad]).T).T[:, 300:-300]
    scale = np.array([u.snr * member.noise_uv for u in member.units]) / np.abs(hp).max(axis=1)
    return tmpl * scale[:, None]


def _white_gain(seed=0) -> float:
    """SD of unit white noise after the high-pass."""
    x = np.random.default_rng(seed).standard_normal(int(20 * FS))
    return float(_highpass(x)[int(FS) : -int(FS)].std())


def make_member(member: Member, folder) -> dict:
    """Write the member's sessions as high-pass files; returns its ground truth.

    {"sources": [(session, path)], "truth": {session: (sample indices, unit ids)},
    "seconds": total length, "snr": measured peak SNR per unit, "similarity": {pair: distance
    of the high-passed templates in noise SDs}}.
    """
    import spikeinterface.core as si
    from spikeinterface.core.generate import generate_ground_truth_recording

    from hippoflow import dpt

    folder = Path(folder)
    tmpl = _templates(member)
    n = int(member.seconds * FS)
    rng = np.random.default_rng(member.seed)
    white = member.noise_uv / _white_gain()
    sources, truth = [], {}
    for k in range(member.sessions):
        session = SESSIONS[k]
        times, labels = [], []
        for i, u in enumerate(member.units):
            t = _trains(rng, u, n)
            times.append(t)
            labels.append(np.full(t.size, i, dtype=np.int64))
        t, lab = np.concatenate(times), np.concatenate(labels)
        o = np.argsort(t, kind="stable")
        t, lab = t[o], lab[o]
        sorting = si.NumpySorting.from_samples_and_labels([t], [lab], FS)
        drift = np.array([u.drift[k] for u in member.units])
        rec, _ = generate_ground_truth_recording(
            durations=[member.seconds],
            sampling_frequency=FS,
            sorting=sorting,
            templates=(tmpl * drift[:, None])[:, :, None].astype(np.float32),
            ms_before=MS_BEFORE,
            ms_after=MS_AFTER,
            probe=_probe(),
            noise_kwargs={"noise_levels": white, "strategy": "on_the_fly"},
            seed=member.seed * 100 + k,
        )
        data = _highpass(rec.get_traces(segment_index=0)[:, 0]).astype(np.float32)
        path = folder / session / HIGHPASS_NAME
        dpt.save_object(path, {"data": data, "analogInfo": {"SampleRate": FS}}, {}, [path.parent])
        sources.append((session, str(path)))
        truth[session] = (t, lab)
    pad = np.zeros((len(member.units), 300))
    hp = _highpass(np.hstack([pad, tmpl, pad]).T).T[:, 300:-300]
    similarity = {}
    for a in range(len(member.units)):
        for b in range(a + 1, len(member.units)):
            similarity[(a, b)] = float(np.abs(hp[a] - hp[b]).max() / member.noise_uv)
    return {
        "sources": sources,
        "truth": truth,
        "seconds": member.seconds * member.sessions,
        "snr": [float(np.abs(h).max() / member.noise_uv) for h in hp],
        "similarity": similarity,
    }


def _probe():
    from probeinterface import Probe

    p = Probe(ndim=2)
    p.set_contacts(positions=np.zeros((1, 2)), shapes="circle", shape_params={"radius": 6})
    p.set_device_channel_indices([0])
    return p


# ---- the workflow's own steps
def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (the sorter's child)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def sort_member(data: dict, folder, params: dict, log=None) -> tuple[Path, float]:
    """The ``sort`` rule's step (MountainSort5 in its child process); returns (sort file, wall
    seconds).  CPU seconds go into ``<sort file>.json``."""
    from hippoflow.sorting import sort as sorting
    from hippoflow.sorting import steps

    folder = Path(folder)
    sessions = [s for s, _ in data["sources"]]
    out = folder / "sort" / sorting.sort_name(params)
    t0, c0 = time.perf_counter(), _cpu()
    steps.sort(
        [p for _, p in data["sources"]],
        sessions,
        sorting.sort_args(params),
        out,
        threads=1,
        log=log or log_,
        limits=sorting.limit_args(params),
        label=folder.name,
    )
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    out.with_suffix(".json").write_text(json.dumps({"wall": wall, "cpu": cpu}))
    return out, wall


def _save_sort(data: dict, times, labels, out: Path, params: dict, sorter_s: float) -> None:
    """Analyse (times, labels) on the member's concatenation as the sort step does and save the
    sort object (every unit, templates, amplitudes, PCs, metrics)."""
    import tempfile

    from hippoflow import dpt
    from hippoflow.sorting import sort as sorting

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        cat = sorting.concatenate(data["sources"], Path(tmp) / "concat.bin")
        result = sorting.sort_record(
            cat,
            np.asarray(times, np.int64),
            np.asarray(labels, np.int64),
            sorting.sort_args(params),
            sorter_s,
            float("nan"),  # run in this process: no time limit
        )
    dpt.save_object(out, result, dict(sorting.sort_args(params)), [out.parent.resolve()])


def sort_inprocess(data: dict, folder, func: str, params: dict, tag: str) -> Path:
    """One of :mod:`hippoflow.sorting.agreement`'s sorters, called in this process (numba
    compiles once per process: :func:`warm_up` pays that before timing), then the sort step's
    analysis.  Wall and CPU seconds (sorter + analysis) go into ``<sort file>.json``."""
    from hippoflow.sorting import agreement
    from hippoflow.sorting import sort as sorting

    folder = Path(folder)
    out = folder / "sort" / tag / "sort.hkl"
    out.parent.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), _cpu()
    cat = sorting.concatenate(data["sources"], out.parent / "concat.bin")
    try:
        with threadpool_limits_1():
            times, labels = getattr(agreement, func)(cat, params, out.parent / "work")
    finally:
        cat.path.unlink(missing_ok=True)
        cat.path.with_suffix(".scaled.bin").unlink(missing_ok=True)
        shutil.rmtree(out.parent / "work", ignore_errors=True)
    sorter_s = time.perf_counter() - t0
    _save_sort(data, times, labels, out, params, sorter_s)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    out.with_suffix(".json").write_text(json.dumps({"wall": wall, "cpu": cpu}))
    return out


def threadpool_limits_1():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def sort_agreement(data: dict, folder, parts: list[Path], tag: str, min_agreement: int):
    """The units at least ``min_agreement`` of the sorts ``parts`` found (SpikeInterface's
    multi-sorter comparison), analysed as the sort step does; its time is the sum of its
    parts' plus the comparison and analysis."""
    from hippoflow import dpt
    from hippoflow.sorting import agreement

    folder = Path(folder)
    out = folder / "sort" / tag / "sort.hkl"
    t0, c0 = time.perf_counter(), _cpu()
    objs = [dpt.load_object(p) for p in parts]
    times, labels = agreement.agree(
        [(o["spike_times"], o["spike_units"]) for o in objs], FS, min_agreement=min_agreement
    )
    _save_sort(data, times, labels, out, dict(objs[0]["parameters"]), 0.0)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    for p in parts:
        t = json.loads(p.with_suffix(".json").read_text())
        wall, cpu = wall + t["wall"], cpu + t["cpu"]
    out.with_suffix(".json").write_text(json.dumps({"wall": wall, "cpu": cpu}))
    return out


_WARM: dict = {}  # in-process sorter -> CPU seconds of its first (compiling) call


def warm_up(func: str, data: dict, folder) -> float:
    """Call an in-process sorter once on a member (numba's compilation); returns CPU s."""
    if func in _WARM:
        return 0.0
    from hippoflow.sorting import agreement
    from hippoflow.sorting import sort as sorting

    work = Path(folder) / "warm-up"
    work.mkdir(parents=True, exist_ok=True)
    c0 = _cpu()
    cat = sorting.concatenate(data["sources"], work / "concat.bin")
    with threadpool_limits_1():
        getattr(agreement, func)(cat, {}, work / "work")
    shutil.rmtree(work, ignore_errors=True)
    _WARM[func] = _cpu() - c0
    print(f"{func}: first call (numba compiles) {_WARM[func]:.1f} s CPU", flush=True)
    return _WARM[func]


def sort_cached(name: str, data: dict, folder, log=None) -> tuple[Path, dict]:
    """The member's sort by sorter configuration ``name`` (:data:`SORTERS`), from the cache
    (``<member>/sort/<name>/``) when there; returns (sort file, {"wall", "cpu"})."""
    spec = SORTERS[name]
    folder = Path(folder)
    tag = name.replace(" ", "_").replace("/", "-").replace("+", "_")
    done = folder / "sort" / tag / "done.json"
    if done.exists():
        meta = json.loads(done.read_text())
        return Path(meta["path"]), meta
    kind = spec["kind"]
    params = dict(spec.get("params", {}))
    if kind == "ms5":
        path, _ = sort_member(data, folder / "sort" / tag, params, log=log)
    elif kind == "inproc":
        warm_up(spec["func"], data, folder)
        path = sort_inprocess(data, folder, spec["func"], params, tag)
    else:
        parts = [sort_cached(p, data, folder, log=log)[0] for p in spec["of"]]
        path = sort_agreement(data, folder, parts, tag, spec["min"])
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["path"] = str(path)
    done.parent.mkdir(parents=True, exist_ok=True)
    done.write_text(json.dumps(meta))
    return path, meta


def curate_member(sort_path, folder, params: dict, log=None) -> tuple[dict, float, Path]:
    """The ``curate`` and ``export_cells`` rules' steps; returns the cells read back from the
    files, {session: {cell: sample indices in the session}}, (wall, CPU) seconds and the
    curated file."""
    from hippoflow import dpt
    from hippoflow.sorting import curate as curation
    from hippoflow.sorting import steps

    folder = Path(folder)
    out = folder / "curated" / curation.curated_name(params)
    t0, c0 = time.perf_counter(), _cpu()
    steps.curate(sort_path, curation.curate_args(params), out, log=log or log_)
    sessions = dpt.load_object(out)["sessions"]
    cell_root = folder / "cells"
    shutil.rmtree(cell_root, ignore_errors=True)
    dirs = {s: cell_root / s / "array01" / "channel001" for s in sessions}
    steps.export_cells(out, dirs, folder / "curated" / "cells.tsv", log=log or log_)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    cells = {}
    for s, d in dirs.items():
        cells[s] = {}
        for c in sorted(d.glob("cell*")):
            text = (c / "spiketrain.csv").read_text().strip()
            ms = np.array([float(v) for v in text.split(",")]) if text else np.zeros(0)
            cells[s][int(c.name[4:])] = np.round(ms * FS / 1000).astype(np.int64)
    return cells, (wall, cpu), out


# ---- scores (SpikeInterface's ground-truth comparison)
def _sorting(trains: dict):
    import spikeinterface.core as si

    if trains and sum(v.size for v in trains.values()):
        t = np.concatenate([v for v in trains.values()])
        lab = np.concatenate([np.full(v.size, c, dtype=np.int64) for c, v in trains.items()])
        o = np.argsort(t, kind="stable")
        return si.NumpySorting.from_samples_and_labels([t[o]], [lab[o]], FS)
    return si.NumpySorting.from_samples_and_labels(
        [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], FS
    )


def _compare(gt_t, gt_u, trains):
    import spikeinterface.comparison as sc
    import spikeinterface.core as si

    gt = si.NumpySorting.from_samples_and_labels([gt_t], [gt_u], FS)
    return sc.compare_sorter_to_ground_truth(gt, _sorting(trains), exhaustive_gt=True)


def score(member: Member, data: dict, cells: dict) -> dict:
    """Per true unit: accuracy in each session and its mean; the cell matched in each session;
    false cells (matched to no true unit over the day); whether numbering is day-wide."""
    per_session_acc, per_session_match = [], []
    for s, (t, lab) in data["truth"].items():
        cmp = _compare(t, lab, cells.get(s, {}))
        perf = cmp.get_performance(method="by_unit")
        acc = np.array([float(perf.loc[u, "accuracy"]) for u in range(len(member.units))])
        per_session_acc.append(acc)
        match = cmp.hungarian_match_12
        per_session_match.append([int(match.get(u, -1)) for u in range(len(member.units))])
    acc = np.mean(per_session_acc, axis=0)
    # the day: sessions end to end, as the sort saw them
    n = int(member.seconds * FS)
    day_t, day_u, day_cells = [], [], {}
    for k, (s, (t, lab)) in enumerate(data["truth"].items()):
        day_t.append(t + k * n)
        day_u.append(lab)
        for c, v in cells.get(s, {}).items():
            day_cells.setdefault(c, []).append(v + k * n)
    day_cells = {c: np.concatenate(v) for c, v in day_cells.items()}
    t, lab = np.concatenate(day_t), np.concatenate(day_u)
    o = np.argsort(t, kind="stable")
    cmp = _compare(t[o], lab[o], day_cells)
    matched = {int(v) for v in cmp.hungarian_match_12.values if int(v) >= 0}
    false_cells = sorted(set(day_cells) - matched)
    well = acc >= WELL_FOUND
    same = [len(set(m[u] for m in per_session_match)) == 1 for u in range(len(member.units))]
    return {
        "accuracy": acc,
        "session_accuracy": np.array(per_session_acc),
        "matches": per_session_match,
        "well_found": well,
        "false_cells": false_cells,
        "n_cells": len(day_cells),
        "numbering_same": bool(all(s for s, w in zip(same, well, strict=True) if w)),
        "snr": data["snr"],
    }


# ---- the suite
def run_suite(
    members, folder, sort_params=None, curations=None, log=None, sorter="ms5 defaults"
) -> dict:
    """Make, sort, curate and score ``members``; ``sorter``: a name of :data:`SORTERS`
    (``sort_params`` given: MountainSort5 with them); ``curations``: {name: curation params}
    tried on the same sorts (default: the defaults only).  Sorts are cached in ``folder``.
    Returns {curation name: [member result]}."""
    folder = Path(folder)
    curations = curations or {"defaults": {}}
    if sort_params:
        sorter = "ms5 " + " ".join(f"{k}={v}" for k, v in sorted(sort_params.items()))
        SORTERS.setdefault(sorter, {"kind": "ms5", "params": dict(sort_params)})
    out = {name: [] for name in curations}
    for m in members:
        d = folder / m.name
        data_file = d / "truth.json"
        if not data_file.exists():
            data = make_member(m, d)
            _save_truth(data, data_file)
        data = _load_truth(data_file)
        sort_path, t_sort = sort_cached(sorter, data, d, log=log)
        for name, cparams in curations.items():
            cells, (cur_wall, cur_cpu), _ = curate_member(sort_path, d, dict(cparams), log=log)
            res = score(m, data, cells)
            res.update(
                member=m,
                sorter=sorter,
                seconds=data["seconds"],
                sort_wall=t_sort["wall"],
                sort_cpu=t_sort["cpu"],
                curate_wall=cur_wall,
                curate_cpu=cur_cpu,
                x_real_time=(t_sort["cpu"] + cur_cpu) / data["seconds"],
                x_real_time_wall=(t_sort["wall"] + cur_wall) / data["seconds"],
            )
            out[name].append(res)
    return out


def _save_truth(data: dict, path: Path) -> None:
    np.savez(
        path.with_suffix(".npz"),
        **{f"t_{s}": t for s, (t, _) in data["truth"].items()},
        **{f"u_{s}": u for s, (_, u) in data["truth"].items()},
    )
    meta = {k: data[k] for k in ("sources", "seconds", "snr")}
    meta["similarity"] = [[a, b, v] for (a, b), v in data["similarity"].items()]
    path.write_text(json.dumps(meta))


def _load_truth(path: Path) -> dict:
    meta = json.loads(path.read_text())
    with np.load(path.with_suffix(".npz")) as z:
        truth = {s: (z[f"t_{s}"], z[f"u_{s}"]) for s, _ in meta["sources"]}
    meta["sources"] = [tuple(s) for s in meta["sources"]]
    meta["truth"] = truth
    meta["similarity"] = {(a, b): v for a, b, v in meta["similarity"]}
    return meta


def summary(results: list[dict], snr_floor: float = 0.0) -> dict:
    """Mean accuracy over true units (SNR >= snr_floor), the lowest recording mean, the
    fraction found with accuracy >= 0.8, false cells per channel, numbering, time."""
    accs, rec_means, well = [], [], []
    for r in results:
        sel = np.asarray(r["snr"]) >= snr_floor
        a = np.asarray(r["accuracy"])[sel]
        if a.size:
            accs += list(a)
            rec_means.append(float(a.mean()))
            well += list(a >= WELL_FOUND)
    return {
        "recordings": len(results),
        "units": len(accs),
        "mean_accuracy": float(np.mean(accs)) if accs else float("nan"),
        "min_recording": float(np.min(rec_means)) if rec_means else float("nan"),
        "well_found": float(np.mean(well)) if well else float("nan"),
        "false_per_channel": float(np.mean([len(r["false_cells"]) for r in results])),
        "numbering_same": sum(r["numbering_same"] for r in results),
        "x_real_time": float(np.max([r["x_real_time"] for r in results])),
        "x_real_time_mean": float(np.mean([r["x_real_time"] for r in results])),
        "x_real_time_wall": float(np.max([r["x_real_time_wall"] for r in results])),
    }


def markdown_table(rows: list[tuple[str, dict]], first: str) -> str:
    head = (
        f"| {first} | recordings | units | mean accuracy | lowest recording | found >= 0.8 | "
        "false units / channel | numbering same | x real time, CPU: mean (worst) |"
    )
    lines = [head, "|" + "---|" * 9]
    for name, s in rows:
        lines.append(
            f"| {name} | {s['recordings']} | {s['units']} | {s['mean_accuracy']:.3f} | "
            f"{s['min_recording']:.3f} | {s['well_found']:.2f} | {s['false_per_channel']:.2f} | "
            f"{s['numbering_same']}/{s['recordings']} | {s['x_real_time_mean']:.3f} "
            f"({s['x_real_time']:.3f}) |"
        )
    return "\n".join(lines)


def unit_table(results: list[dict]) -> str:
    lines = [
        "| member | condition | true unit SNR (rate Hz) | accuracy per session | cells | false |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r["member"]
        units = ", ".join(f"{s:.0f} ({u.rate:g})" for s, u in zip(r["snr"], m.units, strict=True))
        acc = "; ".join(
            " ".join(f"{a:.2f}" for a in r["session_accuracy"][:, i]) for i in range(len(m.units))
        )
        lines.append(
            f"| {m.name} | {m.condition} | {units} | {acc} | {r['n_cells']} | "
            f"{len(r['false_cells'])} |"
        )
    return "\n".join(lines)


def by_condition(results: list[dict]) -> list[tuple[str, dict]]:
    conds = []
    for r in results:
        if r["member"].condition not in conds:
            conds.append(r["member"].condition)
    return [(c, summary([r for r in results if r["member"].condition == c])) for c in conds]


# Sorter configurations: MountainSort5 through the sort step (its child process), the
# internal sorters of SpikeInterface (hippoflow.sorting.agreement) and their agreements.
SORTERS = {
    "ms5 defaults": {"kind": "ms5"},
    "sc2": {"kind": "inproc", "func": "run_spykingcircus2"},
    "tdc2": {"kind": "inproc", "func": "run_tridesclous2"},
    "agreement ms5+sc2": {"kind": "agree", "of": ["ms5 defaults", "sc2"], "min": 2},
    "agreement ms5+tdc2": {"kind": "agree", "of": ["ms5 defaults", "tdc2"], "min": 2},
    "agreement 2 of 3 (ms5 sc2 tdc2)": {
        "kind": "agree",
        "of": ["ms5 defaults", "sc2", "tdc2"],
        "min": 2,
    },
    "ms5 normalize whiten": {"kind": "ms5", "params": {"normalize": "whiten"}},
    "ms5 scheme 1": {"kind": "ms5", "params": {"scheme": "1"}},
    "ms5 scheme 3 (90 s blocks)": {
        "kind": "ms5",
        "params": {"scheme": "3", "block_duration_sec": 90},
    },
    "ms5 npca_per_channel 3": {"kind": "ms5", "params": {"npca_per_channel": 3}},
    "ms5 detect_threshold 4.0": {"kind": "ms5", "params": {"detect_threshold": 4.0}},
    "ms5 detect_threshold 5.0": {"kind": "ms5", "params": {"detect_threshold": 5.0}},
}
OFF = {
    "merge_distance": 0,
    "merge_relative": 0,
    "max_coincidence": 1.0,
    "min_snr": 0,
    "min_spikes": 0,
}
ABLATION = {
    "all rules (defaults)": {},
    "without the noise-distance merge (merge_distance 0)": {"merge_distance": 0},
    "without the relative merge (merge_relative 0)": {"merge_relative": 0},
    "without any merge": {"merge_distance": 0, "merge_relative": 0},
    "without satellite removal (max_coincidence 1)": {"max_coincidence": 1.0},
    "without the SNR limit (min_snr 0)": {"min_snr": 0},
    "without the spike-count limit (min_spikes 0)": {"min_spikes": 0},
    "no curation at all": OFF,
    "min_snr 4": {"min_snr": 4.0},
    "min_snr 6": {"min_snr": 6.0},
    "merge_relative 0.25": {"merge_relative": 0.25},
    "old curation (min_snr 3, no relative merge)": {"min_snr": 3.0, "merge_relative": 0},
}


def _goal(results):
    return [r for r in results if not r["member"].condition.startswith("stress")]


SNR_BANDS = ((0, 4), (4, 5), (5, 6.5), (6.5, 10), (10, 15), (15, 100))


def snr_table(rows: list[tuple[str, list[dict]]]) -> str:
    """Mean accuracy and fraction found >= 0.8 of the true units in each peak-SNR band."""
    head = "| sorter | " + " | ".join(f"SNR {a:g}-{b:g}" for a, b in SNR_BANDS) + " |"
    lines = [head.replace("-100", "+"), "|" + "---|" * (len(SNR_BANDS) + 1)]
    for name, results in rows:
        snr = np.concatenate([np.asarray(r["snr"]) for r in results])
        acc = np.concatenate([np.asarray(r["accuracy"]) for r in results])
        cells = []
        for a, b in SNR_BANDS:
            sel = (snr >= a) & (snr < b)
            cells.append(
                f"{acc[sel].mean():.2f} / {np.mean(acc[sel] >= WELL_FOUND):.2f} (n={sel.sum()})"
                if sel.any()
                else "-"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _rows(rows):
    out = []
    for r in rows:
        out.append(
            {
                "member": r["member"].name,
                "condition": r["member"].condition,
                "sorter": r["sorter"],
                "snr": [float(v) for v in r["snr"]],
                "accuracy": [float(v) for v in r["accuracy"]],
                "session_accuracy": np.asarray(r["session_accuracy"]).tolist(),
                "false_cells": [int(c) for c in r["false_cells"]],
                "n_cells": r["n_cells"],
                "numbering_same": r["numbering_same"],
                "seconds": r["seconds"],
                "sort_cpu": r["sort_cpu"],
                "sort_wall": r["sort_wall"],
                "curate_cpu": r["curate_cpu"],
            }
        )
    return out


def run() -> list[dict]:
    """``HIPPOFLOW_SUITE_SORTERS``: comma-separated names of :data:`SORTERS` (default all);
    ``HIPPOFLOW_SUITE_CACHE``: a folder whose sorts are kept and reused (default: a work folder
    removed at the end); ``HIPPOFLOW_SUITE_ABLATION``: comma-separated sorters whose sorts the
    curation ablation is run on (default ``ms5 defaults``; ``none`` skips it)."""
    from benchmarks._measure import WORK, row

    seconds = float(os.environ.get("HIPPOFLOW_SUITE_SECONDS", "90"))
    members = [replace(m, seconds=seconds) for m in SUITE + STRESS]
    cache = os.environ.get("HIPPOFLOW_SUITE_CACHE")
    folder = Path(cache) if cache else WORK / "sorting_suite"
    if not cache:
        shutil.rmtree(folder, ignore_errors=True)
    names = [n.strip() for n in os.environ.get("HIPPOFLOW_SUITE_SORTERS", "").split(",")]
    names = [n for n in names if n] or list(SORTERS)
    default = "ms5 defaults"
    if default not in names:
        names.insert(0, default)
    logging.getLogger("hippoflow").setLevel(logging.WARNING)
    rows, md, raw = [], [], {}
    try:
        by_sorter = {}
        for name in names:
            t0 = time.perf_counter()
            by_sorter[name] = run_suite(members, folder, sorter=name)["defaults"]
            raw[name] = _rows(by_sorter[name])
            print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
        base = by_sorter[default]
        s, s5 = summary(_goal(base)), summary(_goal(base), snr_floor=5.0)
        md.append(
            "### Sorters (default curation; without the stress members)\n\n"
            + markdown_table(
                [(n, summary(_goal(r))) for n, r in by_sorter.items()]
                + [(f"{n}, SNR >= 5", summary(_goal(r), 5.0)) for n, r in by_sorter.items()],
                "sorter",
            )
        )
        md.append(
            "### Accuracy by peak SNR: mean / fraction found >= 0.8 (n units)\n\n"
            + snr_table([(n, _goal(r)) for n, r in by_sorter.items()])
        )
        for name, res in by_sorter.items():
            if name in (default, "tdc2", "sc2", "agreement ms5+tdc2"):
                md.append(
                    f"### {name}, per condition\n\n"
                    + markdown_table(by_condition(res), "condition")
                )
        md.append(f"### {default}, per unit\n\n" + unit_table(base))
        ablate = os.environ.get("HIPPOFLOW_SUITE_ABLATION", default).split(",")
        for name in [n.strip() for n in ablate if n.strip() in by_sorter]:
            if True:
                res = run_suite(members, folder, curations=ABLATION, sorter=name)
                raw[f"ablation {name}"] = {k: _rows(v) for k, v in res.items()}
                md.append(
                    f"### Curation ablation on {name} (the same sorts; without the stress "
                    "members)\n\n"
                    + markdown_table(
                        [(k, summary(_goal(v))) for k, v in res.items()]
                        + [(f"{k}, SNR >= 5", summary(_goal(v), 5.0)) for k, v in res.items()],
                        "curation",
                    )
                )
        for name, res in by_sorter.items():
            g = summary(_goal(res))
            rows.append(row(f"suite {name}: mean accuracy", g["mean_accuracy"], ""))
        rows += [
            row(
                "suite: mean accuracy (every unit)",
                s["mean_accuracy"],
                "",
                target=">= 0.9",
                ok=s["mean_accuracy"] >= 0.9,
            ),
            row(
                "suite: mean accuracy (SNR >= 5)",
                s5["mean_accuracy"],
                "",
                target=">= 0.9",
                ok=s5["mean_accuracy"] >= 0.9,
            ),
            row(
                "suite: lowest recording mean (every unit)",
                s["min_recording"],
                "",
                target=">= 0.7",
                ok=s["min_recording"] >= 0.7,
            ),
            row(
                "suite: lowest recording mean (SNR >= 5)",
                s5["min_recording"],
                "",
                target=">= 0.7",
                ok=s5["min_recording"] >= 0.7,
            ),
            row("suite: fraction found (accuracy >= 0.8)", s["well_found"], ""),
            row(
                "suite: false units per channel",
                s["false_per_channel"],
                "",
                target="<= 0.2",
                ok=s["false_per_channel"] <= 0.2,
            ),
            row(
                "suite: numbering same in every session",
                s["numbering_same"],
                "recordings",
                target=f"{s['recordings']}",
                ok=s["numbering_same"] == s["recordings"],
            ),
            row(
                "suite: worst sort+curate+export CPU x real time (1 core)",
                s["x_real_time"],
                "x",
                target="<= 0.1",
                ok=s["x_real_time"] <= 0.1,
            ),
        ]
    finally:
        (WORK / "sorting_suite_tables.md").write_text("\n\n".join(md) + "\n")
        (WORK / "sorting_suite_raw.json").write_text(json.dumps(raw))
        print("\n\n".join(md))
        if not cache:
            shutil.rmtree(folder, ignore_errors=True)
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
