"""Units: the curated cells of the session's day-channels with this session's spike times.

Inputs per day-channel: the curated sort (``curated_<h>.hkl``: ``cells``, ``templates`` uV,
per-cell ``metrics``, ``n_spikes``) and the listing ``cells.tsv`` written by export_cells,
whose rows name each session's ``cellNN`` directory; the spike times are read from that
directory's ``spiketrain.csv`` (ms from the session's first sample) and stored in s on the
session clock.

A unit's id is ``electrode id x 1000 + cell number`` (channel 33's cell02 is 33002): the
cells are numbered once per day-channel, so a unit keeps its id in every session file of
the day, silent sessions included (an empty train).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pynwb import NWBFile
from pynwb.misc import Units

from hippoflow import dpt
from hippoflow.errors import InputError
from hippoflow.fields.outcome import table_failure
from hippoflow.sorting.outcome import FAILED

ID_STRIDE = 1000  # unit id = electrode id x ID_STRIDE + cell number
WAVEFORM_RATE = 30000.0
METRICS = {
    "snr": "template peak / noise level (SpikeInterface), over the day",
    "isi_violations_ratio": "ISI-violation ratio (1.5 ms threshold), over the day",
    "firing_rate": "spikes per second over the day's sorted sessions",
    "presence_ratio": "fraction of 60 s bins with spikes, over the day",
    "amplitude_cutoff": "estimated fraction of spikes missed below threshold, over the day",
}
# columns from the rule fields' table (hippoflow.fields.steps), pooled over the day's
# navigation sessions; NaN for a channel without fields (no navigation session), no gaze (the
# view columns) or whose fields failed
FIELD_COLUMNS = {
    "place_information": "Skaggs spatial information of the place map, bits/spike",
    "place_p": "p-value of place_information against circular shifts of the spike train",
    "view_information": "Skaggs spatial information of the spatial-view map, bits/spike",
    "view_p": "p-value of view_information against circular shifts of the spike train",
}


def unit_id(channel, cell) -> int:
    return int(channel) * ID_STRIDE + int(cell)


def read_train(path) -> np.ndarray:
    """A spiketrain.csv row (ms) as seconds."""
    text = Path(path).read_text().strip()
    if not text:
        return np.zeros(0)
    return np.array([float(v) for v in text.split(",")]) / 1000.0


def session_cells(cells_tsv, session: str) -> dict[int, Path]:
    """{cell number: cellNN directory} of one session in export_cells' listing."""
    out = {}
    with open(cells_tsv, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["session"] == session:
                out[int(row["cell"].removeprefix("cell"))] = Path(row["directory"])
    return out


def field_values(table) -> dict[int, dict[str, float]]:
    """{cell number: FIELD_COLUMNS values} of a fields.tsv ({} for none)."""
    if table is None:
        return {}
    out = {}
    with open(table, newline="") as f:
        lines = (x for x in f if not x.startswith("#"))  # a failed table: no row
        for row in csv.DictReader(lines, delimiter="\t"):
            out[int(row["cell"].removeprefix("cell"))] = {
                k: float(row[k]) if row[k] not in ("", "nan") else np.nan for k in FIELD_COLUMNS
            }
    return out


def add_units(
    nwbfile: NWBFile,
    session: str,
    sorts: Sequence[tuple[str, str, str, str]],
    electrode_rows: dict[tuple[str, str], int],
    fields: dict[tuple[str, str], str] | None = None,
    failed: dict[tuple[str, str], str] | None = None,
    fields_failed: dict[tuple[str, str], str] | None = None,
) -> int:
    """``sorts``: (array, channel, curated file, cells.tsv) per day-channel; ``fields``:
    (array, channel) -> the rule fields' ``fields.tsv``; returns the number of units written.

    A day-channel whose sorting failed (its curated object has ``failed``:
    :mod:`hippoflow.sorting.outcome`) has no unit; it is added to ``failed`` as
    (array, channel) -> the cause. A day-channel whose fields failed (its ``fields.tsv``
    says so: :mod:`hippoflow.fields.outcome`) has NaN field columns; it is added to
    ``fields_failed`` alike."""
    fields = fields or {}
    fields_failed = fields_failed if fields_failed is not None else {}
    failed = failed if failed is not None else {}
    units = Units(
        name="units",
        description=(
            "curated MountainSort5 cells of each channel (sorted over the day's sessions); "
            "id = electrode id x 1000 + cell number, the same in every session file of the day"
        ),
        waveform_rate=WAVEFORM_RATE,
        waveform_unit="volts",
        resolution=1.0 / WAVEFORM_RATE,  # spike times are 30 kHz sample times
        electrode_table=nwbfile.electrodes,
    )
    units.add_column("cell", "cell directory name (cellNN), numbered once per day-channel")
    units.add_column("channel_name", "arrayNN/channelNNN")
    units.add_column("n_spikes_day", "spikes of the cell over every sorted session of the day")
    for name, text in METRICS.items():
        units.add_column(name, text)
    for name, text in FIELD_COLUMNS.items():
        units.add_column(name, text + ", pooled over the day's navigation sessions (NaN: none)")
    rows = []
    for array, channel, curated, cells_tsv in sorts:
        sort = dpt.load_object(curated)
        if sort.get(FAILED):
            failed[(array, channel)] = str(sort[FAILED])
            continue
        dirs = session_cells(cells_tsv, session)
        cells = [int(c) for c in sort["cells"]]
        table = fields.get((array, channel))
        why = table_failure(table) if table else None
        if why:
            fields_failed[(array, channel)] = why
        field_rows = field_values(table)
        if set(dirs) != set(cells):
            raise InputError(
                f"{cells_tsv}: {session} lists cells {sorted(dirs)}, {curated} has {cells}"
            )
        for i, c in enumerate(cells):
            rows.append(
                dict(
                    id=unit_id(channel, c),
                    spike_times=read_train(dirs[c] / "spiketrain.csv"),
                    electrodes=[electrode_rows[(array, channel)]],
                    waveform_mean=np.asarray(sort["templates"][i], np.float64) * 1e-6,
                    cell=f"cell{c:02d}",
                    channel_name=f"array{array}/channel{channel}",
                    n_spikes_day=int(sort["n_spikes"][i]),
                    **{m: float(sort["metrics"][m][i]) for m in METRICS},
                    **field_rows.get(c, dict.fromkeys(FIELD_COLUMNS, np.nan)),
                )
            )
    if rows:
        nwbfile.units = units  # attached first: its electrodes column links the file's table
        for row in rows:
            units.add_unit(**row)
    return len(rows)
