"""The workflow's configuration defaults, read from the one place they are written.

Inputs: ``config/schema/config.schema.yaml`` (beside the package in this repository).
Outputs: the nested dict of every default, for code that runs without Snakemake (tests,
benchmarks, the package's own entry points); inside the workflow Snakemake fills the same
defaults into ``config`` when it validates it.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import yaml

SCHEMA = Path(__file__).resolve().parents[1] / "config" / "schema" / "config.schema.yaml"


def _defaults(schema: dict):
    props = schema.get("properties")
    if props is None:
        return copy.deepcopy(schema.get("default"))
    return {
        key: _defaults(sub) for key, sub in props.items() if "default" in sub or "properties" in sub
    }


@cache
def _schema_defaults(path: str) -> dict:
    return _defaults(yaml.safe_load(Path(path).read_text()))


def defaults(section: str | None = None, schema=SCHEMA) -> dict:
    """Every default of the schema (or of one section, e.g. ``defaults("sorting")``), in the
    schema's key order."""
    d = copy.deepcopy(_schema_defaults(str(schema)))
    return d if section is None else d[section]
