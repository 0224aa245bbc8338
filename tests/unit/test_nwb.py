"""NWB export without Snakemake: the ``nwb`` config section (schema), the recording start
time read from a header (against neo's reading of the same file), the targets, the unit ids,
and a bad header named in the error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from hippoflow import plan as hplan
from hippoflow.errors import InputError
from hippoflow.nwb import metadata, units

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "config" / "schema" / "config.schema.yaml"


def filled(section: dict) -> dict:
    cfg = {"data_root": "x", "nwb": section}
    validate(cfg, str(SCHEMA_PATH), set_default=True)
    return cfg["nwb"]


def test_schema_section_defaults():
    nwb = filled({})
    assert nwb == {
        "enabled": True,
        "highpass": False,
        "raw": False,
        "compression_level": 4,
        "species": "Macaca mulatta",
        "sex": "U",
        "age": "P0D/",
        "subject_description": "",
        "institution": None,
        "lab": None,
        "experimenter": [],
        "electrode_location": "unknown",
    }
    # a partial section keeps the user's values and fills the rest
    part = filled({"sex": "M", "age": "P7Y", "experimenter": ["Doe, Jane"]})
    assert (part["sex"], part["age"], part["experimenter"]) == ("M", "P7Y", ["Doe, Jane"])
    assert part["enabled"] is True and part["highpass"] is False
    # config.yaml does not repeat the schema's defaults for this section
    assert "nwb" not in (yaml.safe_load((REPO / "config" / "config.yaml").read_text()) or {})


@pytest.mark.parametrize(
    "bad, key",
    [
        ({"sex": "male"}, "male"),
        ({"age": "7 years"}, "7 years"),
        ({"compression_level": 12}, "12"),
        ({"highpas": True}, "highpas"),
    ],
)
def test_schema_refuses_bad_values(bad, key):
    with pytest.raises(Exception, match=key):
        filled(bad)


@pytest.fixture(scope="module")
def header_tree(tmp_path_factory):
    from hippoflow.synth import day as gen

    root = tmp_path_factory.mktemp("nwbplan") / "data"
    gen.main(
        [
            "--out",
            str(root),
            "--channels",
            "2",
            "--seconds",
            "20",
            "--sessions",
            "2",
            "--header-only",
        ]
    )
    return root


def test_recording_start_equals_neos_reading(header_tree):
    from neo.rawio import BlackrockRawIO

    for name in ("session01", "sessioneye"):
        sdir = header_tree / "picasso" / "20181105" / name
        ns5 = next(sdir.glob("*.ns5"))
        reader = BlackrockRawIO(filename=str(ns5.with_suffix("")), nsx_to_load=5)
        reader.parse_header()
        expected = reader.raw_annotations["blocks"][0]["rec_datetime"]
        got = metadata.recording_start(ns5)
        assert got == expected.replace(tzinfo=dt.UTC)
        # the .nev holds the same time origin (used when a session has no .ns5)
        assert metadata.recording_start(next(sdir.glob("*.nev"))) == got


def test_bad_header_is_named(tmp_path):
    bad = tmp_path / "x.ns5"
    bad.write_bytes(b"NOTANSX!" + bytes(400))
    with pytest.raises(InputError, match="x.ns5: not an NSx/NEV file"):
        metadata.recording_start(bad)
    zero = tmp_path / "z.ns5"
    zero.write_bytes(b"NEURALCD" + bytes(400))  # a zero date
    with pytest.raises(InputError, match="z.ns5: header time origin 0000-00-00"):
        metadata.recording_start(zero)


def test_targets_one_per_session_with_markers_and_off_switch(header_tree):
    cfg = {"data_root": str(header_tree)}
    on = hplan.make_plan(cfg).nwb_targets()
    assert on == [
        f"picasso/20181105/{s}/picasso_20181105_{s}.nwb"
        for s in ("session01", "session02", "sessioneye")
    ]
    assert hplan.make_plan({**cfg, "nwb": {"enabled": False}}).nwb_targets() == []


def test_unit_ids_are_stable_per_day_channel():
    assert units.unit_id("033", 2) == 33002
    assert units.unit_id("1000", 12) == 1000012


def test_rule_reads_the_split_record_of_each_split_session(header_tree, tmp_path):
    """NwbInputs.ns5_digest: the split's record of the .ns5 for a split session; nothing for
    a session without an .ns5 (its header is the .nev) or whose channels are not selected
    (no split: the job hashes its .ns5)."""
    import shutil
    from types import SimpleNamespace

    from hippoflow.nwb.inputs import NwbInputs

    root = tmp_path / "data"
    shutil.copytree(header_tree, root)
    day = root / "picasso" / "20181105"
    next((day / "session01").glob("*.ns5")).unlink()

    def inputs(cfg):
        return NwbInputs(hplan.make_plan({"data_root": str(root), **cfg}), "/o/{}".format, "c")

    split, none = inputs({}), inputs({"channels": [999]})
    for name in ("session01", "session02", "sessioneye"):
        wc = SimpleNamespace(subject="picasso", day="20181105", session=name)
        files = sorted(p.name for p in (day / name).iterdir())
        ns5 = [str(day / name / f) for f in files if f.endswith(".ns5")]
        nev = [str(day / name / f) for f in files if f.endswith(".nev")]
        assert split.header(wc) == none.header(wc) == (ns5 or nev)
        record = [f"/o/picasso/20181105/{name}/hippoflow_digest_ns5.json"]
        assert split.ns5_digest(wc) == (record if ns5 else [])
        assert none.ns5_digest(wc) == []


def test_a_failed_sort_is_left_out_and_named(tmp_path):
    """A day-channel whose curated object says its sort failed gets no unit; the caller is
    told which and why, and the file's note names it (hippoflow.nwb.steps.partial_note)."""
    from hippoflow import dpt
    from hippoflow.config import defaults
    from hippoflow.nwb import ecephys
    from hippoflow.nwb.steps import partial_note

    start = dt.datetime(2018, 11, 5, 10, tzinfo=dt.UTC)
    f = metadata.make_file("picasso", "20181105", "session01", start, defaults("nwb"), "x")
    channels = [("01", "001"), ("02", "033")]
    ecephys.add_electrodes(f, channels, "unknown")
    cause = "picasso 20181105 array02 channel033: MountainSort5 did not finish within 1 s"
    cur = tmp_path / "curated.hkl"
    dpt.save_object(cur, {"cells": [], "failed": cause}, {}, [tmp_path])
    failed = {}
    n = units.add_units(f, "session01", [("02", "033", str(cur), "unread.tsv")], {}, {}, failed)
    assert n == 0 and f.units is None
    assert failed == {("02", "033"): cause}
    assert partial_note(failed) == (
        f"PARTIAL FILE: no units of 1 channel(s) whose sort failed ({cause}); the next run of "
        "the workflow redoes these sorts and replaces this file"
    )
    assert partial_note({("01", "001"): "killed"}).startswith(
        "PARTIAL FILE: no units of 1 channel(s) whose sort failed (array01/channel001: killed)"
    )
