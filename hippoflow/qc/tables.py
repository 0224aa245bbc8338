"""The day's quality-metrics table of every sorter unit, as HTML (the report's page) and TSV.

Input: curated sort objects' dicts (:func:`hippoflow.sorting.curate.curate`; key ``units``:
every unit the sorter found, its numbers and the curation's decision) with a label per sort
(array, channel, number of sessions).  Output: ``metrics.html`` and ``metrics.tsv``, one row per
sorter unit: the cell it became (if any), spike count, SNR, ISI-violation ratio, firing rate,
presence ratio, amplitude cutoff (SpikeInterface's quality metrics of the unit as sorted) and
the decision in words (kept as cellNN, merged into unit N, dropped and why).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from hippoflow.atomic import write_text

METRIC_LABELS = {
    "snr": "SNR",
    "isi_violations_ratio": "ISI viol. ratio",
    "firing_rate": "rate (Hz)",
    "presence_ratio": "presence",
    "amplitude_cutoff": "amp. cutoff",
}


def metrics_rows(sort: dict, label: dict) -> list[dict]:
    """One row per sorter unit of a curated sort (a "(no units)" row when there is none)."""
    units = sort["units"]
    rows = []
    for i, u in enumerate(units["unit_ids"]):
        row = dict(label)
        row["unit"] = int(u)
        c = int(units["cell"][i])
        row["cell"] = f"cell{c:02d}" if c else ""
        row["n_spikes"] = int(units["n_spikes"][i])
        for m in METRIC_LABELS:
            row[m] = float(units[m][i])
        row["decision"] = str(units["decision"][i])
        rows.append(row)
    if not len(units["unit_ids"]):
        row = dict(label)
        row["unit"] = "(no units)"
        rows.append(row)
    return rows


def _fmt(v):
    if isinstance(v, float):
        return "nan" if not np.isfinite(v) else f"{v:.3g}"
    return html.escape(str(v))


def write_table(rows: list[dict], html_path, tsv_path=None, title="") -> None:
    cols = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    head = "".join(f"<th>{html.escape(METRIC_LABELS.get(c, c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in cols) + "</tr>" for r in rows
    )
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title><style>table{{border-collapse:collapse;font:13px sans-serif}}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "td:last-child{text-align:left}</style></head><body>"
        f"<h3>{html.escape(title)}</h3><table><tr>{head}</tr>{body}</table></body></html>\n"
    )
    write_text(Path(html_path), doc)
    if tsv_path:
        lines = ["\t".join(cols)] + ["\t".join(str(r.get(c, "")) for c in cols) for r in rows]
        write_text(Path(tsv_path), "\n".join(lines) + "\n")
