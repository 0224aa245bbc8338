"""The run's provenance page: configuration, package versions and raw-input digests.

Inputs: the workflow's config dict and the raw files (``.ns5``/``.nev``).  Output: one HTML page
(``provenance.html``) listing the parameters, the installed versions of :data:`PACKAGES` and
Python, extra facts (workflow directory, git version) and each input's size and SHA-256.
"""

from __future__ import annotations

import hashlib
import html
import os
from pathlib import Path

from hippoflow.atomic import write_text


def sha256(path, chunk=1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


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


def provenance_html(path, config: dict, inputs: list, digests: bool = True, extra=None) -> None:
    """Parameters, package versions and input digests of the run, as one HTML page."""
    import json
    import platform

    rows = []
    for p in inputs:
        st = os.stat(p)
        rows.append((p, st.st_size, sha256(p) if digests else "(not computed)"))
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
    parts.append("<h3>Raw inputs</h3><table><tr><th>file</th><th>bytes</th><th>SHA-256</th></tr>")
    parts += [
        f"<tr><td>{html.escape(str(p))}</td><td>{n}</td><td>{d}</td></tr>" for p, n, d in rows
    ]
    parts.append("</table></body></html>\n")
    write_text(Path(path), "".join(parts))
