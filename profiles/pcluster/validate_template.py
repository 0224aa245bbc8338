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
3. ParallelCluster's pure FSx for Lustre validators (data repository associations vs
   import/export paths, persistent options, storage type and throughput per TiB, capacity
   steps, backups on S3-linked file systems).
4. Our own requirements (issues 6 and 13): MinCount 0, memory-based scheduling, spot queue,
   no credentials in the file; /data on FSx for Lustre with the throughput per TiB its
   deployment type offers, a data repository association importing the raw bucket at /raw and
   one for /derived (the export target); the sort queue on instances whose NVMe (figures from
   config/prices.yaml) holds a node-local day per core, mounted where the node-local profile
   puts its files; gp3 volumes with consistent IOPS/throughput; a head node with a sustained
   (not burst) network of at least 1 Gbit/s; every partition the profiles name is a queue.

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
    "S3 bucket existence and region of the data repository associations (S3 HeadBucket, "
    "FsxAutoImportValidator)",
    "IAM policy existence (IAM GetPolicy)",
    "AMI lookup for the OS, quotas, CloudFormation dry run (pcluster create-cluster --dryrun)",
]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PRICES = REPO / "config" / "prices.yaml"
PROFILES = [HERE / "config.yaml", REPO / "profiles" / "pcluster-nodelocal" / "config.yaml"]
# A day's node-local intermediates: 2.5 h x 124 channels of float32 split + high-pass files
# (2 x 134 GB). One node-local day group runs per core.
NODELOCAL_DAY_GB = 268
MIN_HEAD_SUSTAINED_GBPS = 1.0
FSX_THROUGHPUT = {"PERSISTENT_1": [50, 100, 200], "PERSISTENT_2": [125, 250, 500, 1000]}

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
    errs += _fsx_validator_errors(data)
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
    checks += _storage_checks(data, qd, itypes)
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


def _fsx_validator_errors(data: dict) -> list[str]:
    """ParallelCluster's FSx for Lustre validators that need no AWS call, run directly."""
    from pcluster.validators import fsx_validators as fv

    errs: list[str] = []
    for st in data.get("SharedStorage", []):
        if st.get("StorageType") != "FsxLustre":
            continue
        fs = st.get("FsxLustreSettings", {}) or {}
        dep = fs.get("DeploymentType", "SCRATCH_2")
        if dep not in ("SCRATCH_1", "SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2"):
            continue  # the schema reports it; pcluster's validators assume a known type
        runs = [
            (
                fv.FsxDraValidator(),
                {
                    "data_repository_associations": fs.get("DataRepositoryAssociations"),
                    "import_path": fs.get("ImportPath"),
                    "export_path": fs.get("ExportPath"),
                },
            ),
            (
                fv.FsxS3Validator(),
                {
                    "import_path": fs.get("ImportPath"),
                    "imported_file_chunk_size": fs.get("ImportedFileChunkSize"),
                    "export_path": fs.get("ExportPath"),
                    "auto_import_policy": fs.get("AutoImportPolicy"),
                },
            ),
            (
                fv.FsxPersistentOptionsValidator(),
                {
                    "deployment_type": dep,
                    "kms_key_id": fs.get("KmsKeyId"),
                    "per_unit_storage_throughput": fs.get("PerUnitStorageThroughput"),
                },
            ),
            (
                fv.FsxBackupOptionsValidator(),
                {
                    "automatic_backup_retention_days": fs.get("AutomaticBackupRetentionDays"),
                    "daily_automatic_backup_start_time": fs.get("DailyAutomaticBackupStartTime"),
                    "copy_tags_to_backups": fs.get("CopyTagsToBackups"),
                    "deployment_type": dep,
                    "imported_file_chunk_size": fs.get("ImportedFileChunkSize"),
                    "import_path": fs.get("ImportPath"),
                    "export_path": fs.get("ExportPath"),
                    "auto_import_policy": fs.get("AutoImportPolicy"),
                },
            ),
            (
                fv.FsxStorageTypeOptionsValidator(),
                {
                    "fsx_storage_type": fs.get("StorageType"),
                    "deployment_type": dep,
                    "per_unit_storage_throughput": fs.get("PerUnitStorageThroughput"),
                    "drive_cache_type": fs.get("DriveCacheType"),
                },
            ),
            (
                fv.FsxStorageCapacityValidator(),
                {
                    "storage_capacity": fs.get("StorageCapacity"),
                    "deployment_type": dep,
                    "fsx_storage_type": fs.get("StorageType"),
                    "per_unit_storage_throughput": fs.get("PerUnitStorageThroughput"),
                    "file_system_id": fs.get("FileSystemId"),
                    "backup_id": fs.get("BackupId"),
                },
            ),
        ]
        for validator, kwargs in runs:
            errs += [r.message for r in validator.execute(**kwargs)]
    return errs


def _profile_partitions(path: Path) -> set[str]:
    prof = yaml.safe_load(path.read_text()) or {}
    used = {
        v["slurm_partition"]
        for v in (prof.get("set-resources") or {}).values()
        if isinstance(v, dict) and "slurm_partition" in v
    }
    if "slurm_partition" in (prof.get("default-resources") or {}):
        used.add(prof["default-resources"]["slurm_partition"])
    return used


def _node_local_dir(path: Path) -> str | None:
    """The node-local profile's node_local_dir, from the command line its header documents."""
    if not path.exists():
        return None
    m = re.search(r"node_local_dir:\s*([^\s}']+)", path.read_text())
    return m.group(1) if m else None


def _storage_checks(data: dict, qd: dict, itypes) -> list[tuple[str, bool]]:
    """Issue 13: /data on FSx linked to S3, NVMe on the sort queue, gp3, head node, queues."""
    checks: list[tuple[str, bool]] = []
    prices = yaml.safe_load(PRICES.read_text())["instances"] if PRICES.exists() else {}
    storage = data.get("SharedStorage", [])
    data_vol = [s for s in storage if s.get("MountDir") == "/data"]
    fsx = data_vol[0].get("FsxLustreSettings", {}) if len(data_vol) == 1 else {}
    checks.append(
        (
            "/data is one FSx for Lustre file system",
            len(data_vol) == 1 and data_vol[0].get("StorageType") == "FsxLustre",
        )
    )
    dep = fsx.get("DeploymentType", "SCRATCH_2")
    cap = fsx.get("StorageCapacity")
    checks.append(
        (
            "FSx capacity is 1,200 GiB or a multiple of 2,400 GiB",
            isinstance(cap, int) and (cap == 1200 or (cap > 0 and cap % 2400 == 0)),
        )
    )
    checks.append(
        (
            "FSx throughput per TiB is one its deployment type offers",
            fsx.get("PerUnitStorageThroughput") in FSX_THROUGHPUT.get(dep, []),
        )
    )
    dras = fsx.get("DataRepositoryAssociations") or []
    by_path = {d.get("FileSystemPath"): d for d in dras}
    raw = by_path.get("/raw", {})
    checks.append(
        (
            "raw bucket linked at /raw (s3:// path, automatic import)",
            str(raw.get("DataRepositoryPath", "")).startswith("s3://")
            and bool(raw.get("AutoImportPolicy")),
        )
    )
    derived = by_path.get("/derived", {})
    checks.append(
        (
            "results prefix linked at /derived (the export target, another S3 path)",
            str(derived.get("DataRepositoryPath", "")).startswith("s3://")
            and derived.get("DataRepositoryPath") != raw.get("DataRepositoryPath"),
        )
    )
    # node-local intermediates: the sort queue's instance store per core holds one day
    sort = qd.get("sort", {})
    mount = (
        ((sort.get("ComputeSettings") or {}).get("LocalStorage") or {}).get("EphemeralVolume") or {}
    ).get("MountDir", "/scratch")
    per_core = [
        prices.get(t, {}).get("nvme_gb", 0) / max(1, prices.get(t, {}).get("vcpus", 1))
        for t in itypes(sort)
    ]
    checks.append(
        (
            f"sort queue instances have >= {NODELOCAL_DAY_GB} GB of NVMe per core "
            "(config/prices.yaml)",
            bool(per_core) and min(per_core) >= NODELOCAL_DAY_GB,
        )
    )
    local_dir = _node_local_dir(PROFILES[1])
    checks.append(
        (
            "the node-local profile's node_local_dir is on the sort queue's NVMe mount",
            local_dir is None or (local_dir + "/").startswith(mount.rstrip("/") + "/"),
        )
    )
    # gp3: throughput <= 0.25 MiB/s per IOPS, IOPS <= 500 per GiB, at least the baseline
    ok = True
    for st in storage:
        eb = st.get("EbsSettings") or {}
        if st.get("StorageType") != "Ebs" or eb.get("VolumeType", "gp3") != "gp3":
            continue
        iops, mibs, size = eb.get("Iops", 3000), eb.get("Throughput", 125), eb.get("Size", 35)
        ok &= 3000 <= iops <= 500 * size and 125 <= mibs <= 0.25 * iops
    checks.append(("gp3 volumes: 125 MiB/s <= throughput <= IOPS / 4, IOPS <= 500 / GiB", ok))
    head = prices.get(data.get("HeadNode", {}).get("InstanceType"), {})
    checks.append(
        (
            f"head node sustains >= {MIN_HEAD_SUSTAINED_GBPS} Gbit/s (baseline, not burst)",
            head.get("network_gbps", 0) >= MIN_HEAD_SUSTAINED_GBPS,
        )
    )
    queues = set(qd)
    for prof in PROFILES:
        if prof.exists():
            used = _profile_partitions(prof)
            checks.append(
                (
                    f"every partition of {prof.parent.name}/config.yaml is a queue",
                    bool(used) and used <= queues,
                )
            )
    return checks


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
