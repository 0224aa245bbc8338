"""The pcluster profile on a real (one-node, accounting-off) Slurm cluster.

The demo tree is generated small; the profile is used as shipped except for the first
status-check delay (see conftest.STATUS_OVERRIDES). The test cluster's partitions carry the
template's queue names (light, sort), so no queue override is needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .clusterutil import (
    STATUS_OVERRIDES,
    generate,
    run,
    run_id,
    snakemake_cmd,
    squeue_jobs,
    submissions,
)

RULE_BLOCK = re.compile(r"^\s*(?:local)?rule (\w+):\n(?P<body>(?:^\s+\w+: .*\n)+)", re.MULTILINE)


def planned_jobs(text: str) -> list[tuple[str, list[str]]]:
    """(rule, outputs) for each 'rule X:' block of a Snakemake log or dry run."""
    jobs = []
    for m in RULE_BLOCK.finditer(text):
        outputs = []
        for line in m.group("body").splitlines():
            key, _, val = line.strip().partition(": ")
            if key == "output":
                outputs = [v.strip() for v in val.split(",")]
        jobs.append((m.group(1), outputs))
    return jobs


@pytest.fixture(scope="module")
def demo_run(slurm_cluster, tmp_path_factory):
    """One full run of the demo through the pcluster profile (shared by the checks below)."""
    root = tmp_path_factory.mktemp("slurm_demo")
    data, out, work = generate(root), root / "out", root / "work"
    work.mkdir()
    notice = root / "notice.txt"
    config = (f"notify_command=echo {{status}} > {notice}",)
    dry = run(snakemake_cmd("pcluster", data, out, "-n", config=config), work, slurm_cluster.env)
    assert dry.returncode == 0, dry.stderr[-3000:]
    done = run(
        snakemake_cmd("pcluster", data, out, *STATUS_OVERRIDES, config=config),
        work,
        slurm_cluster.env,
    )
    return {
        "data": data,
        "out": out,
        "work": work,
        "notice": notice,
        "dry": dry.stdout + dry.stderr,
        "log": done.stdout + done.stderr,
        "rc": done.returncode,
        "jobs": squeue_jobs(slurm_cluster),
    }


def test_demo_completes_on_slurm(demo_run):
    assert demo_run["rc"] == 0, demo_run["log"][-4000:]
    assert "Nothing to be done" not in demo_run["log"]
    # onsuccess ran the configured notification command
    assert demo_run["notice"].read_text().strip() == "success"


def test_every_job_ran_under_a_real_slurm_job(demo_run):
    log = demo_run["log"]
    ids = submissions(log)
    assert ids, "no Slurm submissions reported"
    jobs = demo_run["jobs"]
    uuid = run_id(log)
    ours = {jid: j for jid, j in jobs.items() if j["name"] == uuid}
    # every id the plugin reported is a job Slurm knows under this run's name, and finished
    assert set(ids) == set(ours), (ids, ours)
    # a job killed by Slurm (e.g. over its memory request) may fail before its retry passes
    assert {j["state"] for j in ours.values()} <= {"COMPLETED", "FAILED"}
    # the per-rule queues were used: sorting on `sort`, the rest on `light`
    assert {j["partition"] for j in ours.values()} == {"light", "sort"}

    # Slurm wrote each job's output to <jobid>.log (sbatch -o .../%j.log): every planned
    # job appears, with its outputs, in the log of a Slurm job with a known id
    logs = {
        p.stem: p.read_text()
        for p in (demo_run["work"] / ".snakemake" / "slurm_logs").rglob("*.log")
    }
    assert set(logs) == set(ids)
    ran: dict[str, set[str]] = {}
    for jid, text in logs.items():
        for _rule, outputs in planned_jobs(text):
            for o in outputs:
                ran.setdefault(o, set()).add(jid)
    planned = [(r, o) for r, o in planned_jobs(demo_run["dry"]) if r != "all"]
    assert planned
    local_rules = {"input_problem"}
    missing = [
        (r, o)
        for r, outs in planned
        for o in outs
        if r not in local_rules and not any(ours[j]["state"] == "COMPLETED" for j in ran.get(o, ()))
    ]
    assert missing == []
    removed = set(
        re.findall(r"Removing temporary output (\S+?)\.?$", demo_run["log"], re.MULTILINE)
    )
    for _r, outs in planned:
        for o in outs:
            assert Path(o).exists() or o in removed, o


def test_channel_jobs_are_grouped(demo_run):
    """Channel filter jobs travel in groups: fewer Slurm jobs than Snakemake jobs."""
    planned = [r for r, _ in planned_jobs(demo_run["dry"]) if r != "all"]
    n_filter = sum(r in ("rpllfp", "rplhighpass") for r in planned)
    assert n_filter >= 4
    group_logs = list(
        (demo_run["work"] / ".snakemake" / "slurm_logs").glob("group_chanfilter*/*.log")
    )
    assert 1 <= len(group_logs) < n_filter
    assert len(submissions(demo_run["log"])) < len(planned)
