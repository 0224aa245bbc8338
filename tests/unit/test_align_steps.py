"""File-level behaviour steps: EyeLink file discovery, Recording round trip, gaze table."""

from __future__ import annotations

import numpy as np

from hippoflow import naming, plan
from hippoflow.behaviour import steps as behaviour
from hippoflow.behaviour.eyelink.recording import Recording
from hippoflow.dpt import arg_hash


def test_pyhipp_argument_hashes():
    # DataProcessingTools hashes every default argument (name then value, in order)
    import hashlib

    def md5(args):
        m = hashlib.md5()
        for k, v in args:
            m.update(str(k).encode())
            m.update(str(v).encode())
        return m.hexdigest()[:4]

    unity_defaults = [
        ("FileLineOffset", 15),
        ("DirName", "RawData*"),
        ("FileName", "session*"),
        ("TriggerVal1", 10),
        ("TriggerVal2", 20),
        ("TriggerVal3", 30),
        ("BinNumberLimit", 500),
    ]
    assert arg_hash(naming.UNITY_ARGS) == md5(unity_defaults)
    assert list(naming.EYELINK_ARGS)[0] == "FileName"
    assert arg_hash(naming.EYELINK_ARGS) == md5(list(naming.EYELINK_ARGS.items()))


def test_eyelink_files(tmp_path):
    for name in ("181105.edf", "181105.asc", "P11_5.asc", "notes.txt", "other.ASC"):
        (tmp_path / name).write_text("x")
    nav, fix = plan.eyelink_files(tmp_path)
    # the .edf wins over its own .asc export; P* files are the fixation session's
    assert [p.name for p in nav] == ["181105.edf", "other.ASC"]
    assert [p.name for p in fix] == ["P11_5.asc"]
    assert plan.eyelink_files(tmp_path / "absent") == ([], [])
    assert behaviour.navigation_sessions(["sessioneye", "session10", "session02"]) == [
        "session02",
        "session10",
    ]


def test_recording_round_trip():
    rec = Recording(
        path="x.asc",
        samples_time=np.arange(1000, 1010),
        gx=np.linspace(0, 9, 10),
        gy=np.full(10, np.nan),
        pupil=np.ones(10),
        sampling_rate=1000.0,
        messages=[(1001, "Trigger Version 84"), (1005, "1  0  0  0  0  0  0  0")],
        fixations=np.array([[1001.0, 1004.0, 5.0, 6.0]]),
        saccades=np.array([[1005, 1006]]),
        blinks=np.zeros((0, 2), dtype=np.int64),
        blocks=[(1000, 1009)],
        bounds=(-np.inf, 1010.0),
        session_index=1,
        n_sessions=2,
    )
    back = behaviour.recording_from_dict(behaviour.recording_to_dict(rec))
    assert back.messages == rec.messages
    assert back.blocks == rec.blocks
    assert back.bounds == rec.bounds
    assert back.file_start_ms == 1000 and back.session_index == 1 and back.n_sessions == 2
    np.testing.assert_array_equal(back.samples_time, rec.samples_time)
    np.testing.assert_array_equal(back.gy, rec.gy)


def test_gaze_table_pose_and_flags():
    # Unity frames at 1.0, 1.1, ... 2.9 s (rows 0..19) with x = row number
    n = 20
    ut = np.concatenate([[0.9], 1.0 + 0.1 * np.arange(n)])
    data = np.zeros((n, 7))
    data[:, 2] = np.arange(n)
    data[:, 4] = 90.0
    # two trials: rows (2, 4, 8) and (10, 12, 16) -> times 1.2, 1.4, 1.8 and 2.0, 2.2, 2.6
    trig = np.array([[2, 4, 8], [10, 12, 16]])
    uobj = {
        "unityTime": [ut],
        "unityData": [data],
        "unityTriggers": [trig],
        "dubiousTrials": np.array([2]),
        "alignResiduals": np.zeros((2, 3)),
    }
    eres = np.zeros((2, 3))
    eres[0, 2] = 30.0  # EyeLink's cue->end interval of trial 1 was 30 ms off
    t = np.array([0.95, 1.05, 1.25, 1.45, 1.75, 1.95, 2.15, 3.5])
    eye = np.column_stack([np.full(t.size, 960.0), np.full(t.size, 540.0)])
    eye[5] = np.nan
    eobj = {"timestamps": t, "eye_pos": eye, "alignResiduals": eres}
    g = behaviour.gaze_table(uobj, eobj)
    # pose: the last frame shown at or before the sample (row = floor((t - 1.0) / 0.1))
    np.testing.assert_allclose(g["x"][1:7], [0, 2, 4, 7, 9, 11])
    assert np.isnan(g["x"][0]) and np.isnan(g["x"][7])
    expected_ignore = [
        True,  # before the first frame
        False,
        False,  # between start and cue of trial 1
        True,  # cue->end of trial 1: EyeLink interval off by 30 ms
        True,  # same interval
        True,  # NaN gaze
        True,  # inside dubious trial 2
        True,  # after the last frame
    ]
    np.testing.assert_array_equal(g["ignore"], expected_ignore)
    np.testing.assert_array_equal(
        g["cue_on"], [False, False, True, False, False, False, True, False]
    )
