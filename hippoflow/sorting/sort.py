"""Spike sorting of one channel across a day's sessions (MountainSort5 through SpikeInterface).

Input: the day-channel's high-pass DPT files (``rplhighpass_<h>.hkl``, 1-D ``data`` in
microvolts and ``analogInfo/SampleRate``), one per session where the channel exists, and the
sorting parameters (the config's ``sorting:`` section, completed by :func:`sort_args`).
Output: the sort object's dict (:func:`sort_day_channel`), which :mod:`hippoflow.sorting.steps`
saves as ``mountainsort_<h>.hkl`` (:func:`sort_name`).

The sessions are concatenated in :func:`~hippoflow.naming.session_order` (sorted names:
``session01 < session02 < ... < sessioneye``) into one float32 binary file, each session's
first sample recorded in ``session_starts``.  The concatenation is scaled by a robust noise
estimate (median absolute deviation, outside the spikes' influence) so that MountainSort5's
detection threshold is in units of the noise standard deviation, then sorted as one recording
with ``spikeinterface.sorters.run_sorter``.  Similar units are merged and the rest curated
(:mod:`hippoflow.sorting.curate`); SpikeInterface's SortingAnalyzer gives the unit templates
(microvolts), per-spike amplitudes, principal components of sampled waveforms and the quality
metrics; the kept units are numbered as cells (:mod:`hippoflow.sorting.cells`).

A little over 400 lines: concatenation, the MountainSort5 call and the analyzer share the
:class:`Concatenation` and the parameter set, and read best in one place.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hippoflow import dpt
from hippoflow.config import defaults
from hippoflow.errors import InputError
from hippoflow.naming import session_order
from hippoflow.sorting.cells import FS, number_cells
from hippoflow.sorting.curate import merge_similar, satellites, thresholds

CHUNK = 1 << 20  # samples per copy step (4 MiB of float32)

# Defaults of the config's `sorting:` section, read from the config schema (their one home);
# the schema's key order is the argument order of the sort file's DPT hash.
DEFAULTS: dict = defaults("sorting")
METRICS = ("snr", "isi_violations_ratio", "firing_rate", "presence_ratio", "amplitude_cutoff")


def sort_name(params: dict) -> str:
    """DPT file name of a day-channel sort, e.g. ``mountainsort_1a2b.hkl``."""
    return dpt.hkl_name("mountainsort", sort_args(params))


def sort_args(params: dict | None) -> dict:
    """Complete sorting parameters in DEFAULTS order (unknown keys are an error)."""
    params = dict(params or {})
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown sorting parameters: {sorted(unknown)}")
    return {k: params.get(k, v) for k, v in DEFAULTS.items()}


@dataclass
class Concatenation:
    """A day-channel's sessions laid end to end in one float32 binary file (microvolts)."""

    path: Path
    sessions: list[str]
    inputs: list[str]
    starts: np.ndarray  # first sample of each session in the concatenation
    lengths: np.ndarray
    sampling_rate: float
    noise_uv: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(self.lengths.sum())


def _open_highpass(session: str, path: Path):
    if not path.exists():
        raise InputError(
            f"{path}: high-pass file of {session} is missing (the day-channel sort "
            "concatenates every session where the channel exists)"
        )
    dset = dpt.open_array(path)
    try:
        if dset.ndim != 1 or dset.shape[0] == 0:
            raise InputError(f"{path}: expected a non-empty 1-D 'data' array, got {dset.shape}")
        try:
            info = dpt.read_flat_dict(path, "analogInfo")
            rate = float(info["SampleRate"])
        except (KeyError, OSError, ValueError) as exc:
            raise InputError(f"{path}: no analogInfo/SampleRate ({exc})") from exc
    except Exception:
        dset.file.close()
        raise
    return dset, rate


def concatenate(sources, dest, log=None, chunk: int = CHUNK, progress=None) -> Concatenation:
    """Copy the high-pass data of ``sources`` [(session, path), ...] into ``dest`` (float32).

    Sessions go in :func:`session_order`.  Also estimates the noise (MAD / 0.6745 over up to
    300 evenly spaced 0.1 s pieces per session), which spikes barely move.
    """
    sources = [(s, Path(p)) for s, p in sources]
    by_name = dict(sources)
    if len(by_name) != len(sources) or not sources:
        raise ValueError("sources must name each session once and not be empty")
    order = session_order(by_name)
    opened = []
    try:
        for s in order:
            opened.append(_open_highpass(s, by_name[s]))
        rates = {r for _, r in opened}
        if len(rates) != 1:
            detail = ", ".join(
                f"{by_name[s]}: {r:g} Hz" for s, (_, r) in zip(order, opened, strict=True)
            )
            raise InputError(f"sessions of one day-channel differ in sampling rate ({detail})")
        rate = rates.pop()
        if rate != FS:
            raise InputError(
                f"{by_name[order[0]]}: high-pass data sampled at {rate:g} Hz "
                f"(analogInfo/SampleRate), but the sort is made for {FS:g} Hz data (spike "
                f"times to ms, 3 ms templates of {int(0.003 * FS)} samples): sort only "
                f"{FS:g} Hz recordings"
            )
        lengths = np.array([d.shape[0] for d, _ in opened], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        total = int(lengths.sum())
        pieces = []
        done = 0
        dest = Path(dest)
        with open(dest, "wb") as f:
            for (dset, _), n in zip(opened, lengths, strict=True):
                for s in range(0, int(n), chunk):
                    x = np.asarray(dset[s : min(int(n), s + chunk)], dtype=np.float32)
                    if not np.all(np.isfinite(x)):
                        raise InputError(f"{dset.file.filename}: non-finite samples near {s}")
                    f.write(x.tobytes())
                    done += x.size
                    if progress:
                        progress(done / total)
                piece = int(min(n, rate / 10))
                for a in np.linspace(0, n - piece, num=min(300, max(1, n // piece))).astype(int):
                    pieces.append(np.asarray(dset[a : a + piece], dtype=np.float64))
        sample = np.concatenate(pieces)
        noise = float(np.median(np.abs(sample - np.median(sample))) / 0.6745)
        if not noise > 0:
            raise InputError(f"{by_name[order[0]]}: high-pass data is flat (noise estimate 0)")
        if log:
            log.info(
                "concatenated %s: %d samples (%.1f s), noise %.2f uV",
                ", ".join(order),
                total,
                total / rate,
                noise,
            )
        return Concatenation(
            dest, order, [str(by_name[s]) for s in order], starts, lengths, rate, noise
        )
    finally:
        for dset, _ in opened:
            dset.file.close()


def recording(cat: Concatenation, scaled: bool):
    """SpikeInterface recording of the concatenation.

    ``scaled``: the traces are in noise-sigma units (gain_to_uV = noise); else in microvolts.
    """
    import spikeinterface.core as si

    if scaled:
        rec = si.read_binary(
            cat.path.with_suffix(".scaled.bin"),
            sampling_frequency=cat.sampling_rate,
            dtype="float32",
            num_channels=1,
            gain_to_uV=cat.noise_uv,
            offset_to_uV=0.0,
            is_filtered=True,
        )
    else:
        rec = si.read_binary(
            cat.path,
            sampling_frequency=cat.sampling_rate,
            dtype="float32",
            num_channels=1,
            gain_to_uV=1.0,
            offset_to_uV=0.0,
            is_filtered=True,
        )
    rec.set_dummy_probe_from_locations(np.zeros((1, 2)))
    return rec


def _write_scaled(cat: Concatenation, chunk: int = CHUNK) -> None:
    src = np.memmap(cat.path, dtype=np.float32, mode="r")
    with open(cat.path.with_suffix(".scaled.bin"), "wb") as f:
        for s in range(0, src.size, chunk):
            f.write((src[s : s + chunk] / np.float32(cat.noise_uv)).astype(np.float32).tobytes())
    del src


def run_mountainsort5(cat: Concatenation, params: dict, workdir: Path, log=None):
    """Sort the concatenation; returns (spike sample indices, unit labels) sorted by time."""
    import spikeinterface.sorters as ss

    p = sort_args(params)
    whiten = p["normalize"] == "whiten"
    if p["normalize"] not in ("mad", "whiten"):
        raise ValueError(f"sorting normalize must be 'mad' or 'whiten', not {p['normalize']!r}")
    if not whiten:
        _write_scaled(cat)
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
    if log:
        for line in chatter.getvalue().splitlines():
            if line.startswith(("Detected", "Found", "Scheme")):
                log.info("MountainSort5: %s", line.strip())
        log.info("MountainSort5 scheme %s: %.1f s", p["scheme"], time.monotonic() - t0)
    times, labels = [], []
    for u in sorting.unit_ids:
        st = sorting.get_unit_spike_train(u, segment_index=0)
        times.append(np.asarray(st, dtype=np.int64))
        labels.append(np.full(st.size, int(u), dtype=np.int64))
    times = np.concatenate(times) if times else np.zeros(0, np.int64)
    labels = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    order = np.argsort(times, kind="stable")
    return times[order], labels[order]


def analyse(cat: Concatenation, times, labels, params: dict, log=None) -> dict:
    """Templates, amplitudes, PCs and quality metrics; curation; cell numbering."""
    import spikeinterface.core as si

    si.set_global_job_kwargs(progress_bar=False, n_jobs=1)
    p = sort_args(params)
    empty = _empty_result()
    if times.size == 0:
        return empty
    rec = recording(cat, scaled=False)
    ids = np.unique(labels)
    sorting = si.NumpySorting.from_samples_and_labels([times], [labels], cat.sampling_rate)
    analyzer = si.create_sorting_analyzer(
        sorting, rec, format="memory", sparse=False, seed=0, return_in_uV=True
    )
    analyzer.compute("random_spikes", max_spikes_per_unit=500, seed=0)
    analyzer.compute("waveforms", ms_before=1.0, ms_after=2.0)
    analyzer.compute("templates", operators=["average"])
    analyzer.compute("noise_levels", random_slices_kwargs={"seed": 0})
    analyzer.compute("spike_amplitudes")
    qm = analyzer.compute("quality_metrics", metric_names=list(_metric_families())).get_data()
    tmpl = analyzer.get_extension("templates").get_data(operator="average")[:, :, 0]
    amps = analyzer.get_extension("spike_amplitudes").get_data()
    # spike_amplitudes follows the analyzer's spike vector order (by time, then unit)
    vec = sorting.to_spike_vector()
    unit_of_vec = np.asarray(sorting.unit_ids)[vec["unit_index"]]
    counts = {u: int((labels == u).sum()) for u in ids}
    metrics = {m: np.array([_metric(qm, m, u) for u in ids], dtype=np.float64) for m in METRICS}
    keep = thresholds(ids, counts, metrics["snr"], p["min_spikes"], p["min_snr"], log)
    trough = np.abs(tmpl.min(axis=1))
    id_index = {u: i for i, u in enumerate(np.asarray(sorting.unit_ids))}
    pairs = satellites(
        times, labels, [u for u in ids[keep]], trough, id_index, p["max_coincidence"], FS
    )
    for small, big, frac in pairs:
        keep[list(ids).index(small)] = False
        if log:
            log.info(
                "unit %d dropped: %.0f%% of its spikes sit at one lag of unit %d's "
                "(a secondary trough of that unit)",
                small,
                100 * frac,
                big,
            )
    kept = ids[keep]
    if kept.size == 0:
        out = empty
        out["dropped_units"] = ids
        return out
    cell_of = number_cells(kept, {u: trough[id_index[u]] for u in kept})
    kept = list(cell_of)
    vec_sel = np.isin(unit_of_vec, kept)
    wf = analyzer.get_extension("waveforms").get_data()[:, :, 0]
    rs = analyzer.get_extension("random_spikes").get_data()
    rs_units = unit_of_vec[rs]
    rs_sel = np.isin(rs_units, kept)
    pcs = _pcs(wf[rs_sel])
    ms_before = analyzer.get_extension("waveforms").params["ms_before"]
    return {
        "cells": np.arange(1, len(kept) + 1),
        "unit_ids": np.array(kept, dtype=np.int64),
        "spike_times": vec["sample_index"][vec_sel].astype(np.int64),
        "spike_cells": np.array([cell_of[u] for u in unit_of_vec[vec_sel]], dtype=np.int64),
        "spike_amplitudes": np.asarray(amps, dtype=np.float32)[vec_sel],
        "templates": np.array([tmpl[id_index[u]] for u in kept], dtype=np.float32),
        "template_times_ms": (np.arange(tmpl.shape[1]) / cat.sampling_rate * 1000 - ms_before),
        "metrics": {m: np.array([metrics[m][list(ids).index(u)] for u in kept]) for m in METRICS},
        "n_spikes": np.array([counts[u] for u in kept], dtype=np.int64),
        "pcs": pcs.astype(np.float32),
        "pc_cells": np.array([cell_of[u] for u in rs_units[rs_sel]], dtype=np.int64),
        "dropped_units": np.array([u for u in ids if u not in cell_of], dtype=np.int64),
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
    return x @ vt[:2].T


def _empty_result() -> dict:
    return {
        "cells": np.zeros(0, np.int64),
        "unit_ids": np.zeros(0, np.int64),
        "spike_times": np.zeros(0, np.int64),
        "spike_cells": np.zeros(0, np.int64),
        "spike_amplitudes": np.zeros(0, np.float32),
        "templates": np.zeros((0, 90), np.float32),
        "template_times_ms": np.arange(90) / FS * 1000 - 1.0,
        "metrics": {m: np.zeros(0) for m in METRICS},
        "n_spikes": np.zeros(0, np.int64),
        "pcs": np.zeros((0, 2), np.float32),
        "pc_cells": np.zeros(0, np.int64),
        "dropped_units": np.zeros(0, np.int64),
    }


def versions() -> dict:
    from importlib.metadata import version

    return {
        p: version(p)
        for p in ("spikeinterface", "mountainsort5", "isosplit6", "numpy", "scipy", "hickle")
    }


def sort_day_channel(sources, params: dict | None = None, workdir=None, log=None, progress=None):
    """Concatenate, sort and analyse one day-channel; returns the sort object's dict."""
    p = sort_args(params)
    tmp_parent = Path(workdir) if workdir else None
    if tmp_parent:
        tmp_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sort-", dir=tmp_parent))
    try:
        cat = concatenate(sources, tmp / "concat.bin", log=log, progress=progress)
        times, labels = run_mountainsort5(cat, p, tmp, log=log)
        if log:
            log.info("MountainSort5 found %d units, %d spikes", np.unique(labels).size, times.size)
        data = np.memmap(cat.path, dtype=np.float32, mode="r")
        times, labels = merge_similar(data, times, labels, cat.noise_uv, p["merge_distance"], log)
        del data
        result = analyse(cat, times, labels, p, log=log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result.update(
        sessions=list(cat.sessions),
        inputs=list(cat.inputs),
        session_starts=cat.starts,
        session_samples=cat.lengths,
        sampling_rate=cat.sampling_rate,
        noise_uv=cat.noise_uv,
        parameters=dict(p),
        versions=versions(),
    )
    return result
