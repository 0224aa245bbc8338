"""python -m hippoflow.estimate's forecast for the demo, one full day and the 46 picasso days,
in each design (the cost table of docs/cost.md):

* ``EBS/NFS``: the former template (one EBS volume exported by an m6i.large head node; the
  file of commit 0edab8a), default profile;
* ``FSx``: profiles/pcluster/cluster-config.yaml, default profile (split/high-pass on /data);
* ``FSx + node-local, 8 cores per day``: the same cluster, profiles/pcluster-nodelocal, mode
  nodelocal, intermediates.node_local_dir /scratch/hippoflow;
* ``FSx + node-local, 4 cores per day``: the same with the profile's ``cores: 4`` (a copy).

Header-only trees (hippoflow.synth --header-only, 124 channels, 2 navigation sessions + the
fixation session per day) with --assume-seconds 3000 per session: 2.5 h and 67 GB of .ns5
per day, as issue 13's day.  Rates from config/rates.yaml, prices from config/prices.yaml.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from benchmarks._measure import REPO, WORK, row

SECONDS = 3000.0
CHANNELS = 124
NODE_LOCAL_DIR = "/scratch/hippoflow"  # the node-local designs' intermediates.node_local_dir
OLD_TEMPLATE = "0edab8a"  # last commit with the EBS/NFS template


def designs(work):
    old = work / "cluster-config-ebs.yaml"
    old.write_text(
        subprocess.run(
            ["git", "show", f"{OLD_TEMPLATE}:profiles/pcluster/cluster-config.yaml"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    fsx = REPO / "profiles" / "pcluster" / "cluster-config.yaml"
    default = REPO / "profiles" / "pcluster"
    nodelocal = REPO / "profiles" / "pcluster-nodelocal"
    out = [("EBS/NFS", old, default, "default"), ("FSx", fsx, default, "default")]
    if nodelocal.exists():
        out.append(("FSx + node-local, 8 cores per day", fsx, nodelocal, "nodelocal"))
        four = work / "pcluster-nodelocal-4"  # the same profile with cores: 4 (two days a node)
        shutil.copytree(nodelocal, four)
        cfg = four / "config.yaml"
        text = cfg.read_text()
        assert "\ncores: 8 " in text, "profiles/pcluster-nodelocal/config.yaml: no 'cores: 8' line"
        cfg.write_text(text.replace("\ncores: 8 ", "\ncores: 4 "))
        out.append(("FSx + node-local, 4 cores per day", fsx, four, "nodelocal"))
    return out


def tree(work, n_days) -> str:
    root = work / f"days{n_days}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hippoflow.synth",
            "--out",
            str(root),
            "--n-days",
            str(n_days),
            "--days",
            "20181101",
            "--channels",
            str(CHANNELS),
            "--sessions",
            "2",
            "--header-only",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return str(root)


def run() -> list[dict]:
    from hippoflow.estimate import estimate

    work = WORK / "forecast"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = []
    try:
        cases = [("demo", str(REPO / "demo" / "data"), None)]
        cases += [("1 day", tree(work, 1), SECONDS), ("46 days", tree(work, 46), SECONDS)]
        plans = designs(work)
        for label, root, secs in cases:
            for name, cluster, profile, mode in plans:
                if label == "demo" and not name.startswith("FSx + node-local, 8"):
                    continue
                config = {"intermediates": {"node_local_dir": NODE_LOCAL_DIR}}
                t = estimate(
                    root,
                    profile,
                    mode,
                    cluster,
                    assume_seconds=secs,
                    config=config if mode == "nodelocal" else None,
                )["total"]
                k = f"forecast {label}, {name}"
                rows.append(row(f"{k}: wall time", t["wall_s"] / 3600, "h", bound=t["bound"]))
                rows.append(row(f"{k}: shared-storage bytes", t["shared_bytes"] / 1e12, "TB"))
                rows.append(row(f"{k}: storage needed", t["storage_bytes"] / 1e12, "TB"))
                rows.append(row(f"{k}: core-hours", t["core_hours"], "h"))
                rows.append(row(f"{k}: Slurm jobs", t["submissions"], ""))
                rows.append(row(f"{k}: on-demand", t["usd_on_demand"], "USD"))
                rows.append(row(f"{k}: spot", t["usd_spot"], "USD"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows
