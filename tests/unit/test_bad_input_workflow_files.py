"""Files the workflow writes and reads again, damaged or left over: the failed job's one-line
cause in the run summary (from logs written by a real job process), a summary that cannot be
written, temporary files of killed writes.  Every expectation is stated here."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hippoflow import summary
from hippoflow.atomic import atomic_output, tmp_path, write_text


def _job_log(tmp_path, body: str) -> str:
    """Run a script's main through hippoflow.logs.run_job in its own process, as a rule's
    script runs; returns its log (relative to tmp_path)."""
    script = textwrap.dedent(
        f"""
        from types import SimpleNamespace
        from hippoflow.errors import InputError
        from hippoflow.logs import run_job

        def main(sm, log):
            log.info("working")
        {textwrap.indent(textwrap.dedent(body), "    ")}

        run_job(main, SimpleNamespace(log=["job.log"], input=["in.ns5"]))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True)
    assert proc.returncode != 0
    return "job.log"


def test_cause_of_an_unexpected_error(tmp_path):
    log = _job_log(tmp_path, "raise FileExistsError(17, 'File exists', '/scratch/x')")
    assert summary.failure_cause([log], tmp_path) == (
        "unexpected error: FileExistsError: [Errno 17] File exists: '/scratch/x'"
    )


def test_cause_of_bad_input(tmp_path):
    log = _job_log(tmp_path, "raise InputError('/raw/a.nev: no trial markers')")
    assert summary.failure_cause([log], tmp_path) == "/raw/a.nev: no trial markers"


def test_cause_of_a_step_that_ends_itself(tmp_path):
    log = _job_log(tmp_path, "raise SystemExit('hippoflow: the sort found no units')")
    # SystemExit passes run_job untouched: the log has no cause; what is known is said
    assert summary.failure_cause([log], tmp_path) == (
        "its log names no cause (killed? a time or memory limit, or by hand)"
    )


def test_cause_when_there_is_no_log(tmp_path):
    assert summary.failure_cause(["logs/x.log"], tmp_path) == (
        "its log was not written (the job did not start, or its node was lost)"
    )
    assert summary.failure_cause([], tmp_path) == "no log"


SNAKEMAKE_LOG = """\
Job stats:
job      count
-----  -------
sort         1
total        1

rule sort:
    input: a
    output: out/sort.hkl
    log: job.log
    jobid: 3

Error in rule sort:
    jobid: 3
    log: job.log (check log file(s) for error details)
"""


def test_summary_gives_the_cause_not_see_its_log(tmp_path):
    _job_log(tmp_path, "raise FileExistsError(17, 'File exists', '/scratch/x')")
    run = summary.parse_snakemake_log(SNAKEMAKE_LOG)
    text = summary.summarize(run, {}, [], False, tmp_path)
    assert (
        "  sort (job.log): unexpected error: FileExistsError: [Errno 17] File exists: '/scratch/x'"
    ) in text.splitlines()


def test_a_summary_that_cannot_be_written_is_still_given(tmp_path):
    log = tmp_path / "run.snakemake.log"
    log.write_text(SNAKEMAKE_LOG)
    out = tmp_path / "out"
    (out / summary.SUMMARY_NAME).mkdir(parents=True)  # something else under its name
    text = summary.write_summary(str(log), out, {}, [], False, tmp_path)
    assert text.startswith("hippoflow run summary: FAILED\n")
    assert text.splitlines()[-1].startswith(
        f"(this summary could not be written to {out / summary.SUMMARY_NAME}: "
    )
    assert (out / summary.SUMMARY_NAME).is_dir(), "left as it was"


def test_temporary_files_of_killed_writes_are_removed_by_the_next_write(tmp_path, caplog):
    target = tmp_path / "picasso_20181105_session01.nwb"
    left = [tmp_path / f".picasso_20181105_session01.tmp{pid}.nwb" for pid in (4242, 99999)]
    others = [
        tmp_path / ".picasso_20181105_session01.tmpX.nwb",  # not a writer's name
        tmp_path / ".picasso_20181105_session02.tmp4242.nwb",  # another output's
        tmp_path / ".picasso_20181105_session01.tmp4242.hkl",
    ]
    for p in left + others:
        p.write_bytes(b"half")
    with caplog.at_level("WARNING"), atomic_output(target) as tmp:
        assert tmp == tmp_path_of(target)
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert not any(p.exists() for p in left)
    assert all(p.read_bytes() == b"half" for p in others)
    for p in left:
        assert f"{p}: temporary file of an earlier write that did not finish removed" in caplog.text
    write_text(tmp_path / "x.txt", "ok")  # nothing to remove: no warning
    assert caplog.text.count("removed") == 2


def tmp_path_of(target):
    return tmp_path(target)


def test_the_streaming_hickle_writer_removes_them_too(tmp_path):
    import hickle
    import numpy as np

    from hippoflow.dpt import StreamedObject

    target = tmp_path / "rplraw_d41d.hkl"
    left = tmp_path / ".rplraw_d41d.tmp4242.hkl"
    left.write_bytes(b"half")
    with StreamedObject(target, "data", 4, np.int16, {}, {}, []) as obj:
        obj.dataset[:] = [1, 2, 3, 4]
        obj.commit()
    assert not left.exists()
    assert list(hickle.load(str(target))["data"]) == [1, 2, 3, 4]
