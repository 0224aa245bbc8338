"""A session folder replaced after a run, through the real snakemake command.

A generated day (2 channels, two 20 s navigation sessions and sessioneye, no EyeLink) is
run for session01's split, markers and Unity object.  Then the lab deletes session01 and
renames session02 to session01 (``mv`` keeps modification times, older than the outputs).
A rerun from a new working directory must not call session01's outputs up to date: it
fails the session's problem job naming the file and the command that redoes it, and runs
nothing of the session; a run of the session's files alone stops with the same message.  That command (``rm`` of the two files it names, then a run)
redoes the session from the new file: its new digest record holds the new file's SHA-256
(hashlib here), its markers are the new .nev's.  Raw files are never modified.

A session's Unity log replaced alone (its time kept) is caught the same way, from the record
the unity job wrote (``hippoflow_digest_unity.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil

from conftest import digests, generate, job_counts, run_snakemake

from hippoflow import naming
from hippoflow.digests import NS5_RECORD

D = "picasso/20181105"
RAW = "rplraw_d41d.hkl"


def _targets(out):
    s = out / D / "session01"
    return [s / NS5_RECORD, s / naming.RPLPARALLEL_NAME, s / naming.UNITY_NAME] + [
        s / "array01/channel001" / RAW
    ]


def _run(work, root, out, targets):
    """``targets`` ([]: the default target, everything planned) of channel 1, no EyeLink,
    no NWB."""
    config = {"data_root": root, "output_root": out, "channels": "[1]"}
    config |= {"behaviour": "{eyelink: false}", "nwb": "{enabled: false}"}
    return run_snakemake(
        work, "--cores", "2", "--keep-going", *map(str, targets), config=config, check=False
    )


def test_replaced_session_is_not_taken_for_its_outputs(tmp_path):
    root, out = tmp_path / "data", tmp_path / "out"
    generate(root, "--channels", 2, "--seconds", 20, "--sessions", 2, "--no-eye")
    targets = _targets(out)
    first = _run(tmp_path / "work1", root, out, targets)
    assert first.returncode == 0, first.stderr[-3000:]
    old = {t: t.read_bytes() for t in targets}
    day = root / D
    shutil.rmtree(day / "session01")
    (day / "session02").rename(day / "session01")
    before = digests(root)
    ns5 = day / "session01" / "181105_Block1.ns5"
    where = out / D / "session01"

    second = _run(tmp_path / "work2", root, out, [])  # what a user runs
    text = second.stdout + second.stderr
    assert second.returncode != 0
    m = re.search(r"hippoflow: bad input: (\S+\.ns5): not the file .*", text)
    assert m and m.group(1) == str(ns5), text[-3000:]
    msg = m.group(0)
    redo = f"rm {where / NS5_RECORD} {where / naming.RPLPARALLEL_NAME} and run again"
    assert redo in msg
    new_sha = hashlib.sha256(ns5.read_bytes()).hexdigest()
    assert f"sha256 {new_sha[:12]}..." in msg
    summary = (out / "hippoflow_summary.txt").read_text()
    produced, rest = summary.split("failed: ")
    assert rest.startswith("1 job(s)\n  input_problem")
    # nothing of the session ran: every output is the first run's, byte for byte
    assert {t: t.read_bytes() for t in targets} == old
    for rule in ("rplsplit", "rplparallel", "unity", "align_unity", "sort", "rpllfp"):
        assert f"  {rule}: " not in produced, rule
    assert "  unity: 1 job(s)" in rest.split("not run")[1]
    assert digests(root) == before

    # asking for the session's files alone (not the default target) stops the run too
    alone = _run(tmp_path / "work3", root, out, targets[2:3])
    assert alone.returncode != 0
    assert msg in alone.stdout + alone.stderr
    assert {t: t.read_bytes() for t in targets} == old

    # the command the message gives
    (where / NS5_RECORD).unlink()
    (where / naming.RPLPARALLEL_NAME).unlink()
    third = _run(tmp_path / "work2", root, out, targets)
    assert third.returncode == 0, third.stderr[-3000:]
    record = json.loads((where / NS5_RECORD).read_text())
    assert record["sha256"] == new_sha
    assert (where / naming.RPLPARALLEL_NAME).read_bytes() != old[where / naming.RPLPARALLEL_NAME]
    for t in targets:
        assert t.stat().st_mtime_ns > ns5.stat().st_mtime_ns, t
    assert digests(root) == before


def test_unity_log_replaced_alone_is_not_taken_for_its_outputs(tmp_path):
    """A session's Unity log replaced by another (a restored copy of the wrong file, its time
    kept): from a new working directory, a run of the session's Unity object stops naming it,
    the default target plans the session's failing unity_changed problem job, and the Unity
    object is neither redone nor passed as current; the command the message gives clears it."""
    root, out = tmp_path / "data", tmp_path / "out"
    generate(root, "--channels", 1, "--seconds", 10, "--sessions", 2, "--no-eye")
    where = out / D / "session01"
    unity = where / naming.UNITY_NAME
    first = _run(tmp_path / "work1", root, out, [unity])
    assert first.returncode == 0, first.stderr[-3000:]
    old = unity.read_bytes()
    (log,) = (root / D / "session01").glob("RawData*/session*.txt")
    (other,) = (root / D / "session02").glob("RawData*/session*.txt")
    st = log.stat()
    log.write_bytes(other.read_bytes())
    os.utime(log, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime kept, older than the outputs
    before = digests(root)

    # a run of the session's Unity object stops before any job, naming the file
    second = _run(tmp_path / "work2", root, out, [unity])
    text = second.stdout + second.stderr
    assert second.returncode != 0
    m = re.search(rf"hippoflow: bad input: {re.escape(str(log))}: not the file .*", text)
    assert m, text[-3000:]
    record = where / "hippoflow_digest_unity.json"
    assert m.group(0).endswith(
        f"to redo them from the file as it is now: rm {record} {unity} and run again (they and "
        "everything made from them are then redone)"
    )
    assert unity.read_bytes() == old
    assert digests(root) == before
    # the default target plans the failing problem job (the unity job waits on it)
    config = {"data_root": root, "output_root": out, "channels": "[1]"}
    config |= {"behaviour": "{eyelink: false}", "nwb": "{enabled: false}"}
    dry = run_snakemake(tmp_path / "work2", "-n", config=config)
    text = dry.stdout + dry.stderr
    assert (
        f"hippoflow: planning problem (job input_problem fails): {str(log)}: not the file" in text
    )
    assert job_counts(dry.stdout)["input_problem"] == 1
    # the command the message gives: planned again, without the problem
    record.unlink()
    unity.unlink()
    dry = run_snakemake(tmp_path / "work2", "-n", config=config)
    assert "hippoflow: planning problem" not in dry.stdout + dry.stderr
    assert "unity" in job_counts(dry.stdout)
