"""Behaviour series in a session's NWB file are cropped to its recording span (0 to the end
of its Ripple data), with what was left out in the series' description; hand-made objects
whose times run past the end (as a session's EyeLink block does up to the next trigger)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pynwb import NWBFile

from hippoflow.nwb import behaviour

SPAN = (0.0, 10.0)


def _file():
    t0 = dt.datetime(2018, 11, 5, 10, tzinfo=dt.UTC)
    return NWBFile(session_description="s", identifier="x", session_start_time=t0)


def test_gaze_and_fixations_cropped():
    t = np.array([-0.5, 0.0, 5.0, 10.0, 10.5, 113.0])
    xy = np.column_stack([np.arange(6.0), np.arange(6.0) * 2])
    eye = {
        "eye_pos": xy,
        "timestamps": t,
        "fix_times": np.array([[-0.4, 0.2], [4.0, 5.0], [11.0, 12.0]]),
        "eye": "left",
    }
    f = _file()
    assert behaviour.add_eyelink(f, eye, "session01", span=SPAN) == 3
    gaze = f.processing["behavior"]["EyeTracking"]["gaze"]
    np.testing.assert_array_equal(gaze.timestamps[:], [0.0, 5.0, 10.0])
    np.testing.assert_array_equal(gaze.data[:], xy[1:4])
    assert gaze.description.endswith(
        "; 3 samples outside the session's recording (0 to 10.000 s) left out"
    )
    np.testing.assert_array_equal(f.intervals["fixations"]["start_time"][:], [4.0])


def test_unity_frames_and_raycast_cropped(tmp_path):
    data = np.zeros((4, 5))
    data[:, 2] = [1, 2, 3, 4]
    unity = {"unityData": [data], "unityTime": [np.array([0.0, 1.0, 9.0, 10.5, 20.0])]}
    f = _file()
    assert behaviour.add_unity(f, unity, span=SPAN) == 2
    pos = f.processing["behavior"]["Position"]["position"]
    np.testing.assert_array_equal(pos.timestamps[:], [1.0, 9.0])
    np.testing.assert_array_equal(pos.data[:, 0], [1, 2])
    assert "2 frames outside the session's recording" in pos.description
    csv = tmp_path / "unityfile_eyelink.csv"
    pd.DataFrame(
        {
            "type": ["SAMPLE"] * 3,
            "time": [1.0, 9.5, 12.0],
            "object": ["a", "b", "c"],
            "hit_x": [0.0] * 3,
            "hit_y": [0.0] * 3,
            "hit_z": [0.0] * 3,
        }
    ).to_csv(csv, index=False)
    assert behaviour.add_raycast(f, csv, span=SPAN) == 2
    table = f.processing["behavior"]["raycast"]
    assert list(table["object"][:]) == ["a", "b"]
    assert "1 samples outside the session's recording" in table.description


def test_nothing_left_out_says_nothing():
    eye = {
        "eye_pos": np.ones((2, 2)),
        "timestamps": np.array([1.0, 2.0]),
        "fix_times": np.empty((0, 2)),
    }
    f = _file()
    behaviour.add_eyelink(f, eye, "session01", span=SPAN)
    assert "outside" not in f.processing["behavior"]["EyeTracking"]["gaze"].description
