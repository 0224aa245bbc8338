"""A local run killed in the middle of a job, then rerun with --rerun-incomplete, produces
exactly the outputs of an uninterrupted run (no Slurm needed)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

from .clusterutil import digests, generate, run, snakemake_cmd

DAY = "20181105"


def _targets(data, out):
    from hippoflow import plan as discover

    (session,) = [
        s for s in discover.discover(str(data), "all", "all", "all") if s.name == "session01"
    ]
    base = out / "picasso" / DAY / "session01"
    names = ["rplparallel_d41d.hkl"]
    for array, channel in session.channels:
        names += [
            f"array{array}/channel{channel}/rpllfp_6eca.hkl",
            f"array{array}/channel{channel}/rplhighpass_b59f.hkl",
        ]
    return [str(base / n) for n in names]


def test_killed_run_rerun_incomplete_matches_uninterrupted(tmp_path):
    data = generate(tmp_path, channels=2, seconds=60)
    out, work = tmp_path / "out", tmp_path / "work"
    work.mkdir()
    targets = _targets(data, out)
    cmd = snakemake_cmd("local", data, out, "--cores", "1", targets=targets)

    first = run(cmd, work)
    assert first.returncode == 0, first.stderr[-3000:]
    reference = digests(out)
    assert set(reference) >= {os.path.relpath(t, out) for t in targets}

    shutil.rmtree(out)
    incomplete = work / ".snakemake" / "incomplete"
    proc = subprocess.Popen(
        cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    killed_during_job = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if incomplete.exists() and any(incomplete.iterdir()):
                time.sleep(0.3)  # inside the job's script now
                if any(incomplete.iterdir()):
                    os.killpg(proc.pid, signal.SIGKILL)  # the whole run: snakemake and its job
                    killed_during_job = True
                    break
            time.sleep(0.05)
    finally:
        if proc.poll() is None and not killed_during_job:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert killed_during_job, "the run finished before it could be killed mid-job"
    assert any(incomplete.iterdir()), "the killed run left no incomplete marker"

    # what a user does after a crash: remove the stale lock, rerun (the local profile sets
    # rerun-incomplete; it is passed explicitly here to make the test's intent plain)
    unlock = run(cmd + ["--unlock"], work)
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = run(cmd[:1] + ["--rerun-incomplete"] + cmd[1:], work)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # the run summary is a record of each run (the rerun's names the jobs it redid)
    assert _without_summary(digests(out)) == _without_summary(reference)


def _without_summary(files: dict[str, str]) -> dict[str, str]:
    from hippoflow.summary import SUMMARY_NAME

    assert SUMMARY_NAME in files  # both runs wrote one
    return {k: v for k, v in files.items() if k != SUMMARY_NAME}
