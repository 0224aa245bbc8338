"""Config values checked when the run starts, each problem naming its key
(hippoflow.config.config_problems), and ``null`` from the command line meaning null.

The NWB subject checks are compared with nwbinspector's own checks run on a pynwb Subject
(the checks DANDI's validation makes critical), value by value; the command-line items go
through Snakemake's own parser.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from snakemake.cli import parse_config
from snakemake.utils import validate

from hippoflow import config as hconfig

AGES = [
    "P7Y",
    "P7 years",
    "7Y",
    "P",
    "PT",
    "P0D/",
    "/P8Y",
    "P7Y/P8Y",
    "P8Y/P7Y",
    "P12M/P1Y",
    "P1Y2M3W4DT5H6M7S",
    "P1.5Y",
    "PT36H",
    "P7y",
    "p7Y",
    "P0D/P0D",
]
# refused here where nwbinspector 0.7.2 does not say so: "/" (a range with neither end, which
# it accepts: it states nothing; P0D/ is how the schema says "not known") and a range of
# three ends (on which its check raises ValueError)
REFUSED_HERE = ["/", "P7Y/P8Y/P9Y"]
SPECIES = [
    "Macaca mulatta",
    "macaque",
    "Macaca Mulatta",
    "Mus musculus domesticus",
    "http://purl.obolibrary.org/obo/NCBITaxon_9544",
    "https://purl.obolibrary.org/obo/NCBITaxon_9544",
    "M mulatta",
]


def _subject(**kw):
    from pynwb.file import Subject

    base = {"subject_id": "picasso", "species": "Macaca mulatta", "sex": "U", "age": "P7Y"}
    return Subject(**(base | kw))


@pytest.mark.parametrize("age", AGES)
def test_age_as_dandi_checks_it(age):
    from nwbinspector.checks import check_subject_age, check_subject_proper_age_range

    subject = _subject(age=age)
    dandi_ok = (
        check_subject_age(subject) is None and check_subject_proper_age_range(subject) is None
    )
    why = hconfig.age_problem(age)
    assert (why is None) == dandi_ok, why
    problems = hconfig.config_problems({"nwb": {"age": age}})
    assert bool(problems) == (not dandi_ok)
    if problems:
        assert problems[0].startswith(f"config key 'nwb.age': {age!r}")


@pytest.mark.parametrize("age", REFUSED_HERE)
def test_ages_refused_here_that_nwbinspector_does_not_refuse(age):
    from nwbinspector.checks import check_subject_age

    try:
        assert check_subject_age(_subject(age=age)) is None
    except ValueError:
        pass
    assert hconfig.age_problem(age).startswith(f"{age!r} is not an ISO 8601 duration")


@pytest.mark.parametrize("species", SPECIES)
def test_species_as_dandi_checks_it(species):
    from nwbinspector.checks import check_subject_species_form

    dandi_ok = check_subject_species_form(_subject(species=species)) is None
    problems = hconfig.config_problems({"nwb": {"species": species}})
    assert (problems == []) == dandi_ok
    if problems:
        assert problems[0].startswith(f"config key 'nwb.species': {species!r} is neither")


@pytest.mark.parametrize("sex", ["M", "F", "U", "O", "male", "X", ""])
def test_sex_as_dandi_checks_it(sex):
    from nwbinspector.checks import check_subject_sex

    dandi_ok = check_subject_sex(_subject(sex=sex)) is None
    assert (hconfig.config_problems({"nwb": {"sex": sex}}) == []) == dandi_ok


def test_nwb_metadata_not_checked_when_no_nwb_files_are_made():
    assert hconfig.config_problems({"nwb": {"enabled": False, "age": "P7 years"}}) == []


def test_directories_that_are_files(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    cfg = {
        "output_root": str(f / "derived"),
        "scratch_dir": str(f),
        "intermediates": {"node_local_dir": str(f / "sub" / "dir")},
    }
    assert hconfig.config_problems(cfg) == [
        f"config key 'output_root': {f / 'derived'} cannot be made: {f} is a file, not a directory",
        f"config key 'scratch_dir': {f} is not a directory (it is a file)",
        f"config key 'intermediates.node_local_dir': {f / 'sub' / 'dir'} cannot be made: {f} is "
        "a file, not a directory",
    ]
    assert f.read_text() == "x"


def test_directories_that_can_be_used(tmp_path):
    cfg = {
        "output_root": str(tmp_path / "new" / "derived"),  # made by the run
        "scratch_dir": "$SLURM_TMPDIR/hippoflow",  # expanded on the node: not checked here
        "intermediates": {"node_local_dir": str(tmp_path)},
    }
    assert hconfig.config_problems(cfg) == []
    assert not (tmp_path / "new").exists(), "nothing made by the check"


def _problems_as_nobody(cfg: dict) -> list[str]:
    """config_problems(cfg) checked by the unprivileged user ``nobody`` (root may write to any
    directory, so as root the check runs in a child process with setpriv)."""
    code = (
        "import json, sys; from hippoflow import config; "
        "print(json.dumps(config.config_problems(json.loads(sys.argv[1]))))"
    )
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    cmd += [sys.executable, "-c", code, json.dumps(cfg)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_a_directory_that_cannot_be_written(tmp_path):
    if os.geteuid() == 0:
        # a folder nobody can reach: root's tmp_path is private (0700)
        base = Path(tempfile.mkdtemp(prefix="hippoflow-ro-"))
        base.chmod(0o755)
        d = base / "ro"
        d.mkdir(mode=0o555)
        try:
            problems = _problems_as_nobody({"scratch_dir": str(d)})
        finally:
            shutil.rmtree(base)
    else:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o500)
        try:
            problems = hconfig.config_problems({"scratch_dir": str(d)})
        finally:
            d.chmod(0o700)
    assert problems == [f"config key 'scratch_dir': {d} is a directory this user cannot write to"]


@pytest.mark.parametrize("word", ["null", "Null", "NULL", "~", "none", "None"])
def test_null_on_the_command_line_is_null(word):
    items = [f"scratch_dir={word}", f"nwb={{institution: {word}, lab: {word}}}"]
    items.append(f"intermediates={{node_local_dir: {word}}}")
    cfg = parse_config(items)
    hconfig.retype_cli_config(cfg, hconfig.SCHEMA, items)
    assert cfg["scratch_dir"] is None
    assert cfg["nwb"] == {"institution": None, "lab": None}
    assert cfg["intermediates"] == {"node_local_dir": None}
    validate(copy.deepcopy(cfg), str(hconfig.SCHEMA), set_default=True)


def test_text_that_only_contains_null_stays_text():
    items = ["nwb={institution: Nullarbor Institute}", "scratch_dir=/scratch/null"]
    cfg = parse_config(items)
    hconfig.retype_cli_config(cfg, hconfig.SCHEMA, items)
    assert cfg == {"nwb": {"institution": "Nullarbor Institute"}, "scratch_dir": "/scratch/null"}


def test_temporary_directories_inside_the_raw_tree(tmp_path):
    raw = tmp_path / "raw"
    (raw / "picasso").mkdir(parents=True)
    cfg = {
        "data_root": str(raw),
        "output_root": str(raw),  # PyHipp's in-place layout: allowed
        "scratch_dir": str(raw / "picasso" / "tmp"),
        "intermediates": {"node_local_dir": str(tmp_path / "elsewhere")},
    }
    assert hconfig.config_problems(cfg) == [
        f"config key 'scratch_dir': {raw / 'picasso' / 'tmp'} is inside data_root {raw}: "
        "temporary files would be written into the raw tree (use a node-local disk, e.g. "
        "/scratch or $TMPDIR)"
    ]
