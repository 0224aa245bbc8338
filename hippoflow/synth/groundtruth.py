"""Ground truth of generated days, for judging a sort (used by the tests and benchmarks).

Inputs: each session's ``groundtruth_spikes.npz`` written by :mod:`hippoflow.synth.day` (keys
``times_<ch>``, ``units_<ch>``), the high-pass concatenation, and a sort's spike times and
cells.  Outputs: the true spikes on the concatenation's clock, each true unit's SNR, and
SpikeInterface's per-unit performance table (accuracy, precision, recall).
"""

from __future__ import annotations

import numpy as np

from hippoflow.sorting.cells import FS


def ground_truth(npz_paths: dict, channel: int, starts: dict) -> tuple[np.ndarray, np.ndarray]:
    """The generator's true spikes of ``channel`` on the concatenation's clock.

    ``npz_paths``/``starts``: per session, its ``groundtruth_spikes.npz`` and first sample.
    Returns (sample indices, day-wide unit ids) sorted by time.
    """
    times, units = [], []
    for session, path in npz_paths.items():
        with np.load(path) as gt:
            times.append(gt[f"times_{channel}"].astype(np.int64) + int(starts[session]))
            units.append(gt[f"units_{channel}"].astype(np.int64))
    t, u = np.concatenate(times), np.concatenate(units)
    order = np.argsort(t, kind="stable")
    return t[order], u[order]


def unit_snr(data: np.ndarray, times: np.ndarray, units: np.ndarray, noise: float) -> dict:
    """Peak |mean waveform| / noise of each true unit, measured on the high-pass data."""
    out = {}
    for u in np.unique(units):
        t = times[(units == u) & (times > 30) & (times < data.size - 60)]
        wf = data[t[:, None] + np.arange(-30, 60)[None, :]].mean(axis=0)
        out[int(u)] = float(np.abs(wf).max() / noise)
    return out


def compare(gt_times, gt_units, times, cells, sampling_rate=FS):
    """SpikeInterface's ground-truth comparison; returns the per-unit performance table."""
    import spikeinterface.comparison as sc
    import spikeinterface.core as si

    gt = si.NumpySorting.from_samples_and_labels([gt_times], [gt_units], sampling_rate)
    if len(times):
        tested = si.NumpySorting.from_samples_and_labels([times], [cells], sampling_rate)
    else:
        tested = si.NumpySorting.from_samples_and_labels(
            [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], sampling_rate
        )
    cmp = sc.compare_sorter_to_ground_truth(gt, tested, exhaustive_gt=True)
    return cmp.get_performance(method="by_unit")
