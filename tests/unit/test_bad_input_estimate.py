"""python -m hippoflow.estimate says what the workflow would say: planning problems and
warnings, a selected day that does not exist (no row of its own), a config or profile the
workflow refuses (the same checks), a missing path (one line, no traceback), a recording
length that is not one.  A tiny generated tree; every message is stated here."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from hippoflow.estimate.__main__ import main
from hippoflow.synth import day as gen

DAY = "picasso/20181105"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("estbad")
    gen.generate(
        gen.Options(out=root / "data", channels=2, seconds=4.0, eye_seconds=2.0, seed=3),
        log=lambda *_: None,
    )
    day = root / "data" / DAY
    ns5 = next((day / "session01").glob("*.ns5"))
    shutil.copy(ns5, ns5.with_name("second.ns5"))  # a problem: two .ns5 in session01
    (day / "session09").mkdir()  # a warning: an empty session folder
    return root


def _config(tmp_path, **keys):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(keys))
    return str(path)


def _run(capsys, *argv):
    code = main(list(map(str, argv)))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_problems_and_warnings_are_printed_and_no_row_for_an_unknown_day(tree, tmp_path, capsys):
    data = tree / "data"
    cfg = _config(tmp_path, days=["20181105", "20181199"])
    code, out, _ = _run(capsys, "--data-root", data, "--configfile", cfg)
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[2:4]] == [DAY, "total"]  # no row named ''
    assert lines[4].startswith("shared storage: ")
    assert "planning problems (each fails a job input_problem): 2" in lines
    assert (
        f"  {data / DAY / 'session01'}: expected exactly one .ns5 per session, found 2: "
        "181105_Block1.ns5, second.ns5"
    ) in lines
    assert (
        f"  {data}: days selection names '20181199', but no day folder of that name with "
        "session folders was found (pattern [0-9]+)"
    ) in lines
    assert "warnings: 1" in lines
    assert (
        f"  {data / DAY / 'session09'}: session folder without .nev or .ns5 file: skipped" in lines
    )


@pytest.mark.parametrize(
    "keys, message",
    [
        (
            {"nwb": {"enabled": "false"}},
            "config key 'nwb.enabled': 'false' is not of type 'boolean'",
        ),
        ({"nwb": {"age": "P7 years"}}, "config key 'nwb.age': 'P7 years' is not an ISO 8601"),
        ({"lfp": {"LFPOrder": 5}}, "config key 'lfp.LFPOrder': 5 is not a multiple of 2"),
    ],
)
def test_a_config_the_workflow_refuses_is_refused(tree, tmp_path, capsys, keys, message):
    code, out, err = _run(
        capsys, "--data-root", tree / "data", "--configfile", _config(tmp_path, **keys)
    )
    assert code == 2 and out == ""
    assert err.startswith(f"hippoflow.estimate: {message}")
    assert "Traceback" not in err


def test_the_node_local_profile_without_node_local_dir_is_refused(tree, tmp_path, capsys):
    code, _, err = _run(
        capsys,
        "--data-root",
        tree / "data",
        "--configfile",
        _config(tmp_path),
        "--profile",
        "profiles/pcluster-nodelocal",
        "--mode",
        "nodelocal",
    )
    assert code == 2
    assert err.startswith(
        "hippoflow.estimate: profiles/pcluster-nodelocal runs a day as one job for node-local "
        "intermediates: set intermediates.node_local_dir too"
    )


def test_node_local_dir_on_the_command_line_is_the_configs(tree, tmp_path, capsys):
    """--node-local-dir DIR prices the node-local profile as a config file with
    intermediates.node_local_dir DIR does (the workflow's --config form)."""
    common = ["--data-root", tree / "data", "--profile", "profiles/pcluster-nodelocal"]
    common += ["--mode", "nodelocal", "--json"]
    code, by_option, _ = _run(
        capsys, *common, "--configfile", _config(tmp_path), "--node-local-dir", "/scratch/x"
    )
    assert code == 0
    cfg = tmp_path / "local.yaml"
    cfg.write_text("intermediates: {node_local_dir: /scratch/x}\n")
    code, by_file, _ = _run(capsys, *common, "--configfile", cfg)
    assert code == 0
    assert json.loads(by_option)["total"] == json.loads(by_file)["total"]


@pytest.mark.parametrize(
    "option", ["--data-root", "--profile", "--cluster-file", "--prices", "--rates"]
)
def test_a_missing_path_is_one_line(tree, tmp_path, capsys, option):
    argv = ["--data-root", tree / "data", "--configfile", _config(tmp_path)]
    missing = tmp_path / "nowhere"
    if option == "--data-root":
        argv[1] = missing
    else:
        argv += [option, missing]
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"hippoflow.estimate: {missing}")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("seconds", ["-5", "0", "nan", "inf", "ten"])
def test_assume_seconds_must_be_a_length(tree, capsys, seconds):
    with pytest.raises(SystemExit) as exc:
        main(["--data-root", str(tree / "data"), "--assume-seconds", seconds])
    assert exc.value.code == 2
    assert "--assume-seconds" in capsys.readouterr().err
