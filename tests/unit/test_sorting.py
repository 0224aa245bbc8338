"""Spike sorting checked against the generator's ground truth and independent bookkeeping.

High-pass inputs are made here independently of the workflow: neo reads the generated .ns5,
scipy's Butterworth filtfilt (PyHipp's method) filters it, and the result is saved as a DPT
object.  Accuracy comes from SpikeInterface's ground-truth comparison.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import neo.rawio
import numpy as np
import pytest
from scipy import signal

from hippoflow import dpt
from hippoflow.errors import InputError
from hippoflow.sorting import cells as sort_cells
from hippoflow.sorting import curate as curation
from hippoflow.sorting import sort as sorting
from hippoflow.synth import day as gen
from hippoflow.synth import groundtruth

pytestmark = pytest.mark.slow  # more than ~10 s: left out of make test-fast

# Units whose SNR (peak of the mean high-pass waveform at the true spike times over the MAD
# noise) is at least this are "sortable" on one channel; the mean accuracy over them must
# reach 0.9 (issue 5).  The generator's realistic setting below gives SNRs of about 5-12.
SNR_FLOOR = 5.0
ACCURACY_TARGET = 0.9
FS = 30000


def highpass_from_ns5(ns5: Path, channel_index: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = neo.rawio.BlackrockRawIO(filename=str(ns5.with_suffix("")), nsx_to_load=5)
        r.parse_header()
        raw = r.get_analogsignal_chunk(0, 0, None, None, channel_indexes=[channel_index])
        uv = r.rescale_signal_raw_to_float(raw, dtype="float64", channel_indexes=[channel_index])
    b, a = signal.butter(4, [500 / (FS / 2), 7500 / (FS / 2)], "bandpass")
    return signal.filtfilt(b, a, uv[:, 0]).astype(np.float32)


def write_highpass(path: Path, data: np.ndarray) -> None:
    dpt.save_object(
        path, {"data": data, "analogInfo": {"SampleRate": float(FS)}}, {}, [path.parent]
    )


@pytest.fixture(scope="module")
def gt_day(tmp_path_factory):
    """Two channels x 4 units, session01 (40 s) + sessioneye (30 s), realistic amplitudes."""
    root = tmp_path_factory.mktemp("sortgt")
    opts = gen.Options(
        out=root / "data",
        channels=2,
        seconds=40.0,
        eye_seconds=30.0,
        units=4,
        amplitude_uv=(45.0, 110.0),
        seed=11,
    )
    (day,) = gen.generate(opts, log=lambda *_: None)
    hp = {}
    for session, stem in (("session01", "181105_Block1"), ("sessioneye", "181105_DST")):
        for k, ch in enumerate(gen.electrode_ids(2)):
            p = root / "hp" / session / f"channel{ch:03d}" / "rplhighpass_b59f.hkl"
            write_highpass(p, highpass_from_ns5(day / session / f"{stem}.ns5", k))
            hp[(session, ch)] = p
    return day, hp


@pytest.fixture(scope="module")
def raw_sorts(gt_day, tmp_path_factory):
    """The sort step's objects: every unit MountainSort5 found."""
    day, hp = gt_day
    work = tmp_path_factory.mktemp("sortwork")
    out = {}
    for ch in gen.electrode_ids(2):
        src = [("sessioneye", hp[("sessioneye", ch)]), ("session01", hp[("session01", ch)])]
        out[ch] = sorting.sort_day_channel(src, workdir=work)
    assert not any(work.iterdir()), "temporary sort files left behind"
    return out


@pytest.fixture(scope="module")
def sorted_channels(raw_sorts):
    """The curate step's objects (default limits): the cells."""
    return {ch: curation.curate(res) for ch, res in raw_sorts.items()}


def test_sort_keeps_every_unit(raw_sorts, sorted_channels):
    for ch, raw in raw_sorts.items():
        cur = sorted_channels[ch]
        # every spike of the sort belongs to a unit of the curation's table
        assert list(cur["units"]["unit_ids"]) == list(raw["unit_ids"])
        assert raw["spike_times"].size == raw["n_spikes"].sum() == raw["spike_units"].size
        assert raw["templates"].shape == (len(raw["unit_ids"]), 90)
        # kept cells' spikes are a subset of the sort's (times move by <= 4 samples on merges)
        assert cur["spike_times"].size <= raw["spike_times"].size
        assert len(cur["cells"]) <= len(raw["unit_ids"])


def test_sessions_concatenated_in_sorted_order(sorted_channels):
    res = sorted_channels[1]
    assert res["sessions"] == ["session01", "sessioneye"]
    np.testing.assert_array_equal(res["session_samples"], [40 * FS, 30 * FS])
    np.testing.assert_array_equal(res["session_starts"], [0, 40 * FS])


def test_accuracy_against_ground_truth(gt_day, sorted_channels):
    day, hp = gt_day
    rows = []
    for ch, res in sorted_channels.items():
        starts = dict(zip(res["sessions"], res["session_starts"], strict=True))
        npz = {s: day / s / "groundtruth_spikes.npz" for s in res["sessions"]}
        gt_t, gt_u = groundtruth.ground_truth(npz, ch, starts)
        data = np.concatenate([dpt.load_object(hp[(s, ch)])["data"] for s in res["sessions"]])
        noise = np.median(np.abs(data - np.median(data))) / 0.6745
        snr = groundtruth.unit_snr(data, gt_t, gt_u, noise)
        perf = groundtruth.compare(gt_t, gt_u, res["spike_times"], res["spike_cells"])
        for u in perf.index:
            rows.append((ch, int(u), snr[int(u)], float(perf.loc[u, "accuracy"])))
    sortable = [r for r in rows if r[2] >= SNR_FLOOR]
    print(table := "\n".join(f"ch{c} unit{u} SNR {s:.1f} accuracy {a:.3f}" for c, u, s, a in rows))
    assert len(sortable) >= 6, f"too few units above the SNR floor:\n{table}"
    mean = np.mean([r[3] for r in sortable])
    assert mean >= ACCURACY_TARGET, f"mean accuracy {mean:.3f} < {ACCURACY_TARGET}:\n{table}"


def test_metrics_and_templates_present(sorted_channels):
    for res in sorted_channels.values():
        k = len(res["cells"])
        assert k >= 1
        np.testing.assert_array_equal(res["cells"], np.arange(1, k + 1))
        assert res["templates"].shape[0] == k
        # cell 1 has the deepest trough (numbering by amplitude)
        troughs = -res["templates"].min(axis=1)
        assert np.all(np.diff(troughs) <= 1e-6)
        for m in sorting.METRICS:
            assert res["metrics"][m].shape == (k,)
        assert np.all(res["metrics"]["snr"] >= sorting.DEFAULTS["min_snr"])
        np.testing.assert_array_equal(
            res["n_spikes"], [np.sum(res["spike_cells"] == c) for c in res["cells"]]
        )
        # firing rate = spikes / concatenation duration (independent of SpikeInterface)
        dur = res["session_samples"].sum() / FS
        np.testing.assert_allclose(res["metrics"]["firing_rate"], res["n_spikes"] / dur)


def test_split_by_session_bookkeeping():
    starts, lengths = np.array([0, 1000, 1500]), np.array([1000, 500, 2000])
    times = np.array([0, 999, 1000, 1001, 1499, 1500, 3499])
    cells = np.array([1, 2, 1, 3, 1, 2, 2])
    per = sort_cells.split_by_session(times, cells, starts, lengths, [1, 2, 3])
    assert [sorted(p) for p in per] == [[1, 2, 3]] * 3  # every cell in every session
    total = sum(p[c].size for p in per for c in p)
    assert total == times.size
    # a spike at the known offset 1001 is session 2's sample 1 (1/30 ms)
    np.testing.assert_allclose(per[1][3], [1 / 30])
    np.testing.assert_allclose(per[1][1], [0.0, 499 / 30])
    np.testing.assert_allclose(per[2][2], [0.0, 1999 / 30])
    assert per[0][3].size == 0 and per[2][1].size == 0  # silent -> empty train


def test_write_cells_same_numbers_everywhere(sorted_channels, tmp_path):
    res = sorted_channels[1]
    dirs = {s: tmp_path / s / "array01" / "channel001" for s in res["sessions"]}
    # a stale cell of an earlier, larger sort must disappear
    stale = dirs["session01"] / "cell99"
    stale.mkdir(parents=True)
    (stale / "spiketrain.csv").write_text("1.0\n")
    rows = sort_cells.write_cells(res, dirs)
    assert not stale.exists()
    k = len(res["cells"])
    for d in dirs.values():
        assert sorted(p.name for p in d.iterdir()) == [f"cell{c:02d}" for c in range(1, k + 1)]
    # per-session counts sum to the sort's count, per cell and in total
    for c in res["cells"]:
        n = sum(r["n_spikes"] for r in rows if r["cell"] == c)
        assert n == np.sum(res["spike_cells"] == c)
    # the files hold the spikes at the right place: rebuild the concatenated samples
    back_t, back_c = [], []
    for s, start in zip(res["sessions"], res["session_starts"], strict=True):
        for c in res["cells"]:
            d = dirs[s] / f"cell{c:02d}"
            text = (d / "spiketrain.csv").read_text().strip()
            csv = np.array([float(v) for v in text.split(",")]) if text else np.zeros(0)
            hk = dpt.load_object(d / "spiketrain_d41d.hkl")
            # PyHipp's container: a one-element list holding the csv row's times
            assert isinstance(hk["spiketimes"], list) and len(hk["spiketimes"]) == 1
            np.testing.assert_array_equal(np.asarray(hk["spiketimes"][0], dtype=float), csv)
            assert hk["args"] == {} and hk["dirs"] == [str(d.resolve())]
            assert hk["numSets"] == 1 and list(hk["setidx"]) == [0]
            back_t.append(np.round(csv * FS / 1000).astype(np.int64) + start)
            back_c.append(np.full(csv.size, c))
    bt, bc = np.concatenate(back_t), np.concatenate(back_c)
    o = np.lexsort((bc, bt))
    ref = np.lexsort((res["spike_cells"], res["spike_times"]))
    np.testing.assert_array_equal(bt[o], res["spike_times"][ref])
    np.testing.assert_array_equal(bc[o], res["spike_cells"][ref])


def test_silent_unit_gets_empty_train(tmp_path):
    res = {
        "cells": np.array([1, 2]),
        "spike_times": np.array([10, 20, 150]),
        "spike_cells": np.array([1, 2, 1]),
        "session_starts": np.array([0, 100]),
        "session_samples": np.array([100, 100]),
        "sessions": ["session01", "sessioneye"],
        "templates": np.zeros((2, 90), np.float32),
    }
    dirs = {s: tmp_path / s for s in res["sessions"]}
    sort_cells.write_cells(res, dirs)
    assert (tmp_path / "sessioneye" / "cell02" / "spiketrain.csv").read_text() == "\n"
    eye = dpt.load_object(tmp_path / "sessioneye" / "cell01" / "spiketrain_d41d.hkl")
    assert len(eye["spiketimes"]) == 1
    np.testing.assert_allclose(eye["spiketimes"][0], [50 / 30])
    silent = dpt.load_object(tmp_path / "sessioneye" / "cell02" / "spiketrain_d41d.hkl")
    assert len(silent["spiketimes"]) == 1 and silent["spiketimes"][0].shape == (0,)


def test_zero_units_gives_no_cells(tmp_path):
    rng = np.random.default_rng(0)
    noise = (8 * rng.standard_normal(20 * FS)).astype(np.float32)
    b, a = signal.butter(4, [500 / (FS / 2), 7500 / (FS / 2)], "bandpass")
    write_highpass(tmp_path / "hp.hkl", signal.filtfilt(b, a, noise).astype(np.float32))
    raw = sorting.sort_day_channel([("session01", tmp_path / "hp.hkl")], workdir=tmp_path / "w")
    res = curation.curate(raw)
    assert len(res["cells"]) == 0 and res["spike_times"].size == 0
    chan = tmp_path / "session01" / "array01" / "channel001"
    chan.mkdir(parents=True)
    assert sort_cells.write_cells(res, {"session01": chan}) == []
    assert list(chan.iterdir()) == []


def test_missing_highpass_is_named(tmp_path):
    ok = tmp_path / "session01" / "rplhighpass_b59f.hkl"
    write_highpass(ok, np.zeros(1000, np.float32))
    missing = tmp_path / "sessioneye" / "rplhighpass_b59f.hkl"
    with pytest.raises(InputError, match=r"sessioneye/rplhighpass_b59f\.hkl.*missing"):
        sorting.concatenate([("session01", ok), ("sessioneye", missing)], tmp_path / "c.bin")


def test_unreadable_highpass_is_named(tmp_path):
    bad = tmp_path / "rplhighpass_b59f.hkl"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(InputError, match=str(bad)):
        sorting.concatenate([("session01", bad)], tmp_path / "c.bin")


def test_correlogram_matches_brute_force():
    from hippoflow.qc import figures as qc

    rng = np.random.default_rng(1)
    a = np.sort(rng.integers(0, 300_000, 400))
    b = np.sort(rng.integers(0, 300_000, 500))
    edges, counts = qc.correlogram(a, b, FS)
    lags = (b[None, :] - a[:, None]).ravel() / FS * 1000
    ref, _ = np.histogram(lags[np.abs(lags) <= 50], edges)
    np.testing.assert_array_equal(counts, ref)


def test_plan_templates_target_per_day_channel(tmp_path):
    from hippoflow import plan

    def session(name, channels):
        return plan.Session("picasso", "20181105", name, tmp_path / name, channels=channels)

    p = plan.Plan(
        [
            session("session01", [("01", "001"), ("02", "033")]),
            session("sessioneye", [("01", "001"), ("03", "033")]),  # 033 in another bank
        ],
        {},
        {},
        {},
    )
    templates = [t for t in p.sorting_targets() if t.endswith("templates.hkl")]
    # PyHipp's mountains/ directory names the channel only: one file per day-channel
    assert templates == ["picasso/20181105/mountains/channel001/output/templates.hkl"]
    assert p.channel_array(("picasso", "20181105"), "001") == "01"
    # a channel the sessions put in two arrays gets no templates file but a problem job
    with pytest.raises(InputError, match="channel 033 is in 2 arrays"):
        p.channel_array(("picasso", "20181105"), "033")
    key = (("picasso", "20181105", "session01"), "channel033_arrays")
    assert "array02 (session01), array03 (sessioneye)" in p.problems[key]
    assert "picasso/20181105/session01/.hippoflow-problem-channel033_arrays" in (
        p.problem_targets()
    )
