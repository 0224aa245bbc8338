"""Provenance of an NWB file: the workflow's version, its config and the digest of every
file the file was written from.

Written twice: ``was_generated_by`` (hippoflow and the libraries that wrote it, name and
version) and the scratch text ``hippoflow_provenance`` (JSON: ``workflow``, ``versions``,
``config``, ``inputs`` as {path: sha256}), summarised in the file's ``notes``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib import metadata

import hippoflow

PACKAGES = ("pynwb", "hdmf", "h5py", "hickle", "numpy")
SCRATCH_NAME = "hippoflow_provenance"


def sha256(path, block: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    out = {"hippoflow": hippoflow.__version__}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _plain(value):
    """Config values as JSON (Snakemake's config may hold paths and tuples)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record(config: Mapping, inputs: Iterable) -> dict:
    return {
        "workflow": f"hippoflow {hippoflow.__version__}",
        "versions": versions(),
        "config": _plain(config),
        "inputs": {str(p): sha256(p) for p in sorted({str(p) for p in inputs})},
    }


def attach(nwbfile, rec: dict) -> None:
    nwbfile.add_scratch(
        json.dumps(rec, indent=1, sort_keys=True),
        name=SCRATCH_NAME,
        description="hippoflow version, config and SHA-256 of every input file (JSON)",
    )
