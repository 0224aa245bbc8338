"""The day's quality-metrics table of every cell, as HTML (the report's page) and TSV.

Input: sort objects' dicts (keys ``cells``, ``n_spikes``, ``metrics``) with a label per sort
(array, channel, number of sessions).  Output: ``metrics.html`` and ``metrics.tsv``.
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
    rows = []
    for i, c in enumerate(sort["cells"]):
        row = dict(label)
        row["cell"] = f"cell{int(c):02d}"
        row["n_spikes"] = int(sort["n_spikes"][i])
        for m in METRIC_LABELS:
            row[m] = float(sort["metrics"][m][i])
        rows.append(row)
    if not len(sort["cells"]):
        row = dict(label)
        row["cell"] = "(no units)"
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
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>"
        f"<h3>{html.escape(title)}</h3><table><tr>{head}</tr>{body}</table></body></html>\n"
    )
    write_text(Path(html_path), doc)
    if tsv_path:
        lines = ["\t".join(cols)] + ["\t".join(str(r.get(c, "")) for c in cols) for r in rows]
        write_text(Path(tsv_path), "\n".join(lines) + "\n")
