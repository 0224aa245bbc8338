"""Offline validation of profiles/pcluster/cluster-config.yaml with aws-parallelcluster's schema.

aws-parallelcluster lives in its own virtualenv (``.venv-pcluster``, created here on first use
from profiles/pcluster/requirements-validate.txt) because installing it into the workflow's
.venv downgrades packages snakemake uses. Each mutation test proves the validator can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "pcluster"
TEMPLATE = PROFILE / "cluster-config.yaml"
VALIDATOR = PROFILE / "validate_template.py"
REQS = PROFILE / "requirements-validate.txt"
VENV = Path(os.environ.get("HIPPOFLOW_PCLUSTER_VENV", REPO / ".venv-pcluster"))
PCLUSTER_PIN = "aws-parallelcluster==3.16.1"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _has_pcluster(py: Path) -> bool:
    if not py.exists():
        return False
    probe = subprocess.run(
        [str(py), "-c", "import importlib.metadata as m; print(m.version('aws-parallelcluster'))"],
        capture_output=True,
        text=True,
    )
    return probe.returncode == 0 and probe.stdout.strip() == PCLUSTER_PIN.split("==")[1]


@pytest.fixture(scope="session")
def pcluster_python() -> Path:
    py = _venv_python()
    if _has_pcluster(py):
        return py
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(py), "-m", "pip", "install", "-q", "--no-deps", PCLUSTER_PIN],
        [str(py), "-m", "pip", "install", "-q", "-r", str(REQS)],
    ]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            msg = f"could not build {VENV} ({' '.join(cmd)}): {done.stderr.strip()[-500:]}"
            if _in_ci():
                pytest.fail(msg)
            pytest.skip(msg)
    assert _has_pcluster(py)
    return py


def _validate(py: Path, *paths: Path) -> tuple[int, dict]:
    env = dict(os.environ, AWS_DEFAULT_REGION="eu-west-1", AWS_EC2_METADATA_DISABLED="true")
    # no credentials may be needed: hide any that the environment might hold
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(key, None)
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
    env["AWS_CONFIG_FILE"] = "/nonexistent"
    done = subprocess.run(
        [str(py), str(VALIDATOR), *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_template_passes_schema_and_offline_validators(pcluster_python):
    rc, report = _validate(pcluster_python, TEMPLATE)
    assert report["schema_errors"] == {}, report["schema_errors"]
    assert report["validator_errors"] == []
    failed = [c["check"] for c in report["checks"] if not c["ok"]]
    assert failed == []
    assert rc == 0
    # what could not be validated offline is stated, not hidden
    assert any("EC2" in s for s in report["skipped"])


def test_template_queue_names_match_profile_partitions():
    """The profile's partitions must exist as queues in the template (no pcluster needed)."""
    tpl = yaml.safe_load(TEMPLATE.read_text())
    queues = {q["Name"] for q in tpl["Scheduling"]["SlurmQueues"]}
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    used = {
        v["slurm_partition"]
        for v in prof.get("set-resources", {}).values()
        if "slurm_partition" in v
    }
    if "slurm_partition" in prof.get("default-resources", {}):
        used.add(prof["default-resources"]["slurm_partition"])
    # the first queue is the cluster's default partition (rules without a queue land there)
    assert tpl["Scheduling"]["SlurmQueues"][0]["Name"] == "light"
    assert used and used <= queues, (used, queues)


def test_every_cluster_rule_has_a_partition_and_groups_name_real_rules():
    """Every rule that runs on a node names its queue in the profile (a new rule without one
    lands on the default queue), and every grouped rule exists. Rule names are read from the
    rule files' text, not from the workflow."""
    import re

    text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    rules = set(re.findall(r"^rule (\w+):", text, flags=re.M))
    rules.add("rplsplit")  # made in a loop: `name: "rplsplit"`
    local = set(re.findall(r"^rule (\w+):(?:(?!^rule ).)*?localrule: True", text, re.M | re.S))
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    with_partition = {r for r, v in prof["set-resources"].items() if "slurm_partition" in v}
    assert rules - local - with_partition == set()
    assert set(prof["groups"]) <= rules


def _mutations() -> dict[str, callable]:
    def unknown_key(d):
        d["HeadNode"]["Colour"] = "blue"

    def old_os(d):
        d["Image"]["Os"] = "alinux2"

    def bad_queue_name(d):
        d["Scheduling"]["SlurmQueues"][0]["Name"] = "Light_Queue"

    def static_nodes(d):
        d["Scheduling"]["SlurmQueues"][1]["ComputeResources"][0]["MinCount"] = 2

    def no_memory_scheduling(d):
        d["Scheduling"]["SlurmSettings"].pop("EnableMemoryBasedScheduling")

    def credentials(d):
        d["HeadNode"]["CustomActions"] = {
            "OnNodeConfigured": {"Script": "s3://b/x.sh", "Args": ["AKIAABCDEFGHIJKLMNOP"]}
        }

    def no_data_volume(d):
        d["SharedStorage"][0]["MountDir"] = "/scratch"

    def denied_slurm_setting(d):
        d["Scheduling"]["SlurmSettings"]["CustomSlurmSettings"].append(
            {"AccountingStorageType": "accounting_storage/none"}
        )

    def bad_snapshot(d):
        d["SharedStorage"][0]["EbsSettings"]["SnapshotId"] = "snapshot-1"

    def wrong_capacity(d):
        d["Scheduling"]["SlurmQueues"][0]["CapacityType"] = "CHEAP"

    return {
        f.__name__: f
        for f in (
            unknown_key,
            old_os,
            bad_queue_name,
            static_nodes,
            no_memory_scheduling,
            credentials,
            no_data_volume,
            denied_slurm_setting,
            bad_snapshot,
            wrong_capacity,
        )
    }


def test_broken_templates_are_rejected(pcluster_python, tmp_path):
    base = yaml.safe_load(TEMPLATE.read_text())
    paths = {}
    for name, mutate in _mutations().items():
        d = yaml.safe_load(yaml.safe_dump(base))
        mutate(d)
        p = tmp_path / f"{name}.yaml"
        p.write_text(yaml.safe_dump(d))
        paths[name] = p
    rc, reports = _validate(pcluster_python, *paths.values())
    assert rc == 1
    for name, p in paths.items():
        r = reports[str(p)]
        bad = r["schema_errors"] or r["validator_errors"] or not all(c["ok"] for c in r["checks"])
        assert bad, f"mutation {name} was not detected"
    # the schema (not only our own checks) catches the structural mistakes
    for name in ("unknown_key", "old_os", "bad_snapshot", "wrong_capacity"):
        assert reports[str(paths[name])]["schema_errors"], name
    assert reports[str(paths["bad_queue_name"])]["validator_errors"]
    assert reports[str(paths["denied_slurm_setting"])]["validator_errors"]
