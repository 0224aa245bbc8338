"""python -m hippoflow.estimate's forecast for the demo, one full day and the 46 picasso days,
in each design (the cost table of docs/cost.md):

* ``EBS/NFS``: the former template (one EBS volume exported by an m6i.large head node; the
  file of commit 0edab8a), default profile;
* ``FSx``: profiles/pcluster/cluster-config.yaml, default profile (split/high-pass on /data);
* ``FSx + node-local``: the same cluster, profiles/pcluster-nodelocal, mode nodelocal.

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
        out.append(("FSx + node-local", fsx, nodelocal, "nodelocal"))
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
        for label, root, secs in cases:
            for name, cluster, profile, mode in designs(work):
                if label == "demo" and name != "FSx + node-local":
                    continue
                t = estimate(root, profile, mode, cluster, assume_seconds=secs)["total"]
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
