"""Alignment of Unity and EyeLink onto the Ripple clock (contract section 7).

Unity rows follow PyHipp (contract section 5): the log's first frame, the session-start 84
frame, is not a row of ``unityData``; ``unityTime[0]`` is its moment and row ``r`` (log
frame ``r + 1``) happens at ``unityTime[r + 1]``.  So, frame for frame, the aligned
``unityTime`` is the generator's true Ripple time of every log frame (84 frame first).
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from hippoflow.behaviour import align, unity
from hippoflow.behaviour.eyelink.objects import session_object
from hippoflow.behaviour.eyelink.recording import Recording
from hippoflow.errors import InputError
from hippoflow.ripple import markers
from hippoflow.ripple.nev import read_nev_events, write_nev
from hippoflow.synth import day as generate
from hippoflow.synth import unity as synth_behaviour


def test_piecewise_map_by_hand():
    src = np.array([10.0, 12.0, 16.0])
    ref = np.array([1.0, 3.5, 7.5])
    t = np.array([9.0, 10.0, 11.0, 12.0, 14.0, 16.0, 17.0])
    # before: shift -9; [10,12] -> [1,3.5] slope 1.25; [12,16] -> [3.5,7.5] slope 1; after: -8.5
    expected = [0.0, 1.0, 2.25, 3.5, 5.5, 7.5, 8.5]
    np.testing.assert_allclose(align.piecewise_map(t, src, ref), expected)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated day (2 navigation sessions, 60 s) read back from its files."""
    root = tmp_path_factory.mktemp("align")
    rng = np.random.default_rng(11)
    plans = {f"session0{i}": generate.plan_trials(rng, 60.0, True) for i in (1, 2)}
    day_dir = root / "picasso" / "20181105"
    for s, plan in plans.items():
        (day_dir / s).mkdir(parents=True)
        ticks, values = generate.marker_stream(plan)
        from hippoflow.ripple import markers

        write_nev(day_dir / s / "181105_Block1.nev", ticks, values)
    opts = SimpleNamespace(unity_header="text", seconds=60.0, eyelink=False)
    truth = synth_behaviour.write_day(day_dir, plans, rng, opts)
    out = {}
    for s in plans:
        nev = day_dir / s / "181105_Block1.nev"
        codes, times = read_nev_events(nev)
        rpl = markers.arrange_markers(codes, times, nev)
        log = unity.read_log(day_dir / truth[s]["log"])
        obj = unity.unity_object(log, rpl["timeStamps"], nev)
        gt = np.load(day_dir / s / "groundtruth_unity.npz")
        out[s] = (rpl, obj, truth[s], gt["frame_times"])
    return out


@pytest.mark.parametrize("session", ["session01", "session02"])
def test_unity_alignment_on_generated_day(generated, session):
    rpl, obj, truth, frame_times = generated[session]
    before = copy.deepcopy(obj)
    aligned = align.align_unity(obj, rpl)
    # the input object is not modified
    np.testing.assert_array_equal(obj["unityTime"][0], before["unityTime"][0])
    ut = aligned["unityTime"][0]
    trig = aligned["unityTriggers"][0]
    # trial markers within 1 ms of the Ripple times read from the .nev
    assert np.max(np.abs(ut[trig + 1] - rpl["timeStamps"])) < 1e-3
    # session start onto Ripple's 84 marker: the log's first frame, unityTime[0]
    assert truth["session_start_row"] == 0
    assert abs(ut[0] - rpl["sessionStartTime"]) < 1e-3
    # dubious trials: exactly the generated freeze
    np.testing.assert_array_equal(aligned["dubiousTrials"], np.array(truth["dubious_trials"]) + 1)
    # every frame outside dubious trials lands on its true (Ripple-clock) time; the log's
    # 0.1 ms deltaTime resolution accumulates to about a millisecond between markers
    assert ut.size == frame_times.size  # the 84 frame's moment and one time per row
    keep = np.ones(frame_times.size, bool)
    for i in truth["dubious_trials"]:
        keep[trig[i, 0] + 1 : trig[i, 2] + 1] = False
    err = np.abs(ut - frame_times)[keep]
    assert err.max() < 3e-3, err.max()
    assert np.median(err) < 1e-3
    # deltaTime recomputed from the aligned time; trial time restarts at cue offset
    np.testing.assert_allclose(aligned["unityData"][0][:, 1], np.diff(ut))
    tt = aligned["unityTrialTime"][0]
    for a in range(trig.shape[0]):
        assert tt[0, a] == 0
        dur = rpl["timeStamps"][a, 2] - rpl["timeStamps"][a, 1]
        assert tt[trig[a, 2] - trig[a, 1], a] == pytest.approx(dur, abs=1e-9)
    # flattened frames of a dubious trial: no time passes between markers
    for i in truth["dubious_trials"]:
        s, c, e = trig[i]
        assert np.all(ut[s + 2 : c + 1] == ut[s + 1])
        assert np.all(ut[c + 2 : e + 1] == ut[c + 1])
    # residuals: the frozen trial disagrees by > 20 ms, the others by a few ms at most
    resid = aligned["alignResiduals"]
    assert resid.shape == trig.shape
    total = np.abs(resid[:, 1]) + np.abs(resid[:, 2])
    for i in range(trig.shape[0]):
        assert (total[i] > 20) == (i in truth["dubious_trials"])


def test_unity_alignment_is_idempotent(generated):
    rpl, obj, _, _ = generated["session02"]
    once = align.align_unity(obj, rpl)
    twice = align.align_unity(once, rpl)
    for key in ("unityTime", "unityData", "unityTrialTime", "unityTriggers"):
        np.testing.assert_array_equal(twice[key][0], once[key][0])
    np.testing.assert_array_equal(twice["dubiousTrials"], once["dubiousTrials"])
    np.testing.assert_array_equal(twice["alignResiduals"], once["alignResiduals"])


def test_unity_alignment_without_session_marker(generated):
    rpl, obj, truth, frame_times = generated["session01"]
    rpl = dict(rpl)
    rpl["rawMarkers"] = rpl["rawMarkers"][2:]  # as if the 84 pair was never sent
    aligned = align.align_unity(obj, rpl)
    ut = aligned["unityTime"][0]
    trig = aligned["unityTriggers"][0]
    assert np.max(np.abs(ut[trig + 1] - rpl["timeStamps"])) < 1e-3
    # frames before the first trial are shifted by the first trial's offset
    first = trig[0, 0]
    shift = rpl["timeStamps"][0, 0] - obj["unityTime"][0][first + 1]
    np.testing.assert_allclose(ut[1 : first + 1], obj["unityTime"][0][1 : first + 1] + shift)


def test_threshold_boundary(generated):
    """A trial 15 ms off is kept; 25 ms off is dubious (0.02 s in total)."""
    rpl, obj, truth, _ = generated["session01"]
    trig = obj["unityTriggers"][0]
    n = trig.shape[0]
    i = 0 if 0 not in truth["dubious_trials"] else 1
    for extra, expect in ((0.015, False), (0.025, True)):
        o = copy.deepcopy(obj)
        row = (trig[i, 1] + trig[i, 2]) // 2
        o["unityData"][0][row, 1] += extra
        o["unityTime"][0] = unity.unity_time(o["unityData"][0][:, 1])
        a = align.align_unity(o, rpl)
        assert ((i + 1) in a["dubiousTrials"]) == expect
        assert a["dubiousTrials"].size <= n


def test_non_increasing_markers_fail(generated):
    rpl, obj, _, _ = generated["session01"]
    o = copy.deepcopy(obj)
    trig = o["unityTriggers"][0].copy()
    trig[0, 1] = trig[0, 0]  # cue offset on the start frame: zero-length interval
    o["unityTriggers"][0] = trig
    with pytest.raises(InputError, match="not increasing"):
        align.align_unity(o, rpl, label="session01/unity")


# ---------------------------------------------------------------------------------------
# EyeLink: a recording built here with a known clock offset and drift


def _eye_recording(plan, offset_ms=3_456_789.0, drift_ppm=40.0, drop=(1, 1)):
    """EyeLink recording of a plan: eye_ms = offset + ripple_ms * (1 + drift)."""

    def eye(t_s):
        return offset_ms + t_s * 1000.0 * (1 + drift_ppm * 1e-6)

    t_end = plan["times"][-1, -1] + 2.0
    samples = np.arange(np.floor(eye(0.0)), np.ceil(eye(t_end)), 1.0).astype(np.int64)
    n = samples.size
    rng = np.random.default_rng(1)
    gx = rng.uniform(0, 1920, n)
    gy = rng.uniform(0, 1080, n)
    msgs = [(int(round(eye(plan["session_start"]))), "Trigger Version 84")]
    names = ("Start Trial", "Cue Offset", None)
    for r, (codes, times) in enumerate(zip(plan["codes"], plan["times"], strict=True)):
        for c, (code, t) in enumerate(zip(codes, times, strict=True)):
            if (r, c) == drop:
                continue
            name = names[c] or ("End Trial" if code // 10 == 3 else "Timeout")
            msgs.append((int(round(eye(t))), f"{name} {int(code)}"))
    fix = np.array([[samples[100], samples[400], 900.0, 500.0]], dtype=np.float64)
    rec = Recording(
        path="synthetic.asc",
        samples_time=samples,
        gx=gx,
        gy=gy,
        pupil=np.full(n, 1000.0),
        sampling_rate=1000.0,
        messages=msgs,
        fixations=fix,
        saccades=np.array([[samples[50], samples[90]]], dtype=np.int64),
        blinks=np.zeros((0, 2), dtype=np.int64),
        blocks=[(int(samples[0]), int(samples[-1]))],
    )
    true_ripple_s = (samples - offset_ms) / (1000.0 * (1 + drift_ppm * 1e-6))
    return rec, true_ripple_s


def _plan_rpl(plan):
    ticks, values = generate.marker_stream(plan)
    return markers.arrange_markers(values, ticks / 30000.0)


def test_eyelink_alignment_with_drift_and_dropped_message():
    rng = np.random.default_rng(4)
    plan = generate.plan_trials(rng, 60.0, True)
    rpl = _plan_rpl(plan)
    rec, truth = _eye_recording(plan, drop=(1, 1))
    obj = session_object(
        rec, rpl["markers"], rpl["timeStamps"], ripple_session_start=rpl["sessionStartTime"]
    )
    # the dropped cue offset of trial 2 was reconciled (filled from the Ripple interval)
    assert [(m["Trial"], m["Event"]) for m in obj["missing"]] == [(2, "cue")]
    aligned = align.align_eyelink(obj, rpl)
    np.testing.assert_array_equal(aligned["trial_times"], rpl["timeStamps"])
    assert abs(aligned["session_start"] - rpl["sessionStartTime"]) < 1e-3
    # trial_timestamps are rows of the session's samples (PyHipp): the alignment keeps them,
    # and the sample on each row is now at the marker's Ripple time (PyHipp's own test of an
    # aligned object: timestamps[trial_timestamps * 1000] against rplparallel's timeStamps)
    np.testing.assert_array_equal(aligned["trial_timestamps"], obj["trial_timestamps"])
    rows = (aligned["trial_timestamps"] * aligned["samplingRate"]).astype(int)
    assert np.max(np.abs(aligned["timestamps"][rows] - rpl["timeStamps"])) < 1e-3
    # expTime (the file's first sample, tracker clock) is kept, as PyHipp's alignment does
    assert aligned["expTime"] == obj["expTime"] == rec.samples_time[0] / 1000.0
    # every sample lands within 1 ms of its true Ripple time (clock offset + 40 ppm drift)
    err = np.abs(aligned["timestamps"] - truth)
    assert err.max() < 1e-3, err.max()
    # before alignment the drift alone was > 1 ms by the end of the minute
    assert np.max(np.abs(obj["timestamps"] - obj["timestamps"][0] - (truth - truth[0]))) > 1e-3
    # fixation times mapped with the samples they came from
    i0, i1 = 100, 400
    assert aligned["fix_times"][0, 0] == pytest.approx(aligned["timestamps"][i0], abs=1e-9)
    assert aligned["fix_times"][0, 1] == pytest.approx(aligned["timestamps"][i1], abs=1e-9)
    assert aligned["fix_times"][0, 2] == pytest.approx(
        aligned["timestamps"][i1] - aligned["timestamps"][i0]
    )
    timeouts = rpl["timeStamps"][rpl["markers"][:, 2] // 10 == 4, 2]
    np.testing.assert_allclose(aligned["timeouts"], timeouts, atol=1e-3)
    # residuals flag the filled interval only weakly (filled from Ripple): all tiny
    assert np.max(np.abs(aligned["alignResiduals"])) < 5.0
    # twice changes nothing
    twice = align.align_eyelink(aligned, rpl)
    for key in ("timestamps", "trial_timestamps", "trial_times", "fix_times", "timeouts"):
        np.testing.assert_array_equal(twice[key], aligned[key])
    assert twice["session_start"] == aligned["session_start"]


def test_eyelink_shape_mismatch_fails():
    rng = np.random.default_rng(4)
    plan = generate.plan_trials(rng, 60.0, True)
    rpl = _plan_rpl(plan)
    rec, _ = _eye_recording(plan, drop=(-1, -1))
    obj = session_object(rec, rpl["markers"], rpl["timeStamps"])
    short = dict(rpl)
    short["timeStamps"] = rpl["timeStamps"][:-1]
    with pytest.raises(InputError, match="cannot align"):
        align.align_eyelink(obj, short)


def test_unity_object_with_the_old_row_layout_is_refused(generated):
    """An object whose row 0 is the session-start frame (rows one above PyHipp's, as
    hippoflow wrote them before) must be remade, not aligned one frame off."""
    rpl, obj, _, _ = generated["session01"]
    old = copy.deepcopy(obj)
    start = old.pop("sessionStartFrame")
    old["unityData"][0] = np.vstack([np.append(start[0], [np.nan, 0.0]), old["unityData"][0]])
    old["unityTriggers"][0] = old["unityTriggers"][0] + 1
    with pytest.raises(InputError, match="older hippoflow"):
        align.align_unity(old, rpl, label="session01/unity")


def test_eyelink_object_in_pyhipps_own_form_aligns():
    """An object holding only PyHipp's keys (navigation ``trial_timestamps`` from the first
    sample, no ``trial_times``) aligns; a stored object without ``trial_times`` (made when
    ``trial_timestamps`` counted from the file's start) is refused."""
    rng = np.random.default_rng(4)
    plan = generate.plan_trials(rng, 60.0, True)
    rpl = _plan_rpl(plan)
    rec, truth = _eye_recording(plan, drop=(-1, -1))
    full = session_object(
        rec, rpl["markers"], rpl["timeStamps"], ripple_session_start=rpl["sessionStartTime"]
    )
    keys = ("trial_timestamps", "timestamps", "fix_times", "timeouts", "session_start")
    bare = {k: full[k] for k in keys + ("expTime", "samplingRate")}
    # PyHipp's convention stated by hand: trial message time minus the first sample's time
    first = rec.samples_time[0] / 1000.0
    np.testing.assert_allclose(bare["trial_timestamps"] + first, full["trial_times"], atol=1e-9)
    aligned = align.align_eyelink(bare, rpl)
    np.testing.assert_array_equal(aligned["trial_times"], rpl["timeStamps"])
    assert np.max(np.abs(aligned["timestamps"] - truth)) < 1e-3
    stored_before = dict(bare, indices=np.zeros((0, 3), np.int64))
    with pytest.raises(InputError, match="older hippoflow"):
        align.align_eyelink(stored_before, rpl, label="session01/eyelink")
