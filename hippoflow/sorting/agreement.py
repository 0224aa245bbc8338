"""SpikeInterface's internal sorters (no extra binaries) and the multi-sorter agreement.

Each ``run_*`` function has the signature of a sorter for :mod:`hippoflow.sorting.runner`
(``f(cat, params, workdir, log) -> (spike sample indices, unit labels)`` sorted by time, run in
the sorter's child process): pass ``"hippoflow.sorting.agreement:run_spykingcircus2"`` (or
``run_tridesclous2``, ``run_agreement``) as ``sorter`` to :func:`hippoflow.sorting.steps.sort`.
Input: the day-channel's concatenation (:class:`hippoflow.sorting.concat.Concatenation`, already
band-passed 500-7500 Hz, so the sorters' own filters are off; one channel, so no motion
correction).  ``params`` are the ``sorting:`` section's sorter keys: ``detect_threshold``
(noise SDs) and ``detect_sign`` are passed on, the MountainSort5-only keys are ignored.

:func:`agree`: several sortings of one recording -> the units that at least
``min_agreement`` of them found (SpikeInterface's ``compare_multiple_sorters`` and its
agreement sorting, spikes within ``delta_time_ms``); the spikes kept for a unit are those of
the first sorting that has it (MountainSort5's in :func:`run_agreement`).
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from pathlib import Path

import numpy as np

SIGN = {-1: "neg", 1: "pos", 0: "both"}
AGREEMENT_SORTERS = ("mountainsort5", "spykingcircus2")


def _recording(cat):
    from hippoflow.sorting.concat import recording

    return recording(cat, scaled=False)  # µV: the internal sorters measure their own noise


def _labels(sorting) -> tuple[np.ndarray, np.ndarray]:
    times, labels = [], []
    for k, u in enumerate(sorting.unit_ids):
        st = np.asarray(sorting.get_unit_spike_train(u, segment_index=0), dtype=np.int64)
        times.append(st)
        labels.append(np.full(st.size, k + 1, dtype=np.int64))
    times = np.concatenate(times) if times else np.zeros(0, np.int64)
    labels = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    order = np.argsort(times, kind="stable")
    return times[order], labels[order]


def _run(name: str, cat, workdir, **kwargs):
    import spikeinterface.sorters as ss

    t0 = time.monotonic()
    chatter = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(chatter):
        warnings.simplefilter("ignore")
        sorting = ss.run_sorter(
            name,
            _recording(cat),
            folder=str(Path(workdir) / name),
            remove_existing_folder=True,
            verbose=False,
            **kwargs,
        )
    times, labels = _labels(sorting)
    print(
        f"Found {np.unique(labels).size} units, {times.size} spikes; "
        f"{name}: {time.monotonic() - t0:.1f} s",
        flush=True,
    )
    return times, labels


def run_spykingcircus2(cat, params, workdir, log=None):
    """SpykingCircus2 on one band-passed channel (no filter, no motion correction)."""
    p = dict(params or {})
    return _run(
        "spykingcircus2",
        cat,
        workdir,
        apply_preprocessing=False,
        apply_motion_correction=False,
        detection={
            "method": "matched_filtering",
            "method_kwargs": {
                "peak_sign": SIGN[int(p.get("detect_sign", -1))],
                "detect_threshold": float(p.get("detect_threshold", 5.0)),
            },
            "pipeline_kwargs": {},
        },
        job_kwargs={"n_jobs": 1, "progress_bar": False},
        seed=0,
    )


def run_tridesclous2(cat, params, workdir, log=None):
    """Tridesclous2 on one band-passed channel (no filter, no motion correction)."""
    p = dict(params or {})
    return _run(
        "tridesclous2",
        cat,
        workdir,
        apply_preprocessing=False,
        apply_motion_correction=False,
        peak_sign=SIGN[int(p.get("detect_sign", -1))],
        detect_threshold=float(p.get("detect_threshold", 5.0)),
        job_kwargs={"n_jobs": 1, "progress_bar": False},
        seed=0,
    )


def agree(sortings, sampling_rate: float, min_agreement: int = 2, delta_time_ms: float = 0.4):
    """(times, labels) of the units at least ``min_agreement`` of ``sortings`` found.

    ``sortings``: [(spike sample indices, unit labels)], one per sorter, of one recording.
    A unit's spikes are those of the first sorting in the list that has it.
    """
    import spikeinterface.comparison as sc
    import spikeinterface.core as si

    sis = []
    for t, lab in sortings:
        t, lab = np.asarray(t, np.int64), np.asarray(lab, np.int64)
        sis.append(si.NumpySorting.from_samples_and_labels([t], [lab], sampling_rate))
    if any(s.get_num_units() == 0 for s in sis) and min_agreement >= len(sis):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    names = [f"s{k}" for k in range(len(sis))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = sc.compare_multiple_sorters(
            sis, name_list=names, delta_time=delta_time_ms, verbose=False
        )
        agreed = cmp.get_agreement_sorting(minimum_agreement_count=min_agreement)
    times, labels = [], []
    for k, u in enumerate(agreed.unit_ids):
        members = agreed.get_unit_property(u, "unit_ids")
        first = min(members, key=lambda name: names.index(name))
        st = sis[names.index(first)].get_unit_spike_train(members[first], segment_index=0)
        times.append(np.asarray(st, np.int64))
        labels.append(np.full(len(st), k + 1, np.int64))
    times = np.concatenate(times) if times else np.zeros(0, np.int64)
    labels = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    order = np.argsort(times, kind="stable")
    return times[order], labels[order]


def run_agreement(cat, params, workdir, log=None):
    """MountainSort5 and SpykingCircus2, then the units both found (MountainSort5's spikes)."""
    from hippoflow.sorting.sort import run_mountainsort5

    ms5 = run_mountainsort5(cat, params, workdir, log=log)
    sc2 = run_spykingcircus2(cat, params, workdir, log=log)
    return agree([ms5, sc2], cat.sampling_rate)
