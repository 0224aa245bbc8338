"""The estimator's inputs other than the tree: the profile (groups, queues, job limit), the
ParallelCluster file (queues, head node, shared storage), ``config/prices.yaml`` (dated
instance figures and prices) and ``config/rates.yaml`` (per-job rates, with the date and
machine they were measured on)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PRICES = REPO / "config" / "prices.yaml"
RATES = REPO / "config" / "rates.yaml"
PROFILE = REPO / "profiles" / "pcluster"
CLUSTER_FILE = PROFILE / "cluster-config.yaml"


def merged(base: dict, over: dict) -> dict:
    """``over`` on top of ``base``, section by section (a config file's ``nwb: {enabled:
    false}`` keeps the section's other defaults), as Snakemake fills a validated config."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def _yaml(path) -> dict:
    return yaml.safe_load(Path(path).read_text()) or {}


def _profile(profile) -> dict:
    path = Path(profile)
    return _yaml(path / "config.yaml" if path.is_dir() else path)


def load_profile(profile) -> tuple[dict, dict]:
    """The profile's ``groups`` (rule -> group) and ``group-components`` (group -> n)."""
    prof = _profile(profile)
    return prof.get("groups", {}) or {}, prof.get("group-components", {}) or {}


def profile_cores(profile) -> int:
    """The profile's ``cores``: CPUs per Slurm job (scope local), a node-local day's cores."""
    return int(_profile(profile).get("cores", 1))


def profile_queues(profile) -> tuple[dict[str, str], int]:
    """rule -> Slurm partition named by the profile, and its `jobs` limit (default 200)."""
    prof = _profile(profile)
    parts = {
        r: v["slurm_partition"]
        for r, v in (prof.get("set-resources") or {}).items()
        if isinstance(v, dict) and "slurm_partition" in v
    }
    return parts, int(prof.get("jobs", 200))


def load_cluster(cluster_file) -> dict:
    """Queues (instance, max nodes), head node and shared storage of a cluster file."""
    cfg = _yaml(cluster_file)
    queues = {}
    for q in cfg["Scheduling"]["SlurmQueues"]:
        res = q["ComputeResources"][0]
        itype = res.get("InstanceType") or res["Instances"][0]["InstanceType"]
        queues[q["Name"]] = {
            "instance": itype,
            "max_nodes": int(res.get("MaxCount", 10)),
            "spot": q.get("CapacityType", "ONDEMAND") == "SPOT",
        }
    storage = []
    for st in cfg.get("SharedStorage", []):
        item = {"type": st["StorageType"], "mount": st["MountDir"]}
        if st["StorageType"] == "FsxLustre":
            fs = st.get("FsxLustreSettings", {})
            item.update(
                capacity_gb=int(fs.get("StorageCapacity", 1200)),
                mbps_per_tib=int(fs.get("PerUnitStorageThroughput", 200)),
                deployment=fs.get("DeploymentType", "SCRATCH_2"),
            )
        elif st["StorageType"] == "Ebs":
            eb = st.get("EbsSettings", {})
            item.update(capacity_gb=int(eb.get("Size", 35)), mbps=int(eb.get("Throughput", 125)))
        storage.append(item)
    return {"head": cfg["HeadNode"]["InstanceType"], "queues": queues, "storage": storage}


def load_prices(prices=PRICES) -> dict:
    """``config/prices.yaml``: instances (vCPUs, memory, network, price), storage, spot."""
    return _yaml(prices)


def load_rates(rates=RATES) -> dict:
    """Per-job rates (``config/rates.yaml``, or a JSON/YAML file of the same keys)."""
    return _yaml(rates)
