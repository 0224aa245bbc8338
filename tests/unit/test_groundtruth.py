"""The random ground truth of the sorting benchmark (hippoflow.synth.groundtruth), its oracle,
and a handful of members through the workflow's sort and curate steps.

Expectations are stated from the members' design and checked with independent computations:
the data's noise SD and each unit's peak on the high-pass data measured at the true spike
times, a brute-force aligned distance, SpikeInterface's ground-truth comparison.
"""

from __future__ import annotations

import numpy as np
import pytest

from hippoflow import dpt
from hippoflow.sorting import curate as curation
from hippoflow.sorting import steps
from hippoflow.sorting.sort import limit_args, sort_args
from hippoflow.synth import groundtruth as gt

# a "narrow" and a "wide" negative-going unit and a positive-going one, no jitter or bursts
NARROW = (0.08, 0.35, 0.8, 0.1)
WIDE = (0.2, 1.0, 2.0, 0.4)


def _member(units, seed=11, sessions=2, seconds=30.0, noise=5.0):
    return gt.RandomMember(seed, tuple(units), noise, sessions, seconds)


def test_draws_are_seeded_broad_and_split_by_parity():
    a, b = gt.draw_member(7), gt.draw_member(7)
    assert a == b and a.half == "report" and gt.draw_member(8).half == "tuning"
    members = [gt.draw_member(s) for s in range(200)]
    units = [u for m in members for u in m.units]
    assert {len(m.units) for m in members} == set(range(1, 7))
    assert {m.sessions for m in members} == {1, 2, 3}
    snr = np.array([u.snr for u in units])
    rate = np.array([u.rate for u in units])
    assert snr.min() >= 2 and snr.max() <= 40 and snr.min() < 2.5 and snr.max() > 35
    assert rate.min() >= 0.3 and rate.max() <= 30 and rate.min() < 0.4 and rate.max() > 25
    assert any(u.sign == 1 for u in units) and any(u.burst > 0 for u in units)
    assert max(u.jitter for u in units) > 0.18 and max(abs(u.drift) for u in units) > 0.25


def test_member_data_have_the_drawn_noise_and_snr():
    m = _member([gt.TrueUnit(20.0, 5.0, NARROW), gt.TrueUnit(8.0, 10.0, WIDE, sign=1)])
    d = gt.make_random_member(m)
    x = np.concatenate(d["data"]).astype(np.float64)
    t, u = gt.day_clock(d["truth"], [len(v) for v in d["data"]])
    # the noise SD, measured away from every spike (+-3 ms)
    mask = np.ones(x.size, bool)
    for s in t:
        mask[max(0, s - 90) : s + 90] = False
    assert x[mask].std() == pytest.approx(m.noise_uv, rel=0.05)
    # each unit's peak |mean waveform| at its true times over the noise: its drawn SNR
    for i, unit in enumerate(m.units):
        ti = t[u == i]
        wf = x[ti[:, None] + np.arange(-30, 60)[None, :]].mean(axis=0)
        assert np.abs(wf).max() / m.noise_uv == pytest.approx(unit.snr, rel=0.1)
        # positive-going units peak upwards at their spike times
        assert np.sign(wf[30]) == unit.sign
        # the rate asked for, within Poisson error
        seconds = m.sessions * m.seconds
        assert ti.size == pytest.approx(unit.rate * seconds, abs=4 * np.sqrt(unit.rate * seconds))


def test_dprime_is_the_aligned_distance_in_noise_sds():
    m = _member([gt.TrueUnit(20.0, 5.0, NARROW), gt.TrueUnit(10.0, 5.0, WIDE)])
    d = gt.make_random_member(m)
    a, b = d["templates"]
    best = min(
        np.linalg.norm(a[gt.MAX_LAG : -gt.MAX_LAG] - b[gt.MAX_LAG + s : b.size - gt.MAX_LAG + s])
        for s in range(-gt.MAX_LAG, gt.MAX_LAG + 1)
    )
    # the brute force over the core agrees with the zero-padded shift within the tails' energy
    assert d["dprime"][0] == pytest.approx(best / m.noise_uv, rel=0.05)
    assert d["dprime"][0] == pytest.approx(d["dprime"][1])
    assert gt.dprime(d["templates"][:1], 5.0) == [float("inf")]


def test_oracle_finds_distinct_units():
    m = _member([gt.TrueUnit(15.0, 8.0, NARROW), gt.TrueUnit(10.0, 8.0, WIDE, sign=1)])
    d = gt.make_random_member(m)
    x = np.concatenate(d["data"])
    t, u = gt.day_clock(d["truth"], [len(v) for v in d["data"]])
    ot, ou = gt.oracle(x, d["templates"], m.noise_uv)
    perf = gt.day_performance(t, u, ot, ou, 2)
    assert min(perf["accuracy"]) >= 0.95, perf


@pytest.fixture(scope="module")
def sorted_members(tmp_path_factory):
    """Members through the sort and curate steps: a distinct pair (narrow vs wide trough), one
    unit with 15 % jitter and decaying bursts beside a second, distinct unit, and a pair with
    a positive-going unit."""
    root = tmp_path_factory.mktemp("members")
    members = {
        "pair": _member([gt.TrueUnit(18.0, 6.0, NARROW), gt.TrueUnit(12.0, 9.0, WIDE)]),
        "positive": _member([gt.TrueUnit(18.0, 6.0, NARROW), gt.TrueUnit(12.0, 9.0, WIDE, sign=1)]),
        "bursty": _member(
            [
                gt.TrueUnit(16.0, 6.0, WIDE, jitter=0.15, burst=0.5, decay=0.8),
                gt.TrueUnit(12.0, 5.0, NARROW),
            ],
            seed=12,
        ),
    }
    out = {}
    for name, m in members.items():
        d = gt.make_random_member(m)
        paths = []
        for s, x in zip(d["sessions"], d["data"], strict=True):
            p = root / name / s / "rplhighpass_b59f.hkl"
            dpt.save_object(p, {"data": x, "analogInfo": {"SampleRate": gt.FS}}, {}, [p.parent])
            paths.append(str(p))
        sort_path = root / name / "sort" / "mountainsort.hkl"
        steps.sort(paths, d["sessions"], sort_args({}), sort_path, limits=limit_args({}))
        cur = curation.curate(dpt.load_object(sort_path), {})
        out[name] = (m, d, cur)
    return out


@pytest.mark.parametrize(
    "name",
    [
        "pair",
        "bursty",
        "positive",
    ],
)
def test_members_sorted_one_cell_per_unit(sorted_members, name):
    m, d, cur = sorted_members[name]
    t, u = gt.day_clock(d["truth"], [len(v) for v in d["data"]])
    perf = gt.day_performance(t, u, cur["spike_times"], cur["spike_cells"], len(m.units))
    assert len(cur["cells"]) == len(m.units), cur["units"]["decision"]
    assert min(perf["accuracy"]) >= 0.9, (perf, cur["units"]["decision"])
    # the same cell in every session: per-session matches agree
    starts = np.r_[0, np.cumsum([len(v) for v in d["data"]])]
    matches = []
    for k, (tk, uk) in enumerate(d["truth"]):
        sel = (cur["spike_times"] >= starts[k]) & (cur["spike_times"] < starts[k + 1])
        c = gt.session_cells(tk, uk, cur["spike_times"][sel] - starts[k], cur["spike_cells"][sel])
        assert c["false"] == [] and c["redundant"] == []
        matches.append(c["match"])
    assert all(mt == matches[0] for mt in matches)


def test_agreement_keeps_units_two_sorters_found():
    """hippoflow.sorting.agreement.agree on hand-made sortings of one recording: sorter A has
    units 1 (every 100 ms) and 2 (every 70 ms, from 35 ms); sorter B has unit 1 split off as
    its unit 5 (A's spikes 3 samples later, one in ten missing) and a unit 6 that A has not.
    Only A's unit 1 is found by both: it is kept, with A's spikes."""
    from hippoflow.sorting.agreement import agree

    fs = 30000.0
    a1 = np.arange(3000, 30 * 30000, 3000)
    a2 = np.arange(1050, 30 * 30000, 2100)
    b5 = np.delete(a1, np.arange(0, a1.size, 10)) + 3
    b6 = np.arange(1500, 30 * 30000, 4100)
    a = (np.r_[a1, a2], np.r_[np.full(a1.size, 1), np.full(a2.size, 2)])
    b = (np.r_[b5, b6], np.r_[np.full(b5.size, 5), np.full(b6.size, 6)])
    times, labels = agree([a, b], fs, min_agreement=2)
    assert np.unique(labels).size == 1
    np.testing.assert_array_equal(times, a1)
    # one sorter alone is enough with min_agreement 1: every unit of both
    _, labels1 = agree([a, b], fs, min_agreement=1)
    assert np.unique(labels1).size == 3  # A's 1 (= B's 5), A's 2, B's 6
