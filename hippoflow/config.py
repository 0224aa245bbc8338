"""The workflow's configuration defaults, read from the one place they are written.

Inputs: ``config/schema/config.schema.yaml`` (beside the package in this repository).
Outputs: the nested dict of every default, for code that runs without Snakemake (tests,
benchmarks, the package's own entry points); inside the workflow Snakemake fills the same
defaults into ``config`` when it validates it.
"""

from __future__ import annotations

import copy
import json
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


# ---------------------------------------------------------------------------------------
# Values given on the command line

# Snakemake 9 (snakemake/cli.py: parse_config) reads each ``--config key=value`` with int,
# float, "True"/"False", then YAML's BaseLoader, then str, keeping the first that succeeds.
# BaseLoader keeps every scalar inside a list or a mapping a string: ``behaviour={eyelink:
# false}`` arrives as {"eyelink": "false"} and ``lfp={LFPOrder: 6}`` as {"LFPOrder": "6"}.
# And a plain string with ": " in it is a mapping to YAML: ``notify_command='aws sns publish
# ... --message "log: {log}"'`` arrives as {'aws sns publish ... "log': {'log': ''}}.
# These types are what strings are read back into, where the schema accepts no string.
_READ_BACK = ("boolean", "integer", "number", "null")


def _branches(schema: dict) -> list[dict]:
    """The schema and, recursively, its oneOf/anyOf alternatives."""
    out = [schema]
    for key in ("oneOf", "anyOf"):
        for sub in schema.get(key, []):
            out += _branches(sub)
    return out


def _types(schema: dict) -> set[str]:
    """JSON types a schema node accepts (from type, or from the values of enum/const)."""
    types: set[str] = set()
    for b in _branches(schema):
        t = b.get("type")
        if t is not None:
            types.update([t] if isinstance(t, str) else t)
            continue
        values = b.get("enum", []) + ([b["const"]] if "const" in b else [])
        for v in values:
            types.add(
                "string"
                if isinstance(v, str)
                else "boolean"
                if isinstance(v, bool)
                else "number"
                if isinstance(v, int | float)
                else "null"
                if v is None
                else "other"
            )
    return types


def _fits(value, types: set[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return bool({"integer", "number"} & types)
    if isinstance(value, float):
        return "number" in types or ("integer" in types and value.is_integer())
    return value is None and "null" in types


def _read_back(text: str, types: set[str]):
    """``text`` as the boolean/number/null YAML reads it, or ``text`` itself."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    if _fits(value, types):
        return value
    if {"integer", "number"} & types:  # YAML 1.1 reads "1e3" (no dot) as a string
        for parse in (int, float):
            try:
                value = parse(text.strip())
            except ValueError:
                continue
            if _fits(value, types):
                return value
    return text


def _coerce(value, schema: dict, path: str, changed: list[str]):
    branches = _branches(schema)
    if isinstance(value, dict):
        for key in value:
            sub = next(
                (b["properties"][key] for b in branches if key in b.get("properties", {})), None
            )
            if sub is not None:
                value[key] = _coerce(value[key], sub, f"{path}.{key}" if path else key, changed)
        return value
    if isinstance(value, list):
        items = next((b["items"] for b in branches if isinstance(b.get("items"), dict)), None)
        if items is not None:
            for i, item in enumerate(value):
                value[i] = _coerce(item, items, f"{path}[{i}]", changed)
        return value
    if isinstance(value, str):
        types = _types(schema)
        if "string" in types or not types & set(_READ_BACK):
            return value
        new = _read_back(value, types)
        if new is not value:
            changed.append(f"{path}: {value!r} -> {new!r}")
        return new
    return value


def retype_cli_config(config: dict, schema=SCHEMA, cli_args=()) -> list[str]:
    """Give, in place, the values ``--config`` set the types the schema wants.

    Snakemake's ``--config`` parsing (see above) leaves every value nested in a mapping or a
    list a string, so without this ``--config 'behaviour={eyelink: false}'`` fails
    validation (or, unvalidated, means ``bool("false") is True``), and it turns a string
    holding ": " into a mapping.  Two repairs:

    - a string leaf where the schema wants a boolean, an integer, a number or null and
      accepts no string is read back with YAML (``"false"`` -> False, ``"6"`` -> 6); a
      string the schema accepts as a string (a path, ``sorting.scheme: "2"``, the names in
      ``days``) is left as it is, and one that does not read as the wanted type stays a
      string, so validation still names the key;
    - a top-level key the schema wants as a string (or null) whose value is not one gets
      the text as given on the command line: ``cli_args`` are the raw ``key=value`` items
      (``workflow.config_settings.config_args``).

    Returns ``["lfp.LFPOrder: '6' -> 6", ...]``, one entry per value changed; idempotent.
    """
    if not isinstance(schema, dict):
        schema = yaml.safe_load(Path(schema).read_text())
    changed: list[str] = []
    props = schema.get("properties", {})
    for arg in cli_args or ():
        key, sep, text = str(arg).partition("=")
        if not sep or key not in props or key not in config:
            continue
        types = _types(props[key])
        value = config[key]
        if types and types <= {"string", "null"} and not isinstance(value, str | None):
            config[key] = text
            changed.append(f"{key}: {value!r} -> {text!r}")
    _coerce(config, schema, "", changed)
    return changed


# Words that mean "no value" for a nullable path given on the command line, where Snakemake
# passes `output_root=null` as the string "null" (the schema also accepts strings there).
NULL_WORDS = frozenset({"null", "none", "~", ""})


def output_root(config: dict) -> str:
    """Where derived files go: ``output_root``, or ``data_root`` when it is null (also when
    the command line gave ``output_root=null``, which would otherwise be a folder ``null/``)."""
    value = config.get("output_root")
    if value is None or str(value).strip().lower() in NULL_WORDS:
        return str(config["data_root"])
    return str(value)


# ---------------------------------------------------------------------------------------
# The key table of docs/configuration.md, generated from the schema

DOCS_PAGE = SCHEMA.parents[2] / "docs" / "configuration.md"
TABLE_START = "<!-- keys: generated by `python -m hippoflow.config`; do not edit by hand -->"
TABLE_END = "<!-- end of keys -->"


def _type_text(schema: dict) -> str:
    if "const" in schema:
        return f"`{schema['const']}`"
    if "enum" in schema:
        return " / ".join(f"`{v}`" for v in schema["enum"])
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(_type_text(b) for b in schema.get("oneOf", schema.get("anyOf")))
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds and "items" in schema:
        inner = _type_text(schema["items"])
        kinds = [f"list of {inner}" if k == "array" else k for k in kinds]
    return " or ".join(kinds)


def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def key_rows(schema: dict | None = None, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) of every key of the schema, sections first then
    their keys as ``section.key``, in the schema's order."""
    if schema is None:
        schema = yaml.safe_load(SCHEMA.read_text())
    rows = []
    for key, sub in schema.get("properties", {}).items():
        name = prefix + key
        if "properties" in sub:
            rows.append((name, "section", "", sub.get("description", "")))
            rows += key_rows(sub, name + ".")
            continue
        default = json.dumps(sub["default"]) if "default" in sub else "(required)"
        rows.append((name, _type_text(sub), default, sub.get("description", "")))
    return rows


def keys_markdown(schema: dict | None = None) -> str:
    """The Markdown table of every configuration key (the docs page's generated part)."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, kind, default, text in key_rows(schema):
        shown = f"`{default}`" if default else ""
        lines.append(f"| `{key}` | {_cell(kind)} | {_cell(shown)} | {_cell(text)} |")
    return "\n".join([TABLE_START, *lines, TABLE_END])


def page_with_keys(page: str, schema: dict | None = None) -> str:
    """The docs page's text with its generated table replaced by the schema's."""
    head, sep, rest = page.partition(TABLE_START)
    if not sep or TABLE_END not in rest:
        raise ValueError(f"the page has no '{TABLE_START}' ... '{TABLE_END}' block")
    return head + keys_markdown(schema) + rest.partition(TABLE_END)[2]


def main(argv=None) -> int:
    """``python -m hippoflow.config [--check]``: rewrite (or only compare) the key table of
    docs/configuration.md from config/schema/config.schema.yaml."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m hippoflow.config", description=main.__doc__)
    ap.add_argument("--page", type=Path, default=DOCS_PAGE, help="the page (%(default)s)")
    ap.add_argument("--check", action="store_true", help="only say whether it is up to date")
    args = ap.parse_args(argv)
    old = args.page.read_text()
    new = page_with_keys(old)
    if args.check:
        if old != new:
            print(f"{args.page}: key table differs from the schema: run python -m hippoflow.config")
            return 1
        print(f"{args.page}: key table matches the schema")
        return 0
    args.page.write_text(new)
    print(f"{args.page}: key table written ({len(key_rows())} keys)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
