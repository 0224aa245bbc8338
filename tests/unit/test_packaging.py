"""The conda environment for cluster users lists exactly the pinned pip requirements."""

from pathlib import Path

import yaml

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
