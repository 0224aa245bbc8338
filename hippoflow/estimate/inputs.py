"""The estimator's inputs other than the tree: the profile (groups, queues, job limit), the
ParallelCluster file (queues, head node, shared storage), ``config/prices.yaml`` (dated
instance figures and prices) and ``config/rates.yaml`` (per-job rates, with the date and
machine they were measured on)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from hippoflow.errors import InputError

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


def _yaml(path, what="file") -> dict:
    """A YAML file's mapping; :class:`InputError` naming it when it cannot be read."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"{path}: {what} cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: {what} is not YAML ({exc})") from None
    if data is not None and not isinstance(data, dict):
        raise InputError(f"{path}: {what} is not a mapping of keys")
    return data or {}


def workflow_config(config: dict, data_root, groups: dict) -> dict:
    """The config as the workflow would run it: ``config`` (a config file's keys) with
    ``data_root``, validated against the workflow's schema (defaults filled), then the
    workflow's own checks (:func:`hippoflow.config.config_problems`, and the node-local
    directory against the profile's ``groups``).  :class:`InputError` naming the key
    otherwise."""
    from snakemake.utils import validate

    from hippoflow.config import SCHEMA, config_problems, node_local_problem

    cfg = {**config, "data_root": str(data_root)}
    try:
        validate(cfg, str(SCHEMA), set_default=True)
    except Exception as exc:  # noqa: BLE001 - Snakemake's WorkflowError, text only
        text = str(exc)
        what = re.search(r"ValidationError: (.+)", text)
        where = re.search(r"On instance((?:\[[^\]]+\])*)", text)
        key = ".".join(re.findall(r"\['?([^'\]]+)'?\]", where.group(1))) if where else ""
        raise InputError(
            f"config key '{key or '?'}': {what.group(1) if what else text.splitlines()[0]}"
        ) from None
    problems = config_problems(cfg)
    why = node_local_problem((cfg.get("intermediates") or {}).get("node_local_dir"), groups)
    if why:
        problems.append(why)
    if problems:
        raise InputError("; ".join(problems))
    return cfg


def _profile(profile) -> dict:
    path = Path(profile)
    return _yaml(path / "config.yaml" if path.is_dir() else path, "profile")


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
    cfg = _yaml(cluster_file, "cluster file")
    try:
        return _cluster(cfg)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise InputError(
            f"{cluster_file}: not a ParallelCluster file this estimator reads ({type(exc).__name__}: "
            f"{exc})"
        ) from None


def _cluster(cfg: dict) -> dict:
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
    return _yaml(prices, "price table")


def load_rates(rates=RATES) -> dict:
    """Per-job rates (``config/rates.yaml``, or a JSON/YAML file of the same keys)."""
    return _yaml(rates, "rates file")
