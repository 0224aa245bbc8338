"""Provenance of an NWB file: the workflow's version, its config and the digest of every
file the file was written from.

Written twice: ``was_generated_by`` (hippoflow and the libraries that wrote it, name and
version) and the scratch text ``hippoflow_provenance`` (JSON: ``workflow``, ``versions``,
``config``, ``inputs`` as {path: sha256}, ``digest_records`` as {path: record} for the digests
taken from a record instead of a read), summarised in the file's ``notes``.

The session's ``.ns5`` (the header the job reads its time origin from) is not read for its
digest when the session is split: :func:`header_digest` takes it from the split's record
(:mod:`hippoflow.digests`, ``<session>/hippoflow_digest_ns5.json``), after checking that the
record is of this file and that its size and mtime are still the record's; every other input
is hashed here (:func:`hippoflow.digests.sha256_file`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from importlib import metadata

import hippoflow
from hippoflow import digests
from hippoflow.errors import InputError

PACKAGES = ("pynwb", "hdmf", "h5py", "hickle", "numpy")
SCRATCH_NAME = "hippoflow_provenance"


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


def _same_file(a, b) -> bool:
    if str(a) == str(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def header_digest(header, record_path) -> str:
    """The SHA-256 of ``header`` (the session's ``.ns5``) from the split's digest record at
    ``record_path``, without reading the file.

    Raises :class:`InputError` when the record is not readable, is of another file, or its
    file changed (size or mtime) since the split read it: the NWB file's LFP and units were
    made from the file as the record describes it, so neither the record's digest nor a
    digest of the file as it is now would be the digest of what the NWB file was made from.
    """
    rec = digests.read_record(record_path)
    if not _same_file(rec["path"], header):
        raise InputError(
            f"{record_path}: digest record of {rec['path']}, not of the session's {header} "
            "(written by `python -m hippoflow.digests` with another spelling of the data root? "
            "delete it and write it again with the workflow's data_root)"
        )
    problem = digests.record_problem(rec)
    if problem:
        raise InputError(
            f"{header}: {problem}. No NWB file is written from split outputs of an older "
            f"version of the file (the split's record: {record_path})"
        )
    return rec[digests.ALGORITHM]


def record(
    config: Mapping, inputs: Iterable, known: Mapping | None = None, sources: Mapping | None = None
) -> dict:
    """The provenance record: every input's SHA-256, from ``known`` ({path: sha256}, digests
    taken elsewhere; ``sources`` {path: record path} says where) or else hashed here."""
    known = {str(k): v for k, v in (known or {}).items()}
    paths = sorted({str(p) for p in inputs} | set(known))
    return {
        "workflow": f"hippoflow {hippoflow.__version__}",
        "versions": versions(),
        "config": _plain(config),
        "inputs": {p: known[p] if p in known else digests.sha256_file(p) for p in paths},
        "digest_records": {str(k): str(v) for k, v in (sources or {}).items()},
    }


def attach(nwbfile, rec: dict) -> None:
    nwbfile.add_scratch(
        json.dumps(rec, indent=1, sort_keys=True),
        name=SCRATCH_NAME,
        description="hippoflow version, config and SHA-256 of every input file (JSON)",
    )
