"""Run summary (hippoflow.summary) on a hand-written Snakemake 9 log and job logs, and the
output tree's lock (hippoflow.lock) with real processes. Every expectation is stated here;
tests/workflow/test_bad_input_planning.py checks both on a real run."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys

import pytest

from hippoflow import lock, summary

# Snakemake 9's log of a run of 4 planned jobs (+ all): 2 finished, 1 failed, 1 not run
SNAKEMAKE_LOG = """\
Building DAG of jobs...
Job stats:
job            count
-----------  -------
rplparallel        2
unity              1
input_problem      1
all                1
total              5

Select jobs to execute...
[Tue Dec  1 23:46:58 2026]
localrule rplparallel:
    input: /d/s1/a.nev
    output: /o/s1/rplparallel_d41d.hkl
    log: logs/rplparallel/s1.log
    jobid: 3
    benchmark: benchmarks/runs/rplparallel/s1.tsv
    reason: Missing output files: /o/s1/rplparallel_d41d.hkl
    wildcards: session=s1
[Tue Dec  1 23:46:58 2026]
localrule rplparallel:
    input: /d/s2/a.nev
    output: /o/s2/rplparallel_d41d.hkl
    log: logs/rplparallel/s2.log
    jobid: 4
[Tue Dec  1 23:46:58 2026]
localrule input_problem:
    output: /o/s3/.hippoflow-problem-x
    log: logs/input_problem/s3/.hippoflow-problem-x.log
    jobid: 7
Finished jobid: 3 (Rule: rplparallel)
1 of 5 steps (20%) done
Error in rule rplparallel:
    message: None
    jobid: 4
    input: /d/s2/a.nev
    output: /o/s2/rplparallel_d41d.hkl
    log: logs/rplparallel/s2.log (check log file(s) for error details)
[Tue Dec  1 23:47:00 2026]
Finished jobid: 7 (Rule: input_problem)
Exiting because a job execution failed. Look above for error messages
"""


@pytest.fixture
def run_dir(tmp_path):
    (tmp_path / "logs" / "rplparallel").mkdir(parents=True)
    (tmp_path / "logs" / "rplparallel" / "s1.log").write_text(
        "2026-12-01 23:46:59,101 INFO /d/s1/a.nev: file spec 2.3\n"
        "2026-12-01 23:46:59,202 WARNING /d/s1/a.nev: 3 trailing bytes ignored\n"
        "2026-12-01 23:46:59,303 INFO done in 0.2 s\n"
    )
    (tmp_path / "logs" / "rplparallel" / "s2.log").write_text(
        "2026-12-01 23:46:59,404 ERROR bad input: /d/s2/a.nev: no trial markers\n"
    )
    # a log of a job not in this run: its warning is not collected
    (tmp_path / "logs" / "rplparallel" / "old.log").write_text(
        "2026-11-30 10:00:00,000 WARNING /d/old.nev: not this run\n"
    )
    return tmp_path


def test_parse_snakemake_log():
    run = summary.parse_snakemake_log(SNAKEMAKE_LOG)
    assert run.planned == {"rplparallel": 2, "unity": 1, "input_problem": 1, "all": 1}
    assert sorted(run.started) == [3, 4, 7]
    assert run.started[4].outputs == ["/o/s2/rplparallel_d41d.hkl"]
    assert run.started[4].logs == ["logs/rplparallel/s2.log"]
    assert run.finished == {3, 7} and run.failed == {4}


def test_summary_text(run_dir):
    run = summary.parse_snakemake_log(SNAKEMAKE_LOG)
    problems = {"s3/.hippoflow-problem-x": "/d/s3/b.ns5: dangling symbolic link"}
    text = summary.summarize(run, problems, ["/d/Session04: folder skipped"], False, run_dir)
    assert text == (
        "hippoflow run summary: FAILED\n"
        "produced: 2 job(s), 2 file(s)\n"
        "  input_problem: 1 job(s), 1 file(s)\n"
        "  rplparallel: 1 job(s), 1 file(s)\n"
        "failed: 1 job(s)\n"
        "  rplparallel (logs/rplparallel/s2.log): /d/s2/a.nev: no trial markers\n"
        "not run (an input failed or the run stopped): 1 job(s)\n"
        "  unity: 1 job(s)\n"
        "planning problems (each fails a job input_problem): 1\n"
        "  /d/s3/b.ns5: dangling symbolic link\n"
        "warnings: 2\n"
        "  /d/Session04: folder skipped\n"
        "  /d/s1/a.nev: 3 trailing bytes ignored (logs/rplparallel/s1.log)\n"
    )


def test_write_summary_reads_snakemake9_list_of_logs(run_dir):
    log = run_dir / "run.snakemake.log"
    log.write_text(SNAKEMAKE_LOG)
    out = run_dir / "out"
    text = summary.write_summary([str(log)], out, {}, [], True, run_dir)
    assert (out / summary.SUMMARY_NAME).read_text() == text
    assert text.startswith("hippoflow run summary: success\nproduced: 2 job(s)")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _holder(pid, host=None, workdir="/elsewhere"):
    return {
        "host": host or socket.gethostname(),
        "pid": pid,
        "workdir": workdir,
        "started": "2018-11-05T10:00:00",
    }


def test_lock_acquire_release(tmp_path):
    out = tmp_path / "out"
    assert lock.acquire(out, tmp_path) is None
    held = json.loads((out / lock.LOCK_NAME).read_text())
    assert held["pid"] == os.getpid() and held["host"] == socket.gethostname()
    assert held["workdir"] == str(tmp_path.resolve())
    assert lock.acquire(out, tmp_path) is None  # this process again: fine
    assert lock.release(out) is True
    assert not (out / lock.LOCK_NAME).exists()
    assert lock.release(out) is False


def test_lock_refused_while_another_live_run_holds_it(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
        try:
            (out / lock.LOCK_NAME).write_text(json.dumps(_holder(other.pid)))
            with pytest.raises(lock.LockRefused) as exc:
                lock.acquire(out, tmp_path)
            assert str(exc.value) == (
                f"hippoflow: output_root {out} is being written by another run from another "
                f"working directory (pid {other.pid} on {socket.gethostname()}, working "
                "directory /elsewhere, started 2018-11-05T10:00:00): two runs on one output "
                "tree would delete each other's temporary files. Wait for it to end; if that "
                f"run is over and pid {other.pid} is now another program ({sys.executable} -c "
                f"import time; time.sleep(30)), delete {out / lock.LOCK_NAME} and run again"
            )
            assert lock.release(out) is False  # not ours: left alone
            assert json.loads((out / lock.LOCK_NAME).read_text())["pid"] == other.pid
        finally:
            other.kill()


def test_lock_of_another_host_is_refused_naming_the_file(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / lock.LOCK_NAME).write_text(json.dumps(_holder(1, host="node-that-is-not-here")))
    with pytest.raises(lock.LockRefused, match="delete .*hippoflow-lock if that run on node-"):
        lock.acquire(out, tmp_path)


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    pid = _dead_pid()
    (out / lock.LOCK_NAME).write_text(json.dumps(_holder(pid)))
    warning = lock.acquire(out, tmp_path)
    assert warning == (
        f"{out / lock.LOCK_NAME}: lock of a run that is no longer running (pid {pid} on "
        f"{socket.gethostname()}, working directory /elsewhere, started 2018-11-05T10:00:00) "
        "taken over; that run ended without releasing it (killed?)"
    )
    assert json.loads((out / lock.LOCK_NAME).read_text())["pid"] == os.getpid()
    assert lock.release(out)


# The head's log of a Slurm run with a group job (Snakemake 9.27.1 + slurm plugin 2.8): the
# group's members appear only when they finish (taken from a test-cluster run, paths cut).
SLURM_GROUP_LOG = """\
Job stats:
job            count
-----------  -------
all                1
rpllfp             2
rplparallel        1
total              4

[Tue Dec  1 23:42:50 2026]
rule rplparallel:
    input: /d/s1/a.nev
    output: /o/s1/rplparallel_d41d.hkl
    log: logs/rplparallel/s1.log
    jobid: 1
Job 1 has been submitted with SLURM jobid 16 (log: .snakemake/slurm_logs/rule_rplparallel/16.log).
Job afb7941e-dd6e-5b59-9341-151ada8ef176 has been submitted with SLURM jobid 18 (log: \
.snakemake/slurm_logs/group_chanfilter_rplhighpass_rpllfp/18.log).
[Tue Dec  1 23:43:56 2026]
Finished jobid: 1 (Rule: rplparallel)
[Tue Dec  1 23:45:17 2026]
Finished jobid: 8 (Rule: rpllfp)
[Tue Dec  1 23:45:17 2026]
Finished jobid: 5 (Rule: rpllfp)
"""


def test_group_members_on_slurm_are_counted_and_their_warnings_found(tmp_path):
    (tmp_path / "logs" / "rpllfp" / "s1").mkdir(parents=True)
    log = tmp_path / ".snakemake" / "log" / "2026-12-01T234246.418311.snakemake.log"
    log.parent.mkdir(parents=True)
    log.write_text(SLURM_GROUP_LOG)
    start = dt.datetime(2026, 12, 1, 23, 42, 46).timestamp()
    member = tmp_path / "logs" / "rpllfp" / "s1" / "001.log"
    member.write_text("2026-12-01 23:45:10,000 WARNING /o/s1/x.hkl: 12 samples clipped\n")
    os.utime(member, (start + 100, start + 100))
    old = tmp_path / "logs" / "rpllfp" / "s1" / "033.log"  # an earlier run's log
    old.write_text("2026-11-30 10:00:00,000 WARNING /o/s1/y.hkl: not this run\n")
    os.utime(old, (start - 3600, start - 3600))

    text = summary.write_summary([str(log)], tmp_path / "out", {}, [], True, tmp_path)
    assert "produced: 3 job(s)" in text
    assert "  rpllfp: 2 job(s), 0 file(s)\n" in text
    assert "not run (an input failed or the run stopped): 0 job(s)\n" in text
    assert "  /o/s1/x.hkl: 12 samples clipped (logs/rpllfp/s1/001.log)\n" in text
    assert "not this run" not in text
