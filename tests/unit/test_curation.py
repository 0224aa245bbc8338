"""Sort / curate split: file names, each curation rule on a hand-made sort, the sorter's time
limit, and the QC table of the curation's decisions.

The hand-made sort below states its expected outcome by construction: unit 2 is unit 1's
template one sample later (MountainSort5's split of a broad trough), so it merges into unit 1
and its spike times move one sample later; unit 4 has 10 spikes, unit 5 an SNR of 2, and 80 of
unit 6's 100 spikes sit 0.5 ms after unit 1's with unit 1's waveform seen 0.5 ms later (its
secondary feature detected as events of its own: a satellite).
"""

from __future__ import annotations

import hashlib
import os
import time

import numpy as np
import pytest
from scipy import signal

from hippoflow import dpt
from hippoflow.errors import InputError
from hippoflow.qc import figures, tables
from hippoflow.sorting import curate as curation
from hippoflow.sorting import match, steps
from hippoflow.sorting import sort as sorting
from hippoflow.sorting.runner import SorterError, run_sorter

FS = 30000
NOISE = 5.0
SECONDS = 120
SORTER_KEYS = [
    "scheme",
    "detect_threshold",
    "detect_sign",
    "normalize",
    "detect_time_radius_msec",
    "snippet_T1",
    "snippet_T2",
    "npca_per_channel",
    "npca_per_subdivision",
    "training_duration_sec",
    "block_duration_sec",
    "template_matching",
    "match_min_amplitude",
    "split_npc",
]


def dpt_hash(args: dict) -> str:
    """DataProcessingTools' rule: MD5 over str(name) then str(value) of every argument."""
    md5 = hashlib.md5()
    for k, v in args.items():
        md5.update(str(k).encode())
        md5.update(str(v).encode())
    return md5.hexdigest()[:4]


# ---- file names: the sort's hash covers the sorter only, the curated file's the curation
def test_sort_name_covers_the_sorter_keys_only():
    d = sorting.DEFAULTS
    # the sorter keys and, with template matching on (the default), the pass's version
    named = {**{k: d[k] for k in SORTER_KEYS}, "matching": match.VERSION}
    assert sorting.sort_name({}) == f"mountainsort_{dpt_hash(named)}.hkl"
    off = {**{k: d[k] for k in SORTER_KEYS}, "template_matching": False}
    assert sorting.sort_name({"template_matching": False}) == f"mountainsort_{dpt_hash(off)}.hkl"
    assert sorting.sort_name({"min_snr": 9.0, "merge_distance": 0}) == sorting.sort_name({})
    assert sorting.sort_name({"time_limit_factor": 3.0}) == sorting.sort_name({})
    assert sorting.sort_name({"detect_threshold": 5.0}) != sorting.sort_name({})
    cur = [
        "min_spikes",
        "min_snr",
        "max_coincidence",
        "merge_distance",
        "merge_relative",
        "unimodality_test",
    ]
    # the curation keys and the rules' version (a changed rule renames the curated file)
    named = {**{k: d[k] for k in cur}, "rules": curation.RULES}
    assert curation.curated_name({}) == f"curated_{dpt_hash(named)}.hkl"
    assert curation.curated_name({"min_snr": 4}) != curation.curated_name({})
    assert curation.curated_name({"detect_threshold": 5.0}) == curation.curated_name({})
    with pytest.raises(ValueError, match="detect_treshold"):
        sorting.sort_name({"detect_treshold": 5.0})


def test_time_limit_from_the_data_length():
    assert sorting.time_limit_s(3600, {"time_limit_factor": 0.1, "time_limit_min_s": 120}) == 480
    assert sorting.time_limit_s(10, {"time_limit_factor": 0, "time_limit_min_s": 1}) == 1
    # the Slurm runtime leaves the sorter's own limit room to end the job first
    assert sorting.runtime_minutes(3600, sorting.DEFAULTS) * 60 > sorting.time_limit_s(3600)


# ---- curation rules on a hand-made sort
def _shape(width, bump_at, bump=0.25, n=90):
    """A trough at sample 30 (1 ms) and a later bump; peak |value| 1."""
    i = np.arange(n)
    x = -np.exp(-0.5 * ((i - 30) / width) ** 2) + bump * np.exp(
        -0.5 * ((i - bump_at) / (2 * width)) ** 2
    )
    return x / np.abs(x).max()


def _handmade():
    total = SECONDS * FS
    t1 = 1000 + 9000 * np.arange(400)
    t2_true = 4500 + 12000 * np.arange(300)
    t2_true[:3] = t1[[10, 20, 30]] + 30  # three ISI violations (1 ms) once merged
    t2_true = np.sort(t2_true)
    t3 = 2000 + 17900 * np.arange(200)
    t4 = 5000 + 300000 * np.arange(10)
    t5 = 7000 + 35000 * np.arange(100)
    t6 = np.sort(np.r_[t1[:80] + 15, 6000 + 170000 * np.arange(20)])
    a = 100 * _shape(3.0, 45)
    tmpl = {
        1: a,
        2: np.roll(a, 1),  # unit 1 one sample later: its spikes were detected 1 sample early
        3: 60 * _shape(1.5, 36, bump=0.6),
        4: 50 * _shape(6.0, 60, bump=0.1),
        5: 10 * _shape(2.0, 40, bump=0.9),
        6: 0.95 * np.r_[a[15:], np.zeros(15)],  # unit 1's waveform seen 0.5 ms later
    }
    trains = {1: t1, 2: t2_true - 1, 3: t3, 4: t4, 5: t5, 6: t6}
    t = np.concatenate(list(trains.values()))
    u = np.concatenate([np.full(v.size, k) for k, v in trains.items()])
    o = np.argsort(t, kind="stable")
    ids = np.arange(1, 7)
    sort = {
        "unit_ids": ids,
        "n_spikes": np.array([trains[k].size for k in ids]),
        "spike_times": t[o],
        "spike_units": u[o],
        "spike_amplitudes": np.array([tmpl[k].min() for k in u[o]], np.float32),
        "templates": np.array([tmpl[k] for k in ids], np.float32),
        "template_times_ms": np.arange(90) / 30 - 1.0,
        "metrics": {
            "snr": np.array([np.abs(tmpl[k]).max() / NOISE for k in ids]),
            "isi_violations_ratio": np.zeros(6),
            "firing_rate": np.array([trains[k].size / SECONDS for k in ids]),
            "presence_ratio": np.ones(6),
            "amplitude_cutoff": np.full(6, np.nan),
        },
        "si_noise_uv": NOISE,
        "noise_uv": NOISE,
        "pcs": np.zeros((30, 2), np.float32),
        "pc_units": np.repeat(ids, 5),
        "sessions": ["session01", "session02"],
        "inputs": ["a", "b"],
        "session_starts": np.array([0, total // 2]),
        "session_samples": np.array([total // 2, total // 2]),
        "sampling_rate": float(FS),
        "parameters": sorting.sort_args({}),
        "versions": {},
    }
    return sort, trains, t2_true


def test_each_rule_does_what_it_says():
    sort, trains, t2_true = _handmade()
    cur = curation.curate(sort, {"min_snr": 3.0})
    dec = dict(zip(cur["units"]["unit_ids"], cur["units"]["decision"], strict=True))
    assert dec[2].startswith("merged into unit 1") and "shift -1" in dec[2]
    assert dec[1].startswith("kept as cell01 (units 1+2: 700 spikes")
    assert dec[3] == "kept as cell02"
    assert dec[4] == "dropped: unit 4 has 10 spikes < min_spikes 20"
    assert dec[5] == "dropped: unit 5 has SNR 2.00 < min_snr 3.0"
    assert dec[6].startswith("dropped: satellite of unit 1 (80% of its spikes at one lag")
    np.testing.assert_array_equal(cur["units"]["cell"], [1, 1, 2, 0, 0, 0])
    np.testing.assert_array_equal(cur["cells"], [1, 2])
    np.testing.assert_array_equal(cur["unit_ids"], [1, 3])
    # unit 2's spikes moved onto unit 1's clock: the true times, one sample later
    c1 = cur["spike_times"][cur["spike_cells"] == 1]
    np.testing.assert_array_equal(np.sort(c1), np.sort(np.r_[trains[1], t2_true]))
    np.testing.assert_array_equal(cur["spike_times"][cur["spike_cells"] == 2], trains[3])
    np.testing.assert_array_equal(cur["n_spikes"], [700, 200])
    # the merged cell's metrics, by hand: 3 violations < 1.5 ms among 700 spikes in 120 s
    # (Hill et al.: violations x T / (2 n^2 x 1.5 ms)), rate 700 / 120 s
    assert cur["metrics"]["isi_violations_ratio"][0] == pytest.approx(
        3 * 120 / (2 * 700**2 * 0.0015)
    )
    assert cur["metrics"]["firing_rate"][0] == pytest.approx(700 / 120)
    assert cur["metrics"]["presence_ratio"][0] == 1.0  # spikes in both 60 s bins
    # the merged template is the spike-count weighted mean of unit 1 and shifted unit 2: = unit 1
    np.testing.assert_allclose(cur["templates"][0][4:-4], sort["templates"][0][4:-4], atol=1e-4)
    assert cur["metrics"]["snr"][0] == pytest.approx(100 / NOISE, rel=1e-3)
    # unmerged cell: the sort's (SpikeInterface's) numbers unchanged
    assert cur["metrics"]["snr"][1] == pytest.approx(sort["metrics"]["snr"][2])
    np.testing.assert_array_equal(cur["dropped_units"], [4, 5, 6])


def test_rules_switched_off_keep_every_unit():
    sort, _, _ = _handmade()
    off = {
        "merge_distance": 0,
        "merge_relative": 0,
        "max_coincidence": 1.0,
        "min_snr": 0,
        "min_spikes": 0,
    }
    cur = curation.curate(sort, off)
    assert len(cur["cells"]) == 6
    # cells by decreasing trough: units 1, 2 (100 uV), 6 (95), 3 (60), 4 (50), 5 (10)
    np.testing.assert_array_equal(cur["unit_ids"], [1, 2, 6, 3, 4, 5])
    assert cur["spike_times"].size == sort["spike_times"].size
    # only the merge off: unit 6 is still a satellite, of unit 1
    cur = curation.curate(sort, {"merge_distance": 0, "merge_relative": 0, "min_snr": 3.0})
    dec = dict(zip(cur["units"]["unit_ids"], cur["units"]["decision"], strict=True))
    assert dec[2] == "kept as cell02" and "satellite of unit 1" in dec[6]


def test_relative_merge_alone_merges_the_shifted_copy():
    sort, _, _ = _handmade()
    cur = curation.curate(sort, {"merge_distance": 0, "merge_relative": 0.2, "min_snr": 3.0})
    dec = dict(zip(cur["units"]["unit_ids"], cur["units"]["decision"], strict=True))
    assert dec[2].startswith("merged into unit 1")
    # different shapes are >= 20 % of the larger peak apart: nothing else merged
    assert sum(d.startswith("merged") for d in dec.values()) == 1


# ---- merges and satellites decided by the units' sampled waveforms (unimodality test)
def _pair_sort(templates: dict, amplitudes: dict, seed=0, n_sampled=400, trains=None):
    """A sort whose units have the given templates (90 samples, uV) and whose sampled
    waveforms are each spike's amplitude x its unit's template + white noise (NOISE uV);
    ``amplitudes[u]``: every spike's amplitude factor (its spike count); ``trains[u]``: its
    spike times (default: independent, uniform over the recording)."""
    rng = np.random.default_rng(seed)
    ids = sorted(templates)
    total = SECONDS * FS
    times, units, wfs, wf_units = [], [], [], []
    for u in ids:
        a = np.asarray(amplitudes[u])
        if trains is None:
            t = np.sort(rng.integers(100, total - 100, a.size))
        else:
            t = np.asarray(trains[u])
        times.append(t)
        units.append(np.full(t.size, u))
        k = rng.choice(a.size, min(n_sampled, a.size), replace=False)
        wfs.append(a[k, None] * templates[u][None, :] + NOISE * rng.standard_normal((k.size, 90)))
        wf_units.append(np.full(k.size, u))
    t, u = np.concatenate(times), np.concatenate(units)
    o = np.argsort(t, kind="stable")
    sort, _, _ = _handmade()
    mean_tmpl = {v: templates[v] * np.mean(amplitudes[v]) for v in ids}
    sort.update(
        unit_ids=np.array(ids),
        n_spikes=np.array([len(amplitudes[v]) for v in ids]),
        spike_times=t[o],
        spike_units=u[o],
        spike_amplitudes=np.array([mean_tmpl[v].min() for v in u[o]], np.float32),
        templates=np.array([mean_tmpl[v] for v in ids], np.float32),
        pcs=np.zeros((sum(len(w) for w in wfs), 2), np.float32),
        pc_units=np.concatenate(wf_units),
        waveforms=np.vstack(wfs).astype(np.float32),
    )
    sort["metrics"] = {
        "snr": np.array([np.abs(mean_tmpl[v]).max() / NOISE for v in ids]),
        "isi_violations_ratio": np.zeros(len(ids)),
        "firing_rate": np.array([len(amplitudes[v]) / SECONDS for v in ids]),
        "presence_ratio": np.ones(len(ids)),
        "amplitude_cutoff": np.full(len(ids), np.nan),
    }
    return sort


def test_distinct_high_snr_pair_stays_apart():
    """Two units of SNR 30 and equal amplitude whose shapes differ a little (trough width 2.5
    and 2.8 samples, bump 0.2 and 0.3 of the trough), as MountainSort5 returned them: 17.6
    noise SDs apart (Euclidean), which the old rule "less than 20 % of the peak apart" merged:
    two cells."""
    a = 150 * _shape(2.5, 40, bump=0.2)
    b = 150 * _shape(2.8, 44, bump=0.3)
    assert np.abs(a - b).max() / 150 < 0.2  # what the fixed-fraction rule merged
    assert np.linalg.norm(a - b) / NOISE > 17
    amp = {1: np.ones(600), 2: np.ones(500)}
    cur = curation.curate(_pair_sort({1: a, 2: b}, amp), {"min_snr": 3.0})
    assert len(cur["cells"]) == 2, cur["units"]["decision"]


def test_units_of_different_shape_blurred_by_jitter_and_bursts_stay_apart():
    """Two units of equal peak whose shapes differ (trough width 2.5 and 3.0 samples), with
    20 % amplitude jitter, the second firing bursts of 4 spikes at 0.7 x the previous one's
    amplitude, independent but too few spikes (400 each) to show it: along the difference of
    their templates the amplitude spread often fills the gap (one mode: the rule that looked
    only there merged them), along the difference of their shapes never. Eight draws: two
    cells in every one."""
    a, b = 150 * _shape(2.5, 40, bump=0.2), 150 * _shape(3.0, 44, bump=0.3)
    one_mode_along_templates = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        jitter = np.clip(1 + 0.2 * rng.standard_normal((2, 400)), 0.3, None)
        amp = {1: jitter[0], 2: np.tile(0.7 ** np.arange(4), 100) * jitter[1]}
        sort = _pair_sort({1: a, 2: b}, amp, seed=seed)
        wf, pu = np.asarray(sort["waveforms"], np.float64), sort["pc_units"]
        s = curation.best_shift(sort["templates"][0], sort["templates"][1])
        one_mode_along_templates += curation.unimodal(wf[pu == 1], wf[pu == 2], s)
        cur = curation.curate(sort, {"min_snr": 3.0})
        assert len(cur["cells"]) == 2, (seed, cur["units"]["decision"])
    assert one_mode_along_templates >= 2  # the case the shape test is there for


def _refractory_train(rng, n, total=SECONDS * FS):
    """A unit's spike times: n intervals of 76 samples (2.5 ms) + exponential."""
    t = np.cumsum(76 + rng.exponential(total / n, n).astype(np.int64))
    return t[t < total - 100]


def test_refractory_test_tells_a_split_unit_from_two_units():
    """One unit (1,400 spikes, no two within 2.5 ms) split at random in two clusters, each
    with 25 % foreign spikes: pairs 0.5-1.5 ms apart across the two are no more frequent than
    within each, so p >= 0.01 (not two independent units) in every one of 8 draws; comparing
    them with independent trains instead (the former test) called it two units in some. Two
    units of 1,400 spikes each, 5 % foreign spikes: p < 0.01 in every draw."""
    from scipy.stats import poisson

    total, lo, hi = SECONDS * FS, 16, 45
    former_two = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        t = _refractory_train(rng, 1400)
        part = rng.random(t.size) < 0.5
        a, b = (np.sort(np.r_[t[k], rng.integers(0, total, k.sum() // 4)]) for k in (part, ~part))
        p, power = curation.refractory_gap(a, b, total, lo, hi)
        assert power < curation.GAP_ALPHA and p >= curation.GAP_ALPHA, (seed, p)
        # by hand: the pairs across against independent trains' count
        gaps = np.abs(b[:, None] - a[None, :])
        across = int(np.sum((gaps >= lo) & (gaps <= hi)))
        former_two += poisson.cdf(across, a.size * b.size * 2.0 * (hi - lo) / total) >= 0.01
        c, d = (
            np.sort(np.r_[_refractory_train(rng, 1400), rng.integers(0, total, 70)])
            for _ in range(2)
        )
        p, power = curation.refractory_gap(c, d, total, lo, hi)
        assert power < curation.GAP_ALPHA and p < curation.GAP_ALPHA, (seed, p)
    assert former_two >= 2


def test_jittered_bursting_unit_split_in_two_is_one_cell():
    """One unit firing bursts of 4 spikes 3-8 ms apart, each 0.7 x the previous one's amplitude,
    with 15 % amplitude jitter, split by the sorter at amplitude 0.8: its clusters have one
    shape and the small spikes follow the large ones within a burst's intervals far more often
    than independent trains would, so they are one cell."""
    rng = np.random.default_rng(3)
    # bursts start >= 800 samples apart: a burst lasts up to 720, and the unit keeps its
    # refractory period (no two spikes within 1.5 ms) from one burst to the next
    starts = np.sort(rng.choice(np.arange(3000, SECONDS * FS - 3000, 800), 1500, replace=False))
    gaps = rng.integers(90, 240, (starts.size, 3))  # 3-8 ms
    t = (starts[:, None] + np.c_[np.zeros(starts.size, int), np.cumsum(gaps, axis=1)]).ravel()
    decay = np.tile(0.7 ** np.arange(4), starts.size)
    amp = decay * np.clip(1 + 0.15 * rng.standard_normal(decay.size), 0.3, None)
    w = 120 * _shape(2.5, 45)
    big = amp >= 0.8
    sort = _pair_sort({1: w, 2: w}, {1: amp[big], 2: amp[~big]}, trains={1: t[big], 2: t[~big]})
    # the two clusters' templates differ by far more than the noise-distance rule allows
    assert np.abs(sort["templates"][0] - sort["templates"][1]).max() > 4 * NOISE
    cur = curation.curate(sort, {"min_snr": 3.0})
    assert len(cur["cells"]) == 1, cur["units"]["decision"]
    assert cur["n_spikes"][0] == amp.size


def test_two_units_of_one_shape_firing_independently_stay_apart():
    """The same two clusters (one shape, amplitudes 1 and 0.5 with 15 % jitter) but firing
    independently (uniform times, 6,000 and 3,000 spikes): no shared refractory period, so
    two cells."""
    rng = np.random.default_rng(4)
    w = 120 * _shape(2.5, 45)
    amp = {
        1: np.clip(1 + 0.15 * rng.standard_normal(6000), 0.3, None),
        2: 0.5 * np.clip(1 + 0.15 * rng.standard_normal(3000), 0.3, None),
    }
    cur = curation.curate(_pair_sort({1: w, 2: w}, amp), {"min_snr": 3.0})
    assert len(cur["cells"]) == 2, cur["units"]["decision"]


def test_satellite_only_when_its_waveform_is_the_larger_units():
    """Unit 2's spikes all sit 0.5 ms (15 samples) after unit 1's.  When its sampled waveforms
    are unit 1's seen 15 samples later, it is unit 1's secondary trough: dropped.  When it has
    a waveform of its own (a unit firing at a fixed lag of another), it stays."""
    rng = np.random.default_rng(5)
    w1 = 150 * _shape(2.0, 45, bump=0.8)
    t1 = np.sort(rng.choice(np.arange(1000, SECONDS * FS - 1000, 200), 800, replace=False))
    seen_later = np.r_[w1[15:], np.zeros(15)]  # unit 1's waveform 15 samples later
    own = 60 * _shape(1.5, 36, bump=0.6)
    for w2, dropped in ((seen_later, True), (own, False)):
        sort = _pair_sort({1: w1, 2: w2}, {1: np.ones(800), 2: np.ones(800)}, seed=6)
        t = np.r_[t1, t1 + 15]
        u = np.r_[np.ones(800, int), np.full(800, 2)]
        o = np.argsort(t, kind="stable")
        sort.update(spike_times=t[o], spike_units=u[o])
        cur = curation.curate(sort, {"min_snr": 3.0, "merge_distance": 0})
        dec = cur["units"]["decision"][1]
        assert dec.startswith("dropped: satellite of unit 1") == dropped, dec


# ---- the QC table and figure show the decisions
def test_metrics_table_lists_every_unit_and_why(tmp_path):
    sort, _, _ = _handmade()
    cur = curation.curate(sort, {"min_snr": 3.0})
    rows = tables.metrics_rows(cur, {"array": "01", "channel": "001"})
    assert [r["unit"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r["cell"] for r in rows] == ["cell01", "cell01", "cell02", "", "", ""]
    assert rows[4]["snr"] == pytest.approx(2.0) and "min_snr" in rows[4]["decision"]
    tables.write_table(rows, tmp_path / "m.html", tmp_path / "m.tsv")
    tsv = (tmp_path / "m.tsv").read_text().splitlines()
    head = tsv[0].split("\t")
    for col in ("unit", "cell", "snr", "isi_violations_ratio", "amplitude_cutoff", "decision"):
        assert col in head
    assert "satellite of unit 1" in tsv[6]
    assert "merged into unit 1" in (tmp_path / "m.html").read_text()
    lines = figures._unit_lines(cur["units"])
    assert len(lines) == 7 and "merged into unit 1" in lines[2]
    figures.sort_summary(cur, tmp_path / "qc.png", title="hand-made")
    assert (tmp_path / "qc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- the sorter's time limit
def _highpass(path, seconds=20.0, seed=0):
    rng = np.random.default_rng(seed)
    b, a = signal.butter(4, [500 / (FS / 2), 7500 / (FS / 2)], "bandpass")
    x = signal.filtfilt(b, a, 8 * rng.standard_normal(int(seconds * FS))).astype(np.float32)
    x[np.arange(100, x.size - 100, 3000)[:, None] + np.arange(-5, 5)[None, :]] -= 80
    dpt.save_object(path, {"data": x, "analogInfo": {"SampleRate": float(FS)}}, {}, [path.parent])
    return path


@pytest.fixture
def cat(tmp_path):
    hp = _highpass(tmp_path / "session01" / "rplhighpass_b59f.hkl")
    return sorting.concatenate([("session01", hp)], tmp_path / "c.bin")


def test_hanging_sorter_is_killed_at_the_limit(cat, tmp_path):
    work = tmp_path / "w"
    t0 = time.monotonic()
    with pytest.raises(SorterError) as exc:
        run_sorter(
            cat, {}, work, 3.0, "picasso 1105 array01 channel007", sorter="sorter_standins:sleepy"
        )
    elapsed = time.monotonic() - t0
    assert 3.0 <= elapsed < 4.5, f"killed after {elapsed:.1f} s, the limit is 3 s"
    msg = str(exc.value)
    assert msg.startswith("picasso 1105 array01 channel007: sorter_standins:sleepy did not finish")
    assert "time limit of 3 s" in msg
    assert exc.value.on_data  # a failure of the sorting on this data
    pid = int((work / "sleepy.pid").read_text())
    with pytest.raises(ProcessLookupError):  # the child is gone, not left running
        os.kill(pid, 0)


def test_crashing_sorter_is_named_with_its_output(cat, tmp_path):
    with pytest.raises(SorterError) as exc:
        run_sorter(cat, {}, tmp_path / "w", 60, "day-channel X", sorter="sorter_standins:crashing")
    msg = str(exc.value)
    assert msg.startswith("day-channel X: sorter_standins:crashing failed (exit code 1) after ")
    assert (
        ": RuntimeError: isosplit exploded on purpose; its last output: Detected 12 spikes" in msg
    )
    assert exc.value.on_data


def test_sorter_killed_by_a_signal_says_nothing_about_the_data(cat, tmp_path):
    with pytest.raises(SorterError) as exc:
        run_sorter(cat, {}, tmp_path / "w", 60, "day-channel X", sorter="sorter_standins:killed")
    assert "sorter_standins:killed was killed by signal 9" in str(exc.value)
    assert not exc.value.on_data


def test_real_mountainsort5_past_a_tiny_limit_gives_a_failed_sort(tmp_path):
    """The sorting fails on the data: the object is written, with no unit and the cause;
    the curation gives no cell, keeps the cause and dates the sort 1970 (redone next run)."""
    hp = _highpass(tmp_path / "session01" / "rplhighpass_b59f.hkl", seconds=30)
    out = tmp_path / "sort" / sorting.sort_name({})
    t0 = time.monotonic()
    steps.sort(
        [hp],
        ["session01"],
        sorting.sort_args({}),
        out,
        limits={"time_limit_factor": 0.0, "time_limit_min_s": 1.0},
        label="picasso 20181105 array01 channel001",
    )
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0 + 3.0  # concatenating 30 s + 1 s + the kill, not MountainSort5's run
    obj = dpt.load_object(out)
    assert obj["failed"].startswith(
        "picasso 20181105 array01 channel001: MountainSort5 did not finish within its time "
        "limit of 1 s"
    )
    assert len(obj["unit_ids"]) == 0 and obj["sessions"] == ["session01"]
    assert not list(out.parent.glob(".sort-*"))
    cur = tmp_path / "sort" / "curated.hkl"
    steps.curate(out, {}, cur)
    curated = dpt.load_object(cur)
    assert curated["failed"] == obj["failed"] and len(curated["cells"]) == 0
    assert out.stat().st_mtime_ns == 0


def test_sorter_killed_by_a_signal_fails_the_sort_job(tmp_path):
    hp = _highpass(tmp_path / "session01" / "rplhighpass_b59f.hkl", seconds=2)
    out = tmp_path / "sort" / sorting.sort_name({})
    with pytest.raises(SystemExit) as exc:
        steps.sort(
            [hp],
            ["session01"],
            sorting.sort_args({}),
            out,
            label="X",
            sorter="sorter_standins:killed",
        )
    assert str(exc.value).startswith("hippoflow: sort failed: X: sorter_standins:killed was killed")
    assert not out.exists()


def test_bad_input_still_reported_as_bad_input(tmp_path):
    bad = tmp_path / "rplhighpass_b59f.hkl"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(InputError, match=str(bad)):
        steps.sort([bad], ["session01"], sorting.sort_args({}), tmp_path / "s.hkl")


def test_sort_outcome_fails_naming_each_failed_sort_and_dates_it(tmp_path):
    import logging

    from hippoflow.sorting.outcome import sort_outcome

    paths = []
    for a, c, failed in (("01", "001", None), ("02", "033", "MountainSort5 ended badly")):
        d = tmp_path / "sort" / f"array{a}" / f"channel{c}"
        sort_file = d / "mountainsort_x.hkl"
        d.mkdir(parents=True)
        sort_file.write_bytes(b"x")
        obj = {"sessions": ["session01", "sessioneye"], "cells": [1, 2] if not failed else []}
        obj |= {"sort_file": str(sort_file)} | ({"failed": failed} if failed else {})
        dpt.save_object(d / "curated.hkl", obj, {}, [d])
        paths.append(d / "curated.hkl")
    table = tmp_path / "sort" / "outcome.tsv"
    log = logging.getLogger("test")
    with pytest.raises(SystemExit) as exc:
        sort_outcome(paths, table, "picasso", "20181105", log)
    assert str(exc.value).startswith(
        "hippoflow: sort failed: 1 of 2 day-channel sort(s) of picasso 20181105: picasso "
        "20181105 array02 channel033: MountainSort5 ended badly"
    )
    assert not table.exists()
    assert (tmp_path / "sort/array02/channel033/mountainsort_x.hkl").stat().st_mtime_ns == 0
    assert (tmp_path / "sort/array01/channel001/mountainsort_x.hkl").stat().st_mtime_ns > 0
    sort_outcome(paths[:1], table, "picasso", "20181105", log)
    assert table.read_text() == "array\tchannel\tsessions\tunits\toutcome\n01\t001\t2\t2\tsorted\n"
