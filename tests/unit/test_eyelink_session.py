"""EDFSplit and the Eyelink session object on synthetic EyeLink days with known clocks.

Expected values come from the generator's ground truth (the Ripple plan mapped through the
known offset and drift) and from reading the .asc text line by line here in the test.

Conventions stated by hand from PyHipp's Eyelink (contract section 6, consumer notes): a
navigation session's ``trial_timestamps`` count from that session's first sample, so that
``int(trial_timestamps * samplingRate)`` is the row of the message's sample in the session's
``timestamps`` (PyHipp's XT/XY plots index so); the session's first sample is the file's
first for session01 and the first at or after its ``Trigger Version 84`` for the others.
The fixation session keeps the messages' absolute times.  The lab's fixation stream is the
task's 1, 2, x triplets (start, reward, end); its EyeLink trial starts at
``1  0  0  0  0  0  0  0`` and the next two 8-digit messages are the reward and the end.
"""

from __future__ import annotations

import csv
import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

from hippoflow.behaviour.eyelink.objects import session_object
from hippoflow.behaviour.eyelink.recording import Recording
from hippoflow.behaviour.eyelink.sessions import (
    FIX_END,
    FIX_REWARD,
    FIX_START,
    MISSING_CSV_COLUMNS,
    fixation_roles,
    fixation_trial_messages,
    navigation_trial_messages,
    reward_times,
    split_navigation,
    write_missing_csv,
)
from hippoflow.behaviour.eyelink.sniff import read_recording, sniff
from hippoflow.errors import InputError
from hippoflow.ripple.nev import read_nev_events
from hippoflow.synth import day as gen
from hippoflow.synth import eyelink as synth_eyelink

NAV = ("session01", "session02")


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    d = tmp_path_factory.mktemp("eyeday") / "picasso" / "20181105"
    d.mkdir(parents=True)
    rng = np.random.default_rng(11)
    plans = {s: gen.plan_trials(rng, 40.0, True) for s in NAV}
    plans["sessioneye"] = gen.plan_trials(rng, 20.0, False)
    opts = SimpleNamespace(seconds=40.0, eye_seconds=20.0, eyelink_drop=1)
    truth = synth_eyelink.write_eyelink_day(d, plans, rng, opts)
    return SimpleNamespace(dir=d, plans=plans, truth=truth)


@pytest.fixture(scope="module")
def nav(day):
    return read_recording(day.dir / day.truth["navigation_file"])


def true_tracker_ms(day, session, t_s):
    """The tracker time of a Ripple time, from the ground-truth clock (independent)."""
    s = day.truth["sessions"][session]
    return s["base_ms"] + np.asarray(t_s) * 1000.0 * (1 + day.truth["drift_ppm"] * 1e-6)


def test_files_and_groundtruth(day):
    names = sorted(p.name for p in day.dir.iterdir())
    assert names == sorted(["181105.asc", day.truth["fixation_file"], "groundtruth_eyelink.json"])
    assert re.fullmatch(r"P\d+_\d+\.asc", day.truth["fixation_file"])
    on_disk = json.loads((day.dir / "groundtruth_eyelink.json").read_text())
    assert on_disk["dropped"] == day.truth["dropped"] and len(on_disk["dropped"]) == 1
    assert 20 <= abs(on_disk["drift_ppm"]) <= 60
    assert on_disk["sessions"]["session01"]["base_ms"] > 300_000
    # sessions follow each other on the tracker clock
    b1, b2 = (on_disk["sessions"][s]["block"] for s in NAV)
    assert b1[1] < b2[0]


def test_synthetic_messages_follow_the_clock(day, nav):
    assert sniff(day.dir / "181105.asc") == "eyelink-asc"
    assert nav.sampling_rate == 1000.0 and nav.eye == "left"
    drop = day.truth["dropped"][0]
    text = (day.dir / "181105.asc").read_text().splitlines()
    trial_lines = [
        ln for ln in text if re.match(r"MSG\t\d+ (Start Trial|Cue Offset|End Trial|Timeout) ", ln)
    ]
    n_total = sum(day.plans[s]["codes"].size for s in NAV)
    assert len(trial_lines) == n_total - 1
    for s in NAV:
        plan = day.plans[s]
        want = np.rint(true_tracker_ms(day, s, plan["times"])).astype(np.int64)
        got = {(t, txt) for t, txt in nav.messages}
        for r in range(want.shape[0]):
            for c in range(want.shape[1]):
                txt = synth_eyelink.nav_text(int(plan["codes"][r, c]), c)
                present = (int(want[r, c]), txt) in got
                dropped = (drop["session"], drop["trial"], drop["column"]) == (s, r, c)
                assert present != dropped, (s, r, c)
        trig = int(np.rint(true_tracker_ms(day, s, plan["session_start"])))
        assert (trig, "Trigger Version 84") in got
    # samples: one per ms inside each block
    blocks = [tuple(day.truth["sessions"][s]["block"]) for s in NAV]
    assert nav.blocks == blocks
    assert len(nav.samples_time) == sum(b - a for a, b in blocks)


def test_split_navigation_matches_file_order(day, nav):
    # independent: walk the file, counting samples between "Trigger Version 84" lines
    counts, firsts, k = [0, 0], [None, None], 0
    seen = 0
    for line in (day.dir / "181105.asc").read_text().splitlines():
        if line.endswith(" Trigger Version 84") and line.startswith("MSG"):
            seen += 1
            k = max(seen - 1, 0)
        elif line[:1].isdigit():
            counts[k] += 1
            firsts[k] = firsts[k] or int(line.split()[0])
    parts = split_navigation(nav, 2)
    assert [len(p.samples_time) for p in parts] == counts
    assert [int(p.samples_time[0]) for p in parts] == firsts
    t2 = day.truth["sessions"]["session02"]["trigger_ms"]
    assert parts[0].samples_time[-1] < t2 <= parts[1].samples_time[0]
    for k, p in enumerate(parts):
        lo, hi = p.bounds
        assert p.session_index == k and p.n_sessions == 2
        assert p.file_start_ms == int(nav.samples_time[0])
        for ev in (p.fixations[:, :2], p.saccades, p.blinks):
            assert np.all((ev[:, 0] < hi) & (ev[:, 1] >= lo))
        # every event of the file overlapping the interval is kept
        whole = nav.fixations[(nav.fixations[:, 0] < hi) & (nav.fixations[:, 1] >= lo)]
        np.testing.assert_array_equal(whole, p.fixations)
        assert all(lo <= t < hi for t, _ in p.messages)
    assert sum(len(p.messages) for p in parts) == len(nav.messages)


def test_split_count_mismatch_names_both_counts(nav):
    with pytest.raises(InputError) as exc:
        split_navigation(nav, 3)
    msg = str(exc.value)
    assert nav.path in msg and "2 'Trigger Version 84'" in msg and "3 navigation sessions" in msg


def test_dropped_message_is_reconciled_from_ripple(day, nav):
    drop = day.truth["dropped"][0]
    parts = dict(zip(NAV, split_navigation(nav, 2), strict=True))
    for s in NAV:
        plan = day.plans[s]
        obj = session_object(
            parts[s],
            plan["codes"].astype(float),
            plan["times"],
            ripple_session_start=plan["session_start"],
        )
        truth_ms = np.asarray(day.truth["sessions"][s]["trial_ms"], dtype=float)
        first_ms = session_first_sample_ms(day, s)
        assert obj["timestamps"][0] * 1000 == first_ms
        assert obj["trial_timestamps_origin"] * 1000 == first_ms
        got_ms = obj["trial_timestamps"] * 1000.0 + first_ms
        np.testing.assert_allclose(obj["trial_times"] * 1000.0, got_ms, atol=1e-6)
        # PyHipp's plots: row int(trial_timestamps * rate) of the session's samples is the
        # sample at the message's time (1 kHz, one block, messages on whole ms)
        rows = (obj["trial_timestamps"] * obj["samplingRate"]).astype(int)
        np.testing.assert_array_equal(obj["timestamps"][rows] * 1000, np.rint(got_ms))
        # expTime: the file's first sample for every session (PyHipp's)
        assert obj["expTime"] * 1000 == day.truth["sessions"]["session01"]["block"][0]
        assert obj["noOfTrials"] == plan["codes"].shape[0]
        np.testing.assert_array_equal(obj["trial_codes"], plan["codes"])
        assert obj["discrepancies"].shape == plan["codes"].shape
        if s != drop["session"]:
            assert obj["missing"] == []
            np.testing.assert_allclose(got_ms, truth_ms, atol=1e-6)
            continue
        r, c = drop["trial"], drop["column"]
        assert obj["missing"] == [
            {
                "Type": 24,
                "Timestamps": pytest.approx(drop["time_ms"], abs=1.0),
                "Messages": drop["text"],
                "Session": s,
                "Trial": r + 1,
                "Event": ("start", "cue", "end")[c],
            }
        ]
        assert abs(got_ms[r, c] - drop["time_ms"]) <= 1.0
        mask = np.ones_like(truth_ms, bool)
        mask[r, c] = False
        np.testing.assert_allclose(got_ms[mask], truth_ms[mask], atol=1e-6)
        # intervals now agree with Ripple within rounding and drift
        assert obj["discrepancies"].max() < 0.002
        assert obj["session_start"] * 1000 == day.truth["sessions"][s]["trigger_ms"]
        # noOfSessions: the object's own count (one session), not the day's
        assert obj["noOfSessions"] == 1 and obj["samplingRate"] == 1000.0


def session_first_sample_ms(day, session) -> float:
    """Independent: one sample per ms in each block; session01 owns everything before
    session02's trigger, session02 starts at its trigger (contract section 6: [T_k, T_k+1),
    T_1 taken as the start)."""
    s = day.truth["sessions"]
    if session == NAV[0]:
        return float(s[session]["block"][0])
    return float(s[session]["trigger_ms"])


def test_second_session_rows_index_its_own_samples(day, nav):
    """The XT plot's failure PyHipp showed on session02: times counted from the file's
    start overran the session's samples; counted from its own first sample they do not."""
    part = split_navigation(nav, 2)[1]
    plan = day.plans["session02"]
    obj = session_object(part, plan["codes"].astype(float), plan["times"])
    rows = (obj["trial_timestamps"] * obj["samplingRate"]).astype(int)
    assert rows.min() >= 0 and rows.max() < obj["timestamps"].size
    truth_ms = np.asarray(day.truth["sessions"]["session02"]["trial_ms"], dtype=float)
    ok = ~np.isnan(truth_ms)
    drop = day.truth["dropped"][0]
    if drop["session"] == "session02":
        ok[drop["trial"], drop["column"]] = False
    np.testing.assert_array_equal(obj["timestamps"][rows][ok] * 1000, truth_ms[ok])
    # and the rows are the samples' own rows: (message - first sample) at 1 per ms
    first = session_first_sample_ms(day, "session02")
    np.testing.assert_array_equal(rows[ok], (truth_ms[ok] - first).astype(int))


def test_relative_times_truncate_to_their_row():
    """int(t * rate) must give the row t stands for: k / 1000 * 1000 falls below k for about
    1 in 100 whole k in floating point; the stored times do not."""
    from hippoflow.behaviour.eyelink.objects import relative_trial_times

    k = np.arange(0, 2_000_000, dtype=np.float64)
    assert np.count_nonzero((k / 1000.0 * 1000.0).astype(np.int64) != k) > 10_000
    t = relative_trial_times(k, 1000.0)
    np.testing.assert_array_equal((t * 1000.0).astype(np.int64), k)
    np.testing.assert_allclose(t, k / 1000.0, rtol=1e-15, atol=0)
    # at 2 kHz half-ms offsets are whole rows; a third of a ms is not and is left alone
    half = relative_trial_times(np.array([0.5, 1.5, 1234.5]), 2000.0)
    np.testing.assert_array_equal((half * 2000.0).astype(np.int64), [1, 3, 2469])
    assert relative_trial_times(np.array([1 / 3]), 1000.0)[0] == (1 / 3) / 1000.0


def _nav_recording(times_ms, codes, drop=(), shift=None, path="hand.asc"):
    """A minimal navigation Recording from a hand-made trial table."""
    msgs = [(int(times_ms[0, 0]) - 1500, "Trigger Version 84")]
    for r in range(codes.shape[0]):
        for c in range(3):
            if (r, c) in drop:
                continue
            t = int(times_ms[r, c]) + (shift[1] if shift and shift[0] == (r, c) else 0)
            msgs.append((t, synth_eyelink.nav_text(int(codes[r, c]), c)))
    t = np.arange(int(times_ms[0, 0]) - 2000, int(times_ms[-1, -1]) + 1000, dtype=np.int64)
    z = np.full(t.size, 500.0)
    return Recording(
        path=path,
        samples_time=t,
        gx=z,
        gy=z,
        pupil=z,
        sampling_rate=1000.0,
        messages=msgs,
        fixations=np.zeros((0, 4)),
        saccades=np.zeros((0, 2), np.int64),
        blinks=np.zeros((0, 2), np.int64),
        blocks=[(int(t[0]), int(t[-1]) + 1)],
    )


@pytest.fixture
def repeated():
    """Four timeouts on poster 3 (identical codes) with distinct durations, then a reward."""
    codes = np.array([[13, 23, 43]] * 4 + [[13, 23, 33]])
    starts = np.array([2.0, 16.0, 31.5, 44.0, 57.0])
    cue = np.array([1.2, 1.9, 1.4, 1.6, 1.1])
    times = np.column_stack([starts, starts + cue, starts + cue + 10.0])
    times[-1, 2] = starts[-1] + cue[-1] + 4.2
    eye_ms = 700_000.0 + times * 1000.0 * (1 + 40e-6)
    return codes, times, eye_ms


@pytest.mark.parametrize("gone", [1, 2])
def test_missing_whole_trial_is_inserted_where_gaps_disagree(repeated, gone):
    codes, times, eye_ms = repeated
    rec = _nav_recording(np.rint(eye_ms), codes, drop={(gone, 0), (gone, 1), (gone, 2)})
    obj = session_object(rec, codes.astype(float), times, ripple_session_start=0.5)
    assert [(m["Trial"], m["Event"]) for m in obj["missing"]] == [
        (gone + 1, "start"),
        (gone + 1, "cue"),
        (gone + 1, "end"),
    ]
    got = (obj["trial_timestamps"] + obj["expTime"]) * 1000.0
    np.testing.assert_allclose(got, eye_ms, atol=1.0)
    assert obj["missing"][0]["Messages"] == "Start Trial 13"
    assert obj["missing"][2]["Messages"] == "Timeout 43"


def test_sequence_that_still_disagrees_is_an_error(repeated):
    codes, times, eye_ms = repeated
    rec = _nav_recording(np.rint(eye_ms), codes, shift=((3, 1), 2500))
    with pytest.raises(InputError) as exc:
        session_object(rec, codes.astype(float), times, ripple_session_start=0.5)
    assert "hand.asc" in str(exc.value) and "disagree" in str(exc.value)
    assert "trial 4" in str(exc.value)


def test_more_eyelink_trials_than_ripple_names_both_counts(repeated):
    codes, times, eye_ms = repeated
    rec = _nav_recording(np.rint(eye_ms), codes)
    with pytest.raises(InputError) as exc:
        session_object(rec, codes[:-1].astype(float), times[:-1])
    assert "15 EyeLink trial messages" in str(exc.value) and "only 12 Ripple" in str(exc.value)


def test_codes_that_cannot_match_are_an_error(repeated):
    codes, times, eye_ms = repeated
    rec = _nav_recording(np.rint(eye_ms), codes, drop={(0, 0)})
    other = codes.copy()
    other[4] = [14, 24, 34]
    with pytest.raises(InputError, match="cannot be matched"):
        session_object(rec, other.astype(float), times)


def test_offsets_and_eight_digit_messages():
    rec = _nav_recording(np.array([[10_000, 11_000, 15_000]]), np.array([[13, 23, 33]]))
    rec.messages += [(20_000, "-5 Start Trial 14"), (21_000, "1  0  0  0  0  0  0  0")]
    rec.messages += [(21_500, "0  0  0  0  0  0  0  1"), (22_000, "0  1  0  0  0  0  0  0")]
    nav_msgs = navigation_trial_messages(rec)
    assert (20_005.0, 0, 14, "-5 Start Trial 14") in nav_msgs
    assert all("0  0" not in m[3] for m in nav_msgs)
    # start and end (a 1, 2 pair stream): the last other 8-digit message is the end
    fix = fixation_trial_messages(rec)
    assert fix == [
        (21_000.0, 0, FIX_START, "1  0  0  0  0  0  0  0"),
        (22_000.0, 1, FIX_END, "0  1  0  0  0  0  0  0"),
    ]
    # start, reward, end (the triplets): the trial's next two 8-digit messages
    assert fixation_trial_messages(rec, with_reward=True) == [
        (21_000.0, 0, FIX_START, "1  0  0  0  0  0  0  0"),
        (21_500.0, 1, FIX_REWARD, "0  0  0  0  0  0  0  1"),
        (22_000.0, 2, FIX_END, "0  1  0  0  0  0  0  0"),
    ]
    np.testing.assert_array_equal(reward_times(rec), [21_500.0])


def test_fixation_roles_by_hand():
    # the lab's triplets, whatever the end code x: start, reward, end
    np.testing.assert_array_equal(
        fixation_roles([[1, 2, 4], [1, 2, 3]]), [[FIX_START, FIX_REWARD, FIX_END]] * 2
    )
    # 1, 2 pairs as N x 2, and as PyHipp's N x 3 rows of them ([1, 2, 1], [2, 1, 2])
    np.testing.assert_array_equal(fixation_roles([[1, 2], [1, 2]]), [[FIX_START, FIX_END]] * 2)
    np.testing.assert_array_equal(
        fixation_roles([[1, 2, 1], [2, 1, 2]]),
        [[FIX_START, FIX_END, FIX_START], [FIX_END, FIX_START, FIX_END]],
    )


def test_generated_fixation_stream_is_the_labs_triplets(day):
    plan = day.plans["sessioneye"]
    codes = plan["codes"]
    assert codes.shape[1] == 3 and codes.shape[0] >= 3
    np.testing.assert_array_equal(codes[:, :2], [[1, 2]] * codes.shape[0])
    assert np.all(codes[:, 2] == gen.FIXATION_END_CODE)
    assert np.all(np.diff(plan["times"].ravel()) > 0)
    # the EyeLink text: per trial the start pattern, then two 8-digit messages (reward, end)
    text = (day.dir / day.truth["fixation_file"]).read_text().splitlines()
    eight = [ln.split(None, 2) for ln in text if re.match(r"MSG\t\d+ \d(  \d){7}$", ln)]
    assert [m[2] for m in eight[:3]] == [
        "1  0  0  0  0  0  0  0",
        "0  1  0  0  0  0  0  0",
        "0  0  1  0  0  0  0  0",
    ]
    assert len(eight) == codes.size
    want = np.rint(true_tracker_ms(day, "sessioneye", plan["times"])).ravel()
    np.testing.assert_array_equal([int(m[1]) for m in eight], want)


def fixation_recording(day, drop=()):
    """The generated fixation file with the 8-digit messages at ``drop`` (row, column)
    removed (the text is read here, the message times are the ground truth's)."""
    rec = read_recording(day.dir / day.truth["fixation_file"])
    truth_ms = np.asarray(day.truth["sessions"]["sessioneye"]["trial_ms"], dtype=float)
    gone = {float(truth_ms[r, c]) for r, c in drop}
    rec.messages = [(t, m) for t, m in rec.messages if float(t) not in gone]
    return rec, truth_ms


def test_fixation_session(day):
    rec, truth_ms = fixation_recording(day)
    plan = day.plans["sessioneye"]
    obj = session_object(rec, plan["codes"].astype(float), plan["times"], fixation=True)
    # absolute message times (PyHipp's fixation trial_timestamps), start/reward/end
    np.testing.assert_allclose(obj["trial_timestamps"] * 1000.0, truth_ms, atol=1e-6)
    np.testing.assert_allclose(obj["trial_times"] * 1000.0, truth_ms, atol=1e-6)
    assert obj["trial_timestamps_origin"] == 0.0
    assert obj["trial_timestamps"].shape == plan["codes"].shape == (plan["codes"].shape[0], 3)
    # every Ripple code of the triplets has its message: nothing missing
    assert obj["missing"] == [] and obj["discrepancies"].max() < 0.002
    np.testing.assert_allclose(obj["reward_times"] * 1000, truth_ms[:, 1], atol=1e-6)
    assert obj["session_start"] * 1000 == truth_ms[0, 0]
    np.testing.assert_array_equal(obj["trial_codes"], plan["codes"])
    # a fixation table is N x 2 or, by PyHipp's arrangement rule, N x 3; never 4 wide
    with pytest.raises(InputError, match="expected 2 or 3"):
        session_object(rec, np.ones((3, 4)), np.ones((3, 4)), fixation=True)


@pytest.mark.parametrize(
    "drop, event, text",
    [((2, 1), "reward", "reward (8-digit code)"), ((1, 2), "end", "trial end (8-digit code)")],
)
def test_fixation_message_dropped_is_filled(day, drop, event, text):
    rec, truth_ms = fixation_recording(day, drop=[drop])
    plan = day.plans["sessioneye"]
    obj = session_object(rec, plan["codes"].astype(float), plan["times"], fixation=True)
    r, c = drop
    assert [(m["Trial"], m["Event"], m["Messages"]) for m in obj["missing"]] == [
        (r + 1, event, text)
    ]
    assert abs(obj["trial_timestamps"][r, c] * 1000 - truth_ms[r, c]) <= 1.0
    keep = np.ones(truth_ms.shape, bool)
    keep[r, c] = False
    np.testing.assert_allclose(obj["trial_timestamps"][keep] * 1000, truth_ms[keep], atol=1e-6)


def _fixation_pairs_recording(n=6):
    """A hand fixation file of 1, 2 pairs (start, end), each with a reward message 50 ms
    before its end; trials 3 s apart, 1.5 s long, on a tracker clock 500 s ahead."""
    starts = 500_000 + 3000 * np.arange(n)
    msgs = []
    for t in starts:
        msgs += [(int(t), "1  0  0  0  0  0  0  0"), (int(t) + 1450, "0  0  0  0  0  0  0  1")]
        msgs.append((int(t) + 1500, "0  1  0  0  0  0  0  0"))
    t = np.arange(starts[0] - 1000, starts[-1] + 3000, dtype=np.int64)
    z = np.full(t.size, 500.0)
    rec = Recording(
        path="P1_1.asc",
        samples_time=t,
        gx=z,
        gy=z,
        pupil=z,
        sampling_rate=1000.0,
        messages=msgs,
        fixations=np.zeros((0, 4)),
        saccades=np.zeros((0, 2), np.int64),
        blinks=np.zeros((0, 2), np.int64),
        blocks=[(int(t[0]), int(t[-1]) + 1)],
    )
    ripple = 10.0 + 3.0 * np.arange(n)
    return rec, np.column_stack([starts, starts + 1500]), np.column_stack([ripple, ripple + 1.5])


def test_fixation_pairs_and_their_three_column_arrangement():
    """An older 1, 2 pair stream reconciles as start/end, as N x 2 and as PyHipp's N x 3
    rows of it; the reward messages are not trial markers."""
    rec, eye_ms, ripple = _fixation_pairs_recording()
    codes = np.tile([1, 2], (6, 1))
    obj = session_object(rec, codes.astype(float), ripple, fixation=True)
    assert obj["missing"] == []
    np.testing.assert_allclose(obj["trial_timestamps"] * 1000, eye_ms)
    np.testing.assert_allclose(obj["reward_times"] * 1000, eye_ms[:, 1] - 50)
    three = session_object(
        rec, codes.reshape(4, 3).astype(float), ripple.reshape(4, 3), fixation=True
    )
    assert three["missing"] == []
    np.testing.assert_allclose(three["trial_timestamps"].ravel() * 1000, eye_ms.ravel())


def test_session_object_arrays(day, nav):
    part = split_navigation(nav, 2)[0]
    plan = day.plans["session01"]
    obj = session_object(part, plan["codes"].astype(float), plan["times"])
    t = part.samples_time
    np.testing.assert_array_equal(obj["timestamps"], t / 1000.0)
    gx, gy = part.gx, part.gy
    inside = (gx >= 0) & (gx <= 1920) & (gy >= 0) & (gy <= 1080)
    assert np.isnan(obj["eye_pos"][~inside]).all()
    np.testing.assert_array_equal(obj["eye_pos"][inside], np.column_stack([gx, gy])[inside])
    assert 0 < (~inside).mean() < 0.5  # the generator puts some gaze off screen / in blinks
    assert obj["expTime"] * 1000 == nav.samples_time[0]
    fx = part.fixations
    np.testing.assert_allclose(obj["fix_times"][:, 0] * 1000, fx[:, 0], atol=1e-6)
    np.testing.assert_array_equal(obj["fix_event"], fx[:, 1] - fx[:, 0])
    np.testing.assert_array_equal(obj["sacc_event"], part.saccades[:, 1] - part.saccades[:, 0])
    idx = obj["trial_sample_index"]
    abs_ms = obj["trial_timestamps"] * 1000 + t[0]  # session01: from the file's first sample
    np.testing.assert_allclose(obj["trial_times"] * 1000, abs_ms, atol=1e-6)
    np.testing.assert_allclose(t[idx], np.ceil(abs_ms - 1e-6))
    is_timeout = plan["codes"][:, 2] // 10 == 4
    np.testing.assert_allclose(obj["timeouts"], abs_ms[is_timeout, 2] / 1000)
    ss = obj["session_start_index"]
    assert t[ss] == obj["session_start"] * 1000


def test_write_missing_csv(tmp_path):
    rows = [
        {
            "Type": 24,
            "Timestamps": 123.5,
            "Messages": "Cue Offset 23",
            "Session": "session01",
            "Trial": 3,
            "Event": "cue",
        }
    ]
    p = tmp_path / "sub" / "missingData.csv"
    write_missing_csv(p, rows)
    with open(p, newline="") as f:
        back = list(csv.DictReader(f))
    assert back == [{k: str(v) for k, v in rows[0].items()}]
    write_missing_csv(p, [])
    assert p.read_text().strip() == ",".join(MISSING_CSV_COLUMNS)
    assert sorted(x.name for x in p.parent.iterdir()) == ["missingData.csv"]


def test_truncated_synthetic_asc(day, tmp_path):
    data = (day.dir / "181105.asc").read_bytes()
    p = tmp_path / "181105.asc"
    p.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError) as exc:
        read_recording(p)
    assert str(p) in str(exc.value) and "truncated" in str(exc.value)


def test_generator_day_reconciles_with_nev_markers(tmp_path):
    """Through the real generator: markers read back from the .nev, not the plan."""
    from hippoflow.ripple import markers

    gen.main(
        ["--out", str(tmp_path), "--channels", "1", "--seconds", "30", "--sessions", "2"]
        + ["--header-only"]
    )
    d = tmp_path / "picasso" / "20181105"
    truth = json.loads((d / "groundtruth_eyelink.json").read_text())
    parts = split_navigation(read_recording(d / "181105.asc"), 2)
    filled = 0
    for s, part in zip(NAV, parts, strict=True):
        nev = next((d / s).glob("*.nev"))
        rpl = markers.arrange_markers(*read_nev_events(nev), nev)
        obj = session_object(
            part, rpl["markers"], rpl["timeStamps"], ripple_session_start=rpl["sessionStartTime"]
        )
        ts = truth["sessions"][s]
        first = ts["block"][0] if s == NAV[0] else ts["trigger_ms"]  # the session's 1st sample
        got = obj["trial_timestamps"] * 1000.0 + first
        np.testing.assert_allclose(got, ts["trial_ms"], atol=1.0)
        filled += len(obj["missing"])
    assert filled == len(truth["dropped"]) == 1
    # the fixation session: RPLParallel makes N x 3 of the .nev's triplets, all matched
    nev = next((d / "sessioneye").glob("*.nev"))
    rpl = markers.arrange_markers(*read_nev_events(nev), nev)
    assert rpl["markers"].shape[1] == 3
    np.testing.assert_array_equal(rpl["markers"][:, :2], [[1, 2]] * rpl["markers"].shape[0])
    eye = session_object(
        read_recording(d / truth["fixation_file"]), rpl["markers"], rpl["timeStamps"], fixation=True
    )
    assert eye["missing"] == []
    np.testing.assert_allclose(
        eye["trial_timestamps"] * 1000.0, truth["sessions"]["sessioneye"]["trial_ms"], atol=1e-6
    )
