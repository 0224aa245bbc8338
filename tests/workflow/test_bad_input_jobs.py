"""Bad input at job level through the real snakemake command, killed once and rerun.

One generated day (2 channels, two 20 s navigation sessions and an 8 s sessioneye), three things
broken in it, run with the local profile (``--keep-going``):

- session01: its .ns5 holds only the first 5 s (a valid, shorter file), while its .nev's trial
  runs to ~10 s: rplparallel warns naming both times, its markers and behaviour still appear;
- session02: its .ns5 header's channel count is 0xFFFFFFFF: a planning problem; the day's sort
  runs on session01 and sessioneye and lists session02 as left out (log, object, figure);
- sessioneye: its derived rplparallel file is damaged (not HDF5): qc_trials fails with an
  unexpected error whose traceback is in the job's log (not an empty log).

The first run is SIGKILLed (the whole process group) once provenance.html exists; the README's
documented commands (the same command; ``--unlock`` first when Snakemake says the directory is
locked) then finish the run.  Raw files stay byte-identical throughout.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import time
import warnings

import neo.rawio
import numpy as np
import pytest
from conftest import BIN, REPO, digests, generate
from PIL import Image

from hippoflow import dpt
from hippoflow.ripple import nsx
from hippoflow.sorting import curate as curation
from hippoflow.sorting import sort as sorting

DAY = ("picasso", "20181105")
SECONDS_LEFT = 5  # session01's .ns5 keeps this many seconds


def command(work, data, out, *extra):
    return [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        "--profile",
        str(REPO / "profiles" / "local"),
        "--cores",
        "2",
        "--config",
        f"data_root={data}",
        f"output_root={out}",
        "behaviour={eyelink: false}",
        "channels=[1]",
        *extra,
    ]


def shorten_ns5(ns5, seconds):
    """Keep the first ``seconds`` of the one data block: the block's sample count (u32 just
    before its samples) set and the file cut after them."""
    raw = bytearray(ns5.read_bytes())
    start = struct.unpack_from("<I", raw, 10)[0]  # header bytes = first block header
    n_ch = struct.unpack_from("<I", raw, 310)[0]
    n = seconds * 30000
    struct.pack_into("<I", raw, start + 5, n)
    ns5.write_bytes(bytes(raw[: start + 9 + 2 * n_ch * n]))


def last_marker_time(nev) -> float:
    """The .nev's last non-zero parallel-port code time (s), as neo reads it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = neo.rawio.BlackrockRawIO(filename=str(nev.with_suffix("")), nsx_to_load=None)
        r.parse_header()
    idx = [str(n) for n in r.header["event_channels"]["name"]].index("digital_input_port")
    ts, _, labels = r.get_event_timestamps(0, 0, idx)
    times = r.rescale_event_timestamp(ts, dtype="float64", event_channel_index=idx)
    return float(times[np.asarray(labels).astype(int) != 0].max())


def failed_jobs(text: str) -> set[tuple[str, str]]:
    """(rule, log file) of every 'Error in rule' block of a snakemake run's output."""
    jobs = set()
    for block in re.split(r"\n(?=Error in rule )", text)[1:]:
        rule = re.match(r"Error in rule (\w+):", block).group(1)
        log = re.search(r"log: (\S+)", block)
        jobs.add((rule, log.group(1) if log else ""))
    return jobs


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("badjobs")
    data, out, work = base / "data", base / "out", base / "work"
    generate(data, "--channels", 2, "--seconds", 20, "--eye-seconds", 8, "--sessions", 2)
    day = data.joinpath(*DAY)
    short = next((day / "session01").glob("*.ns5"))
    shorten_ns5(short, SECONDS_LEFT)
    broken = next((day / "session02").glob("*.ns5"))
    raw = bytearray(broken.read_bytes())
    struct.pack_into("<I", raw, 310, 0xFFFFFFFF)
    broken.write_bytes(bytes(raw))
    damaged = out.joinpath(*DAY, "sessioneye", "rplparallel_d41d.hkl")
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"damaged: not an HDF5 file\n")  # newer than the raw files: kept
    before = digests(data)
    work.mkdir()

    cmd = command(work, data, out)
    first_log = base / "first-run.txt"
    first = subprocess.Popen(
        cmd, stdout=first_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    provenance = out / "provenance.html"
    t0 = time.monotonic()
    while not provenance.exists() and first.poll() is None and time.monotonic() - t0 < 600:
        time.sleep(0.05)
    killed_running = first.poll() is None
    if killed_running:
        os.killpg(first.pid, signal.SIGKILL)  # snakemake and every job it started
    first.wait()
    after_kill = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    unlock = subprocess.run(cmd + ["--unlock"], capture_output=True, text=True, timeout=600)
    final = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return {
        "data": data,
        "out": out,
        "work": work,
        "before": before,
        "short": short,
        "broken": broken,
        "damaged": damaged,
        "killed_running": killed_running,
        "first_log": first_log,
        "after_kill": after_kill,
        "unlock": unlock,
        "final": final,
    }


def test_rerun_after_a_kill_with_the_documented_commands(run):
    assert run["killed_running"], (
        "snakemake ended before provenance.html appeared:\n" + run["first_log"].read_text()[-3000:]
    )
    after = run["after_kill"].stdout + run["after_kill"].stderr
    assert run["after_kill"].returncode != 0
    assert "Directory cannot be locked" in after and "--unlock" in after
    assert run["unlock"].returncode == 0, run["unlock"].stderr[-2000:]
    final = run["final"].stdout + run["final"].stderr
    assert "IncompleteFilesException" not in final and "cannot be locked" not in final
    assert run["final"].returncode != 0, "the bad inputs still fail their jobs"
    # nothing left marked incomplete, nothing half-written, raw files untouched
    incomplete = run["work"] / ".snakemake" / "incomplete"
    assert not incomplete.exists() or not any(incomplete.iterdir())
    assert not [p for p in run["out"].rglob("*") if ".tmp" in p.name]
    html = (run["out"] / "provenance.html").read_text()
    assert html.rstrip().endswith("</html>")
    assert digests(run["data"]) == run["before"]


def test_only_the_bad_inputs_jobs_fail(run):
    final = run["final"].stdout + run["final"].stderr
    failed = failed_jobs(final)
    # session02's rplparallel reads its .ns5 header for the pair check: whether it fails is
    # the pair check's business (rules/ripple.smk), not asserted here
    failed.discard(("rplparallel", "logs/rplparallel/picasso/20181105/session02.log"))
    problems = {log for rule, log in failed if rule == "input_problem"}
    assert len(problems) == 1 and "session02" in problems.pop(), final[-3000:]
    others = {j for j in failed if j[0] != "input_problem"}
    assert ("qc_trials", "logs/qc_trials/picasso/20181105/sessioneye.log") in others
    # any other failure is a sessioneye job reading the damaged file (e.g. its NWB export)
    for rule, log in others:
        text = (run["work"] / log).read_text()
        assert "sessioneye" in log and str(run["damaged"]) in text, (rule, text[-2000:])


def test_ns5_ending_before_the_trials_is_a_warning(run):
    out, work, short = run["out"], run["work"], run["short"]
    log = (work / "logs/rplparallel/picasso/20181105/session01.log").read_text()
    last = last_marker_time(short.with_suffix(".nev"))
    assert last > SECONDS_LEFT
    expected = (
        f"WARNING {short}: data end at {SECONDS_LEFT:.3f} s, before the .nev's last trial "
        f"marker at {last:.3f} s (trials 1.. past the end)"
    )
    assert expected in log, log
    session = out.joinpath(*DAY, "session01")
    markers = dpt.load_object(session / "rplparallel_d41d.hkl")
    assert markers["timeStamps"].max() == pytest.approx(last)
    assert (session / "unity_71bf.hkl").exists(), "the behaviour still aligns"
    hp = dpt.open_array(session / "array01/channel001/rplhighpass_b59f.hkl")
    assert hp.shape == (SECONDS_LEFT * 30000,)
    hp.file.close()


def test_unexpected_error_keeps_its_traceback_in_the_job_log(run):
    log = (run["work"] / "logs/qc_trials/picasso/20181105/sessioneye.log").read_text()
    assert "ERROR unexpected error (OSError) after " in log
    assert f"; inputs: {run['damaged']}; traceback:\nTraceback (most recent call last):" in log
    # h5py's own words for a file that is not HDF5, at the end of the traceback
    assert log.rstrip().endswith(
        "OSError: Unable to synchronously open file (file signature not found)"
    )
    # --show-failed-logs (local profile) prints it at the end of the run
    assert "Traceback (most recent call last):" in run["final"].stdout + run["final"].stderr


def test_sort_runs_without_the_session_whose_ns5_is_bad(run):
    out, work, broken = run["out"], run["work"], run["broken"]
    with pytest.raises(Exception) as exc:  # the planner's reason, read independently
        nsx.read_nsx_header(broken)
    reason = str(exc.value)
    assert reason.startswith(f"{broken}: header field 'channel count' says 4294967295 (")
    (problem,) = (work / "logs" / "input_problem").rglob("*ns5_header*.log")
    assert "session02" in str(problem) and reason in problem.read_text()
    sdir = out.joinpath(*DAY, "sort", "array01", "channel001")
    sort = dpt.load_object(sdir / sorting.sort_name(sorting.DEFAULTS))
    assert sort["sessions"] == ["session01", "sessioneye"]
    assert sort["sessions_left_out"] == {"session02": reason}
    np.testing.assert_array_equal(sort["session_samples"], [SECONDS_LEFT * 30000, 8 * 30000])
    curated = dpt.load_object(sdir / curation.curated_name(sorting.DEFAULTS))
    assert curated["sessions_left_out"] == {"session02": reason}
    log = (work / "logs/sort/picasso/20181105/01/001.log").read_text()
    assert (
        f"WARNING picasso 20181105 array01 channel001: session session02 left out of the "
        f"sort: {reason}"
    ) in log
    png = Image.open(sdir / "qc_sort.png")  # PIL reads the PNG's text chunk
    assert png.text["Description"] == f"session left out: session02: {reason}"
    assert (sdir / "cells.tsv").exists()
    assert not out.joinpath(*DAY, "session02", "array01").exists()
