"""Validate a ParallelCluster 3 configuration offline, without AWS credentials.

Run it with a Python that has aws-parallelcluster installed (the tests create
``.venv-pcluster`` for that, see ``tests/unit/test_pcluster_template.py``)::

    .venv-pcluster/bin/python profiles/pcluster/validate_template.py \
        profiles/pcluster/cluster-config.yaml

Prints one JSON object: ``{"schema_errors": {...}, "validator_errors": [...],
"checks": [...], "skipped": [...]}`` (or ``{path: report}`` for several files)
and exits 1 if anything failed.

What is checked:
1. ParallelCluster's marshmallow ``ClusterSchema`` (unknown keys, required fields,
   enums, types, regular expressions) — the same loader ``pcluster`` uses.
2. The pure (no AWS call) validators of ParallelCluster that apply here, run directly:
   cluster, queue and compute-resource names, duplicate names, shared-storage
   name and mount directory, custom Slurm settings deny-list.
3. Our own requirements from issue 6 (MinCount 0, memory-based scheduling, /data
   from a snapshot, spot queue, no credentials in the file).

What is NOT checked (needs AWS): instance types exist in the region, head-node
memory (needs EC2 instance-type data), subnet/VPC, key pair, snapshot and IAM
policy existence, quotas, AMI lookup — listed in ``skipped``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

import yaml  # noqa: E402

SKIPPED = [
    "InstanceTypeValidator / instance types offered in the region (EC2 DescribeInstanceTypes)",
    "HeadNodeMemorySizeValidator (needs EC2 instance-type memory)",
    "subnet, VPC and security-group existence (EC2)",
    "key pair existence (EC2 DescribeKeyPairs)",
    "EBS snapshot existence, size and state (EC2 DescribeSnapshots)",
    "IAM policy existence (IAM GetPolicy)",
    "AMI lookup for the OS, quotas, CloudFormation dry run (pcluster create-cluster --dryrun)",
]

CREDENTIAL_PATTERNS = [
    r"AKIA[0-9A-Z]{16}",
    r"aws_access_key_id",
    r"aws_secret_access_key",
    r"aws_session_token",
    r"\.aws/credentials",
]


def _failures(results) -> list[str]:
    return [
        f"{r.validator_type if hasattr(r, 'validator_type') else ''}: {r.message}" for r in results
    ]


def validate(path: Path, cluster_name: str = "hippoflow") -> dict:
    from marshmallow import ValidationError
    from pcluster.schemas.cluster_schema import ClusterSchema
    from pcluster.validators import cluster_validators as cv
    from pcluster.validators.slurm_settings_validator import (
        SLURM_SETTINGS_DENY_LIST,
        CustomSlurmSettingLevel,
        CustomSlurmSettingsValidator,
    )

    text = path.read_text()
    data = yaml.safe_load(text)
    report: dict = {"schema_errors": {}, "validator_errors": [], "checks": [], "skipped": SKIPPED}

    try:
        ClusterSchema(cluster_name=cluster_name).load(data)
    except ValidationError as err:
        report["schema_errors"] = err.messages

    # --- pcluster's own pure validators -------------------------------------------------
    errs: list[str] = []
    sched = data.get("Scheduling", {})
    queues = sched.get("SlurmQueues", [])
    settings = sched.get("SlurmSettings", {})

    class _Settings:  # the two attributes ClusterNameValidator reads
        database = settings.get("Database")
        external_slurmdbd = settings.get("ExternalSlurmdbd")

    class _Sched:
        pass

    _Sched.settings = _Settings
    errs += [r.message for r in cv.ClusterNameValidator().execute(cluster_name, _Sched)]
    errs += [
        r.message for r in cv.DuplicateNameValidator().execute([q["Name"] for q in queues], "Queue")
    ]
    for q in queues:
        errs += [r.message for r in cv.NameValidator().execute(q["Name"])]
        crs = q.get("ComputeResources", [])
        errs += [
            r.message
            for r in cv.DuplicateNameValidator().execute(
                [c["Name"] for c in crs], "Compute resource"
            )
        ]
        for c in crs:
            errs += [r.message for r in cv.NameValidator().execute(c["Name"])]
    for st in data.get("SharedStorage", []):
        errs += [r.message for r in cv.SharedStorageNameValidator().execute(st["Name"])]
        errs += [r.message for r in cv.SharedStorageMountDirValidator().execute(st["MountDir"])]
    deny = SLURM_SETTINGS_DENY_LIST["SlurmConf"]
    errs += [
        r.message
        for r in CustomSlurmSettingsValidator().execute(
            settings.get("CustomSlurmSettings", []),
            deny["Global"] + deny["Accounting"],
            CustomSlurmSettingLevel.SLURM_CONF,
        )
    ]
    report["validator_errors"] = errs

    # --- our requirements ---------------------------------------------------------------
    checks: list[tuple[str, bool]] = []
    names = [q["Name"] for q in queues]
    checks.append(("queues light and sort exist", {"light", "sort"} <= set(names)))
    crs_all = [c for q in queues for c in q.get("ComputeResources", [])]
    checks.append(
        ("every compute resource has MinCount 0", all(c.get("MinCount") == 0 for c in crs_all))
    )
    checks.append(
        (
            "MinCount <= MaxCount",
            all(c.get("MinCount", 0) <= c.get("MaxCount", 10) for c in crs_all),
        )
    )

    def itypes(q):
        out = set()
        for c in q.get("ComputeResources", []):
            out |= {i["InstanceType"] for i in c.get("Instances", [])}
            if "InstanceType" in c:
                out.add(c["InstanceType"])
        return out

    qd = {q["Name"]: q for q in queues}
    if {"light", "sort"} <= set(qd):
        checks.append(
            (
                "light and sort use different instance types",
                itypes(qd["light"]).isdisjoint(itypes(qd["sort"])),
            )
        )
    checks.append(
        ("memory-based scheduling on", settings.get("EnableMemoryBasedScheduling") is True)
    )
    data_vol = [s for s in data.get("SharedStorage", []) if s.get("MountDir") == "/data"]
    checks.append(
        (
            "EBS volume from a snapshot mounted at /data",
            len(data_vol) == 1
            and data_vol[0].get("StorageType") == "Ebs"
            and str(data_vol[0].get("EbsSettings", {}).get("SnapshotId", "")).startswith("snap-"),
        )
    )
    checks.append(("a SPOT queue is offered", any(q.get("CapacityType") == "SPOT" for q in queues)))
    min_job_age = [
        int(d["MinJobAge"]) for d in settings.get("CustomSlurmSettings", []) if "MinJobAge" in d
    ]
    checks.append(("MinJobAge >= 300 (squeue status)", all(v >= 300 for v in min_job_age)))
    checks.append(
        (
            "no AWS credentials in the file",
            not any(re.search(p, text, re.IGNORECASE) for p in CREDENTIAL_PATTERNS),
        )
    )
    checks.append(("no accounting database (as the profile assumes)", "Database" not in settings))
    report["checks"] = [{"check": c, "ok": bool(ok)} for c, ok in checks]
    return report


def failed(report: dict) -> bool:
    return bool(
        report["schema_errors"]
        or report["validator_errors"]
        or not all(c["ok"] for c in report["checks"])
    )


def main(argv: list[str]) -> int:
    """Validate each file given (default: the template beside this script).

    With one file, print its report; with several, print {path: report}.
    """
    paths = [Path(a) for a in argv[1:]] or [Path(__file__).with_name("cluster-config.yaml")]
    reports = {str(p): validate(p) for p in paths}
    out = reports[str(paths[0])] if len(paths) == 1 else reports
    print(json.dumps(out, indent=1, default=str))
    return 1 if any(failed(r) for r in reports.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
