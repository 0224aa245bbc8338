"""Failures clusters have, on a real Slurm cluster, through the pcluster profile.

- a running Slurm job is cancelled (scancel): Snakemake retries it and the run completes;
- a job exceeds its memory request: Slurm kills it, the retry asks for more memory and passes;
- one session's job fails: the other sessions still finish (--keep-going) and the exit code
  says that something failed (and onerror sends the notice).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from .clusterutil import (
    STATUS_OVERRIDES,
    cut_last_marker,
    generate,
    run,
    run_id,
    snakemake_cmd,
    squeue_jobs,
    submissions,
)

DAY = "20181105"  # the generator's default first day


def _session_targets(out, sessions, name="rplparallel_d41d.hkl"):
    return [str(out / "picasso" / DAY / s / name) for s in sessions]


def test_cancelled_job_is_retried_and_run_completes(slurm_cluster, tmp_path):
    data = generate(tmp_path, channels=2, seconds=20)
    out, work = tmp_path / "out", tmp_path / "work"
    work.mkdir()
    targets = _session_targets(out, ["session01", "sessioneye"])
    cmd = snakemake_cmd("pcluster", data, out, *STATUS_OVERRIDES, targets=targets)
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=slurm_cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    before = set(squeue_jobs(slurm_cluster))
    cancelled = None
    deadline = time.monotonic() + 120
    try:
        while cancelled is None and time.monotonic() < deadline and proc.poll() is None:
            for jid, job in squeue_jobs(slurm_cluster).items():
                if (
                    jid not in before
                    and job["state"] == "RUNNING"
                    and job["name"].startswith("hippoflow_")
                ):
                    time.sleep(1.0)  # let it get into its work
                    slurm_cluster.run("scancel", jid)
                    cancelled = jid
                    break
            time.sleep(0.3)
        log, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert cancelled, "never saw a running job to cancel"
    assert proc.returncode == 0, log[-4000:]
    jobs = squeue_jobs(slurm_cluster)
    assert jobs[cancelled]["state"] == "CANCELLED"
    ours = {j for j, v in jobs.items() if v["name"] == run_id(log)}
    assert cancelled in ours
    # one more submission than targets: the cancelled job was submitted again
    assert len(submissions(log)) == len(targets) + 1
    assert "Trying to restart" in log or "restart" in log.lower()
    for t in targets:
        assert Path(t).exists(), t


def test_out_of_memory_is_retried_with_more_memory(slurm_cluster, tmp_path):
    data = generate(tmp_path, channels=2, seconds=20)
    out, work = tmp_path / "out", tmp_path / "work"
    work.mkdir()
    targets = _session_targets(out, ["session01"])
    # First attempt asks for 150 MB (less than Snakemake itself needs), each retry 8x more:
    # Slurm's memory enforcement kills attempt 1; attempt 2 (1200 MB) must pass.
    cmd = snakemake_cmd(
        "pcluster",
        data,
        out,
        *STATUS_OVERRIDES,
        "--set-resources",
        "rplparallel:mem_mb=150 * 8 ** (attempt - 1)",
        "rplparallel:slurm_partition='light'",
        targets=targets,
    )
    done = run(cmd, work, slurm_cluster.env)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    ids = submissions(log)
    assert len(ids) == 2, ids
    jobs = squeue_jobs(slurm_cluster)
    first, second = jobs[ids[0]], jobs[ids[1]]
    assert first["state"] in {"FAILED", "OUT_OF_MEMORY", "CANCELLED"}
    assert second["state"] == "COMPLETED"
    assert (first["mem"], second["mem"]) == ("150M", "1200M")
    first_log = next((work / ".snakemake" / "slurm_logs").rglob(f"{ids[0]}.log")).read_text()
    assert "exceeded memory limit" in first_log.lower() or "oom" in first_log.lower()
    assert Path(targets[0]).exists()


def test_failing_session_does_not_stop_others(slurm_cluster, tmp_path):
    data = generate(tmp_path, channels=2, seconds=20, sessions=2)
    nev = next((data / "picasso" / DAY / "session02").glob("*.nev"))
    # cut the digital-event stream in the middle of a record: rplparallel must reject it
    cut_last_marker(nev)
    out, work = tmp_path / "out", tmp_path / "work"
    work.mkdir()
    notice = tmp_path / "notice.txt"
    targets = _session_targets(out, ["session01", "session02", "sessioneye"])
    cmd = snakemake_cmd(
        "pcluster",
        data,
        out,
        *STATUS_OVERRIDES,
        # bad input fails the same way on every attempt: the profile's 2 retries would only
        # add two Slurm round trips here (retries have tests of their own above and below)
        "--retries",
        "0",
        config=(f"notify_command=echo {{status}} > {notice}",),
        targets=targets,
    )
    done = run(cmd, work, slurm_cluster.env)
    log = done.stdout + done.stderr
    assert done.returncode != 0, log[-3000:]
    assert Path(targets[0]).exists() and Path(targets[2]).exists(), log[-3000:]
    assert not Path(targets[1]).exists()
    assert "session02" in log and "Error in rule rplparallel" in log
    assert notice.read_text().strip() == "error"
