"""Skaggs spatial information, its circular-shift null, the peak bin and the field size.

Inputs: spike counts and occupancy per bin (:mod:`hippoflow.fields.maps`). Outputs: bits per
spike, the null distribution's 95th/99th percentiles and a p-value, the peak bin and the
field size.

Spatial information (Skaggs, McNaughton, Gothard & Markus 1993), bits/spike:
``I = sum_i p_i (r_i / r) log2(r_i / r)`` with ``p_i`` the fraction of the time spent in
bin ``i`` (bins with a rate only), ``r_i`` the bin's (smoothed) rate and ``r = sum_i p_i
r_i`` the mean rate; 0 for a cell without spikes.

Null (made by :func:`hippoflow.fields.steps.cell_fields`): each session's spike train
shifted circularly by a uniform random whole number of milliseconds in ``[min_shift,
T - min_shift]`` (``min_shift`` at most ``T / 4``) within the session's span ``[t0, t0 + T)``
(spike times keep their intervals, only their relation to the behaviour is broken), the maps
recomputed and smoothed the same way. p-value: ``(1 + #{null >= I}) / (1 + n_shuffles)``;
significant when it is at most the level (``fields.alpha``).

Field size: the number of bins connected to the peak bin (4-neighbours on the place grid;
every bin for the view map) with a rate of at least half the peak rate.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from hippoflow.behaviour import maze


def skaggs_information(rate: np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """Bits/spike of (..., n_bins) rate maps with the (n_bins,) occupancy (s); bins without
    occupancy or rate (NaN) are left out."""
    rate = np.asarray(rate, dtype=np.float64)
    occ = np.asarray(occupancy, dtype=np.float64)
    ok = (occ > 0) & np.all(np.isfinite(rate.reshape(-1, occ.size)), axis=0)
    if not ok.all():
        rate, occ = rate[..., ok], occ[ok]
    if occ.sum() <= 0:
        return np.zeros(rate.shape[:-1])
    p = occ / occ.sum()
    mean = rate @ p
    # sum_i p_i (r_i / r) log2(r_i / r) = (sum_i p_i r_i log2 r_i) / r - log2 r: one log per bin
    xlogx = np.log2(rate, out=np.zeros_like(rate), where=rate > 0)
    xlogx *= rate
    with np.errstate(divide="ignore", invalid="ignore"):
        info = (xlogx @ p) / mean - np.log2(mean)
    return np.where(mean > 0, info, 0.0)


def peak_bin(rate: np.ndarray) -> int:
    """0-based bin of the highest rate (-1 when the map has no rate)."""
    rate = np.asarray(rate, dtype=np.float64)
    if not np.any(np.isfinite(rate)) or np.nanmax(rate) <= 0:
        return -1
    return int(np.nanargmax(rate))


def field_size(rate: np.ndarray, kind: str) -> int:
    """Bins at >= half the peak rate, connected to the peak (place) or anywhere (view)."""
    rate = np.asarray(rate, dtype=np.float64)
    peak = peak_bin(rate)
    if peak < 0:
        return 0
    above = np.nan_to_num(rate, nan=0.0) >= 0.5 * rate[peak]
    if kind == "view":
        return int(above.sum())
    n = maze.GRID_N
    labels, _ = ndimage.label(above.reshape(n, n))
    return int(np.count_nonzero(labels == labels.reshape(-1)[peak]))


def p_value(observed: float, null: np.ndarray) -> float:
    null = np.asarray(null, dtype=np.float64)
    return float((1 + np.count_nonzero(null >= observed)) / (1 + null.size))
