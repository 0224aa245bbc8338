"""Place and view fields (hippoflow.fields) against ground truth and independent arithmetic.

The generator (hippoflow.synth.fields) plants a place field at a known point of the
monkey's known path, or a view field on a known gaze bin; the tests check that those cells
are significant with their peak where planted, that random cells are significant no more
often than the level says, and that PyHipp's VMPlaceCell rule (re-derived here from its
description: Umaze's sessionTime rows, then VMPlaceCell's digitize and histogram) gives
our placebins.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyhipp_rules import pyhipp_placebins
from scipy import stats

from hippoflow.behaviour import maze
from hippoflow.fields import information, maps, steps
from hippoflow.synth import fields as synth

FEW = steps.Params(shuffles=200, alpha=0.01, min_shift=5.0)


@pytest.fixture(scope="module")
def sess():
    return synth.session(seed=3, seconds=300.0)


def _session(s, params=FEW):
    return steps.make_session(
        "session01", s["unity"], s["bindata"], s["sampling_rate"], params.min_speed
    )


# ---- arithmetic ---------------------------------------------------------------------------


def test_skaggs_information_hand_worked():
    occ = np.array([1.0, 1.0, 2.0])
    # all spikes in a bin holding a quarter of the time: log2(4) = 2 bits/spike
    assert information.skaggs_information(np.array([4.0, 0.0, 0.0]), occ) == pytest.approx(2.0)
    # a flat map carries none
    assert information.skaggs_information(np.array([3.0, 3.0, 3.0]), occ) == pytest.approx(0.0)
    # rates 1 and 3 on equal halves: mean 2; 0.5*0.5*log2(0.5) + 0.5*1.5*log2(1.5)
    want = 0.25 * math.log2(0.5) + 0.75 * math.log2(1.5)
    got = information.skaggs_information(np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    assert got == pytest.approx(want)


def test_counts_match_a_loop(sess):
    s = _session(sess)
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(*s.span, size=60))
    for samples in (s.place, s.view):
        want = np.zeros(samples.n_bins)
        for ti in t:
            for i in np.flatnonzero((samples.start <= ti) & (ti < samples.end)):
                a, b = samples.ptr[i], samples.ptr[i + 1]
                np.add.at(want, samples.bins[a:b], samples.weights[a:b])
        np.testing.assert_allclose(samples.counts(t), want)
        # the shuffled trains go through the same counting
        many = samples.counts_many(np.stack([t, t[::-1].copy()]))
        np.testing.assert_allclose(many[0], want)


def test_shifted_counts_are_the_counts_of_shifted_trains(sess):
    """The null's kernel (whole-ms shifts on the joint grid) against counting the shifted
    times, and the grid against looking each millisecond up."""
    s = _session(sess)
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(*s.span, size=300))
    step = maps.GRID_STEP_S
    grid = s.grid()
    n = grid[0].shape[0]
    edges = s.span[0] + step * np.arange(n)
    i = s.place.sample_of(edges)
    np.testing.assert_array_equal(grid[0][:, 0], np.where(i >= 0, s.place.bins[i], -1))
    i = s.view.sample_of(edges)
    for j in np.flatnonzero(i >= 0)[::997]:  # the packed bins of the view sample
        q = grid[1][grid[0][j, 1] :]
        a, b = s.view.ptr[i[j]], s.view.ptr[i[j] + 1]
        np.testing.assert_array_equal(q[1 : 1 + q[0]], s.view.bins[a:b])
    assert np.all((grid[0][:, 1] >= 0) == (i >= 0))
    cells = np.floor((t - s.span[0]) / step).astype(np.int64)
    shifts = rng.integers(0, n, size=4)
    got_p, got_v = maps.shifted_counts(grid, True, cells, shifts)
    for k, m in enumerate(shifts):
        moved = s.span[0] + np.remainder(cells + m, n) * step
        np.testing.assert_allclose(got_p[k], s.place.counts(moved), atol=1e-9)
        np.testing.assert_allclose(got_v[k], s.view.counts(moved), atol=1e-9)


def test_occupancy_is_the_time_moving_with_gaze(sess):
    s = _session(sess)
    iv = maps.place_intervals(sess["unity"])
    moving = (iv["speed"] >= FEW.min_speed) & (iv["end"] > iv["start"])
    assert s.place.occupancy().sum() == pytest.approx((iv["end"] - iv["start"])[moving].sum())
    # each view sample lasts 1 ms and its time is shared among its bins: the total is 1 ms
    # per binData row with a bin, inside a moving interval
    t, hit = sess["bindata"][:, 0], (sess["bindata"][:, 1:] > 0).any(axis=1)
    inside = np.zeros(t.size, dtype=bool)
    for a, b in zip(iv["start"][moving], iv["end"][moving], strict=True):
        inside[np.searchsorted(t, a) : np.searchsorted(t, b)] = True
    assert s.view.occupancy().sum() == pytest.approx(np.count_nonzero(inside & hit) / 1000.0)


def test_smoothing_keeps_mass_inside_and_wraps_rings():
    m = np.zeros(maze.N_BINS)
    first, (rows, cols), _ = maps.view_surfaces()[2]  # the perimeter walls
    m[first + 3 * cols + 0] = 1.0  # ring position 0: its neighbour across the wrap is 159
    sm = maps.smooth_view(m, 1.0)
    assert sm[first + 3 * cols + cols - 1] == pytest.approx(sm[first + 3 * cols + 1])
    assert sm[maze.CUE_BIN - 1] == 0 and sm[: maze.WALL0 - 1].sum() == 0


# ---- planted fields -------------------------------------------------------------------------


def _grid_distance(a: int, b: int) -> float:
    """Bins between two 1-based place bins."""
    ax, az = (a - 1) % 40, (a - 1) // 40
    bx, bz = (b - 1) % 40, (b - 1) // 40
    return math.hypot(ax - bx, az - bz)


def test_planted_place_field_is_found(sess):
    s = _session(sess)
    centre = synth.busiest_vertex(sess)
    rng = np.random.default_rng(11)
    spikes = synth.place_unit(rng, sess, centre)
    res = steps.cell_fields([s], {"session01": spikes}, FEW, rng)
    place = res["place"]
    assert place["significant"], place["p_value"]
    assert place["information"] > place["null_p99"]
    assert _grid_distance(place["peak_bin"], synth.place_bin_of(*centre)) <= 2.0
    # the field: bins within ~2 widths of the centre, not the whole maze
    assert 1 <= place["field_size"] < 200


def test_planted_view_bin_is_found(sess):
    s = _session(sess)
    target = synth.common_bin(sess)
    rng = np.random.default_rng(12)
    spikes = synth.view_unit(rng, sess, target)
    res = steps.cell_fields([s], {"session01": spikes}, FEW, rng)
    view = res["view"]
    assert view["significant"], view["p_value"]
    assert view["information"] > view["null_p99"]
    # the peak is the planted bin or its neighbour on the same surface (smoothing, discs of rays)
    first, shape, _ = next(
        (f, sh, w) for f, sh, w in maps.view_surfaces() if f <= target - 1 < f + sh[0] * sh[1]
    )
    (r0, c0), (r1, c1) = (divmod(b - 1 - first, shape[1]) for b in (target, view["peak_bin"]))
    dc = min(abs(c0 - c1), shape[1] - abs(c0 - c1))
    assert abs(r0 - r1) <= 1 and dc <= 1, (target, view["peak_bin"])


def test_random_units_are_significant_at_the_level():
    """False-positive rate: units firing at random (Poisson) in 3 sessions of different
    seeds; the number significant at alpha is within what Binomial(n, alpha) allows
    (one-sided, 0.1% level). The full measurement (more units, 1,000 shuffles) is
    benchmarks/bench_fields.py."""
    alpha, per_session = 0.05, 20
    params = steps.Params(shuffles=100, alpha=alpha, min_shift=5.0)
    n_sig = {"place": 0, "view": 0}
    n = 0
    for seed in (21, 22, 23):
        sess = synth.session(seed=seed, seconds=90.0)
        s = _session(sess, params)
        rng = np.random.default_rng(seed)
        for _ in range(per_session):
            spikes = synth.random_unit(rng, sess, rate=float(rng.uniform(2, 10)))
            res = steps.cell_fields([s], {"session01": spikes}, params, rng)
            n += 1
            for kind in n_sig:
                n_sig[kind] += bool(res[kind]["p_value"] <= alpha)
    limit = stats.binom.ppf(0.999, n, alpha)
    assert n_sig["place"] <= limit and n_sig["view"] <= limit, (n_sig, n, limit)


# ---- PyHipp's VMPlaceCell ---------------------------------------------------------------------


def _with_dubious_trial(unity: dict, trial: int) -> dict:
    """The Unity object with one trial flattened as the alignment flattens a dubious trial:
    its frames between markers on the preceding marker's time, the frame durations and the
    trial times recomputed from the times."""
    ut = np.array(unity["unityTime"][0], dtype=np.float64)
    trig = np.asarray(unity["unityTriggers"][0])
    s, c, e = (int(v) for v in trig[trial])
    ut[s + 2 : c + 1] = ut[s + 1]
    ut[c + 2 : e + 1] = ut[c + 1]
    data = np.array(unity["unityData"][0], dtype=np.float64)
    data[:, 1] = ut[1:] - ut[:-1]
    ttime = np.full_like(unity["unityTrialTime"][0], np.nan)
    for a, (_, cue, end) in enumerate(trig):
        for j in range(end - cue + 1):
            ttime[j, a] = ut[cue + 1 + j] - ut[cue + 1]
    return dict(unity, unityTime=[ut], unityData=[data], unityTrialTime=[ttime])


def test_vmplacecell_placebins_are_pyhipps_rule(sess, tmp_path):
    rng = np.random.default_rng(5)
    spikes = synth.random_unit(rng, sess, rate=20.0)
    ours = maps.vmplacecell_placebins(sess["unity"], spikes)
    want = pyhipp_placebins(sess["unity"], spikes)
    assert ours.shape == (1600, 1) and ours.sum() > 100
    np.testing.assert_array_equal(ours, want)
    # a dubious trial (flattened by the alignment) counts no spike, as in PyHipp's Umaze
    dubious = _with_dubious_trial(sess["unity"], 1)
    got = maps.vmplacecell_placebins(dubious, spikes)
    np.testing.assert_array_equal(got, pyhipp_placebins(dubious, spikes))
    _, cue, end = np.asarray(sess["unity"]["unityTriggers"][0])[1]
    ut = sess["unity"]["unityTime"][0]
    inside = np.count_nonzero((spikes > ut[cue + 1]) & (spikes < ut[end + 1]))
    assert inside > 0 and got.sum() <= ours.sum() - inside + 1
    # and the maps leave the trial out as well
    iv = maps.place_intervals(dubious)
    assert not np.any((iv["start"] >= ut[cue + 1]) & (iv["start"] < ut[end + 1]))
    # the file: PyHipp's name and keys, readable as DPT reads it
    path = tmp_path / steps.VMPLACECELL_NAME
    steps.write_vmplacecell(path, ours)
    from hippoflow import dpt

    obj = dpt.load_object(path)
    assert steps.VMPLACECELL_NAME == dpt.hkl_name("vmplacecell", obj["args"])
    assert list(obj["args"]) == ["GridSteps", "OverallGridSize"]
    np.testing.assert_array_equal(obj["placebins"], want)
    assert obj["numSets"] == 1 and obj["setidx"] == [0]


def test_without_gaze_the_place_map_only(sess, tmp_path):
    """A day without the eye tracker: place results, no view group, empty view columns; the
    cell's picture and the day page are still made."""
    from hippoflow.fields import figures

    s = steps.make_session("session01", sess["unity"], None, 1000.0, FEW.min_speed)
    rng = np.random.default_rng(4)
    spikes = {"session01": synth.place_unit(rng, sess, synth.busiest_vertex(sess))}
    res = steps.cell_fields([s], spikes, FEW, rng)
    assert res["view"] is None and res["place"]["significant"]
    steps.write_cell_file(tmp_path / "cell01.h5", res, FEW, {"cell": 1})
    back = steps.read_cell_file(tmp_path / "cell01.h5")
    assert back["view"] is None
    np.testing.assert_array_equal(back["place"]["counts"], res["place"]["counts"])
    row = steps.table_row("01", "001", 1, spikes["session01"].size, res)
    assert row["view_p"] == "" and row["place_significant"]
    steps.write_table(tmp_path / "fields.tsv", [row])
    (tmp_path / "figures").mkdir()
    png = tmp_path / "figures" / "cell01.png"
    figures.cell_figure(res, figures.trial_rasters([s], spikes), png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figures.day_page([tmp_path / "fields.tsv"], tmp_path / "fields.html", "day")
    page = (tmp_path / "fields.html").read_text()
    assert "Significant place cells: 1 of 1" in page and "data:image/png;base64," in page
    assert "Significant view cells: 0 of 1" in page


# ---- a failure on the data ------------------------------------------------------------------


def _curated(path, span, rng, n_cells=2, rate=5.0, fs=30000.0):
    """A curated sort object of one session: cells firing at random within ``span``."""
    from hippoflow import dpt

    n = int(span[1] * fs) + 1
    times, cells = [], []
    for c in range(1, n_cells + 1):
        st = np.sort(rng.integers(int(span[0] * fs), n, rng.poisson(rate * (span[1] - span[0]))))
        times.append(st)
        cells.append(np.full(st.size, c))
    order = np.argsort(np.concatenate(times), kind="stable")
    sort = {
        "cells": list(range(1, n_cells + 1)),
        "spike_times": np.concatenate(times)[order],
        "spike_cells": np.concatenate(cells)[order],
        "session_starts": [0],
        "session_samples": [n],
        "sessions": ["session01"],
    }
    dpt.save_object(path, sort, {}, [path.parent])


def test_failed_samples_fail_the_fields_softly(sess, tmp_path):
    """binData rows out of time order: fields_samples writes a failed samples file, the
    fields job a failed table (no row, no cell file left, the cause naming the day-channel),
    the NWB reads NaN field values and fields_day fails naming it, dating the table 1970."""
    import logging

    from hippoflow import dpt
    from hippoflow.behaviour.raycast.outputs import write_bindata
    from hippoflow.fields import outcome
    from hippoflow.nwb.units import field_values

    unity = dict(sess["unity"], numSets=1, setidx=[0])
    dpt.save_object(tmp_path / "unity.hkl", unity, {}, [tmp_path])
    v = sess["bindata"][::-1].copy()  # out of time order
    write_bindata(tmp_path / "binData.hdf", v[:, 0], v[:, 1:].astype(np.int32))
    dpt.save_object(tmp_path / "eyelink.hkl", {"samplingRate": 1000.0}, {}, [tmp_path])
    samples = tmp_path / "samples.h5"
    steps.fields_samples(
        tmp_path / "unity.hkl",
        tmp_path / "binData.hdf",
        tmp_path / "eyelink.hkl",
        samples,
        "session01",
        1.0,
    )
    _curated(tmp_path / "curated.hkl", sess["span"], np.random.default_rng(0))
    chan = tmp_path / "session01" / "channel001"
    stale = tmp_path / "fields" / "cell01.h5"  # from an earlier run: must not stay
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    table = tmp_path / "fields" / "fields.tsv"
    steps.fields(
        tmp_path / "curated.hkl",
        {"session01": samples},
        {"session01": chan},
        tmp_path / "fields",
        table,
        FEW,
        day="20181105",
        array="01",
        channel="001",
        subject="picasso",
        figures_dir=tmp_path / "fields" / "figures",
    )
    cause = outcome.table_failure(table)
    assert cause.startswith("picasso 20181105 array01 channel001: ") and "binData" in cause
    assert "not in increasing order" in cause
    assert steps.read_table(table) == [] and not stale.exists()
    assert not list(tmp_path.rglob(steps.VMPLACECELL_NAME))
    assert samples.stat().st_mtime_ns == 0  # the samples are redone at the next run
    assert field_values(table) == {}
    with pytest.raises(SystemExit, match="fields failed: 1 of 1 day-channel"):
        steps.fields_day(
            [table], tmp_path / "cells.tsv", None, "", "picasso", "20181105", logging.getLogger()
        )
    assert table.stat().st_mtime_ns == 0 and not (tmp_path / "cells.tsv").exists()
