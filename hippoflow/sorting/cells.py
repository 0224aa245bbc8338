"""Cells of a day-channel: numbering, per-session spike trains and their files.

Units are numbered once per day-channel (cell 1 = deepest template trough), so ``cell03`` is
the same unit in every session of the day.  Input: a curated sort's dict
(:func:`hippoflow.sorting.curate.curate`; keys ``cells``,
``spike_times``, ``spike_cells``, ``session_starts``, ``session_samples``, ``sessions``,
``templates``) and each session's channel directory.  Outputs:

- per session and cell, ``<session>/arrayNN/channelNNN/cellNN/spiketrain.csv`` (one row:
  the times, comma separated, what PyHipp's Spiketrain reads with ``csv.reader``; a silent
  cell's row is empty) and ``spiketrain_d41d.hkl``, PyHipp's Spiketrain object: ``spiketimes``
  is a one-element list holding the cell's float64 times, as PyHipp keeps the csv row, so
  DPT's append concatenates the lists and ``np.array(st.spiketimes[0], dtype=float)`` is
  every spike of the cell (VMPlaceCell reads it so); ``spikeForm`` (the cell's template, uV);
  and DPT's ``numSets`` 1, ``setidx`` [0] (one spike train), ``plotopts``, ``current_idx``;
- per day-channel, ``<day>/mountains/channelNNN/output/templates.hkl``
  (:func:`write_templates`), where PyHipp's Waveform reads the sorter's templates.

Spike times: ms from the session's first sample, ``sample / 30000 x 1000`` with the 0-based
sample index within the session, not rounded further: a spike at sample k is at the time of
the high-pass data's sample k (``k / 30`` ms, the clock of RPLRaw/RPLHighPass and of
RPLParallel's ``trialIndices``).  PyHipp wrote ``(1-based sample index) / 30`` ms, i.e. every
time 1/30 ms later than ours: subtract 1/30 ms from a PyHipp-era train to compare.  PyHipp
also dropped each session's last spike before the next session's start (its slice ended one
spike early): every spike is kept here.
"""

from __future__ import annotations

import re
from pathlib import Path

import hickle
import numpy as np

from hippoflow import dpt
from hippoflow.atomic import atomic_output, write_text
from hippoflow.naming import SPIKETRAIN_ARGS, SPIKETRAIN_NAME

FS = 30000.0  # sampling rate of the high-pass data: spike samples -> ms
CELL_RE = re.compile(r"cell[0-9]{2,}$")
CELL_LEVEL = "cell"  # DPT level of the Spiketrain object


def number_cells(units, depth) -> dict:
    """{unit: cell number}, cell 1 for the deepest trough (``depth[unit]``), in cell order."""
    ordered = sorted(units, key=lambda u: -depth[u])
    return {u: c + 1 for c, u in enumerate(ordered)}


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
                if f.name == "spiketrain.csv" or re.match(
                    r"(spiketrain|vmplacecell)_[0-9a-f]{4}\.hkl$", f.name
                ):
                    f.unlink()
            try:
                d.rmdir()
                removed.append(d)
            except OSError:
                pass  # holds files of other analyses: leave it
    return removed


def waveform_templates(templates) -> np.ndarray:
    """The sort's templates (cells x samples) in MountainSort's orientation, float32.

    MountainSort's ``templates.mda`` is channels x clip samples x units; PyHipp's Waveform
    squeezes it to (samples, units) and plots the units against the sample index.  A
    single-channel sort gives (1, samples, cells), column k-1 being ``cellNN`` k.  The clips
    are the sort's 90 samples (-1 to 2 ms around the detection, uV); PyHipp's MountainSort4
    step computed 150-sample clips, so only the length differs.
    """
    t = np.asarray(templates, dtype=np.float32)
    if t.ndim != 2:
        raise ValueError(f"templates must be cells x samples, got shape {t.shape}")
    return np.ascontiguousarray(t.T[None, :, :])


def write_templates(sort: dict, path) -> np.ndarray:
    """Write ``<day>/mountains/channelNNN/output/templates.hkl``: a bare hickle array
    (:func:`waveform_templates`), no DPT dict, as PyHipp's sorting step dumped it."""
    arr = waveform_templates(sort["templates"])
    with atomic_output(path) as tmp:
        hickle.dump(arr, str(tmp), mode="w")
    return arr


def cell_trains(sort: dict) -> tuple[list[int], list]:
    """The curated sort's cell numbers and, per session in its order, each cell's spike
    train (:func:`split_by_session`)."""
    cells = [int(c) for c in sort["cells"]]
    per_session = split_by_session(
        sort["spike_times"],
        sort["spike_cells"],
        sort["session_starts"],
        sort["session_samples"],
        cells,
    )
    return cells, per_session


def write_cells(sort: dict, channel_dirs: dict, log=None) -> list[dict]:
    """Write every cell's per-session spike trains; returns rows (session, cell, n_spikes, dir)."""
    cells, per_session = cell_trains(sort)
    templates = np.asarray(sort["templates"])
    rows = []
    for session, trains in zip(sort["sessions"], per_session, strict=True):
        cdir = Path(channel_dirs[session])
        remove_stale_cells(cdir, {cell_dir_name(c) for c in cells})
        for i, c in enumerate(cells):
            d = cdir / cell_dir_name(c)
            d.mkdir(parents=True, exist_ok=True)
            t = trains[c]
            write_text(d / "spiketrain.csv", ",".join(repr(float(v)) for v in t) + "\n")
            obj = {
                "spiketimes": [t.astype(np.float64)],
                "spikeForm": templates[i],
                **dpt.bookkeeping(CELL_LEVEL),
            }
            dpt.save_object(d / SPIKETRAIN_NAME, obj, SPIKETRAIN_ARGS, [d.resolve()])
            rows.append({"session": session, "cell": c, "n_spikes": int(t.size), "dir": str(d)})
        if log:
            log.info("%s: %d cells", cdir, len(cells))
    return rows
