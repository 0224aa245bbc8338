"""Shared fixtures: the repository, synthetic trees, and running the real snakemake."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


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
