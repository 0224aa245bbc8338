"""Spike sorting of one channel across a day's sessions (MountainSort5 through SpikeInterface).

A day-channel's high-pass data of every session where the channel exists are concatenated in
:func:`session_order` (sorted names: ``session01 < session02 < ... < sessioneye``) into one
float32 binary file, each session's first sample recorded in ``session_starts``.  The
concatenation is scaled by a robust noise estimate (median absolute deviation, outside the
spikes' influence) so that MountainSort5's detection threshold is in units of the noise
standard deviation, then sorted as one recording with ``spikeinterface.sorters.run_sorter``.
SpikeInterface's SortingAnalyzer then gives the unit templates (microvolts), per-spike
amplitudes, principal components of sampled waveforms and the quality metrics.

Units are numbered once per day-channel (cell 1 = largest template trough), so ``cell03`` is
the same unit in every session; :func:`split_by_session` maps each spike back to its session
and :func:`write_cells` writes ``<session>/arrayNN/channelNNN/cellNN/spiketrain.csv`` and
``spiketrain_d41d.hkl`` (key ``spiketimes``, ms from the session's first sample).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hippoflow import dpt
from hippoflow.atomic import write_text
from hippoflow.errors import InputError

FS = 30000.0
CHUNK = 1 << 20  # samples per copy step (4 MiB of float32)

# Defaults of the config's `sorting:` section (see config/config.yaml for the measurements
# behind them).  The order is the argument order of the sort file's DPT hash.
DEFAULTS: dict = {
    "scheme": "2",
    "detect_threshold": 4.5,
    "detect_sign": -1,
    "normalize": "mad",
    "detect_time_radius_msec": 0.5,
    "snippet_T1": 20,
    "snippet_T2": 20,
    "npca_per_channel": 2,
    "npca_per_subdivision": 10,
    "training_duration_sec": 300,
    "block_duration_sec": 1800,
    "min_spikes": 20,
    "min_snr": 3.0,
    "max_coincidence": 0.5,
    "merge_distance": 2.0,
}
METRICS = ("snr", "isi_violations_ratio", "firing_rate", "presence_ratio", "amplitude_cutoff")
SPIKETRAIN_ARGS: dict = {}  # spiketrain_d41d.hkl, like PyHipp's Spiketrain object
CELL_RE = re.compile(r"cell[0-9]{2,}$")


def session_order(names) -> list[str]:
    """The fixed concatenation order: sorted session names (session01, session02, ..., sessioneye)."""
    return sorted(names)


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
    keep = np.array(
        [
            counts[u] >= p["min_spikes"] and metrics["snr"][i] >= p["min_snr"]
            for i, u in enumerate(ids)
        ],
        dtype=bool,
    )
    if log:
        for i, u in enumerate(ids):
            log.info(
                "unit %d: %d spikes, SNR %.1f%s",
                u,
                counts[u],
                metrics["snr"][i],
                "" if keep[i] else " (dropped by curation)",
            )
    trough = np.abs(tmpl.min(axis=1))
    id_index = {u: i for i, u in enumerate(np.asarray(sorting.unit_ids))}
    satellites = _satellites(
        times, labels, [u for u in ids[keep]], trough, id_index, p["max_coincidence"]
    )
    for small, big, frac in satellites:
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
    kept = sorted(kept, key=lambda u: -trough[id_index[u]])
    cell_of = {u: c + 1 for c, u in enumerate(kept)}
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


def _satellites(times, labels, units, trough, id_index, max_coincidence, fs=FS):
    """Units whose spikes mostly sit at one fixed lag (within 2 ms) of a larger unit's spikes.

    Such a unit is the larger unit's secondary trough detected as events of its own.
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


def split_by_session(spike_times, spike_cells, starts, lengths, cells) -> list[dict]:
    """Per session: {cell: spike times in ms from the session's first sample}.

    Every cell appears in every session (an empty array when silent there).
    """
    spike_times = np.asarray(spike_times, dtype=np.int64)
    spike_cells = np.asarray(spike_cells)
    starts = np.asarray(starts, dtype=np.int64)
    ends = starts + np.asarray(lengths, dtype=np.int64)
    if spike_times.size and (spike_times.min() < 0 or spike_times.max() >= ends[-1]):
        raise ValueError("spike time outside the concatenation")
    which = np.searchsorted(starts, spike_times, side="right") - 1
    out = []
    for k, (s0, _) in enumerate(zip(starts, ends, strict=True)):
        in_s = which == k
        trains = {}
        for c in cells:
            t = spike_times[in_s & (spike_cells == c)] - s0
            trains[int(c)] = t / FS * 1000.0
        out.append(trains)
    return out


def cell_dir_name(cell: int) -> str:
    return f"cell{int(cell):02d}"


def remove_stale_cells(channel_dir: Path, keep: set[str]) -> list[Path]:
    """Remove cellNN directories (of an earlier sort) that the current sort does not have."""
    removed = []
    if not channel_dir.is_dir():
        return removed
    for d in channel_dir.iterdir():
        if d.is_dir() and CELL_RE.match(d.name) and d.name not in keep:
            for f in d.iterdir():
                if f.name == "spiketrain.csv" or re.match(r"spiketrain_[0-9a-f]{4}\.hkl$", f.name):
                    f.unlink()
            try:
                d.rmdir()
                removed.append(d)
            except OSError:
                pass  # holds files of other analyses: leave it
    return removed


def write_cells(sort: dict, channel_dirs: dict, log=None) -> list[dict]:
    """Write every cell's per-session spike trains; returns rows (session, cell, n_spikes, dir)."""
    cells = [int(c) for c in sort["cells"]]
    per_session = split_by_session(
        sort["spike_times"],
        sort["spike_cells"],
        sort["session_starts"],
        sort["session_samples"],
        cells,
    )
    templates = np.asarray(sort["templates"])
    rows = []
    name = dpt.hkl_name("spiketrain", SPIKETRAIN_ARGS)
    for session, trains in zip(sort["sessions"], per_session, strict=True):
        cdir = Path(channel_dirs[session])
        remove_stale_cells(cdir, {cell_dir_name(c) for c in cells})
        for i, c in enumerate(cells):
            d = cdir / cell_dir_name(c)
            d.mkdir(parents=True, exist_ok=True)
            t = trains[c]
            write_text(d / "spiketrain.csv", ",".join(repr(float(v)) for v in t) + "\n")
            dpt.save_object(
                d / name,
                {"spiketimes": t.astype(np.float64), "spikeForm": templates[i]},
                SPIKETRAIN_ARGS,
                [d.resolve()],
            )
            rows.append({"session": session, "cell": c, "n_spikes": int(t.size), "dir": str(d)})
        if log:
            log.info("%s: %d cells", cdir, len(cells))
    return rows


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
