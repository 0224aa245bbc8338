"""Configuration: the schema is the one home of every default; config/config.yaml holds only
keys a user edits, with the schema's values; Snakemake fills the rest."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from hippoflow import config as hconfig

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "config" / "schema" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
USER_CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def leaves(schema, prefix=()):
    """(path, subschema) of every leaf property of the schema."""
    for key, sub in schema["properties"].items():
        if "properties" in sub:
            yield from leaves(sub, prefix + (key,))
        else:
            yield prefix + (key,), sub


def config_leaves(cfg, prefix=()):
    for key, value in cfg.items():
        if isinstance(value, dict):
            yield from config_leaves(value, prefix + (key,))
        else:
            yield prefix + (key,), value


def schema_at(path):
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    return node


def test_every_schema_key_has_a_default_and_a_description():
    missing = [
        ".".join(p) for p, sub in leaves(SCHEMA) if "default" not in sub or "description" not in sub
    ]
    assert missing == []
    sections = [k for k, sub in SCHEMA["properties"].items() if "properties" in sub]
    assert sections, "the schema has sections"
    for key in sections:
        assert SCHEMA["properties"][key].get("default") == {}, key


@pytest.mark.parametrize("path,value", list(config_leaves(USER_CONFIG)), ids=lambda v: str(v))
def test_config_yaml_agrees_with_schema(path, value):
    assert schema_at(path)["default"] == value, (
        f"config/config.yaml sets {'.'.join(path)} = {value!r}, the schema's default is "
        f"{schema_at(path)['default']!r}: change one so they agree"
    )


def test_snakemake_fills_every_default_the_package_reads():
    """Snakemake's own filling (validate with set_default) gives what hippoflow.config reads
    for code that runs without Snakemake."""
    cfg = {"data_root": "x"}
    validate(cfg, str(SCHEMA_PATH), set_default=True)
    expected = hconfig.defaults()
    expected["data_root"] = "x"
    assert cfg == expected
    for path, sub in leaves(SCHEMA):
        if path == ("data_root",):
            continue
        node = cfg
        for key in path:
            node = node[key]
        assert node == sub["default"], path


def test_a_partial_section_keeps_the_users_value_and_fills_the_rest():
    cfg = {"data_root": "x", "sorting": {"detect_threshold": 5.0}, "behaviour": {"eyelink": False}}
    validate(cfg, str(SCHEMA_PATH), set_default=True)
    assert cfg["sorting"]["detect_threshold"] == 5.0
    assert cfg["sorting"]["min_snr"] == schema_at(("sorting", "min_snr"))["default"]
    assert cfg["behaviour"]["eyelink"] is False
    assert (
        cfg["behaviour"]["align_threshold"]
        == schema_at(("behaviour", "align_threshold"))["default"]
    )


def test_misspelt_key_is_refused():
    cfg = copy.deepcopy({"data_root": "x", "sorting": {"detect_treshold": 5.0}})
    with pytest.raises(Exception, match="detect_treshold"):
        validate(cfg, str(SCHEMA_PATH), set_default=True)


def test_default_sort_file_name_is_stable():
    """Changing the order or values of the sorter's defaults renames every day's sort file
    (the DPT hash runs over the arguments in order): mountainsort_f12f.hkl since the
    matching pass's version joined the hash (mountainsort_e49a.hkl since the
    template-matching keys joined the sorter's; mountainsort_c6a5.hkl before them, with
    npca_per_channel 5; mountainsort_c771.hkl with 2; mountainsort_2ecd.hkl when the hash held
    the curation limits)."""
    from hippoflow.sorting.sort import sort_name

    assert sort_name({}) == "mountainsort_f12f.hkl"


def test_docs_key_table_is_the_schemas():
    """docs/configuration.md's key table is the one generated from the schema, and it names
    every leaf key of the schema with its default (read here from the schema directly)."""
    page = (REPO / "docs" / "configuration.md").read_text()
    assert hconfig.page_with_keys(page) == page, "run: python -m hippoflow.config"
    for path, sub in leaves(SCHEMA):
        row = next(x for x in page.splitlines() if x.startswith(f"| `{'.'.join(path)}` |"))
        if "default" in sub:
            assert json.dumps(sub["default"]) in row.replace("\\|", "|")


def test_docs_key_table_notices_a_change(tmp_path):
    """A key added to the schema makes the page out of date (the check can fail)."""
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["new_key"] = {"type": "integer", "default": 3, "description": "x"}
    page = (REPO / "docs" / "configuration.md").read_text()
    assert hconfig.page_with_keys(page, schema) != page
    assert "| `new_key` | integer | `3` | x |" in hconfig.page_with_keys(page, schema)
