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

from tests.cluster.localslurm import in_ci

pytestmark = pytest.mark.slow  # more than ~10 s: left out of make test-fast

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "pcluster"
TEMPLATE = PROFILE / "cluster-config.yaml"
VALIDATOR = PROFILE / "validate_template.py"
REQS = PROFILE / "requirements-validate.txt"
VENV = Path(os.environ.get("HIPPOFLOW_PCLUSTER_VENV", REPO / ".venv-pcluster"))
PCLUSTER_PIN = "aws-parallelcluster==3.16.1"


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
            if in_ci():
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
    nodelocal = REPO / "profiles" / "pcluster-nodelocal" / "config.yaml"
    if nodelocal.exists():  # the node-local profile's day group must land on a queue with NVMe
        prof = yaml.safe_load(nodelocal.read_text())
        parts = {v["slurm_partition"] for v in prof["set-resources"].values()}
        assert parts <= queues, (parts, queues)


def test_template_sizes_fsx_and_nvme_for_a_day():
    """Hand-stated numbers of issue 13 against the template (no pcluster needed): a day is
    2.5 h x 124 channels x 30 kHz x 4 bytes x 2 (split + high-pass) on one core's share of
    the sort node's NVMe; the 46 days' raw data (67 GB each) fit on /data."""
    tpl = yaml.safe_load(TEMPLATE.read_text())
    prices = yaml.safe_load((REPO / "config" / "prices.yaml").read_text())["instances"]
    day_gb = 2.5 * 3600 * 124 * 30000 * 4 * 2 / 1e9
    assert day_gb == pytest.approx(267.8, abs=0.1)
    sort = next(q for q in tpl["Scheduling"]["SlurmQueues"] if q["Name"] == "sort")
    for res in sort["ComputeResources"]:
        for inst in res["Instances"]:
            spec = prices[inst["InstanceType"]]
            assert spec["nvme_gb"] / spec["vcpus"] >= day_gb, inst
            assert spec["memory_gib"] / spec["vcpus"] >= 8  # a day-channel sort per core
    fsx = next(s for s in tpl["SharedStorage"] if s["MountDir"] == "/data")["FsxLustreSettings"]
    assert fsx["StorageCapacity"] * 2**30 >= 46 * 67e9 * 1.2  # raw + 20 % for outputs
    assert fsx["StorageCapacity"] / 1024 * fsx["PerUnitStorageThroughput"] > 5 * 97.6  # MB/s


@pytest.mark.parametrize("profile", ["pcluster", "pcluster-nodelocal"])
def test_every_cluster_rule_has_a_partition_and_groups_name_real_rules(profile):
    """Every rule that runs on a node names its queue in each cluster profile (a new rule
    without one lands on the default queue), and every grouped rule exists. Rule names are
    read from the rule files' text, not from the workflow."""
    import re

    text = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    rules = set(re.findall(r"^rule (\w+):", text, flags=re.M))
    rules |= {"rplsplit", "rpllfp"}  # made in a loop: `name: "rplsplit"`
    local = set(re.findall(r"^rule (\w+):(?:(?!^rule ).)*?localrule: True", text, re.M | re.S))
    prof = yaml.safe_load((REPO / "profiles" / profile / "config.yaml").read_text())
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
        d["SharedStorage"][1]["EbsSettings"]["SnapshotId"] = "snapshot-1"

    def fsx_capacity_step(d):
        d["SharedStorage"][0]["FsxLustreSettings"]["StorageCapacity"] = 3600

    def fsx_throughput_of_other_type(d):
        d["SharedStorage"][0]["FsxLustreSettings"]["PerUnitStorageThroughput"] = 200

    def fsx_unknown_deployment(d):
        d["SharedStorage"][0]["FsxLustreSettings"]["DeploymentType"] = "PERSISTENT_3"

    def fsx_dra_and_import_path(d):
        d["SharedStorage"][0]["FsxLustreSettings"]["ImportPath"] = "s3://bucket/raw"

    def fsx_raw_not_linked(d):
        dras = d["SharedStorage"][0]["FsxLustreSettings"]["DataRepositoryAssociations"]
        d["SharedStorage"][0]["FsxLustreSettings"]["DataRepositoryAssociations"] = [
            a for a in dras if a["FileSystemPath"] != "/raw"
        ]

    def sort_without_nvme(d):
        d["Scheduling"]["SlurmQueues"][1]["ComputeResources"][0]["Instances"] = [
            {"InstanceType": "r6i.2xlarge"}
        ]

    def nvme_too_small_per_core(d):
        d["Scheduling"]["SlurmQueues"][1]["ComputeResources"][0]["Instances"] = [
            {"InstanceType": "r6id.2xlarge"}
        ]

    def ephemeral_elsewhere(d):
        d["Scheduling"]["SlurmQueues"][1]["ComputeSettings"]["LocalStorage"]["EphemeralVolume"][
            "MountDir"
        ] = "/local"

    def gp3_throughput_above_iops(d):
        d["SharedStorage"][1]["EbsSettings"]["Throughput"] = 1000

    def head_node_burst_only(d):
        d["HeadNode"]["InstanceType"] = "m6i.large"

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
            fsx_capacity_step,
            fsx_throughput_of_other_type,
            fsx_unknown_deployment,
            fsx_dra_and_import_path,
            fsx_raw_not_linked,
            sort_without_nvme,
            nvme_too_small_per_core,
            ephemeral_elsewhere,
            gp3_throughput_above_iops,
            head_node_burst_only,
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
    for name in (
        "unknown_key",
        "old_os",
        "bad_snapshot",
        "wrong_capacity",
        "fsx_unknown_deployment",
    ):
        assert reports[str(paths[name])]["schema_errors"], name
    # ParallelCluster's own validators catch these ...
    for name in (
        "bad_queue_name",
        "denied_slurm_setting",
        "fsx_capacity_step",
        "fsx_throughput_of_other_type",
        "fsx_dra_and_import_path",
    ):
        assert reports[str(paths[name])]["validator_errors"], name
    # ... and our checks name what is wrong for the data size
    expect = {
        "fsx_capacity_step": "FSx capacity",
        "fsx_throughput_of_other_type": "throughput per TiB",
        "fsx_raw_not_linked": "raw bucket linked at /raw",
        "sort_without_nvme": "NVMe per core",
        "nvme_too_small_per_core": "NVMe per core",
        "ephemeral_elsewhere": "node_local_dir",
        "gp3_throughput_above_iops": "gp3",
        "head_node_burst_only": "sustains",
        "no_data_volume": "/data is one FSx",
    }
    for name, words in expect.items():
        bad = [c["check"] for c in reports[str(paths[name])]["checks"] if not c["ok"]]
        assert any(words in c for c in bad), (name, bad)


def test_docs_export_recipe_reaches_the_hook(tmp_path, monkeypatch):
    """docs/cluster.md's FSx export recipe, as the shell passes it to Snakemake, run through the
    completion hook with a stand-in `aws` that records its arguments (not run against AWS)."""
    import shlex

    from hippoflow.notify import notify

    text = (REPO / "docs" / "cluster.md").read_text().replace("\\\n", " ")
    line = next(
        x for x in text.splitlines() if "create-data-repository-task" in x and "snakemake" in x
    )
    words = shlex.split(line)
    command = next(w for w in words if w.startswith("notify_command="))[len("notify_command=") :]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    aws = bin_dir / "aws"
    aws.write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> {calls}\necho --- >> {calls}\n'
    )
    aws.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    log = tmp_path / "with space" / "x.snakemake.log"
    assert notify(command, "success", [log]) == 0
    export, publish = calls.read_text().split("---\n")[:2]
    assert export.splitlines() == [
        "fsx",
        "create-data-repository-task",
        "--file-system-id",
        "fs-0123456789abcdef0",
        "--type",
        "EXPORT_TO_REPOSITORY",
        "--paths",
        "derived",  # /data/derived: the template's `derived` association, mount-relative
        "--report",
        "Enabled=false",
    ]
    args = publish.splitlines()
    assert args[:2] == ["sns", "publish"]
    assert args[args.index("--subject") + 1] == "hippoflow success"
    assert str(log) in args[args.index("--message") + 1]
    # the path it exports is the one the template links to the results bucket
    tpl = yaml.safe_load(TEMPLATE.read_text())
    fsx = next(s for s in tpl["SharedStorage"] if s["MountDir"] == "/data")["FsxLustreSettings"]
    assert "/derived" in {a["FileSystemPath"] for a in fsx["DataRepositoryAssociations"]}
    assert "output_root=/data/derived" in line
