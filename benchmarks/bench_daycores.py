"""A node-local day with 1 and with 2 cores per day on the test cluster: the day job's wall
time, their ratio, the outputs of both compared (h5py, every file), and each job's start-up
inside the day group.

``python -m benchmarks daycores`` (as root on Debian: tests/cluster/localslurm.py installs
and starts the one-node Slurm cluster; without it the benchmark fails with the reason).
A generated day (``DAY``: channels, seconds, ``session01`` + ``sessioneye``) is run with
``profiles/pcluster-nodelocal`` and ``--cores 1``, then ``--cores 2``, ``ROUNDS`` times in
turn, each with only the day group's rules as targets (``--until``), so that the run is that
one Slurm job. Its wall time is Slurm's (squeue start and end, 1 s resolution).

The machine's load average before and after each run is in the first row's note: on a
machine shared with other work the 2-core run gets less than 2 CPUs and the ratio says so.

Start-up of a job inside the day group: its benchmark file's wall time (the script's process,
from Snakemake starting it to its end) minus the ``done in`` time its log reports (the step
itself, after the imports): Python, the script's imports and Snakemake's script preamble.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import statistics
import time
from collections import defaultdict
from pathlib import Path

from benchmarks._measure import WORK, row
from benchmarks.bench_cluster import check_cluster, start_cluster
from tests.cluster.clusterutil import (
    STATUS_OVERRIDES,
    generate,
    side_by_side,
    snakemake_cmd,
)
from tests.cluster.clusterutil import (
    run as run_cmd,
)
from tests.cluster.finals import differences

DAY = {"channels": 4, "seconds": 60, "sessions": 1}
ROUNDS = 2
TARGET_RATIO = 0.6
DAY_RULES = ("qc_metrics", "waveform_templates", "qc_lfp")  # with what they need: the day
DONE_RE = re.compile(r"INFO done in ([\d.]+) s")


def day_run(cluster, data: Path, root: Path, name: str, cores: int) -> dict:
    out, work, node = root / f"out_{name}", root / f"work_{name}", root / "node"
    work.mkdir()
    config = (f"intermediates={{node_local_dir: {node}}}",)
    extra = [*STATUS_OVERRIDES, "--cores", str(cores), "--until", *DAY_RULES]
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    done = run_cmd(
        snakemake_cmd("pcluster-nodelocal", data, out, *extra, config=config),
        work,
        cluster.env,
        timeout=3600,
    )
    run_s = time.monotonic() - t0
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    (log,) = (work / ".snakemake" / "slurm_logs").glob("group_daylocal_*/*.log")
    line = cluster.run("squeue", "--states=all", "-h", "-j", log.stem, "-o", "%S|%e|%C")
    start, end, cpus = line.strip().split("|")
    day_s = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
    return {
        "name": name,
        "cores": cores,
        "cpus": int(cpus),
        "day_s": day_s,
        "run_s": run_s,
        "load": (load, os.getloadavg()[0]),  # the machine's load average before and after
        "out": out,
        "seen": side_by_side(log.read_text()),
        "startup": startups(work),
    }


def startups(work: Path) -> dict[str, list[float]]:
    """rule -> each job's start-up (benchmark wall minus the log's 'done in'), seconds."""
    out = defaultdict(list)
    for tsv in (work / "benchmarks" / "runs").rglob("*.tsv"):
        rel = tsv.relative_to(work / "benchmarks" / "runs").with_suffix(".log")
        logf = work / "logs" / rel
        done = DONE_RE.findall(logf.read_text()) if logf.exists() else []
        if not done:
            continue
        wall = float(tsv.read_text().splitlines()[1].split("\t")[0])
        out[rel.parts[0]].append(wall - float(done[-1]))
    return dict(out)


def run() -> list[dict]:
    check_cluster()
    work = WORK / "daycores"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        data = generate(work, **DAY)
        cluster = start_cluster(work / "slurm")
        try:
            runs = [
                day_run(cluster, data, work, f"c{cores}_{k}", cores)
                for k in range(ROUNDS)
                for cores in (1, 2)
            ]
        finally:
            cluster.stop()
        one = [r for r in runs if r["cores"] == 1]
        two = [r for r in runs if r["cores"] == 2]
        diffs = sorted({d for r in runs[1:] for d in differences(runs[0]["out"], r["out"])})
        t1 = statistics.mean(r["day_s"] for r in one)
        t2 = statistics.mean(r["day_s"] for r in two)
        ratio = t2 / t1
        size = f"{DAY['channels']} ch x {DAY['seconds']} s, session01 + sessioneye"
        rows = [
            row(
                "node-local day job, 1 core (test cluster)",
                t1,
                "s",
                note=f"{size}; each: {[r['day_s'] for r in one]}; load average before/after "
                f"{[tuple(round(x, 1) for x in r['load']) for r in runs]} (2 CPUs); "
                f"at most {max(r['seen']['most_at_once'] for r in one)} members at once",
            ),
            row(
                "node-local day job, 2 cores (test cluster)",
                t2,
                "s",
                baseline=round(t1, 1),
                ratio=ratio,
                target=f"<= {TARGET_RATIO} x 1 core",
                ok=ratio <= TARGET_RATIO,
                note=f"each: {[r['day_s'] for r in two]}; at most "
                f"{max(r['seen']['most_at_once'] for r in two)} members at once; "
                f"Slurm CPUs {sorted({r['cpus'] for r in two})}",
            ),
            row(
                "node-local day, 2 vs 1 core: files that differ (h5py, every file)",
                len(diffs),
                "files",
                target="0",
                ok=not diffs,
                note="; ".join(diffs[:3]),
            ),
        ]
        per_rule = defaultdict(list)
        for r in runs:
            for rule, values in r["startup"].items():
                per_rule[rule] += values
        for rule, values in sorted(per_rule.items()):
            rows.append(
                row(
                    f"start-up of a {rule} job inside the day group",
                    statistics.median(values),
                    "s",
                    note=f"median of {len(values)}; benchmark wall - log's 'done in'",
                )
            )
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)
