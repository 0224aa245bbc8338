"""Packaging: the conda environment lists exactly the pinned pip requirements, and `pip install .` installs every subpackage."""

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # more than ~10 s: left out of make test-fast

REPO = Path(__file__).resolve().parents[2]


def pins(lines):
    return sorted(
        line.split("#")[0].strip().lower() for line in lines if line.split("#")[0].strip()
    )


def test_conda_env_matches_requirements():
    env = yaml.safe_load((REPO / "envs" / "hippoflow.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    reqs = pins((REPO / "requirements.txt").read_text().splitlines())
    assert pins(pip) == reqs
    assert all("==" in r for r in reqs), "every requirement is pinned"
    assert "python=3.11" in env["dependencies"]


def test_requirements_agree_with_constraints():
    constraints = {
        line.split("==")[0].lower(): line.strip().lower()
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    for req in pins((REPO / "requirements.txt").read_text().splitlines()):
        name = req.split("==")[0]
        assert constraints[name.replace("_", "-")] == req or constraints[name] == req


def test_pip_install_ships_every_subpackage(tmp_path):
    """`pip install .` (a real build, outside the repository) installs the subpackages: the
    installed copy, not the source tree, answers `import hippoflow.ripple.filters`."""
    import subprocess
    import sys

    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), "."],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    source_pkgs = sorted(
        str(p.parent.relative_to(REPO)) for p in (REPO / "hippoflow").rglob("__init__.py")
    )
    installed = sorted(
        str(p.parent.relative_to(target)) for p in (target / "hippoflow").rglob("__init__.py")
    )
    assert installed == source_pkgs
    probe = (
        "import hippoflow.ripple.filters as f, hippoflow.behaviour.eyelink.asc as a; "
        "print(f.__file__); print(a.__file__)"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for line in run.stdout.split():
        assert line.startswith(str(target)), line
