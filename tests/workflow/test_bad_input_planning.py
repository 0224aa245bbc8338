"""Planning never fails on the content of the raw tree (issue 15): broken trees built from a
generated day, run with the real snakemake.

One tree holds several independent problems, one per session, plus misnamed folders, a
selected day that does not exist and a stale lock; one dry run of the default target shows
what is planned, one ``--keep-going`` run of selected targets shows which jobs fail, which
outputs still appear, the run summary and the lock's release. Every message is stated here.
"""

from __future__ import annotations

import html
import json
import os
import socket
import subprocess
import sys

import pytest
from conftest import digests, generate, job_counts, run_snakemake

from hippoflow.ripple.nev import write_nev

DAY = "20181105"
D = f"picasso/{DAY}"
UNITY = "unity_71bf.hkl"
RPL = "rplparallel_d41d.hkl"
RAW = "rplraw_d41d.hkl"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """session01: dangling .ns5 symlink, and 3 stray bytes after the .nev's last packet (a
    job warning); session02: a .nev without trials (its markers fail, its split does not);
    session03: a dangling Unity log; Session04/ and ../2018-11-06/: misnamed folders."""
    tmp = tmp_path_factory.mktemp("badplan")
    root = tmp / "data"
    generate(root, "--channels", 2, "--seconds", 20, "--sessions", 3, "--no-eye")
    day = root / D
    ns5 = day / "session01" / "181105_Block1.ns5"
    ns5.unlink()
    ns5.symlink_to(tmp / "elsewhere" / "181105_Block1.ns5")
    with open(day / "session01" / "181105_Block1.nev", "ab") as f:
        f.write(b"\0\0\0")
    write_nev(day / "session02" / "181105_Block1.nev", [15000, 15030], [84, 0])
    (unity,) = (day / "session03").glob("RawData*/session*.txt")
    unity.unlink()
    unity.symlink_to(tmp / "gone.txt")
    (day / "Session04").mkdir()
    (day.parent / "2018-11-06").mkdir()
    return tmp, root


MESSAGES = {
    f"{D}/session01/.hippoflow-problem-ns5_file_181105_Block1.ns5": (
        "{root}/" + D + "/session01/181105_Block1.ns5: dangling symbolic link (to "
        "{tmp}/elsewhere/181105_Block1.ns5, which does not exist)"
    ),
    f"{D}/session03/.hippoflow-problem-unity_log_session_1_05112018130000.txt": (
        "{root}/" + D + "/session03/RawData_T1-400/session_1_05112018130000.txt: dangling "
        "symbolic link (to {tmp}/gone.txt, which does not exist)"
    ),
    ".hippoflow-problem-days_20181199": (
        "{root}: days selection names '20181199', but no day folder of that name with "
        "session folders was found (pattern [0-9]+)"
    ),
}
WARNINGS = [
    "{root}/picasso/2018-11-06: folder skipped: looks like a day but day folders are named "
    "by digits only (pattern [0-9]+, e.g. 20181106)",
    "{root}/" + D + "/Session04: folder skipped: looks like a session but session folders "
    "are named session01, session02, ..., sessioneye (pattern session[a-z0-9]+)",
]


def _fmt(text, tmp, root):
    return text.format(tmp=tmp, root=root)


def test_dry_run_plans_everything_the_broken_files_do_not_need(broken):
    tmp, root = broken
    proc = run_snakemake(
        tmp,
        "-n",
        "--quiet",
        "rules",
        config={"data_root": root, "output_root": tmp / "out", "days": f"[{DAY},20181199]"},
    )
    text = proc.stdout + proc.stderr
    counts = job_counts(text)
    assert counts["input_problem"] == 3
    # markers for all three sessions (session01's .ns5 is broken, its .nev is fine)
    assert counts["rplparallel"] == 3
    # session02 and session03 split (two rules: their .ns5 headers list the same channels)
    assert counts["rplsplit"] == 3 - 1
    # Unity for session01 and session02 only (session03's log is a dangling link)
    assert counts["unity"] == 2 and counts["align_unity"] == 2
    for msg in MESSAGES.values():
        assert (
            f"hippoflow: planning problem (job input_problem fails): {_fmt(msg, tmp, root)}" in text
        )
    for w in WARNINGS:
        assert f"hippoflow: warning: {_fmt(w, tmp, root)}" in text


@pytest.fixture(scope="module")
def keep_going(broken):
    tmp, root = broken
    out = tmp / "out"
    out.mkdir()
    stale = {
        "host": socket.gethostname(),
        "pid": _dead_pid(),
        "workdir": "/elsewhere",
        "started": "2018-11-05T10:00:00",
    }
    (out / ".hippoflow-lock").write_text(json.dumps(stale))
    before = digests(root)
    targets = list(MESSAGES)
    targets += [f"{D}/session0{i}/{RPL}" for i in (1, 2, 3)]
    targets += [
        f"{D}/session0{i}/array{a}/channel{c}/{RAW}"
        for i in (2, 3)
        for a, c in (("01", "001"), ("02", "033"))
    ]
    targets += [f"{D}/session0{i}/{UNITY}" for i in (1, 2)] + ["provenance.html"]
    proc = run_snakemake(
        tmp,
        "--cores",
        "2",
        "--keep-going",
        *[str(out / t) for t in targets],
        config={"data_root": root, "output_root": out, "days": f"[{DAY},20181199]"},
        check=False,
    )
    return tmp, root, out, proc, before, stale


def test_keep_going_fails_only_the_broken_files_jobs(keep_going):
    tmp, root, out, proc, before, _ = keep_going
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert digests(root) == before, "raw files must stay byte-identical"
    for target, msg in MESSAGES.items():
        msg = _fmt(msg, tmp, root)
        assert f"hippoflow: bad input: {msg}" in text
        log = tmp / "logs" / "input_problem" / f"{target}.log"
        assert f"ERROR bad input: {msg}" in log.read_text()
        assert not (out / target).exists()
    nev2 = root / D / "session02" / "181105_Block1.nev"
    assert f"hippoflow: bad input: {nev2}: no trial markers" in text
    d = out / D
    assert (d / "session01" / RPL).is_file() and (d / "session03" / RPL).is_file()
    assert not (d / "session02" / RPL).exists()
    # a bad .nev does not stop the split; a bad .ns5 does not stop markers and Unity
    for s in ("session02", "session03"):
        for ch in ("array01/channel001", "array02/channel033"):
            assert (d / s / ch / RAW).is_file(), (s, ch)
    assert not (d / "session01" / "array01").exists()
    assert (d / "session01" / UNITY).is_file()
    assert not (d / "session02" / UNITY).exists()


def test_summary_lists_produced_failed_skipped_and_warnings(keep_going):
    tmp, root, out, proc, _, stale = keep_going
    summary = (out / "hippoflow_summary.txt").read_text()
    assert summary in proc.stdout + proc.stderr, "the summary is also in Snakemake's log"
    lines = summary.splitlines()
    assert lines[0] == "hippoflow run summary: FAILED"
    assert "  rplparallel: 2 job(s), 2 file(s)" in lines
    # each split job: its 2 channel files and the .ns5's digest record
    assert "  rplsplit: 2 job(s), 6 file(s)" in lines or (
        "  rplsplit: 1 job(s), 3 file(s)" in lines and "  rplsplit_2: 1 job(s), 3 file(s)" in lines
    )
    assert "  unity: 1 job(s), 1 file(s)" in lines and "  align_unity: 1 job(s), 1 file(s)" in lines
    assert "failed: 4 job(s)" in lines  # three problems and session02's markers
    nev2 = root / D / "session02" / "181105_Block1.nev"
    assert (
        f"  rplparallel (logs/rplparallel/{D}/session02.log): {nev2}: no trial markers "
        "after the session-start marker"
    ) in lines
    # session02's Unity chain waits on its markers
    assert "not run (an input failed or the run stopped): 2 job(s)" in lines
    assert "  unity: 1 job(s)" in lines and "  align_unity: 1 job(s)" in lines
    assert "planning problems (each fails a job input_problem): 3" in lines
    for msg in MESSAGES.values():
        assert f"  {_fmt(msg, tmp, root)}" in lines
    nev1 = root / D / "session01" / "181105_Block1.nev"
    job_warning = (
        f"  {nev1}: 3 trailing bytes of a truncated final packet ignored "
        f"(logs/rplparallel/{D}/session01.log)"
    )
    assert job_warning in lines
    for w in WARNINGS:
        assert f"  {_fmt(w, tmp, root)}" in lines
    lock = out / ".hippoflow-lock"
    assert (
        f"  {lock}: lock of a run that is no longer running (pid {stale['pid']} on "
        f"{stale['host']}, working directory /elsewhere, started 2018-11-05T10:00:00) taken "
        "over; that run ended without releasing it (killed?)"
    ) in lines
    assert not lock.exists(), "released at the end of the run"
    # the provenance page lists planning's problems and warnings and points to the summary
    page = html.unescape((out / "provenance.html").read_text())
    for text in list(MESSAGES.values()) + WARNINGS:
        assert _fmt(text, tmp, root) in page
    assert "hippoflow_summary.txt beside this page" in page


def test_a_second_run_on_the_same_output_tree_is_refused(broken, tmp_path):
    """A live run (this test's process, another working directory) holds the lock."""
    _, root = broken
    out = tmp_path / "out"
    out.mkdir()
    holder = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "workdir": "/elsewhere",
        "started": "2018-11-05T10:00:00",
    }
    (out / ".hippoflow-lock").write_text(json.dumps(holder))
    target = out / D / "session03" / RPL
    proc = run_snakemake(
        tmp_path,
        "--cores",
        "1",
        str(target),
        config={"data_root": root, "output_root": out},
        check=False,
    )
    assert proc.returncode != 0
    assert (
        f"hippoflow: output_root {out} is being written by another run from another working "
        f"directory (pid {os.getpid()} on {holder['host']}, working directory /elsewhere, "
        "started 2018-11-05T10:00:00): two runs on one output tree would delete each "
        "other's temporary files. Wait for it to end"
    ) in proc.stdout + proc.stderr
    assert not target.exists()
    assert json.loads((out / ".hippoflow-lock").read_text()) == holder, "not taken or removed"
