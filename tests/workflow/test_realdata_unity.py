"""The lab's real VirtualMaze session through the workflow's rules (real snakemake).

Real files, read in place from ``realdata/unity/`` (README there): the Unity log
``session_1_2312018113452.txt`` (14-line header, 35,512 frames, the first the session-start
frame, marker 84) and ``rplparallel.mat``, the RPLParallel object the lab's old code made from
the same session's ``.nev`` (``df.data.markers`` 63 x 3 trial codes, ``timeStamps`` 63 x 3 s
on the Ripple clock; the session-start marker is not kept in it).

The test builds a day before 20181101 (no ``.ns5``: no neural jobs) with two sessions holding
a copy of the log and a ``.nev`` rebuilt from the ``.mat`` (each code followed by a 0 three
ticks later, as the port writes them, at 30 kHz): ``session01`` as the port wrote the
session, with the session-start 84 first (placed before the first trial by the log's own
interval from its 84 frame to its first trial frame); ``session02`` with exactly the codes
the ``.mat`` keeps.  EyeLink is off (``behaviour={eyelink: false}``, the README's form: no
EyeLink files exist for this session).  Everything is compared with the ``.mat`` and with
the log read here with numpy, not with the workflow's own readers.
"""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest
import scipy.io

from hippoflow import dpt
from hippoflow.naming import RPLPARALLEL_NAME, UNITY_NAME
from hippoflow.ripple.nev import write_nev
from tests.conftest import REALDATA as SHARED_REALDATA
from tests.conftest import digests, job_counts, run_snakemake

REALDATA = SHARED_REALDATA / "unity"
pytestmark = pytest.mark.realdata

LOG = REALDATA / "session_1_2312018113452.txt"
MAT = REALDATA / "rplparallel.mat"
SUBJECT, DAY = "picasso", "20180123"  # the log's name: 23/1/2018 11:34:52
SESSIONS = {"session01": True, "session02": False}  # session-start 84 in the .nev?
FS = 30000
ZERO_AFTER = 3  # ticks from a code to its trailing 0
SESSION_START = 84
PYHIPP_SKIP = 15  # PyHipp's Unity FileLineOffset


def read_mat():
    df = scipy.io.loadmat(MAT, squeeze_me=True, struct_as_record=False)["df"]
    d = df.data
    return np.asarray(d.markers, np.int64), np.asarray(d.timeStamps, np.float64), d


def read_log_numpy():
    """The log read as PyHipp read the lab's logs: numpy skipping a fixed 15 lines (the 14
    header lines and the session-start 84 frame on line 15), so row 0 is the frame after
    the 84 frame; the row of each trial marker (every nonzero marker), N x 3; and
    ``utime = [0, cumsum(deltaTime)]`` over those rows: row r at utime[r + 1], the 84
    frame's moment at utime[0]."""
    lines = LOG.read_text().splitlines()
    assert lines[PYHIPP_SKIP - 1].split()[0] == str(SESSION_START)
    frames = np.loadtxt(LOG, skiprows=PYHIPP_SKIP)
    markers = frames[:, 0].astype(np.int64)
    assert not np.any(markers == SESSION_START)
    rows = np.flatnonzero(markers != 0).reshape(-1, 3)
    utime = np.concatenate([[0.0], np.cumsum(frames[:, 1])])
    return frames, rows, utime


def marker_stream(codes, times, with_start, start_time):
    ticks = np.round(np.asarray(times).ravel() * FS).astype(np.int64)
    values = np.asarray(codes).ravel()
    if with_start:
        ticks = np.concatenate([[round(start_time * FS)], ticks])
        values = np.concatenate([[SESSION_START], values])
    out_ticks = np.column_stack([ticks, ticks + ZERO_AFTER]).ravel()
    out_values = np.column_stack([values, np.zeros_like(values)]).ravel()
    return out_ticks, out_values


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("realunity")
    data, out = tmp / "data", tmp / "out"
    codes, times, _ = read_mat()
    _, rows, utime = read_log_numpy()
    # the Ripple time of the session start: the first trial's, minus the log's interval
    # from its 84 frame (utime[0]) to the first trial frame (on a tick, as the port records)
    start_time = round((times[0, 0] - (utime[rows[0, 0] + 1] - utime[0])) * FS) / FS
    for session, with_start in SESSIONS.items():
        sdir = data / SUBJECT / DAY / session
        (sdir / "RawData_T1-400").mkdir(parents=True)
        shutil.copyfile(LOG, sdir / "RawData_T1-400" / LOG.name)
        ticks, values = marker_stream(codes, times, with_start, start_time)
        write_nev(
            sdir / f"{DAY[2:]}_Block1.nev", ticks, values, when=dt.datetime(2018, 1, 23, 11, 34, 52)
        )
    before = digests(data)
    proc = run_snakemake(
        tmp,
        "--cores",
        "2",
        config={"data_root": data, "output_root": out, "behaviour": "{eyelink: false}"},
    )
    return tmp, data, out, before, proc, start_time


def session_objects(out, session):
    sdir = out / SUBJECT / DAY / session
    return dpt.load_object(sdir / RPLPARALLEL_NAME), dpt.load_object(sdir / UNITY_NAME)


def test_jobs_and_raw_tree(real_run):
    tmp, data, out, before, proc, _ = real_run
    # no .ns5 (a day before 20181101) and EyeLink off: markers, Unity, QC, NWB, provenance only
    n = len(SESSIONS)
    assert job_counts(proc.stderr) == {
        "rplparallel": n,
        "unity": n,
        "align_unity": n,
        "qc_trials": n,
        "nwb": n,
        "provenance": 1,
        "all": 1,
        "total": 5 * n + 2,
    }
    assert digests(data) == before
    for session in SESSIONS:
        assert (out / SUBJECT / DAY / session / "qc_trials.png").is_file()


@pytest.mark.parametrize("session", list(SESSIONS))
def test_ripple_markers_equal_the_mat(real_run, session):
    _, _, out, _, _, start_time = real_run
    codes, times, d = read_mat()
    rpl, _ = session_objects(out, session)
    np.testing.assert_array_equal(rpl["markers"], codes)
    # ticks at 30 kHz written and read back: the .mat's times to float precision
    np.testing.assert_allclose(rpl["timeStamps"], times, rtol=0, atol=1e-9)
    # trialIndices: floor(timeStamps * 30000) in floating point, as PyHipp computed them, so
    # equal to the .mat's, including its 6 (of 189) one sample below the tick (530.2903667 s:
    # tick 15908711, index 15908710)
    ti = np.asarray(d.trialIndices, np.int64)
    np.testing.assert_array_equal(np.asarray(rpl["trialIndices"], np.int64), ti)
    ticks = np.round(times * FS).astype(np.int64)
    assert np.count_nonzero(ticks - ti) == 6
    raw = np.asarray(rpl["rawMarkers"], np.int64)
    if SESSIONS[session]:
        assert raw[0] == SESSION_START
        assert float(rpl["sessionStartTime"]) == pytest.approx(start_time, abs=1e-9)
    else:
        assert raw[0] == codes[0, 0]
    assert raw.size == 2 * (codes.size + SESSIONS[session])


@pytest.mark.parametrize("session", list(SESSIONS))
def test_unity_trials_equal_the_mat(real_run, session):
    _, _, out, _, _, _ = real_run
    codes, times, _ = read_mat()
    frames, rows, raw_time = read_log_numpy()
    _, u = session_objects(out, session)
    trig = np.asarray(u["unityTriggers"][0])
    np.testing.assert_array_equal(trig, rows)
    # by hand from the file's text: the first trial's 16, 26, 36 on lines 66, 90, 272, so
    # rows 66 - 15 - 1 = 50, 74, 256 (PyHipp's aligning notes "eg. 50 261" on such files)
    np.testing.assert_array_equal(trig[0], [50, 74, 256])
    data = np.asarray(u["unityData"][0])
    assert data.shape[0] == 35512 - 1  # every frame but the session-start frame
    # marker, x, z, yaw as logged (deltaTime is recomputed on the Ripple clock)
    np.testing.assert_array_equal(data[:, [0, 2, 3, 4]], frames[:, [0, 2, 3, 4]])
    np.testing.assert_array_equal(data[trig, 0], codes)
    assert u["headerStyle"] == "text14"
    # time performance: trials ending in a 3x code (reward), counted in the .mat
    assert u["timePerformance"][0] == pytest.approx(np.count_nonzero(codes[:, 2] // 10 == 3) / 63)
    # durations before alignment: Unity (numpy on the log) minus Ripple (.mat), ms
    unity_dur = raw_time[rows[:, 2] + 1] - raw_time[rows[:, 0] + 1]
    expected = (unity_dur - (times[:, 2] - times[:, 0])) * 1000
    np.testing.assert_allclose(u["durationDiff"][0], expected, atol=1e-6)
    assert np.max(np.abs(expected)) < 2.5  # the README's measurement: at most ~2 ms


@pytest.mark.parametrize("session", list(SESSIONS))
def test_unity_aligned_to_the_mat_times(real_run, session):
    """Alignment promises: every trial marker on its Ripple time, frames rescaled linearly
    between consecutive markers, trials disagreeing by more than 20 ms flattened."""
    _, _, out, _, _, start_time = real_run
    codes, times, _ = read_mat()
    _, rows, raw_time = read_log_numpy()
    _, u = session_objects(out, session)
    ut = np.asarray(u["unityTime"][0])
    assert ut.size == raw_time.size
    np.testing.assert_allclose(ut[rows + 1], times, rtol=0, atol=1e-9)
    if SESSIONS[session]:  # the 84 frame's moment onto Ripple's session start
        assert ut[0] == pytest.approx(start_time, abs=1e-9)
    # residuals (Unity interval - Ripple interval, ms) computed here from the log and the .mat
    src, ref = raw_time[rows + 1], times
    resid = np.zeros(src.shape)
    resid[1:, 0] = (src[1:, 0] - src[:-1, 2]) - (ref[1:, 0] - ref[:-1, 2])
    resid[:, 1:] = np.diff(src, axis=1) - np.diff(ref, axis=1)
    if SESSIONS[session]:
        resid[0, 0] = (src[0, 0] - raw_time[0]) - (ref[0, 0] - start_time)
    np.testing.assert_allclose(u["alignResiduals"], resid * 1000, atol=1e-6)
    # no trial of this session is off by 20 ms (the worst is ~2 ms): none dubious
    assert np.max(np.abs(resid[:, 1]) + np.abs(resid[:, 2])) * 1000 < 20
    assert np.asarray(u["dubiousTrials"]).size == 0
    # every frame between the first and the last knot: piecewise-linear between the knots
    knots_src, knots_ref = src.ravel(), ref.ravel()
    if SESSIONS[session]:
        knots_src = np.concatenate([[raw_time[0]], knots_src])
        knots_ref = np.concatenate([[start_time], knots_ref])
    inside = (raw_time >= knots_src[0]) & (raw_time <= knots_src[-1])
    np.testing.assert_allclose(
        ut[inside], np.interp(raw_time[inside], knots_src, knots_ref), rtol=0, atol=1e-9
    )
    assert np.all(np.diff(ut) >= 0)
