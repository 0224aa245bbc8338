"""Quality-control figures (PNG, matplotlib's Agg backend): a day-channel's sort summary, a
session's trial timeline and its LFP spectra.

Inputs: a sort object's dict (see :mod:`hippoflow.sorting.sort`), a session's parallel-port
markers and timestamps, or LFP arrays with their sampling rates.  Output: one picture each,
written atomically.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hippoflow.atomic import atomic_output  # noqa: E402

MAX_CCG_CELLS = 6


def _save(fig, path, metadata: dict | None = None) -> None:
    try:
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=90, metadata=metadata)
    finally:
        plt.close(fig)


def _colors(n):
    cmap = plt.get_cmap("tab10")
    return [cmap(i % 10) for i in range(n)]


def correlogram(t1, t2, fs, window_ms=50.0, bin_ms=1.0, same=False, max_ref=5000):
    """Counts of t2 - t1 lags (ms) in bins over +-window (reference spikes subsampled)."""
    t1 = np.asarray(t1, dtype=np.int64)
    t2 = np.asarray(t2, dtype=np.int64)
    edges = np.arange(-window_ms, window_ms + bin_ms / 2, bin_ms)
    if t1.size == 0 or t2.size == 0:
        return edges, np.zeros(edges.size - 1)
    if t1.size > max_ref:
        t1 = t1[np.linspace(0, t1.size - 1, max_ref).astype(int)]
    w = int(window_ms * fs / 1000)
    lo = np.searchsorted(t2, t1 - w)
    hi = np.searchsorted(t2, t1 + w, side="right")
    n = hi - lo
    idx = np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    lags = (t2[idx] - np.repeat(t1, n)) / fs * 1000.0
    if same:
        lags = lags[lags != 0]
    counts, _ = np.histogram(lags, edges)
    return edges, counts


def _unit_lines(units: dict) -> list[str]:
    """The curation's table: every sorter unit's numbers and the decision taken on it."""
    head = (
        f"{'unit':>5} {'cell':>6} {'spikes':>7} {'SNR':>6} {'ISI viol.':>9} "
        f"{'amp. cutoff':>11} {'presence':>8}  decision"
    )
    lines = [head]
    for i, u in enumerate(units["unit_ids"]):
        c = int(units["cell"][i])
        lines.append(
            f"{int(u):>5} {f'cell{c:02d}' if c else '-':>6} {int(units['n_spikes'][i]):>7} "
            f"{units['snr'][i]:>6.2f} {units['isi_violations_ratio'][i]:>9.3f} "
            f"{units['amplitude_cutoff'][i]:>11.3f} {units['presence_ratio'][i]:>8.2f}  "
            f"{units['decision'][i]}"
        )
    return lines


def sort_summary(sort: dict, path, title: str = "") -> None:
    """One picture per day-channel: templates, ISIs, PCs, amplitudes over time, the curation's
    numbers and decision for every sorter unit, correlograms.

    ``sort``: a curated sort (:func:`hippoflow.sorting.curate.curate`); dropped and merged
    units' templates are drawn grey and dashed.
    """
    cells = [int(c) for c in sort["cells"]]
    fs = float(sort["sampling_rate"])
    times = np.asarray(sort["spike_times"])
    which = np.asarray(sort["spike_cells"])
    amps = np.asarray(sort["spike_amplitudes"])
    units = sort.get("units")
    lines = _unit_lines(units) if units is not None else []
    # sessions of the day the sort went without (Plan.sort_left_out), below the table
    left_out = dict(sort.get("sessions_left_out") or {})
    if left_out:
        lines += ["", "sessions left out of this sort:"]
        lines += [f"  {s}: {reason}" for s, reason in left_out.items()]
    colors = _colors(len(cells))
    k = min(len(cells), MAX_CCG_CELLS)
    table_h = 0.4 + 0.15 * len(lines)
    fig = plt.figure(figsize=(13, 7 + table_h + 1.6 * max(k, 1)), layout="constrained")
    top, mid, bottom = fig.subfigures(3, 1, height_ratios=[7, table_h, 1.6 * max(k, 1)])
    axs = top.subplot_mosaic([["tmpl", "isi", "pca"], ["amp", "amp", "amp"]])
    fig.suptitle(title or "sort summary")
    tt = np.asarray(sort["template_times_ms"])
    if units is not None:
        for i, c in enumerate(units["cell"]):
            if not int(c) or "merged" in str(units["decision"][i]):
                axs["tmpl"].plot(tt, sort["unit_templates"][i], color="0.6", ls="--", lw=0.8)
    tax = mid.subplots()
    tax.axis("off")
    tax.set_title(
        "curation: every sorter unit (grey dashed templates: dropped or merged)",
        fontsize=9,
        loc="left",
    )
    tax.text(
        0, 1, "\n".join(lines), family="monospace", fontsize=7, va="top", transform=tax.transAxes
    )
    for c, col in zip(cells, colors, strict=True):
        i = c - 1
        axs["tmpl"].plot(tt, sort["templates"][i], color=col, label=f"cell{c:02d}")
        t = times[which == c]
        isi = np.diff(t) / fs * 1000.0
        axs["isi"].hist(
            isi, bins=np.arange(0, 51, 1), histtype="step", color=col, label=f"cell{c:02d}"
        )
        sel = np.asarray(sort["pc_cells"]) == c
        pcs = np.asarray(sort["pcs"])
        axs["pca"].scatter(pcs[sel, 0], pcs[sel, 1], s=3, color=col, alpha=0.5)
        axs["amp"].scatter(t / fs, amps[which == c], s=1, color=col, alpha=0.5)
    axs["tmpl"].set(xlabel="time (ms)", ylabel="µV", title="templates")
    axs["isi"].set(xlabel="ISI (ms)", ylabel="count", title="ISI histograms")
    axs["isi"].axvline(1.5, color="k", lw=0.8, ls=":")
    axs["pca"].set(xlabel="PC1", ylabel="PC2", title="first two principal components")
    axs["amp"].set(xlabel="time in the day's concatenation (s)", ylabel="amplitude (µV)")
    axs["amp"].set_title("amplitudes over time (dashed: session boundaries)")
    for s, start in zip(sort["sessions"], sort["session_starts"], strict=True):
        x = float(start) / fs
        axs["amp"].axvline(x, color="k", ls="--", lw=0.8)
        axs["amp"].annotate(
            str(s), (x, 1.0), xycoords=("data", "axes fraction"), va="top", fontsize=8
        )
    axs["amp"].set_xlim(0, float(np.sum(sort["session_samples"])) / fs)
    if cells:
        axs["tmpl"].legend(fontsize=7, ncol=2)
    else:
        for ax in axs.values():
            ax.text(0.5, 0.5, "no units", transform=ax.transAxes, ha="center")
    if k:
        grid = bottom.subplots(k, k, squeeze=False, sharex=True)
        for a in range(k):
            for b in range(k):
                ta = times[which == cells[a]]
                tb = times[which == cells[b]]
                edges, counts = correlogram(ta, tb, fs, same=a == b)
                ax = grid[a][b]
                ax.bar(
                    edges[:-1],
                    counts,
                    width=np.diff(edges),
                    align="edge",
                    color=colors[a] if a == b else "0.4",
                )
                ax.tick_params(labelsize=6)
                if a == 0:
                    ax.set_title(f"cell{cells[b]:02d}", fontsize=8)
                if b == 0:
                    ax.set_ylabel(f"cell{cells[a]:02d}", fontsize=8)
        bottom.suptitle("auto- and cross-correlograms (±50 ms)", fontsize=9)
    # the left-out sessions also in the PNG's text (tEXt "Description"), one per line
    description = "\n".join(f"session left out: {s}: {r}" for s, r in left_out.items())
    _save(fig, path, metadata={"Description": description} if description else None)


def trial_timeline(markers, timestamps, path, title="", session_start=None) -> None:
    """Trials of a session from its parallel-port markers: start -> cue offset -> end."""
    markers = np.atleast_2d(np.asarray(markers, dtype=float))
    ts = np.atleast_2d(np.asarray(timestamps, dtype=float))
    fig, ax = plt.subplots(figsize=(12, 3.2), layout="constrained")
    n = markers.shape[0] if markers.size else 0
    for i in range(n):
        row_t, row_m = ts[i], markers[i]
        end_code = row_m[-1]
        failed = markers.shape[1] == 3 and 40 <= end_code < 50
        ax.plot([row_t[0], row_t[-1]], [i, i], color="tab:red" if failed else "tab:blue", lw=2)
        ax.plot(row_t, np.full(row_t.size, i), "k|", ms=6)
    if session_start is not None and np.isfinite(session_start):
        ax.axvline(session_start, color="k", ls=":", lw=0.8)
    ax.set(xlabel="time (s, Ripple clock)", ylabel="trial", title=title or "trials")
    ax.text(
        0.99,
        0.02,
        f"{n} trials (red: timeout)" if markers.shape[-1] == 3 else f"{n} trials",
        transform=ax.transAxes,
        ha="right",
        fontsize=8,
    )
    _save(fig, path)


def lfp_spectra(channels: list[tuple[str, np.ndarray, float]], path, title="") -> None:
    """Welch power spectrum of each channel's LFP (log power, 1-150 Hz)."""
    # imported here: scipy.signal costs ~1.7 s at every start of the curate, qc_metrics
    # and qc_trials jobs, which do not use it
    from scipy import signal

    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    for (label, data, fs), col in zip(channels, _colors(len(channels)), strict=True):
        f, p = signal.welch(
            np.asarray(data, dtype=np.float64), fs=fs, nperseg=int(min(2 * fs, len(data)))
        )
        keep = (f >= 1) & (f <= 150)
        ax.semilogy(f[keep], p[keep], color=col, lw=1, label=label)
    ax.set(xlabel="frequency (Hz)", ylabel="power (µV²/Hz)", title=title or "LFP spectra")
    if len(channels) <= 16:
        ax.legend(fontsize=7, ncol=2)
    _save(fig, path)
