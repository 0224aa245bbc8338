"""Curation of a day-channel's MountainSort5 units: merging split units, dropping satellites,
spike-count and SNR thresholds.

Inputs: the high-pass concatenation (a 1-D float32 array, microvolts), spike sample indices and
unit labels on it, and per-unit numbers from the SortingAnalyzer (spike counts, SNR, template
troughs).  Outputs: new (times, labels) after merging, and which units to keep; nothing is
written to disk.
"""

from __future__ import annotations

import numpy as np


def _templates(data, times, labels, units, n_max=300, before=30, after=60):
    out = {}
    for u in units:
        t = times[labels == u]
        t = t[(t >= before) & (t < data.size - after)]
        if t.size > n_max:
            t = t[np.linspace(0, t.size - 1, n_max).astype(int)]
        if t.size == 0:
            out[u] = np.zeros(before + after)
            continue
        out[u] = data[t[:, None] + np.arange(-before, after)[None, :]].mean(axis=0)
    return out


def _shifted_distance(a, b, max_shift=4) -> tuple[float, int]:
    """min over shifts s of max |a(t) - b(t - s)|, and the best s (edges excluded)."""
    core = slice(2 * max_shift, a.size - 2 * max_shift)
    best = (np.inf, 0)
    for s in range(-max_shift, max_shift + 1):
        d = float(np.max(np.abs(a[core] - np.roll(b, s)[core])))
        if d < best[0]:
            best = (d, s)
    return best


def merge_similar(data, times, labels, noise, max_distance, log=None):
    """Merge units whose mean waveforms differ by less than ``max_distance`` x noise.

    Single-channel MountainSort5 splits one unit into several clusters when noise moves the
    detected trough by a sample or two (broad troughs): their templates are the same shape,
    shifted.  The distance is the largest absolute difference between two templates after the
    best shift of up to 4 samples (0.13 ms), in units of the noise.  The smaller unit joins the
    larger; its spike times move by the shift so both follow the same alignment.
    """
    times = np.asarray(times, dtype=np.int64).copy()
    labels = np.asarray(labels).copy()
    if not max_distance or max_distance <= 0:
        return times, labels
    units = [int(u) for u in np.unique(labels)]
    tmpl = _templates(data, times, labels, units)
    while len(units) > 1:
        best = (np.inf, None, None, 0)
        for i, a in enumerate(units):
            for b in units[i + 1 :]:
                d, sh = _shifted_distance(tmpl[a], tmpl[b])
                if d < best[0]:
                    best = (d, a, b, sh)
        d, a, b, sh = best
        if d / noise >= max_distance:
            break
        na, nb = int((labels == a).sum()), int((labels == b).sum())
        if nb > na:  # keep the larger unit's alignment: b(t) ~ a(t + sh)
            a, b, sh = b, a, -sh
        sel = labels == b
        times[sel] -= sh
        labels[sel] = a
        units.remove(b)
        tmpl[a] = _templates(data, times, labels, [a])[a]
        if log:
            log.info(
                "unit %d merged into unit %d (template distance %.2f x noise)", b, a, d / noise
            )
    order = np.argsort(times, kind="stable")
    times, labels = times[order], labels[order]
    keep = (times >= 0) & (times < data.size)
    return times[keep], labels[keep]


def thresholds(ids, counts, snr, min_spikes, min_snr, log=None) -> np.ndarray:
    """Which units (``ids``, in order) have at least ``min_spikes`` spikes and SNR ``min_snr``.

    ``counts``: {unit: spike count}; ``snr``: SNR of each unit of ``ids``.  Logs every unit.
    """
    keep = np.array(
        [counts[u] >= min_spikes and snr[i] >= min_snr for i, u in enumerate(ids)],
        dtype=bool,
    )
    if log:
        for i, u in enumerate(ids):
            log.info(
                "unit %d: %d spikes, SNR %.1f%s",
                u,
                counts[u],
                snr[i],
                "" if keep[i] else " (dropped by curation)",
            )
    return keep


def satellites(times, labels, units, trough, id_index, max_coincidence, fs):
    """Units whose spikes mostly sit at one fixed lag (within 2 ms) of a larger unit's spikes.

    Such a unit is the larger unit's secondary trough detected as events of its own.
    ``trough[id_index[u]]``: unit u's template trough depth; ``fs``: sampling rate (Hz).
    Returns [(small unit, large unit, fraction)].
    """
    if max_coincidence is None or max_coincidence >= 1:
        return []
    order = sorted(units, key=lambda u: -trough[id_index[u]])
    w = int(0.002 * fs)
    edges = np.arange(-w, w + 2, 3)  # 0.1 ms bins
    out, dropped = [], set()
    for j, small in enumerate(order):
        tb = times[labels == small]
        for big in order[:j]:
            if big in dropped:
                continue
            ta = times[labels == big]
            lo = np.searchsorted(ta, tb - w)
            hi = np.searchsorted(ta, tb + w, side="right")
            n = hi - lo
            if n.sum() == 0:
                continue
            idx = np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
            lags = tb.repeat(n) - ta[idx]
            counts, _ = np.histogram(lags, edges)
            # the busiest 0.2 ms lag window (two adjacent 0.1 ms bins)
            frac = float(np.max(counts[:-1] + counts[1:])) / tb.size
            if frac >= max_coincidence:
                out.append((int(small), int(big), frac))
                dropped.add(small)
                break
    return out
