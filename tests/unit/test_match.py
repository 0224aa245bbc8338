"""The sort's template-matching pass and split pass (hippoflow.sorting.match), checked against
the generated truth: spike times and units known before any sorting."""

from __future__ import annotations

import numpy as np
import spikeinterface.core as si

from hippoflow.sorting.match import match_spikes, split_cluster
from hippoflow.synth import groundtruth as gt

FS = 30000.0
BEFORE, AFTER = 30, 60


def _unit(snr, shape, sign=-1):
    w = gt.unit_waveform(gt.TrueUnit(snr=snr, rate=1.0, shape=shape, sign=sign)) * snr
    t0 = gt.trough_index()
    return w[t0 - BEFORE : t0 + AFTER]


NARROW = (0.1, 0.4, 0.8, 0.3)
WIDE = (0.2, 1.0, 2.0, 0.15)


def _data(templates, trains, n, seed=0):
    """White noise of SD 1 with each unit's template added at its spike times."""
    x = np.random.default_rng(seed).standard_normal(n)
    for w, t in zip(templates, trains, strict=True):
        idx = (t - BEFORE)[:, None] + np.arange(BEFORE + AFTER)[None, :]
        np.add.at(x, idx.ravel(), np.tile(w, t.size))
    return x.astype(np.float32)


def _recall_precision(truth, found, tol=12):
    """Share of true spikes with a found spike within ``tol`` samples, and the reverse."""
    truth, found = np.sort(truth), np.sort(found)

    def near(a, b):
        if b.size == 0:
            return np.zeros(a.size, bool)
        j = np.clip(np.searchsorted(b, a), 1, max(b.size - 1, 1))
        return np.minimum(np.abs(b[j] - a), np.abs(b[j - 1] - a)) <= tol

    return float(near(truth, found).mean()), float(near(found, truth).mean())


def test_matching_finds_the_spikes_detection_missed_and_the_overlaps():
    rng = np.random.default_rng(1)
    n = int(60 * FS)
    big = _unit(20.0, NARROW)
    small = _unit(7.0, WIDE)
    t_big = np.sort(rng.choice(np.arange(200, n - 200, 150), 900, replace=False))
    t_small = np.sort(rng.choice(np.arange(275, n - 200, 150), 600, replace=False))
    # a third of the small unit's spikes 5-15 samples after a big one: overlaps
    t_small[:200] = t_big[:200] + rng.integers(5, 16, 200)
    t_small = np.sort(t_small)
    x = _data([big, small], [t_big, t_small], n)
    rec = si.NumpyRecording([x[:, None]], FS)
    # the clustering saw only some spikes of each unit, none of the overlapped ones
    alone = ~np.isin(t_small, t_big[:200] + np.arange(5, 16)[:, None])
    seen_t = np.r_[t_big[::3], t_small[alone][::3]]
    seen_u = np.r_[np.full(t_big[::3].size, 7), np.full(t_small[alone][::3].size, 9)]
    o = np.argsort(seen_t)
    times, labels = match_spikes(rec, seen_t[o], seen_u[o], 0.6, BEFORE, AFTER)
    assert set(np.unique(labels)) == {7, 9}
    # every spike the clustering did not see, alone: found, and nothing else
    for unit, truth in ((7, t_big), (9, t_small[alone])):
        recall, _ = _recall_precision(truth, times[labels == unit])
        assert recall > 0.98, (unit, recall)
    for unit, truth in ((7, t_big), (9, t_small)):
        _, precision = _recall_precision(truth, times[labels == unit])
        assert precision > 0.97, (unit, precision)
    # small spikes 0.17-0.5 ms after a big one (none of them clustered, and a detector with
    # MountainSort5's 0.5 ms radius sees one event there): more than half found once the big
    # spike is subtracted
    recall, _ = _recall_precision(t_small[~alone], times[labels == 9])
    assert recall > 0.5, recall


def test_nothing_clustered_nothing_matched():
    rec = si.NumpyRecording([np.zeros((30000, 1), np.float32)], FS)
    t, u = match_spikes(rec, np.zeros(0, np.int64), np.zeros(0, np.int64), 0.6, BEFORE, AFTER)
    assert t.size == 0 and u.size == 0


def _waveforms(template, n, rng, jitter=0.0):
    amp = 1.0 + jitter * rng.standard_normal(n)
    return amp[:, None] * template[None, :] + rng.standard_normal((n, template.size))


def test_split_pass_separates_two_similar_units_in_one_cluster():
    rng = np.random.default_rng(2)
    a = _unit(18.0, NARROW)
    b = _unit(18.0, (0.1, 0.5, 0.9, 0.3))  # the same family, slightly wider
    assert 5 < np.linalg.norm(a - b) < 12  # the "similar shape, high SNR" pairs
    w = np.vstack([_waveforms(a, 300, rng), _waveforms(b, 200, rng)])
    truth = np.r_[np.zeros(300, int), np.ones(200, int)]
    labels = split_cluster(w, 3)
    assert np.unique(labels).size >= 2
    # each part is (almost) one unit's
    for k in np.unique(labels):
        share = np.bincount(truth[labels == k], minlength=2) / (labels == k).sum()
        assert share.max() > 0.95, share


def test_split_pass_keeps_a_jittered_unit_whole():
    rng = np.random.default_rng(3)
    w = _waveforms(_unit(15.0, NARROW), 600, rng, jitter=0.15)
    labels = split_cluster(w, 3)
    assert np.unique(labels).size == 1


def test_a_template_too_faint_to_stand_out_of_the_noise_is_left_out():
    """A cluster of noise events (its mean waveform a few noise SDs): matched, it would take
    thousands of noise crossings; it is left out, and the real unit is matched as usual."""
    rng = np.random.default_rng(4)
    n = int(60 * FS)
    big = _unit(15.0, NARROW)
    t_big = np.sort(rng.choice(np.arange(200, n - 200, 150), 600, replace=False))
    x = _data([big], [t_big], n, seed=5)
    # the noise cluster: the 80 deepest noise troughs away from the unit's spikes
    far = np.ones(n, bool)
    for t in t_big:
        far[t - 100 : t + 100] = False
    far[:200] = far[-200:] = False
    cand = np.flatnonzero(far)
    noise_t = np.sort(cand[np.argsort(x[cand])[:80]])
    assert np.sum(x[noise_t[:, None] + np.arange(-BEFORE, AFTER)].mean(0) ** 2) * 0.36 < 2 * np.log(
        n
    )
    t_in = np.r_[t_big[::4], noise_t]
    u_in = np.r_[np.full(t_big[::4].size, 1), np.full(noise_t.size, 2)]
    o = np.argsort(t_in)
    rec = si.NumpyRecording([x[:, None]], FS)
    times, labels = match_spikes(rec, t_in[o], u_in[o], 0.6, BEFORE, AFTER)
    assert set(np.unique(labels)) == {1}
    recall, precision = _recall_precision(t_big, times[labels == 1])
    assert recall > 0.98 and precision > 0.98, (recall, precision)


def test_spike_times_move_onto_the_waveforms_largest_excursion():
    """A positive-going unit (the generator's waveform, its largest |value| at its own spike
    time) clustered on the trough after its peak, in two clusters that sit on different
    samples (as MountainSort5's trough detection gives): after centring, both clusters' spike
    times are the true ones (within 1 sample), and a negative-going unit's stay where they
    were."""
    from hippoflow.sorting.match import centre_on_peaks

    pos, neg = _unit(15, NARROW, sign=1), _unit(12, WIDE)
    assert np.argmax(np.abs(pos)) == BEFORE and np.argmax(np.abs(neg)) == BEFORE
    trough = int(np.argmin(pos[BEFORE:]))  # samples from the peak to the trough after it
    assert trough > 5
    rng = np.random.default_rng(5)
    n = int(60 * FS)
    tp = np.sort(rng.choice(np.arange(200, n - 200, 150), 300, replace=False))
    tn = np.sort(rng.choice(np.arange(275, n - 200, 150), 300, replace=False))
    x = _data([pos, neg], [tp, tn], n)
    half = np.arange(tp.size) % 2 == 0
    times = np.r_[tp[half] + trough, tp[~half] + trough + 3, tn]
    labels = np.r_[np.full(half.sum(), 1), np.full((~half).sum(), 2), np.full(tn.size, 3)]
    order = np.argsort(times, kind="stable")
    t, u = centre_on_peaks(x, times[order], labels[order], BEFORE, AFTER)
    for unit, truth in ((1, tp[half]), (2, tp[~half]), (3, tn)):
        assert np.max(np.abs(np.sort(t[u == unit]) - truth)) <= 1, unit
