"""Shared fixtures: the repository, synthetic trees, and running the real snakemake.

Also the test tiers and the real recordings:

- every test gets the marker of its folder (``unit``, ``workflow``, ``cluster``); tests that
  read the real recordings are marked ``realdata`` and long ones ``slow`` (see pyproject.toml);
- the real recordings are found at ``$HIPPOFLOW_REALDATA`` (default ``../shared/realdata``
  beside the clone). Where they are absent the ``realdata`` tests are skipped with that reason,
  and the end of the run says how many tests were skipped and why;
- with ``CI`` set (``.ci/run`` runs under CI=true) a skipped test fails the run: CI has the
  recordings and every tool, so nothing may be left out there.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.localslurm import in_ci

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REALDATA = Path(os.environ.get("HIPPOFLOW_REALDATA") or REPO.parent / "shared" / "realdata")
TIERS = ("unit", "workflow", "cluster")


def realdata_missing() -> str | None:
    """Why the real recordings cannot be read, or None when they are there."""
    if (REALDATA / "README.md").is_file():
        return None
    return (
        f"real recordings not found at {REALDATA} (set HIPPOFLOW_REALDATA to the shared "
        "realdata folder; CI has it at ../shared/realdata)"
    )


def pytest_collection_modifyitems(config, items):
    missing = realdata_missing()
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO).parts
        if len(parts) > 2 and parts[0] == "tests" and parts[1] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[1]))
        if missing and item.get_closest_marker("realdata"):
            item.add_marker(pytest.mark.skip(reason=missing))


_SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report)
        _SKIPPED.append(reason.removeprefix("Skipped: "))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    if _SKIPPED and in_ci() and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _SKIPPED:
        return
    reasons: dict[str, int] = {}
    for reason in _SKIPPED:
        reasons[reason] = reasons.get(reason, 0) + 1
    terminalreporter.section("skipped tests", sep="-")
    lines = [
        f"{n} skipped: {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])
    ]
    for line in lines:
        terminalreporter.write_line(line)
    if os.environ.get("HIPPOFLOW_SKIP_REPORT"):  # make test prints these at its very end
        with open(os.environ["HIPPOFLOW_SKIP_REPORT"], "a") as f:
            f.write("".join(line + "\n" for line in lines))
    if in_ci():
        terminalreporter.write_line(
            f"CI is set: {len(_SKIPPED)} skipped test(s) fail the run (CI must run them all)"
        )


def digests(root: Path) -> dict[str, str]:
    """SHA-256 of every raw file (.nev, .ns5, .edf, .asc, .txt) under root."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        if p.is_file() and p.suffix in {".nev", ".ns5", ".edf", ".asc", ".txt"}:
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def job_counts(stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a snakemake run or dry-run as {rule: count}."""
    table = stdout[stdout.index("Job stats:") :]
    counts = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    return counts


def run_snakemake(workdir: Path, *args, config: dict | None = None, check=True, timeout=900):
    """Run the real snakemake command on the repository's Snakefile in ``workdir``."""
    cmd = [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(REPO / "config" / "config.yaml"),
    ]
    if config:
        cmd += ["--config"] + [f"{k}={v}" for k, v in config.items()]
    cmd += list(args)
    env = dict(os.environ)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
        )
    return proc


def generate(out: Path, *args) -> None:
    from hippoflow.synth import day as gen

    gen.main(["--out", str(out), *map(str, args)])


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def small_day(tmp_path_factory) -> Path:
    """A small generated day (4 channels, 2 navigation sessions + sessioneye, 20 s each)."""
    root = tmp_path_factory.mktemp("small") / "data"
    generate(root, "--channels", 4, "--seconds", 20, "--sessions", 2, "--units", 2)
    return root


@pytest.fixture(scope="session")
def small_day_run(small_day, tmp_path_factory):
    """The whole workflow (default target) run once on the small day, outputs in a separate
    root: (work dir, output root, config, raw digests before the run).  Shared by the Ripple
    and NWB workflow tests (one full run for both)."""
    work = tmp_path_factory.mktemp("work")
    outroot = work / "derived"
    before = digests(small_day)
    cfg = {"data_root": small_day, "output_root": outroot}
    run_snakemake(work, "--cores", "2", config=cfg)
    return work, outroot, cfg, before
