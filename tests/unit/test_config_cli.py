"""``--config`` values get the schema's types (hippoflow.config.retype_cli_config).

The command-line items go through Snakemake's own parser (``snakemake.cli.parse_config``,
what ``snakemake --config`` calls); the reference is the same values written in a YAML
config file, read with ``yaml.safe_load`` as ``--configfile`` would.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from snakemake.cli import parse_config
from snakemake.utils import validate

from hippoflow import config as hconfig

NOTIFY = (
    "aws sns publish --region eu-west-1 --topic-arn arn:aws:sns:eu-west-1:<account>:hippoflow "
    '--subject "hippoflow {status}" --message "hippoflow {status}; log: {log}"'
)

# (command-line items, the same as a config file)
CASES = {
    "eyelink": (["behaviour={eyelink: false}"], "behaviour: {eyelink: false}"),
    "lfp-part": (["lfp={LFPOrder: 6}"], "lfp: {LFPOrder: 6}"),
    "lfp-full": (
        ["lfp={ResampleRate: 1000, LFPOrder: 6, LowPassFrequency: [1, 150]}"],
        "lfp: {ResampleRate: 1000, LFPOrder: 6, LowPassFrequency: [1, 150]}",
    ),
    "behaviour-numbers": (
        ["behaviour={align_threshold: 0.05, raycast_radius_px: 0, eyelink: true}"],
        "behaviour: {align_threshold: 0.05, raycast_radius_px: 0, eyelink: true}",
    ),
    "sorting": (
        ["sorting={scheme: '3', detect_sign: -1, detect_threshold: 5, normalize: whiten}"],
        "sorting: {scheme: '3', detect_sign: -1, detect_threshold: 5, normalize: whiten}",
    ),
    "report": (["report={input_digests: false}"], "report: {input_digests: false}"),
    "paths-and-lists": (
        ["data_root=/data/raw", "output_root=/scratch/derived", "days=[20181105,20181106]"],
        "{data_root: /data/raw, output_root: /scratch/derived, days: ['20181105', '20181106']}",
    ),
    "notify": ([f"notify_command={NOTIFY}"], yaml.safe_dump({"notify_command": NOTIFY})),
}


def from_cli(items):
    cfg = parse_config(items)
    changes = hconfig.retype_cli_config(cfg, hconfig.SCHEMA, items)
    return cfg, changes


@pytest.mark.parametrize("name", list(CASES))
def test_cli_values_equal_the_config_file_values(name):
    items, as_yaml = CASES[name]
    cfg, _ = from_cli(items)
    assert cfg == yaml.safe_load(as_yaml)
    validate(copy.deepcopy(cfg), str(hconfig.SCHEMA), set_default=True)  # accepted by the schema


def test_what_snakemake_alone_passes():
    """Why this exists: Snakemake 9.27 keeps nested scalars strings and reads a ': ' as a
    mapping (if it stops doing so, these expectations tell)."""
    assert parse_config(["behaviour={eyelink: false}"]) == {"behaviour": {"eyelink": "false"}}
    assert parse_config(["lfp={LFPOrder: 6}"]) == {"lfp": {"LFPOrder": "6"}}
    assert isinstance(parse_config([f"notify_command={NOTIFY}"])["notify_command"], dict)
    with pytest.raises(Exception, match="eyelink"):
        validate(
            parse_config(["behaviour={eyelink: false}"]), str(hconfig.SCHEMA), set_default=True
        )


def test_changes_are_listed_and_idempotent():
    items = ["behaviour={eyelink: false}", "lfp={LowPassFrequency: [1, 150]}"]
    cfg, changes = from_cli(items)
    assert changes == [
        "behaviour.eyelink: 'false' -> False",
        "lfp.LowPassFrequency[0]: '1' -> 1",
        "lfp.LowPassFrequency[1]: '150' -> 150",
    ]
    again = copy.deepcopy(cfg)
    assert hconfig.retype_cli_config(again, hconfig.SCHEMA, items) == []
    assert again == cfg


def test_strings_the_schema_accepts_stay_strings():
    cfg, _ = from_cli(["sorting={scheme: 2}", "channels=[1,2,33]", "data_root=2018"])
    assert cfg["sorting"]["scheme"] == "2"  # an enum of strings
    assert cfg["channels"] == ["1", "2", "33"]  # integer or string: left as given
    assert cfg["data_root"] == "2018"  # a path that looks like a number


def test_a_wrong_value_still_fails_validation_naming_the_key():
    cfg, changes = from_cli(["behaviour={eyelink: maybe}", "lfp={LFPOrder: six}"])
    assert changes == []
    assert cfg == {"behaviour": {"eyelink": "maybe"}, "lfp": {"LFPOrder": "six"}}
    with pytest.raises(Exception, match="eyelink|LFPOrder"):
        validate(cfg, str(hconfig.SCHEMA), set_default=True)


def test_values_from_a_config_file_are_untouched():
    cfg = yaml.safe_load("behaviour: {eyelink: false}\nlfp: {LFPOrder: 6}\nnotify_command: ''\n")
    before = copy.deepcopy(cfg)
    assert hconfig.retype_cli_config(cfg) == []
    assert cfg == before


@pytest.mark.parametrize("given", [None, "null", "NULL", "None", "~", ""])
def test_null_output_root_means_in_place(given):
    """`--config output_root=null` arrives as the string "null": it means the raw tree, as
    null in a config file does, never a folder named null/."""
    from hippoflow.config import output_root

    assert output_root({"data_root": "/raw", "output_root": given}) == "/raw"
    assert output_root({"data_root": "/raw", "output_root": "/derived"}) == "/derived"
