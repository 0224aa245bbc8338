"""The behaviour chain (unity, edfsplit, eyelink, align, raycast) through the real snakemake.

Conventions stated by hand from PyHipp (contract sections 5 and 6): Unity rows start after
the log's session-start (84) frame, so a marker on the log's frame row r (0 = the 84
frame, the generator's ground truth) is row r - 1; a navigation session's Eyelink
``trial_timestamps`` count from that session's first sample (``* samplingRate`` = rows of
its samples, kept by the alignment); the fixation session's are absolute times.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from hippoflow import dpt
from hippoflow.behaviour import align
from hippoflow.naming import EYELINK_ARGS, UNITY_ARGS
from tests.conftest import digests, generate, run_snakemake

DAY = "picasso/20181105"
NAV = ("session01", "session02")
UNITY = dpt.hkl_name("unity", UNITY_ARGS)
EYELINK = dpt.hkl_name("eyelink", EYELINK_ARGS)


def _targets(out: Path) -> list[str]:
    t = []
    for s in NAV:
        d = out / DAY / s
        t += [d / UNITY, d / EYELINK, d / "binData.hdf", d / "unityfile_eyelink.csv"]
    t.append(out / DAY / "sessioneye" / EYELINK)
    return [str(p) for p in t]


def _tree(tmp_path, *extra, header_only=True) -> tuple[Path, Path]:
    data = tmp_path / "data"
    # header-only .ns5 by default: the behaviour chain needs only the .nev markers
    args = ["--channels", 2, "--seconds", 40, "--sessions", 2, "--units", 1, *extra]
    generate(data, *args, *(["--header-only"] if header_only else []))
    return data, tmp_path / "out"


@pytest.fixture(scope="module")
def behaviour_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("behaviour")
    data, out = _tree(tmp, "--unity-header", "json")
    before = digests(data)
    proc = run_snakemake(
        tmp, "--cores", "2", *_targets(out), config={"data_root": data, "output_root": out}
    )
    return tmp, data, out, before, proc


def test_outputs_and_raw_untouched(behaviour_run):
    tmp, data, out, before, _ = behaviour_run
    for t in _targets(out):
        assert Path(t).is_file(), t
    # unaligned intermediates are temporary
    assert not list(out.rglob(".unaligned_*"))
    assert digests(data) == before
    for s in NAV + ("sessioneye",):
        assert (out / DAY / s / "missingData.csv").is_file()
    assert (out / DAY / dpt.hkl_name("edfsplit", _edfsplit_args())).is_file()
    for rule in ("unity", "eyelink", "align_unity", "align_eyelink", "raycast"):
        logs = list((tmp / "logs" / rule).rglob("*.log"))
        assert logs, rule
        assert (tmp / "benchmarks" / "runs" / rule).is_dir()


def _edfsplit_args():
    from hippoflow.naming import EDFSPLIT_ARGS

    return EDFSPLIT_ARGS


def test_unity_aligned_to_ripple(behaviour_run):
    _, data, out, _, _ = behaviour_run
    truth = json.loads((data / DAY / "groundtruth_unity.json").read_text())
    for s in NAV:
        u = dpt.load_object(out / DAY / s / UNITY)
        rpl = dpt.load_object(out / DAY / s / "rplparallel_d41d.hkl")
        trig = u["unityTriggers"][0]
        assert truth[s]["session_start_row"] == 0  # the log's first frame: not a row
        np.testing.assert_array_equal(trig, np.array(truth[s]["trigger_rows"]) - 1)
        assert u["headerStyle"] == "json"
        assert np.asarray(u["sessionStartFrame"])[0, 0] == 84
        ut = u["unityTime"][0]
        assert np.max(np.abs(ut[trig + 1] - rpl["timeStamps"])) < 1e-3
        np.testing.assert_array_equal(
            np.asarray(u["dubiousTrials"]).ravel(), np.array(truth[s]["dubious_trials"]) + 1
        )
        np.testing.assert_allclose(u["sumCost"][0][:, 0], truth[s]["ideal"])
        # every log frame on its true Ripple-clock time (outside dubious trials):
        # unityTime[0] the 84 frame, unityTime[r + 1] row r (log frame r + 1)
        ft = np.load(data / DAY / s / "groundtruth_unity.npz")["frame_times"]
        assert ut.size == ft.size
        assert abs(ut[0] - rpl["sessionStartTime"]) < 1e-3
        keep = np.ones(ft.size, bool)
        for i in truth[s]["dubious_trials"]:
            keep[trig[i, 0] + 1 : trig[i, 2] + 1] = False
        assert np.max(np.abs(ut - ft)[keep]) < 3e-3
        # aligning the final object again changes nothing
        again = align.align_unity(u, rpl)
        np.testing.assert_array_equal(again["unityTime"][0], ut)


def test_eyelink_aligned_and_dropped_message_reconciled(behaviour_run):
    _, data, out, _, _ = behaviour_run
    truth = json.loads((data / DAY / "groundtruth_eyelink.json").read_text())
    scale = 1 + truth["drift_ppm"] * 1e-6
    sessions = truth["sessions"]
    # tracker ms of every sample of the navigation file (1 kHz, one block per session),
    # split like EDFSplit: session k keeps [trigger k, trigger k+1), the first from -inf
    nav_ms = np.concatenate([np.arange(*sessions[s]["block"]) for s in NAV])
    cuts = [-np.inf] + [sessions[s]["trigger_ms"] for s in NAV[1:]] + [np.inf]
    for k, s in enumerate(NAV + ("sessioneye",)):
        e = dpt.load_object(out / DAY / s / EYELINK)
        rpl = dpt.load_object(out / DAY / s / "rplparallel_d41d.hkl")
        assert np.max(np.abs(np.asarray(e["trial_times"]) - rpl["timeStamps"])) < 1e-3, s
        if s == "sessioneye":
            tracker = np.arange(*sessions[s]["block"])
        else:
            tracker = nav_ms[(nav_ms >= cuts[k]) & (nav_ms < cuts[k + 1])]
        ts = np.asarray(e["timestamps"])
        assert ts.size == tracker.size, s
        tt = np.asarray(e["trial_timestamps"])
        if s == "sessioneye":  # absolute (PyHipp's fixation object), now Ripple times
            assert np.max(np.abs(tt - rpl["timeStamps"])) < 1e-3
        else:  # rows of the session's samples: the sample there is at the Ripple marker
            rows = (tt * e["samplingRate"]).astype(int)
            assert rows.max() < ts.size, s
            assert np.max(np.abs(ts[rows] - rpl["timeStamps"])) < 1.5e-3, s
            trial_ms = np.asarray(sessions[s]["trial_ms"], dtype=float)
            assert np.max(np.abs(rows - (trial_ms - tracker[0]))) <= 1, s
        # samples of the session's own block land within 1 ms of their true Ripple time
        own = (tracker >= sessions[s]["block"][0]) & (tracker < sessions[s]["block"][1])
        true_s = (tracker - sessions[s]["base_ms"]) / (1000.0 * scale)
        assert own.sum() > 0.9 * own.size
        assert np.max(np.abs(ts - true_s)[own]) < 1e-3, s
        # aligning the final object again changes nothing
        again = align.align_eyelink(e, rpl)
        np.testing.assert_array_equal(again["timestamps"], ts)
        np.testing.assert_array_equal(again["trial_timestamps"], e["trial_timestamps"])
        rows = list(csv.DictReader(open(out / DAY / s / "missingData.csv")))
        dropped = [d for d in truth["dropped"] if d["session"] == s]
        assert [(int(r["Trial"]), r["Event"]) for r in rows] == [
            (d["trial"] + 1, ("start", "cue", "end")[d["column"]]) for d in dropped
        ]
    assert truth["dropped"], "the generator drops one navigation message"


def test_raycast_outputs(behaviour_run):
    _, _, out, _, _ = behaviour_run
    for s in NAV:
        e = dpt.load_object(out / DAY / s / EYELINK)
        with h5py.File(out / DAY / s / "binData.hdf") as f:
            values = f["values"][()]
        n = np.asarray(e["timestamps"]).size
        assert values.shape[0] == n and values.shape[1] >= 2
        np.testing.assert_allclose(values[:, 0], e["timestamps"])
        assert np.all((values[:, 1:] >= 0) & (values[:, 1:] <= 5122))
        assert np.count_nonzero(values[:, 1]) > n // 2  # most samples see the maze
        with open(out / DAY / s / "unityfile_eyelink.csv") as f:
            assert sum(1 for _ in f) == n + 1


def test_rerun_is_a_no_op(behaviour_run):
    tmp, data, out, _, _ = behaviour_run
    proc = run_snakemake(tmp, "-n", *_targets(out), config={"data_root": data, "output_root": out})
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_missing_eyelink_file_and_wrong_trial_count(tmp_path):
    """No navigation EyeLink file for the day and a session02 Unity log one trial short:
    the EyeLink-dependent jobs and session02's unity fail with clear messages; the Ripple
    and session01 Unity outputs (and sessioneye's EyeLink, from its own file) complete."""
    data, out = _tree(tmp_path, header_only=False)
    day = data / DAY
    nav = day / "181105.asc"
    nav.unlink()
    log = next((day / "session02").glob("RawData*/session*.txt"))
    lines = log.read_text().splitlines()
    # erase the last complete trial's three markers (ordinary frames): one trial short
    truth = json.loads((day / "groundtruth_unity.json").read_text())["session02"]
    n = len(truth["trigger_rows"])
    first = len(lines) - truth["frames"]
    for row in truth["trigger_rows"][-1]:
        fields = lines[first + row].split()
        fields[0] = "0"
        lines[first + row] = " ".join(fields)
    log.write_text("\n".join(lines) + "\n")
    before = digests(data)
    # Ripple outputs down to the LFP of both channels (electrodes 1 and 33) of every session
    lfp = [
        str(out / DAY / s / f"array{a}" / f"channel{c}" / "rpllfp_6eca.hkl")
        for s in NAV + ("sessioneye",)
        for a, c in (("01", "001"), ("02", "033"))
    ]
    proc = run_snakemake(
        tmp_path,
        "--cores",
        "2",
        "--keep-going",
        *_targets(out),
        *lfp,
        config={"data_root": data, "output_root": out},
        check=False,
    )
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    edf_log = (tmp_path / "logs" / "edfsplit" / "picasso" / "20181105.log").read_text()
    assert "181105.edf (or 181105.asc)" in edf_log and "missing" in edf_log
    assert "181105.edf (or 181105.asc)" in text
    u_log = (tmp_path / "logs" / "unity" / "picasso" / "20181105" / "session02.log").read_text()
    assert f"{n - 1} complete trials in the Unity log" in u_log
    assert f"but {n} trials" in u_log and str(log) in u_log
    assert "181105_Block1.nev" in u_log
    d = out / DAY
    assert (d / "session01" / UNITY).is_file()
    assert not (d / "session02" / UNITY).exists()
    for s in NAV + ("sessioneye",):
        assert (d / s / "rplparallel_d41d.hkl").is_file()
    for p in lfp:
        assert Path(p).is_file(), p
    assert (d / "sessioneye" / EYELINK).is_file()
    for s in NAV:
        assert not (d / s / EYELINK).exists()
        assert not (d / s / "binData.hdf").exists()
    assert digests(data) == before


def test_two_unity_logs_in_one_session_is_a_planning_problem(tmp_path):
    data, out = _tree(tmp_path)
    logs = sorted((data / DAY / "session01").glob("RawData*/session*.txt"))
    second = logs[0].with_name("session_2_copy.txt")
    second.write_text(logs[0].read_text())
    proc = run_snakemake(
        tmp_path, "-n", "-p", config={"data_root": data, "output_root": out}, check=True
    )
    text = proc.stdout + proc.stderr
    assert "input_problem" in text and ".hippoflow-problem-unity_logs" in text
    # the other navigation session still gets its Unity object
    assert str(out / DAY / "session02" / UNITY) in text
    assert str(out / DAY / "session01" / UNITY) not in text
