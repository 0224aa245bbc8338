"""hippoflow.dagspeed: the once-per-script check and the by-name output index change how fast
Snakemake plans, not what it plans. Snakemake's own code (HIPPOFLOW_DAGSPEED=0) is the
reference."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, generate, job_counts, run_snakemake

pytestmark = pytest.mark.slow  # more than ~10 s: left out of make test-fast

BIN = Path(sys.executable).parent


def _jobs(stdout: str) -> list[str]:
    """Every job of a dry run as its rule, wildcards, inputs, outputs, log and resources lines
    (sorted; resources come from the rules' functions, called with the parameters each names)."""
    keep = re.compile(r"^\s*(rule|localrule|input|output|log|wildcards|resources)\b")
    return sorted(line.strip() for line in stdout.splitlines() if keep.match(line))


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dagspeed") / "data"
    # two days, the second with a channel only one session holds: several rplsplit rules
    generate(root, "--channels", 3, "--seconds", 2, "--sessions", 2, "--header-only")
    generate(
        root,
        "--channels",
        5,
        "--seconds",
        2,
        "--sessions",
        1,
        "--header-only",
        "--days",
        "20181106",
    )
    return root


def _dry(tmp: Path, root: Path, speed: str, *targets: str) -> list[str]:
    os.environ["HIPPOFLOW_DAGSPEED"] = speed
    try:
        proc = run_snakemake(
            tmp, "-n", *targets, config={"data_root": root, "output_root": tmp / "out"}
        )
    finally:
        del os.environ["HIPPOFLOW_DAGSPEED"]
    return _jobs(proc.stdout)


def test_same_jobs_as_snakemakes_own_planning(tree, tmp_path):
    own = _dry(tmp_path, tree, "0")
    fast = _dry(tmp_path, tree, "1")
    assert len(own) > 300  # a real DAG: rules, inputs, outputs of ~100 jobs
    assert fast == own


def _missing_script_run(tmp: Path, install: bool) -> str:
    (tmp / "Snakefile").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from hippoflow import dagspeed\n"
        + ("assert dagspeed.install()\n" if install else "")
        + "rule all:\n    input: ['a.txt', 'b.txt']\n"
        "rule make:\n    output: '{x}.txt'\n    script: 'gone.py'\n"
    )
    proc = subprocess.run(
        [str(BIN / "snakemake"), "-n", "--directory", str(tmp), "-s", str(tmp / "Snakefile")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    return proc.stdout.strip().splitlines()[-1]


def test_unreadable_script_still_stops_the_run(tmp_path):
    (tmp_path / "own").mkdir()
    (tmp_path / "fast").mkdir()
    own = _missing_script_run(tmp_path / "own", install=False)
    fast = _missing_script_run(tmp_path / "fast", install=True)
    assert "gone.py" in own
    assert fast.replace("/fast/", "/") == own.replace("/own/", "/")


def _snakemake(tmp: Path, install: bool, snakefile: str, *args: str):
    """snakemake on a small Snakefile with or without hippoflow.dagspeed installed."""
    tmp.mkdir(exist_ok=True)
    (tmp / "Snakefile").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from hippoflow import dagspeed\n"
        + ("assert dagspeed.install()\n" if install else "")
        + snakefile
    )
    return subprocess.run(
        [str(BIN / "snakemake"), "--directory", str(tmp), "-s", str(tmp / "Snakefile"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_output_inside_another_jobs_output_still_refused(tmp_path):
    # rule b's file lies in rule a's directory output: Snakemake's ChildIOException
    rules = (
        "rule all:\n    input: 'd', 'd/x.txt'\n"
        "rule a:\n    output: directory('d')\n    shell: 'mkdir -p {output}'\n"
        "rule b:\n    output: 'd/x.txt'\n    shell: 'touch {output}'\n"
    )
    own = _snakemake(tmp_path / "own", False, rules, "-n")
    fast = _snakemake(tmp_path / "fast", True, rules, "-n")
    for proc in (own, fast):
        assert proc.returncode != 0
        assert "File/directory is a child to another output" in proc.stdout + proc.stderr
    # and side by side (no output in another's) both plan the same three jobs
    ok = rules.replace("'d/x.txt'", "'e/x.txt'")
    own = _snakemake(tmp_path / "own", False, ok, "-n")
    fast = _snakemake(tmp_path / "fast", True, ok, "-n")
    assert own.returncode == fast.returncode == 0, fast.stdout + fast.stderr
    assert _jobs(own.stdout) == _jobs(fast.stdout) and len(_jobs(own.stdout)) >= 5


def test_changed_script_and_params_still_rerun(tmp_path):
    # the script-mtime check and the params check (both behind the patched lookups)
    rules = (
        "rule all:\n    input: expand('{x}.txt', x=['a', 'b'])\n"
        "rule make:\n    output: '{x}.txt'\n    params: n=lambda wc: config.get('count', 1)\n"
        "    script: 'make.py'\n"
    )
    for name, install in (("own", False), ("fast", True)):
        d = tmp_path / name
        d.mkdir()
        (d / "make.py").write_text("open(snakemake.output[0], 'w').write('x')\n")
        assert _snakemake(d, install, rules, "--cores", "1").returncode == 0
        assert "Nothing to be done" in _snakemake(d, install, rules, "-n").stdout
        old = (d / "a.txt").stat().st_mtime
        os.utime(d / "make.py", (old + 10, old + 10))  # the script is newer than the outputs
        dry = _snakemake(d, install, rules, "-n")
        assert "Code has changed" in dry.stdout and "make" in job_counts(dry.stdout), dry.stdout
        os.utime(d / "make.py", (old - 10, old - 10))
        dry = _snakemake(d, install, rules, "-n", "--config", "count=2")
        assert "Params have changed" in dry.stdout, dry.stdout
        assert job_counts(dry.stdout)["make"] == 2


def test_output_lookup_finds_the_same_producers_for_every_pattern_shape(tmp_path):
    # one rule per shape of constant suffix the patched index buckets differently: by trailing
    # path components ("out/{s}/x.tar.gz"), by the text after the last "." ("{s}.log" and
    # "{s}_x.log", "{s}.tar.gz"), or walked as before (no "." in it, or none at all); the
    # logs add more ".log" patterns. A producer missed is a MissingRuleException, a wrong
    # one a different job or an AmbiguousRuleException: the same dry run either way.
    shapes = {
        "dot": ("'{s}.log'", ["a.log", "b.c.log"]),
        "dotx": ("'{s}_x.log'", ["c_x.log"]),
        "gz": ("'{s}.tar.gz'", ["d.tar.gz"]),
        "tail": ("'out/{s}/x.tar.gz'", ["out/e/x.tar.gz"]),
        "nodot": ("'plain/{s}_end'", ["plain/f_end", "plain/g.h_end"]),
        "open": ("'open/{s}/{t}'", ["open/i/j", "open/k/l.m"]),
    }
    rules = "ruleorder: dotx > dot\n" + "rule all:\n    input: {}\n".format(
        ", ".join(repr(f) for _, fs in shapes.values() for f in fs)
    )
    for name, (pattern, _) in shapes.items():
        rules += (
            f"rule {name}:\n    output: {pattern}\n"
            f"    log: 'logs/{name}/{{s}}{'/{t}' if '{t}' in pattern else ''}.log'\n"
            "    shell: 'touch {output}'\n"
        )
    # "out/e/x.tar.gz" fits "{s}.tar.gz" too: both plannings see two producers
    for install in (False, True):
        proc = _snakemake(tmp_path / f"ambiguous{install}", install, rules, "-n")
        assert proc.returncode != 0 and "AmbiguousRuleException" in proc.stdout + proc.stderr
    rules = "ruleorder: tail > gz\n" + rules
    own = _snakemake(tmp_path / "own", False, rules, "-n")
    fast = _snakemake(tmp_path / "fast", True, rules, "-n")
    assert own.returncode == 0, own.stdout + own.stderr
    assert fast.returncode == 0, fast.stdout + fast.stderr
    counts = job_counts(fast.stdout)
    assert {r: counts.get(r) for r in shapes} == {r: len(fs) for r, (_, fs) in shapes.items()}
    assert _jobs(fast.stdout) == _jobs(own.stdout)
