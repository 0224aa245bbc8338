"""The run's provenance page: configuration, package versions and raw-input digests.

Inputs: the workflow's config dict, the raw files (``.ns5``/``.nev``) to list and the digest
records the split wrote while reading each session's ``.ns5`` (:mod:`hippoflow.digests`).
Output: one HTML page (``provenance.html``) listing the parameters, the installed versions of
:data:`PACKAGES` and Python, extra facts (workflow directory, git version) and each input's
size and SHA-256: from its record when there is one (the page's job never reads that file),
else hashed here.  A record whose size or mtime no longer match its file is not shown as the
file's digest: its row says that the file changed and the page warns at the top of the table.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from hippoflow import digests as _digests
from hippoflow.atomic import write_text

log = logging.getLogger(__name__)


PACKAGES = (
    "snakemake",
    "hippoflow",
    "spikeinterface",
    "mountainsort5",
    "isosplit6",
    "numpy",
    "scipy",
    "h5py",
    "hickle",
    "neo",
    "matplotlib",
    "pyedflib",
    "eyelinkio",
    "numba",
)


def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "not installed"
    return out


def digest_rows(inputs: list, records=(), digests: bool = True, log=log) -> list[dict]:
    """One row per raw file: file, bytes, sha256 (or why none is shown), source, problem.

    A file with a record takes its digest from it (``source`` "rplsplit"), after checking
    that its size and mtime are still the record's (``problem`` otherwise: the digest is not
    shown, the file changed after the split read it); any other file is hashed here when
    ``digests`` (``source`` "provenance"); without ``digests`` only sizes are listed."""
    by_path = {}
    for r in records if digests else ():
        rec = _digests.read_record(r)
        by_path[str(rec["path"])] = rec
    rows = []
    for p in map(str, inputs):
        rec = by_path.pop(p, None)
        row = {"file": p, "bytes": None, "sha256": None, "source": "", "problem": None}
        if rec is not None:
            row["source"] = "rplsplit"
            row["problem"] = _digests.record_problem(rec)
            row["bytes"] = int(rec["size"])
            if row["problem"] is None:
                row["sha256"] = rec[_digests.ALGORITHM]
            else:
                log.warning("%s: %s", p, row["problem"])
        else:
            row["bytes"] = os.stat(p).st_size
            if digests:
                row["sha256"], row["source"] = _digests.sha256_file(p), "provenance"
        rows.append(row)
    for p in by_path:  # a record of a file the page does not list (planning changed)
        log.warning("%s: digest record of a file not among the raw inputs: ignored", p)
    return rows


def _digest_cell(row: dict, digests: bool) -> str:
    if row["problem"]:
        return f"<b>NOT SHOWN</b>: {html.escape(row['problem'])}"
    if row["sha256"]:
        return row["sha256"]
    return "(not shown: report.input_digests is false)" if not digests else ""


SOURCES = {
    "rplsplit": "hashed by rplsplit while splitting (record beside the session's outputs)",
    "provenance": "hashed by this page's job",
    "": "-",
}


def provenance_html(
    path, config: dict, inputs: list, digests: bool = True, extra=None, records=(), log=log
) -> list[dict]:
    """Parameters, package versions and input digests of the run, as one HTML page.

    ``inputs``: every raw file to list; ``records``: digest records of some of them
    (:func:`digest_rows`).  Returns the rows of the raw-input table."""
    import json
    import platform

    rows = digest_rows(inputs, records, digests, log=log)
    versions = package_versions()
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>provenance</title>",
        "<style>table{border-collapse:collapse;font:12px monospace}td,th{border:1px solid #ccc;"
        "padding:2px 6px}</style></head><body><h3>Parameters (config)</h3><pre>",
        html.escape(json.dumps(config, indent=1, sort_keys=True, default=str)),
        "</pre><h3>Software</h3><table><tr><th>package</th><th>version</th></tr>",
    ]
    parts += [
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in versions.items()
    ]
    parts.append(
        f"<tr><td>python</td><td>{html.escape(platform.python_version())}</td></tr></table>"
    )
    for k, v in (extra or {}).items():
        parts.append(f"<p><b>{html.escape(k)}</b>: {html.escape(str(v))}</p>")
    parts.append("<h3>Raw inputs</h3>")
    changed = [r for r in rows if r["problem"]]
    if changed:
        parts.append(
            f"<p class='changed'><b>WARNING: {len(changed)} raw file(s) changed after their "
            "digest was taken; their digests are not shown:</b> "
            + "; ".join(html.escape(r["file"]) for r in changed)
            + "</p>"
        )
    parts.append("<table><tr><th>file</th><th>bytes</th><th>SHA-256</th><th>digest taken</th></tr>")
    parts += [
        f"<tr><td>{html.escape(r['file'])}</td><td>{r['bytes']}</td>"
        f"<td>{_digest_cell(r, digests)}</td><td>{SOURCES[r['source']]}</td></tr>"
        for r in rows
    ]
    parts.append("</table></body></html>\n")
    write_text(Path(path), "".join(parts))
    return rows
