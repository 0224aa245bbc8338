"""Spike sorting of one channel across a day's sessions (MountainSort5 through SpikeInterface).

Input: the day-channel's high-pass DPT files (``rplhighpass_<h>.hkl``, 1-D ``data`` in
microvolts and ``analogInfo/SampleRate``), one per session where the channel exists, and the
sorter's parameters (:data:`SORTER_KEYS` of the config's ``sorting:`` section, completed by
:func:`sort_args`).  Output: the sort object's dict (:func:`sort_day_channel`), which
:mod:`hippoflow.sorting.steps` saves as ``mountainsort_<h>.hkl`` (:func:`sort_name`; the hash
covers the sorter's parameters only, so a curation limit never re-runs the sorter).

The sessions are concatenated in :func:`~hippoflow.naming.session_order` (sorted names:
``session01 < session02 < ... < sessioneye``) into one float32 binary file, each session's
first sample recorded in ``session_starts``.  The concatenation is scaled by a robust noise
estimate (median absolute deviation, outside the spikes' influence) so that MountainSort5's
detection threshold is in units of the noise standard deviation, then sorted as one recording
with ``spikeinterface.sorters.run_sorter`` in a child process killed at a time limit
(:mod:`hippoflow.sorting.runner`).  SpikeInterface's SortingAnalyzer then gives every unit
the sorter found its template (microvolts), per-spike amplitudes, principal components of
sampled waveforms and quality metrics: the sort object keeps every unit; merging, satellite
removal, thresholds and cell numbers are the ``curate`` step's (:mod:`hippoflow.sorting.curate`).
"""

from __future__ import annotations

import contextlib
import io
import math
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from hippoflow import dpt
from hippoflow.config import defaults
from hippoflow.scratch import scratch_root
from hippoflow.sorting.cells import FS
from hippoflow.sorting.concat import Concatenation, concatenate, recording, write_scaled
from hippoflow.sorting.match import VERSION as MATCH_VERSION
from hippoflow.sorting.match import match_spikes
from hippoflow.sorting.outcome import FAILED
from hippoflow.sorting.runner import DEFAULT_SORTER, SorterError, run_sorter

# Defaults of the config's `sorting:` section, read from the config schema (their one home).
DEFAULTS: dict = defaults("sorting")
# The sorter's parameters, in the schema's order: the order of the sort file's DPT hash.
SORTER_KEYS = (
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
)
# The sorter's time limit: time_limit_factor x the data's duration + time_limit_min_s (s).
LIMIT_KEYS = ("time_limit_factor", "time_limit_min_s")
METRICS = ("snr", "isi_violations_ratio", "firing_rate", "presence_ratio", "amplitude_cutoff")
TEMPLATE_MS = (1.0, 2.0)  # template window before / after the spike (90 samples at 30 kHz)


def _check_known(params: dict) -> None:
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown sorting parameters: {sorted(unknown)}")


def sort_args(params: dict | None) -> dict:
    """The sorter's parameters (:data:`SORTER_KEYS`) completed from DEFAULTS, in hash order.

    ``params`` may be the whole ``sorting:`` section (curation and time-limit keys are left
    out); an unknown key is an error.
    """
    params = dict(params or {})
    _check_known(params)
    return {k: params.get(k, DEFAULTS[k]) for k in SORTER_KEYS}


def sort_name(params: dict) -> str:
    """DPT file name of a day-channel sort, e.g. ``mountainsort_1a2b.hkl``: its hash covers
    the sorter keys and, with template matching on, the matching pass's version."""
    args = sort_args(params)
    if args["template_matching"]:
        args = {**args, "matching": MATCH_VERSION}
    return dpt.hkl_name("mountainsort", args)


def limit_args(params: dict | None) -> dict:
    params = dict(params or {})
    _check_known(params)
    return {k: float(params.get(k, DEFAULTS[k])) for k in LIMIT_KEYS}


def time_limit_s(seconds: float, params: dict | None = None) -> float:
    """The sorter's time limit for ``seconds`` of data (``sorting.time_limit_*``)."""
    lim = limit_args(params)
    return lim["time_limit_factor"] * float(seconds) + lim["time_limit_min_s"]


def runtime_minutes(seconds: float, params: dict | None = None, analysis_min: float = 10.0) -> int:
    """A job runtime (minutes, for Slurm) that leaves the sorter's own limit room to act:
    the limit, plus ``analysis_min`` and 1 minute per 10 minutes of data for the rest."""
    return int(math.ceil(time_limit_s(seconds, params) / 60.0 + analysis_min + seconds / 600.0))


def run_mountainsort5(cat: Concatenation, params: dict, workdir: Path, log=None):
    """Sort the concatenation; returns (spike sample indices, unit labels) sorted by time.

    Runs in the sorter's child process (:func:`hippoflow.sorting.runner.run_sorter`).
    """
    import spikeinterface.sorters as ss

    p = sort_args(params)
    whiten = p["normalize"] == "whiten"
    if p["normalize"] not in ("mad", "whiten"):
        raise ValueError(f"sorting normalize must be 'mad' or 'whiten', not {p['normalize']!r}")
    if not whiten:
        write_scaled(cat)
    rec = recording(cat, scaled=not whiten)
    t0 = time.monotonic()
    chatter = io.StringIO()  # MountainSort5 prints its steps: keep the gist for the log
    with warnings.catch_warnings(), contextlib.redirect_stdout(chatter):
        warnings.filterwarnings("ignore", message="Not whitening")
        sorting = ss.run_sorter(
            "mountainsort5",
            rec,
            folder=str(Path(workdir) / "ms5"),
            remove_existing_folder=True,
            verbose=False,
            scheme=str(p["scheme"]),
            detect_threshold=float(p["detect_threshold"]),
            detect_sign=int(p["detect_sign"]),
            detect_time_radius_msec=float(p["detect_time_radius_msec"]),
            snippet_T1=int(p["snippet_T1"]),
            snippet_T2=int(p["snippet_T2"]),
            npca_per_channel=int(p["npca_per_channel"]),
            npca_per_subdivision=int(p["npca_per_subdivision"]),
            scheme2_training_duration_sec=float(p["training_duration_sec"]),
            scheme3_block_duration_sec=float(p["block_duration_sec"]),
            filter=False,
            whiten=whiten,
            whitening_seed=0,
        )
    for line in chatter.getvalue().splitlines():
        if line.startswith(("Detected", "Found", "Scheme")):
            print(line.strip(), flush=True)
    print(f"Scheme {p['scheme']}: {time.monotonic() - t0:.1f} s", flush=True)
    times, labels = [], []
    for u in sorting.unit_ids:
        st = sorting.get_unit_spike_train(u, segment_index=0)
        times.append(np.asarray(st, dtype=np.int64))
        labels.append(np.full(st.size, int(u), dtype=np.int64))
    times = np.concatenate(times) if times else np.zeros(0, np.int64)
    labels = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    order = np.argsort(times, kind="stable")
    times, labels = times[order], labels[order]
    if p["template_matching"] and times.size:
        t0 = time.monotonic()
        before, after = (int(round(ms / 1000 * cat.sampling_rate)) for ms in TEMPLATE_MS)
        mrec = rec
        if whiten:  # the matcher works in noise units, as the MAD-scaled recording is
            import spikeinterface.preprocessing as spre

            mrec = spre.scale(recording(cat, scaled=False), gain=1.0 / cat.noise_uv)
        n = times.size
        times, labels = match_spikes(
            mrec, times, labels, float(p["match_min_amplitude"]), before, after, int(p["split_npc"])
        )
        print(
            f"Template matching: {n} clustered spikes -> {times.size} matched "
            f"({time.monotonic() - t0:.1f} s)",
            flush=True,
        )
    return times, labels


def analyse(cat: Concatenation, times, labels, log=None) -> dict:
    """Every unit's template, spike amplitudes, sampled-waveform PCs and quality metrics.

    Keys: ``unit_ids``, ``n_spikes``, ``spike_times``/``spike_units``/``spike_amplitudes``
    (every spike, by time), ``templates`` (units x 90 samples, µV, -1..2 ms),
    ``template_times_ms``, ``metrics`` (dict of per-unit arrays, SpikeInterface's quality
    metrics), ``si_noise_uv`` (SpikeInterface's noise level, the SNR's denominator),
    ``pcs``/``pc_units`` (first two PCs of up to 500 sampled waveforms per unit) and
    ``waveforms`` (those sampled waveforms, µV, the curation's merge and satellite tests).
    """
    if times.size == 0:
        return _empty_result()
    import spikeinterface.core as si

    si.set_global_job_kwargs(progress_bar=False, n_jobs=1)
    rec = recording(cat, scaled=False)
    sorting = si.NumpySorting.from_samples_and_labels([times], [labels], cat.sampling_rate)
    ids = np.asarray(sorting.unit_ids).astype(np.int64)
    analyzer = si.create_sorting_analyzer(
        sorting, rec, format="memory", sparse=False, seed=0, return_in_uV=True
    )
    analyzer.compute("random_spikes", max_spikes_per_unit=500, seed=0)
    analyzer.compute("waveforms", ms_before=TEMPLATE_MS[0], ms_after=TEMPLATE_MS[1])
    analyzer.compute("templates", operators=["average"])
    analyzer.compute("noise_levels", random_slices_kwargs={"seed": 0})
    analyzer.compute("spike_amplitudes")
    with warnings.catch_warnings():  # few-spike units: NaN amplitude cutoff, said in the table
        warnings.simplefilter("ignore")
        qm = analyzer.compute("quality_metrics", metric_names=list(_metric_families())).get_data()
    tmpl = analyzer.get_extension("templates").get_data(operator="average")[:, :, 0]
    amps = analyzer.get_extension("spike_amplitudes").get_data()
    # spike_amplitudes follows the analyzer's spike vector order (by time, then unit)
    vec = sorting.to_spike_vector()
    unit_of_vec = ids[vec["unit_index"]]
    wf = analyzer.get_extension("waveforms").get_data()[:, :, 0]
    rs = analyzer.get_extension("random_spikes").get_data()
    ms_before = analyzer.get_extension("waveforms").params["ms_before"]
    return {
        "unit_ids": ids,
        "n_spikes": np.array([int((labels == u).sum()) for u in ids], dtype=np.int64),
        "spike_times": vec["sample_index"].astype(np.int64),
        "spike_units": unit_of_vec.astype(np.int64),
        "spike_amplitudes": np.asarray(amps, dtype=np.float32),
        "templates": tmpl.astype(np.float32),
        "template_times_ms": np.arange(tmpl.shape[1]) / cat.sampling_rate * 1000 - ms_before,
        "metrics": {
            m: np.array([_metric(qm, m, u) for u in ids], dtype=np.float64) for m in METRICS
        },
        "si_noise_uv": float(analyzer.get_extension("noise_levels").get_data()[0]),
        "pcs": _pcs(wf).astype(np.float32),
        "pc_units": unit_of_vec[rs].astype(np.int64),
        "waveforms": wf.astype(np.float32),
    }


def _metric_families():
    return ("snr", "isi_violation", "firing_rate", "presence_ratio", "amplitude_cutoff")


def _metric(qm, name, unit) -> float:
    col = name
    if col not in qm.columns and name == "isi_violations_ratio":
        col = [c for c in qm.columns if "isi_violations_ratio" in c][0]
    try:
        return float(qm.loc[unit, col])
    except KeyError:
        return float(qm.loc[str(unit), col])


def _pcs(wf: np.ndarray) -> np.ndarray:
    if wf.shape[0] < 2:
        return np.zeros((wf.shape[0], 2))
    x = wf - wf.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    pcs = x @ vt[:2].T
    return pcs if pcs.shape[1] == 2 else np.hstack([pcs, np.zeros((pcs.shape[0], 1))])


def _empty_result() -> dict:
    n = int(round(sum(TEMPLATE_MS) / 1000 * FS))
    return {
        "unit_ids": np.zeros(0, np.int64),
        "n_spikes": np.zeros(0, np.int64),
        "spike_times": np.zeros(0, np.int64),
        "spike_units": np.zeros(0, np.int64),
        "spike_amplitudes": np.zeros(0, np.float32),
        "templates": np.zeros((0, n), np.float32),
        "template_times_ms": np.arange(n) / FS * 1000 - TEMPLATE_MS[0],
        "metrics": {m: np.zeros(0) for m in METRICS},
        "si_noise_uv": float("nan"),
        "pcs": np.zeros((0, 2), np.float32),
        "pc_units": np.zeros(0, np.int64),
        "waveforms": np.zeros((0, n), np.float32),
    }


def versions() -> dict:
    from importlib.metadata import version

    return {
        p: version(p)
        for p in ("spikeinterface", "mountainsort5", "isosplit6", "numpy", "scipy", "hickle")
    }


def sort_day_channel(
    sources,
    params: dict | None = None,
    workdir=None,
    log=None,
    progress=None,
    label: str = "",
    sorter: str = DEFAULT_SORTER,
    threads: int = 1,
):
    """Concatenate, sort (in a child process, with a time limit) and analyse one day-channel.

    ``params``: the ``sorting:`` section (its sorter and time-limit keys are used); ``label``
    names the day-channel in messages; ``workdir``: the scratch directory for the temporary
    files (the ``scratch_dir`` config key; None = ``$TMPDIR`` or the system's temporary
    directory, see :func:`hippoflow.scratch.scratch_root`).  Returns the sort object's dict: every unit the sorter
    found.  When the sorting fails on the data (the sorter runs past its limit or ends with an
    error of its own) the dict has no unit and ``failed``, the cause; a sorter killed by a
    signal raises :class:`~hippoflow.sorting.runner.SorterError`.
    """
    p = sort_args(params)
    # the day-channel's copies (concatenation, scaled copy, the sorter's files) go to
    # node-local scratch, never beside the outputs (on a cluster those are shared storage)
    tmp = Path(tempfile.mkdtemp(prefix=".sort-", dir=scratch_root(workdir)))
    label = label or ", ".join(str(s[1]) for s in sources)
    try:
        cat = concatenate(sources, tmp / "concat.bin", log=log, progress=progress)
        seconds = cat.n_samples / cat.sampling_rate
        limit = time_limit_s(seconds, params)
        t0 = time.monotonic()
        try:
            times, labels, sorter_s = run_sorter(
                cat, p, tmp, limit, label, log=log, sorter=sorter, threads=threads
            )
        except SorterError as exc:
            if not exc.on_data:
                raise
            # the sorting failed on this data: a record of the failure, with no unit, so
            # that what reads the day-channel (the curation, the NWB files) goes on without
            # it (docs/design/failed-sorts.md); ``failed`` marks it, the step says so
            empty = np.zeros(0, np.int64)
            record = sort_record(cat, empty, empty, p, time.monotonic() - t0, limit, log=log)
            record[FAILED] = str(exc)
            return record
        if log:
            log.info(
                "%s: %d units, %d spikes in %.1f s of data",
                "MountainSort5" if sorter == DEFAULT_SORTER else sorter,
                np.unique(labels).size,
                times.size,
                seconds,
            )
        return sort_record(cat, times, labels, p, sorter_s, limit, log=log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sort_record(cat, times, labels, args, sorter_s: float, limit_s: float, log=None) -> dict:
    """The sort object's dict for the sorter's (times, labels) on the concatenation ``cat``:
    :func:`analyse`'s units plus the sessions, inputs, rate, noise, sorter arguments
    (``args``: :func:`sort_args`), sorter seconds, time limit and versions."""
    result = analyse(cat, times, labels, log=log)
    result.update(
        sessions=list(cat.sessions),
        inputs=list(cat.inputs),
        session_starts=cat.starts,
        session_samples=cat.lengths,
        sampling_rate=cat.sampling_rate,
        noise_uv=cat.noise_uv,
        parameters=dict(args),
        sorter_seconds=float(sorter_s),
        time_limit_s=float(limit_s),
        versions=versions(),
    )
    return result


__all__ = [
    "Concatenation",
    "SorterError",
    "concatenate",
    "recording",
    "sort_day_channel",
    "sort_args",
    "sort_name",
    "sort_record",
    "time_limit_s",
]
