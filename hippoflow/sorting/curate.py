"""Curation of a day-channel's sort: merging split units, dropping satellites, thresholds, cells.

Input: the sort object's dict (:func:`hippoflow.sorting.sort.sort_day_channel`: every unit the
sorter found, its template, spike amplitudes, PCs and quality metrics) and the curation
parameters (:data:`CURATION_KEYS` of the config's ``sorting:`` section, completed by
:func:`curate_args`).  Output: the curated object's dict (:func:`curate`), which
:mod:`hippoflow.sorting.steps` saves as ``curated_<h>.hkl`` beside the sort (:func:`curated_name`:
the hash covers the curation parameters only) and which export_cells, the QC figure, the
metrics table and PyHipp's templates file read.

The rules, in the order they are applied (each can be switched off):

1. merges: units whose templates differ by less than ``merge_distance`` x the noise (or less
   than ``merge_relative`` x the larger template's peak; 0 = off) after the best shift of up
   to 4 samples; and, with ``unimodality_test``, units whose sampled waveforms are one
   population: unimodal projections onto the difference of their templates and onto the
   difference of their shapes, amplitude set aside (isosplit6), unless their trains fire
   within each other's refractory period more often than within their own; or one shape
   (amplitude set aside) with the smaller unit's spikes following the larger one's as in bursts
   (:func:`merge_units`, :func:`unimodal`, :func:`refractory_gap`, :func:`burst_excess`);
2. ``min_spikes``, ``min_snr``: units below either are dropped;
3. ``max_coincidence``: a unit this fraction of whose spikes sit at one lag (0.2 ms window,
   within 2 ms) of a larger unit's spikes, and (with ``unimodality_test``) whose template minus
   the larger unit's at that lag leaves less than ``min_snr`` x the noise, is that unit's
   secondary trough (:func:`satellites`; 1 = keep all).

Every unit's numbers (spike count, SNR, ISI-violation ratio, amplitude cutoff, presence ratio,
firing rate) and the decision taken on it, in words, go into ``units``; merged units' metrics
are recomputed from their pooled spikes with SpikeInterface's own metric functions.  The kept
units are numbered as cells (:func:`hippoflow.sorting.cells.number_cells`: cell 1 = deepest
trough).
"""

from __future__ import annotations

import warnings

import numpy as np

from hippoflow import dpt
from hippoflow.sorting.cells import number_cells

CURATION_KEYS = (
    "min_spikes",
    "min_snr",
    "max_coincidence",
    "merge_distance",
    "merge_relative",
    "unimodality_test",
)
#: the version of the curation rules, part of the curated file's name (:func:`curated_name`):
#: raised when a rule changes what it decides, so that a rerun curates again instead of keeping
#: files the old rules made (2: merges need one population along the shape difference too,
#: and the refractory test compares the pairs across two trains with those within each)
RULES = 2
MAX_SHIFT = 4  # samples (0.13 ms) a merged unit's template may be shifted by
ALIGN_SHIFT = MAX_SHIFT  # samples tried to align two units for the unimodality test
GAP_ALPHA = 0.01  # significance of a shared refractory period (refractory_gap)
GAP_MS = 1.5  # the refractory period tested: SpikeInterface's ISI-violation threshold
BURST_MS = (2.0, 10.0)  # the intervals between a burst's spikes (complex-spike bursts)
PRESENCE_BIN_S = 60.0  # SpikeInterface's presence-ratio bin
ISI_THRESHOLD_S = 0.0015  # SpikeInterface's ISI-violation threshold


def curate_args(params: dict | None) -> dict:
    """The curation parameters (:data:`CURATION_KEYS`) completed from the defaults."""
    from hippoflow.sorting.sort import DEFAULTS, _check_known

    params = dict(params or {})
    _check_known(params)
    return {k: params.get(k, DEFAULTS[k]) for k in CURATION_KEYS}


def curated_name(params: dict) -> str:
    """DPT file name of a day-channel's curated sort, e.g. ``curated_1a2b.hkl``: its hash
    covers the curation parameters and :data:`RULES`."""
    return dpt.hkl_name("curated", {**curate_args(params), "rules": RULES})


# ---- rule 1: merges
def shifted_distance(a, b, max_shift=MAX_SHIFT) -> tuple[float, int]:
    """min over shifts s of max |a(t) - b(t - s)|, and the best s (edges excluded)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    core = slice(2 * max_shift, a.size - 2 * max_shift)
    best = (np.inf, 0)
    for s in range(-max_shift, max_shift + 1):
        d = float(np.max(np.abs(a[core] - np.roll(b, s)[core])))
        if d < best[0]:
            best = (d, s)
    return best


def _aligned(a, b, s):
    """b shifted by s samples onto a's alignment (a's values where b has none)."""
    out = np.roll(np.asarray(b, np.float64), s)
    if s > 0:
        out[:s] = a[:s]
    elif s < 0:
        out[s:] = a[s:]
    return out


def shift_rows(w, s: int) -> np.ndarray:
    """Each row of ``w`` shifted ``s`` samples later (zeros where it has no values)."""
    w = np.asarray(w, np.float64)
    out = np.zeros_like(w)
    if s > 0:
        out[:, s:] = w[:, :-s]
    elif s < 0:
        out[:, :s] = w[:, -s:]
    else:
        out[:] = w
    return out


def unimodal(wa, wb, s: int = 0, shape_only: bool = False) -> bool:
    """Are the waveforms ``wa`` and ``wb`` (spikes x samples; ``wb`` shifted ``s`` samples
    later onto ``wa``'s alignment) one population?

    Both sets are projected onto the difference of their means and the projections tested for
    unimodality with isosplit6 (the test MountainSort5 itself clusters with): one cluster =
    one unit.  ``shape_only``: the direction is instead the difference of the two mean
    waveforms' shapes (each scaled to unit norm) without its component along the pair's common
    mean, so that one unit's spikes at different amplitudes (jitter, a burst's decaying
    spikes) are one population.  Samples the shift leaves without values are left out.
    """
    from isosplit6 import isosplit6

    wa, wb = np.asarray(wa, np.float64), shift_rows(wb, s)
    if len(wa) == 0 or len(wb) == 0:
        return False
    n = wa.shape[1]
    core = slice(max(s, 0), n + min(s, 0))
    wa, wb = wa[:, core], wb[:, core]
    ma, mb = wa.mean(axis=0), wb.mean(axis=0)
    na, nb = np.linalg.norm(ma), np.linalg.norm(mb)
    if na == 0 or nb == 0:
        return True
    if shape_only:
        common = ma + mb
        common /= np.linalg.norm(common)
        d = ma / na - mb / nb
        d -= (d @ common) * common
    else:
        d = ma - mb
    norm = float(np.linalg.norm(d))
    if norm == 0:
        return True
    x = np.r_[wa @ d, wb @ d] / norm
    return np.unique(isosplit6(x[:, None])).size == 1


def _near_pairs(ta, tb, lo: int, hi: int) -> int:
    """Spikes of ``tb`` within ``lo``..``hi`` samples after a spike of ``ta`` (sorted)."""
    return int(np.sum(np.searchsorted(tb, ta + hi, side="right") - np.searchsorted(tb, ta + lo)))


def refractory_gap(ta, tb, total: int, lo: int, hi: int) -> tuple[float, float]:
    """Do the spike trains ``ta`` and ``tb`` (sample indices, sorted) fire within ``lo``..``hi``
    samples of each other more often than each one does of itself?  One unit split in two
    shares its refractory period, so pairs across the two trains are as rare there as pairs
    within each (a sorted unit's few such pairs are its foreign spikes); two units firing
    independently give as many pairs across as their rates predict, whatever their own
    trains show.  Returns (p, power): p, the one-sided Poisson probability of at least the
    observed pairs across if they came at the trains' own rate of such pairs (pairs within
    each train over the number their rates predict, +1 in both, at most 1); power, the
    probability of no pair across at all under independence (too few spikes to tell when it
    is not small)."""
    from scipy.stats import poisson

    ta, tb = np.asarray(ta, np.int64), np.asarray(tb, np.int64)
    width = (hi - lo) / max(total, 1)
    expected = ta.size * tb.size * 2.0 * width
    across = _near_pairs(ta, tb, lo, hi) + _near_pairs(tb, ta, lo, hi)
    own = _near_pairs(ta, ta, lo, hi) + _near_pairs(tb, tb, lo, hi)
    own_expected = (ta.size * (ta.size - 1) + tb.size * (tb.size - 1)) * width
    rate = min(1.0, (own + 1) / (own_expected + 1))
    return float(poisson.sf(across - 1, rate * expected)), float(poisson.pmf(0, expected))


def best_shift(a, b, max_shift=None) -> int:
    """The shift s (|s| <= max_shift, default :data:`ALIGN_SHIFT`) of ``b`` that correlates
    best with ``a`` (``b`` shifted s samples later, zeros where it has no values)."""
    max_shift = ALIGN_SHIFT if max_shift is None else max_shift
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)[None, :]
    c = [float(a @ shift_rows(b, s)[0]) for s in range(-max_shift, max_shift + 1)]
    return int(np.argmax(c)) - max_shift


def burst_excess(ta, tb, total: int, lo: int, hi: int) -> float:
    """The one-sided Poisson probability of as many spikes of ``tb`` within ``lo``..``hi``
    samples after a spike of ``ta`` (sorted sample indices) as observed, if the trains were
    independent over ``total`` samples: small when ``tb``'s spikes follow ``ta``'s, as a
    burst's later spikes follow its first."""
    from scipy.stats import poisson

    ta, tb = np.asarray(ta, np.int64), np.asarray(tb, np.int64)
    expected = ta.size * tb.size * float(hi - lo) / max(total, 1)
    after = int(np.sum(np.searchsorted(tb, ta + hi, side="right") - np.searchsorted(tb, ta + lo)))
    return float(poisson.sf(after - 1, expected))


def _merge_evidence(wa, wb, s, trains, a, b, total, gap, sizes=None, fs=30000.0):
    """Why units a and b are one (``"unimodal"``, ``"burst"``) or None.

    One population by the projection on their template difference and by the projection on
    the difference of their shapes (amplitude set aside: one unit's spikes are one population
    along every direction, while amplitude jitter or a burst can blur two units of different
    shape into one mode along the first), unless their trains are long enough to tell and fire
    within each other's refractory period more often than within their own (two units that
    fire independently, :func:`refractory_gap`); or one population by shape alone with the
    smaller unit's spikes following the larger's within a burst's intervals
    (:data:`BURST_MS`) more often than independent trains would (p < :data:`GAP_ALPHA`): a
    bursting unit's decaying spikes.  Each test runs once, and only when its answer is needed.
    """
    shape = None  # one population by shape alone (amplitude set aside)
    if unimodal(wa, wb, s):
        shape = unimodal(wa, wb, s, shape_only=True)
        if shape:
            if trains is None:
                return "unimodal"
            p, power = refractory_gap(trains[a], trains[b], total, *gap)
            independent = power < GAP_ALPHA and p < GAP_ALPHA
            return None if independent else "unimodal"
    if trains is None or sizes is None:
        return None
    big, small = (a, b) if sizes[a] >= sizes[b] else (b, a)
    lo, hi = (int(v / 1000 * fs) for v in BURST_MS)
    if burst_excess(trains[big], trains[small], total, lo, hi) >= GAP_ALPHA:
        return None
    if shape is None:
        shape = unimodal(wa, wb, s, shape_only=True)
    return "burst" if shape else None


def merge_units(
    templates: dict,
    counts: dict,
    noise: float,
    max_distance,
    max_relative=0.0,
    waveforms: dict | None = None,
    trains: dict | None = None,
    total: int = 0,
    gap: tuple = (0, 0),
):
    """Which units to merge: ([(absorbed unit, into unit, shift, distance in noise SDs,
    distance as a fraction of the larger template's peak, why)], {unit: template after the
    merges}, {unit: spike count after the merges}).

    Two units merge when their templates, after the best shift of up to 4 samples, differ by
    less than ``max_distance`` x ``noise`` or by less than ``max_relative`` x the larger
    template's peak |value| (0 switches either test off), or, given ``waveforms`` ({unit:
    sampled spike waveforms}; updated in place to the merged units') and ``trains`` ({unit:
    spike sample indices}, ``total`` samples, the refractory window ``gap`` = (lo, hi)
    samples), when :func:`_merge_evidence` finds them one unit.  Greedy: the pair closest
    in the relative distance first; the smaller unit joins the larger, whose template becomes
    the spike-count weighted mean of the two (the absorbed one shifted onto it) and whose
    waveforms are the two sets together.  ``templates``/``counts``: {unit: template}, {unit:
    spike count}.  A shift s means the absorbed unit's spikes sit s samples after the same
    feature of the larger unit's: its times move by -s.
    """
    tmpl = {u: np.asarray(t, np.float64) for u, t in templates.items()}
    n = dict(counts)
    wfs = {u: np.asarray(w, np.float64) for u, w in (waveforms or {}).items()}
    max_distance = float(max_distance or 0)
    max_relative = float(max_relative or 0)
    units = sorted(tmpl)
    merges = []
    tested: dict = {}  # (a, b, len(wa), len(wb)) -> why merged or None: each pair tested once
    if trains is not None:
        trains = {u: np.sort(np.asarray(t, np.int64)) for u, t in trains.items()}
    while len(units) > 1:
        pairs = []
        for i, a in enumerate(units):
            for b in units[i + 1 :]:
                d, sh = shifted_distance(tmpl[a], tmpl[b])
                peak = max(np.abs(tmpl[a]).max(), np.abs(tmpl[b]).max())
                pairs.append((d / peak if peak > 0 else np.inf, a, b, sh, d))
        best = None
        for rel, a, b, sh, d in sorted(pairs):
            if max_distance > 0 and noise > 0 and d / noise < max_distance:
                best = (rel, a, b, sh, d, "distance")
            elif max_relative > 0 and rel < max_relative:
                best = (rel, a, b, sh, d, "relative")
            elif a in wfs and b in wfs:
                key = (a, b, len(wfs[a]), len(wfs[b]))
                if key not in tested:
                    sizes = {u: float(np.abs(tmpl[u]).max()) for u in (a, b)}
                    tested[key] = _merge_evidence(
                        wfs[a],
                        wfs[b],
                        best_shift(tmpl[a], tmpl[b]),
                        trains,
                        a,
                        b,
                        total,
                        gap,
                        sizes,
                    )
                if tested[key]:
                    best = (rel, a, b, best_shift(tmpl[a], tmpl[b]), d, tested[key])
            if best:
                break
        if best is None:
            break
        rel, a, b, sh, d, why = best
        if n[b] > n[a]:  # keep the larger unit's alignment: b(t) ~ a(t + sh)
            a, b, sh = b, a, -sh
        tmpl[a] = (n[a] * tmpl[a] + n[b] * _aligned(tmpl[a], tmpl[b], sh)) / (n[a] + n[b])
        if a in wfs and b in wfs:
            wfs[a] = np.vstack([wfs[a], shift_rows(wfs.pop(b), sh)])
        if trains is not None:
            trains[a] = np.sort(np.r_[trains[a], trains.pop(b) - sh])
        n[a] += n[b]
        units.remove(b)
        merges.append((int(b), int(a), int(sh), float(d / noise), float(rel), why))
    if waveforms is not None:
        waveforms.clear()
        waveforms.update(wfs)
    return merges, tmpl, n


# ---- rule 3: satellites
def satellites(
    times, labels, units, size: dict, max_coincidence, fs, templates=None, noise=0.0, min_snr=0.0
):
    """Units whose spikes mostly sit at one fixed lag (within 2 ms) of a larger unit's spikes
    and whose waveform the larger unit's explains.

    Such a unit is the larger unit's secondary trough (or, for a positive-going unit, its
    trough) detected as events of its own.  ``size[u]``: unit u's template peak |value|;
    ``fs``: sampling rate (Hz).  Given ``templates`` ({unit: template}), a unit is a
    satellite only when its template minus the larger unit's at that lag leaves nothing that
    would pass as a unit: a residual peak below ``min_snr`` x ``noise``; a unit that fires at
    a fixed lag of another with a waveform of its own stays.  Returns [(small unit, large
    unit, fraction, lag in samples)].
    """
    if max_coincidence is None or max_coincidence >= 1:
        return []
    order = sorted(units, key=lambda u: -size[u])
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
            k = int(np.argmax(counts[:-1] + counts[1:]))
            frac = float(counts[k] + counts[k + 1]) / tb.size
            if frac < max_coincidence:
                continue
            inside = lags[(lags >= edges[k]) & (lags < edges[k + 2])]
            lag = int(np.round(np.median(inside)))
            if templates is not None and noise > 0:
                # small's template at t = big's at t + lag: big's shifted lag samples earlier
                seen = shift_rows(np.asarray(templates[big], np.float64)[None, :], -lag)[0]
                core = slice(max(-lag, 0), seen.size + min(-lag, 0))
                rest = np.asarray(templates[small], np.float64)[core] - seen[core]
                if np.abs(rest).max() / noise >= min_snr:
                    continue
            out.append((int(small), int(big), frac, lag))
            dropped.add(small)
            break
    return out


# ---- metrics of a (merged) unit, with SpikeInterface's own functions
def unit_metrics(times, amplitudes, template, si_noise, total_samples, fs) -> dict:
    """SNR, ISI-violation ratio, firing rate, presence ratio and amplitude cutoff of one unit.

    Same definitions and parameters as the SortingAnalyzer's quality metrics of the sort
    (``spikeinterface.metrics.quality.misc_metrics``' functions): SNR = |template extremum| /
    SpikeInterface's noise level; ISI threshold 1.5 ms; presence over 60 s bins (NaN for data
    shorter than one bin); amplitude cutoff with 100 bins (NaN below 500 spikes).
    """
    from spikeinterface.metrics.quality import misc_metrics as mm

    times = np.asarray(times, np.int64)
    duration = total_samples / fs
    ratio, _, _ = mm.isi_violations([times / fs], duration, ISI_THRESHOLD_S, 0)
    bin_len = int(PRESENCE_BIN_S * fs)
    if total_samples < bin_len:
        presence = np.nan
    else:
        edges = np.arange(0, total_samples + 1, bin_len)
        presence = mm.presence_ratio(times, bin_edges=edges) if times.size else np.nan
    amps = np.asarray(amplitudes, np.float64)
    if amps.size and np.median(amps) < 0:
        amps = -amps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cutoff = mm.amplitude_cutoff(amps, 100, 3, 5) if amps.size else np.nan
    return {
        "snr": float(np.max(np.abs(template)) / si_noise) if si_noise > 0 else np.nan,
        "isi_violations_ratio": float(ratio),
        "firing_rate": times.size / duration,
        "presence_ratio": float(presence),
        "amplitude_cutoff": float(cutoff),
    }


def _radius(sort: dict, fs: float) -> int:
    """Samples within which the sorter never detects two events (MountainSort5's
    detect_time_radius_msec): no train pair can be that close, by construction."""
    ms = float(dict(sort.get("parameters") or {}).get("detect_time_radius_msec", 0.5))
    return int(np.ceil(ms / 1000 * fs)) + 1


def _fmt_units(units) -> str:
    return "+".join(str(u) for u in units)


def curate(sort: dict, params: dict | None = None, log=None) -> dict:
    """Apply the curation rules to a sort object; returns the curated object's dict."""
    from hippoflow.sorting.sort import METRICS

    p = curate_args(params)
    fs = float(sort["sampling_rate"])
    total = int(np.sum(sort["session_samples"]))
    ids = [int(u) for u in sort["unit_ids"]]
    raw_tmpl = {u: np.asarray(sort["templates"][i], np.float64) for i, u in enumerate(ids)}
    counts = {u: int(sort["n_spikes"][i]) for i, u in enumerate(ids)}
    raw_metrics = {m: np.asarray(sort["metrics"][m], np.float64) for m in METRICS}
    times = np.asarray(sort["spike_times"], np.int64).copy()
    labels = np.asarray(sort["spike_units"], np.int64).copy()
    amps = np.asarray(sort["spike_amplitudes"], np.float32)
    si_noise = float(sort.get("si_noise_uv", np.nan))
    decision = {u: "" for u in ids}

    # 1. merges (templates in units of the sort's MAD noise, as MountainSort5's threshold)
    wfs = None
    if p["unimodality_test"] and "waveforms" in sort:
        pc_units = np.asarray(sort["pc_units"], np.int64)
        wf_all = np.asarray(sort["waveforms"], np.float64)
        snr = dict(zip(ids, raw_metrics["snr"], strict=True))
        wfs = {u: wf_all[pc_units == u] for u in ids if snr[u] >= p["min_snr"]}
    merges, tmpl, n = merge_units(
        raw_tmpl,
        counts,
        float(sort["noise_uv"]),
        p["merge_distance"],
        p["merge_relative"],
        waveforms=wfs,
        trains={u: times[labels == u] for u in ids} if wfs is not None else None,
        total=total,
        gap=(_radius(sort, fs), int(GAP_MS / 1000 * fs)),
    )
    group = {u: u for u in ids}
    members = {u: [u] for u in ids}
    for b, a, sh, d, rel, why in merges:
        sel = labels == b
        times[sel] -= sh
        labels[sel] = a
        members[a] += members.pop(b)
        for u in ids:
            if group[u] == b:
                group[u] = a
        because = {
            "distance": f"templates {d:.2f} x noise apart",
            "relative": f"templates {100 * rel:.0f}% of the peak apart",
            "unimodal": "their spikes' projections on the template and shape differences are unimodal",
            "burst": "one shape (unimodal, amplitude set aside), the smaller one's spikes "
            "following the larger one's as in bursts",
        }[why]
        decision[b] = f"merged into unit {a} ({because}; shift {sh:+d})"

        if log:
            log.info("unit %d merged into unit %d (template distance %.2f x noise)", b, a, d)
    order = np.argsort(times, kind="stable")
    times, labels, amps = times[order], labels[order], amps[order]
    inside = (times >= 0) & (times < total)
    times, labels, amps = times[inside], labels[inside], amps[inside]
    heads = sorted(members)
    metrics = {}
    for u in heads:
        if len(members[u]) == 1:
            i = ids.index(u)
            metrics[u] = {m: float(raw_metrics[m][i]) for m in METRICS}
        else:
            sel = labels == u
            metrics[u] = unit_metrics(times[sel], amps[sel], tmpl[u], si_noise, total, fs)
        n[u] = int(np.sum(labels == u))

    # 2. thresholds
    keep = {}
    for u in heads:
        what = f"unit {u}" if len(members[u]) == 1 else f"units {_fmt_units(members[u])}"
        snr = metrics[u]["snr"]
        if n[u] < p["min_spikes"]:
            keep[u] = False
            decision[u] = f"dropped: {what} has {n[u]} spikes < min_spikes {p['min_spikes']}"
        elif not snr >= p["min_snr"]:
            keep[u] = False
            decision[u] = f"dropped: {what} has SNR {snr:.2f} < min_snr {p['min_snr']}"
        else:
            keep[u] = True

    # 3. satellites among the units still kept
    trough = {u: float(np.abs(np.min(tmpl[u]))) for u in heads}
    kept_units = [u for u in heads if keep[u]]
    size = {u: float(np.abs(tmpl[u]).max()) for u in heads}
    found = satellites(
        times,
        labels,
        kept_units,
        size,
        p["max_coincidence"],
        fs,
        templates=tmpl if p["unimodality_test"] else None,
        noise=si_noise,
        min_snr=float(p["min_snr"]),
    )
    for small, big, frac, lag in found:
        keep[small] = False
        decision[small] = (
            f"dropped: satellite of unit {big} ({100 * frac:.0f}% of its spikes at one lag, "
            f"{lag:+d} samples, >= max_coincidence {100 * p['max_coincidence']:.0f}%"
            + (", its template the larger unit's at that lag)" if p["unimodality_test"] else ")")
        )
    kept = [u for u in heads if keep[u]]
    cell_of = number_cells(kept, trough)
    kept = list(cell_of)  # in cell order
    for u in kept:
        what = ""
        if len(members[u]) > 1:
            what = f" (units {_fmt_units(members[u])}: {n[u]} spikes, SNR {metrics[u]['snr']:.2f})"
        decision[u] = f"kept as cell{cell_of[u]:02d}{what}"
    if log:
        for u in ids:
            i = ids.index(u)
            log.info(
                "unit %d: %d spikes, SNR %.1f, ISI violations %.3f, presence %.2f: %s",
                u,
                counts[u],
                raw_metrics["snr"][i],
                raw_metrics["isi_violations_ratio"][i],
                raw_metrics["presence_ratio"][i],
                decision[u],
            )

    sel = np.isin(labels, kept)
    pc_units = np.asarray(sort["pc_units"], np.int64)
    pc_group = np.array([group[int(u)] for u in pc_units], dtype=np.int64)
    pc_sel = np.isin(pc_group, kept)
    t_len = np.asarray(sort["templates"]).shape[1]
    return {
        "cells": np.arange(1, len(kept) + 1, dtype=np.int64),
        "unit_ids": np.array(kept, dtype=np.int64),
        "cell_units": [_fmt_units(members[u]) for u in kept],
        "spike_times": times[sel],
        "spike_cells": np.array([cell_of[int(u)] for u in labels[sel]], dtype=np.int64),
        "spike_amplitudes": amps[sel].astype(np.float32),
        "templates": np.array([tmpl[u] for u in kept], dtype=np.float32).reshape(-1, t_len),
        "template_times_ms": np.asarray(sort["template_times_ms"]),
        "metrics": {m: np.array([metrics[u][m] for u in kept], dtype=np.float64) for m in METRICS},
        "n_spikes": np.array([n[u] for u in kept], dtype=np.int64),
        "pcs": np.asarray(sort["pcs"], np.float32)[pc_sel],
        "pc_cells": np.array([cell_of[int(u)] for u in pc_group[pc_sel]], dtype=np.int64),
        "dropped_units": np.array([u for u in ids if group[u] not in cell_of], dtype=np.int64),
        "units": {
            "unit_ids": np.array(ids, dtype=np.int64),
            "n_spikes": np.array([counts[u] for u in ids], dtype=np.int64),
            **{m: raw_metrics[m].copy() for m in METRICS},
            "cell": np.array([cell_of.get(group[u], 0) for u in ids], dtype=np.int64),
            "decision": [decision[u] for u in ids],
        },
        "unit_templates": np.asarray(sort["templates"], np.float32),
        "sessions": list(sort["sessions"]),
        "inputs": list(sort["inputs"]),
        "session_starts": np.asarray(sort["session_starts"]),
        "session_samples": np.asarray(sort["session_samples"]),
        "sampling_rate": fs,
        "noise_uv": float(sort["noise_uv"]),
        "parameters": dict(p),
        "sort_parameters": dict(sort["parameters"]),
        "versions": dict(sort.get("versions", {})),
    }
