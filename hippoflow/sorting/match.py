"""Template matching after clustering: every unit's spikes found again with its mean waveform.

Input: a day-channel's concatenation scaled to noise units (a one-channel SpikeInterface
recording, e.g. the sort's MAD-scaled binary file, read in chunks), the clustering's spike
times and unit labels (MountainSort5's, at each spike's peak) and the template window
(samples before and after the peak).  Output: (spike sample indices, unit labels) sorted by
time, from SpikeInterface's ``circus-omp`` matcher given each unit's mean waveform.

Why: a threshold detector misses a unit's smaller spikes (jittered, late in a burst, a unit
near the threshold), loses one of two spikes closer than its detection radius, and sees two
overlapping spikes as one event of odd shape.  Template matching finds each unit's spikes by
their whole waveform, subtracts every spike it accepts and looks again in the residual, so a
larger unit's spike is removed before a smaller unit's is sought (Franke et al. 2015, J Comput
Neurosci 38:439).  The matcher (orthogonal matching pursuit) fits every template's amplitude by
least squares, so a unit's smaller spikes (amplitude jitter, a burst's later spikes) are that
unit's, and accepts a spike when its amplitude is at least ``min_amplitude`` x the template.

SpikeInterface's ``wobble`` matcher was tried first and left: it seeks the next spike in an
objective that assumes amplitude 1 (2 x convolution - squared norm) and subtracts accepted
spikes from it at amplitude 1, so a larger unit's spike at 0.5 or 1.2 x its template is given,
or its residual added, to a smaller unit at the same time (false spikes of one unit beside a
bursting or jittered unit's, ``tests/unit/test_match.py``).
"""

from __future__ import annotations

import numpy as np

MAX_TEMPLATE_SPIKES = 500  # spikes averaged per unit template (evenly spaced over the day)
MAX_SPLIT_SPIKES = 2000  # spikes of a cluster re-clustered by the split pass (evenly spaced)
SPLIT_DEPTH = 4  # times a cluster's parts are split again
#: the matching pass's version, part of the sort file's name when the pass is on
#: (:func:`hippoflow.sorting.sort.sort_name`): raised when what it finds changes, so that a
#: rerun sorts again (2: spike times on the waveform's largest |value|)
VERSION = 2


def _snippets(x, t, before, after):
    return np.asarray(x[t[:, None] + np.arange(-before, after)[None, :]], np.float64)


def _clusters(x, times, labels, before: int, after: int, most: int):
    """(unit, its spike times) per cluster, up to ``most`` spikes each spread evenly over the
    day; spikes too near either end of ``x`` left out."""
    times, labels = np.asarray(times, np.int64), np.asarray(labels, np.int64)
    inside = (times >= before) & (times + after <= len(x))
    times, labels = times[inside], labels[inside]
    for u in np.unique(labels):
        t = times[labels == u]
        if t.size > most:
            t = t[np.linspace(0, t.size - 1, most).round().astype(np.int64)]
        yield u, t


def split_cluster(w, npc: int, depth: int = SPLIT_DEPTH) -> np.ndarray:
    """Labels (0..k-1) of the waveforms ``w`` (spikes x samples) after splitting them where
    isosplit6 finds more than one population on their first ``npc`` principal components,
    computed on these waveforms alone (a cluster's own directions of variance, where two
    units of similar shape differ), and again on each part, ``depth`` times at most."""
    from isosplit6 import isosplit6

    labels = np.zeros(len(w), np.int64)
    if depth <= 0 or len(w) < 2 * npc + 2:
        return labels
    c = w - w.mean(axis=0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    parts = np.asarray(isosplit6(c @ vt[:npc].T), np.int64)
    if np.unique(parts).size < 2:
        return labels
    nxt = 0
    for k in np.unique(parts):
        sel = parts == k
        sub = split_cluster(w[sel], npc, depth - 1)
        labels[sel] = sub + nxt
        nxt += int(sub.max()) + 1
    return labels


def noise_floor(n: int) -> float:
    """About the largest decrease of the squared residual (in noise variances) that fitting
    one template anywhere in ``n`` samples of pure noise gives: the maximum of n chi-square(1)
    values, 2 ln n."""
    return 2.0 * np.log(max(int(n), 2))


def unit_templates(x, times, labels, before: int, after: int, max_spikes=MAX_TEMPLATE_SPIKES):
    """(unit ids, templates: units x (before + after)): each unit's mean waveform on ``x``
    (1-D array or memory map) over up to ``max_spikes`` of its spikes spread evenly over the
    day (spikes too near either end of ``x`` left out)."""
    found = [
        (u, _snippets(x, t, before, after).mean(axis=0))
        for u, t in _clusters(x, times, labels, before, after, max_spikes)
    ]
    units = np.array([u for u, _ in found], np.int64)
    return units, np.array([w for _, w in found]).reshape(-1, before + after)


def split_templates(x, times, labels, before: int, after: int, npc: int):
    """Templates of the clusters' parts: each cluster's spikes (up to
    :data:`MAX_SPLIT_SPIKES`, evenly spaced over the day) split by :func:`split_cluster`, and
    each part's mean waveform (parts of fewer than ``2 * npc + 2`` spikes left out)."""
    out = []
    for _, t in _clusters(x, times, labels, before, after, MAX_SPLIT_SPIKES):
        w = _snippets(x, t, before, after)
        parts = split_cluster(w, npc)
        for k in np.unique(parts):
            if (parts == k).sum() >= 2 * npc + 2 or np.unique(parts).size == 1:
                out.append(w[parts == k].mean(axis=0))
    return np.array(out).reshape(-1, before + after)


def find_spikes(rec, templates, nbefore: int, method: str, method_kwargs: dict):
    """SpikeInterface's template matcher ``method`` on the one-channel recording ``rec`` (noise
    units) with ``templates`` (units x samples, noise units, the spike at ``nbefore``): its
    spikes array (``sample_index``, ``cluster_index`` = row of ``templates``)."""
    from spikeinterface.core import Templates
    from spikeinterface.sortingcomponents.matching import find_spikes_from_templates

    if not rec.has_probe():  # the matcher reads channel positions: one channel at (0, 0)
        rec.set_dummy_probe_from_locations(np.zeros((1, 2)))
    tmpl = Templates(
        templates_array=np.asarray(templates)[:, :, None].astype(np.float32),
        sampling_frequency=rec.sampling_frequency,
        nbefore=nbefore,
        probe=rec.get_probe(),
        is_in_uV=True,
    )
    return find_spikes_from_templates(
        rec,
        tmpl,
        method=method,
        method_kwargs=method_kwargs,
        job_kwargs={"n_jobs": 1, "progress_bar": False},
    )


def centre_on_peaks(x, times, labels, before: int, after: int):
    """Each cluster's spike times moved onto its mean waveform's largest |value|, where that
    lies within ``before`` samples of the spike (MountainSort5 detects troughs, so a
    positive-going unit's spikes sit on the trough after its peak, and two clusters of one
    unit can sit on different troughs); returns (times, labels) by time."""
    times, labels = np.asarray(times, np.int64), np.asarray(labels, np.int64)
    units, templates = unit_templates(x, times, labels, before, after)
    moved = times.copy()
    for u, w in zip(units, templates, strict=True):
        shift = int(np.argmax(np.abs(w))) - before
        if abs(shift) <= before:
            moved[labels == u] += shift
    inside = (moved >= 0) & (moved < len(x))
    order = np.argsort(moved[inside], kind="stable")
    return moved[inside][order], labels[inside][order]


def match_spikes(rec, times, labels, min_amplitude: float, before: int, after: int, split_npc=0):
    """Every unit's spikes found on ``rec`` (one-channel recording, noise units) by template
    matching with its mean waveform (:func:`unit_templates`; with ``split_npc``, the mean
    waveforms of each cluster's parts, :func:`split_templates`), after each cluster's spikes
    are moved onto its waveform's largest |value| (:func:`centre_on_peaks`: a spike's time is
    its largest excursion); returns (sample indices, unit labels) by time.  A spike counts when its least-squares amplitude is at least
    ``min_amplitude`` x its template.  A unit whose template is too faint to stand out of the
    noise at that amplitude (:func:`noise_floor`) is left out.  No clustered spikes: nothing
    to match."""
    x = rec.get_traces(segment_index=0, return_in_uV=False)[:, 0]
    times, labels = centre_on_peaks(x, times, labels, before, after)
    if split_npc:
        templates = split_templates(x, times, labels, before, after, int(split_npc))
        units = np.arange(1, len(templates) + 1, dtype=np.int64)
    else:
        units, templates = unit_templates(x, times, labels, before, after)
    if units.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # a unit is matched only where its weakest accepted spike stands out of the noise: a
    # spike at min_amplitude x its template lowers the squared residual by min_amplitude^2 x
    # the template's energy, and the largest such decrease pure noise gives over n positions
    # is about 2 ln(n) (the maximum of n chi-square(1) values); a fainter template would
    # match the noise itself, thousands of times, and cannot be told from it: such units
    # are left out.
    n = rec.get_num_samples(segment_index=0)
    strong = min_amplitude**2 * np.sum(templates**2, axis=1) >= noise_floor(n)
    units, templates = units[strong], templates[strong]
    if units.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    spikes = find_spikes(
        rec, templates, before, "circus-omp", {"amplitudes": [float(min_amplitude), np.inf]}
    )
    t = spikes["sample_index"].astype(np.int64)
    u = units[spikes["cluster_index"]].astype(np.int64)
    order = np.argsort(t, kind="stable")
    return t[order], u[order]
