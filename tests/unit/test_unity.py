"""Unity log parser and Unity object (contract section 5).

Row convention (contract section 5, PyHipp's fixed 15-line skip): ``unityData`` starts with
the frame after the session-start (84) frame, so a frame on line L of a log whose header
has H lines and whose first frame line is the 84 frame is row L - H - 2 (0-based); every
index (``unityTriggers``, trial times) counts from there.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from hippoflow.behaviour import maze, unity
from hippoflow.errors import InputError
from hippoflow.synth import day as generate
from hippoflow.synth import unity as synth_behaviour

STANDARD_POSTERS = {
    1: (-5.0, 1.5, -7.55),
    2: (-7.55, 1.5, 5.0),
    3: (7.55, 1.5, -5.0),
    4: (5.0, 1.5, 7.55),
    5: (5.0, 1.5, 2.45),
    6: (-5.0, 1.5, -2.45),
}


def _day(tmp_path, style, seconds=40.0, seed=3):
    rng = np.random.default_rng(seed)
    plans = {"session01": generate.plan_trials(rng, seconds, True)}
    day_dir = tmp_path / "picasso" / "20181105"
    (day_dir / "session01").mkdir(parents=True)
    opts = SimpleNamespace(unity_header=style, seconds=seconds, eyelink=False)
    truth = synth_behaviour.write_day(day_dir, plans, rng, opts)
    return day_dir, plans["session01"], truth["session01"]


@pytest.mark.parametrize(
    "style, header_lines, reported",
    [("text", 14, "text14"), ("text11", 11, "text11"), ("json", 1, "json")],
)
def test_generated_header_styles(tmp_path, style, header_lines, reported):
    day_dir, plan, truth = _day(tmp_path, style)
    path = day_dir / truth["log"]
    log = unity.read_log(path)
    assert log.header_style == reported
    assert len(log.header) == header_lines
    assert log.first_line == header_lines + 1
    assert log.posters == STANDARD_POSTERS
    assert log.data.shape == (truth["frames"], 5)
    # the first frame line of the file, read independently
    first = path.read_text().splitlines()[header_lines].split()
    np.testing.assert_allclose(log.data[0], [float(v) for v in first])


def test_triggers_equal_generated_markers(tmp_path):
    day_dir, plan, truth = _day(tmp_path, "text")
    log = unity.read_log(day_dir / truth["log"])
    trig, notes = unity.find_triggers(log.data[:, 0], log.path, log.first_line)
    np.testing.assert_array_equal(trig, np.array(truth["trigger_rows"]))
    # the codes on those rows are the Ripple plan's codes
    np.testing.assert_array_equal(log.data[trig, 0].astype(int), plan["codes"])
    assert log.data[truth["session_start_row"], 0] == 84
    assert truth["trailing_incomplete"] and len(notes) == 1 and "dropped" in notes[0]


def test_unity_object_against_ground_truth(tmp_path):
    day_dir, plan, truth = _day(tmp_path, "json", seconds=60.0, seed=5)
    log = unity.read_log(day_dir / truth["log"])
    obj = unity.unity_object(log, plan["times"])
    cost = obj["sumCost"][0]
    np.testing.assert_allclose(cost[:, 0], truth["ideal"])
    np.testing.assert_allclose(cost[:, 1], truth["actual"])
    np.testing.assert_array_equal(cost[:, 3], plan["codes"][:, 2] % 10)
    np.testing.assert_array_equal(cost[:, 4], plan["codes"][:, 2] // 10 * 10)
    n = plan["codes"].shape[0]
    assert obj["timePerformance"][0] == pytest.approx(np.mean(plan["codes"][:, 2] // 10 == 3))
    # Unity durations on Unity's clock: within a few ms of Ripple except the frozen trial
    dd = np.abs(obj["durationDiff"][0])
    dubious = set(truth["dubious_trials"])
    ok = [i for i in range(n) if i not in dubious]
    assert np.all(dd[ok] < 5.0)
    for i in dubious:
        assert dd[i] > 20.0
    # the session-start frame (the log's first frame) is not a row; everything after it is
    assert truth["session_start_row"] == 0 and log.data[0, 0] == 84
    frames = log.data[1:]
    np.testing.assert_array_equal(obj["sessionStartFrame"], log.data[:1])
    ut = obj["unityTime"][0]
    # unityTime = [0, cumsum(deltaTime)] over the rows: [0] is the session-start frame
    assert ut[0] == 0 and ut.size == frames.shape[0] + 1
    np.testing.assert_allclose(np.diff(ut), frames[:, 1])
    assert obj["unityData"][0].shape == (frames.shape[0], 7)
    np.testing.assert_array_equal(obj["unityData"][0][:, :5], frames)
    trig = obj["unityTriggers"][0]
    np.testing.assert_array_equal(trig, np.array(truth["trigger_rows"]) - 1)
    tt = obj["unityTrialTime"][0]
    assert tt.shape[1] == n
    for a in range(n):
        length = trig[a, 2] - trig[a, 1] + 1
        assert tt[0, a] == 0
        assert np.isnan(tt[length:, a]).all()
        assert tt[length - 1, a] == pytest.approx(frames[trig[a, 1] + 1 : trig[a, 2] + 1, 1].sum())


# ---------------------------------------------------------------------------------------
# Hand-made logs


def _walk(points, frames_per_edge=20):
    """Positions along lattice points, `frames_per_edge` frames per 5-unit edge."""
    out = [points[0]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        for k in range(1, frames_per_edge + 1):
            f = k / frames_per_edge
            out.append((a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])))
    return out


def _trial_rows(poster, path, end_kind=3, still=10):
    """Frame rows (marker, x, z) for one trial: still with the cue, then walk `path`."""
    rows = [(10 + poster, *path[0])]
    rows += [(0, *path[0])] * still
    rows.append((20 + poster, *path[0]))
    walk = _walk(path)
    rows += [(0, *p) for p in walk[1:-1]]
    rows.append((10 * end_kind + poster, *walk[-1]))
    rows += [(0, *walk[-1])] * still
    return rows


def _write_log(path, header: list[str], rows, dt=0.02):
    lines = list(header)
    for m, x, z in rows:
        lines.append(f"{m} {dt:.4f} {x:.4f} {z:.4f} 0.0000")
    path.write_text("\n".join(lines) + "\n")


HAND_TRIALS = [
    # (poster, route, end kind): ideal and actual route lengths worked out by hand below
    # 1: (-10,10) -> P3 spot (10,-5): along z=10 to x=10 (20) then down to z=-5 (15).
    (3, [(-10, 10), (-5, 10), (0, 10), (5, 10), (10, 10), (10, 5), (10, 0), (10, -5)], 3),
    # 2: (10,-5) -> P2 spot (-10,5): shortest is 20 (x) + 10 (z) = 30; taken detour via
    #    the south corridor: (10,-5)->(10,-10)->...->(-10,-10)->(-10,5) = 5 + 20 + 15 = 40.
    (
        2,
        [
            (10, -5),
            (10, -10),
            (5, -10),
            (0, -10),
            (-5, -10),
            (-10, -10),
            (-10, -5),
            (-10, 0),
            (-10, 5),
        ],
        3,
    ),
    # 3: (-10,5) -> P6 spot (-5,0): timeout after wandering (-10,5)->(-10,10)->(-5,10) = 10;
    #    shortest (-10,5)->(-10,0)->(-5,0) = 10.
    (6, [(-10, 5), (-10, 10), (-5, 10)], 4),
    # 4: (-5,10) -> P6 spot (-5,0): the yellow pillar blocks (-5,5), so the
    #    shortest goes round it, (0,10)->(0,5)->(0,0)->(-5,0): 20 (Manhattan would say 10).
    (6, [(-5, 10), (0, 10), (0, 5), (0, 0), (-5, 0)], 3),
]
HAND_IDEAL = [35.0, 30.0, 10.0, 20.0]
HAND_ACTUAL = [35.0, 40.0, 10.0, 20.0]


HAND_POSTER_TEXT = " ".join(f"P{k}({x},{y},{z})" for k, (x, y, z) in STANDARD_POSTERS.items())


def _hand_log(tmp_path, header=None):
    rows = [(84, -10.0, 10.0)] + [(0, -10.0, 10.0)] * 5
    for poster, route, kind in HAND_TRIALS:
        rows += _trial_rows(poster, route, kind)
    header = (
        header
        if header is not None
        else [
            "Version: test",
            "PosterLocations: "
            + " ".join(f"P{k}({x},{y},{z})" for k, (x, y, z) in STANDARD_POSTERS.items()),
        ]
    )
    path = tmp_path / "session_1_hand.txt"
    _write_log(path, header, rows)
    return path, rows


def test_sum_cost_hand_made_paths(tmp_path):
    path, rows = _hand_log(tmp_path)
    log = unity.read_log(path)
    trig, _ = unity.find_triggers(log.data[:, 0])
    cost = unity.sum_cost(log.data, trig, log.posters)
    np.testing.assert_allclose(cost[:, 0], HAND_IDEAL)
    np.testing.assert_allclose(cost[:, 1], HAND_ACTUAL)
    np.testing.assert_allclose(cost[:, 2], np.array(HAND_ACTUAL) - HAND_IDEAL)
    np.testing.assert_array_equal(cost[:, 3], [3, 2, 6, 6])
    np.testing.assert_array_equal(cost[:, 4], [30, 30, 40, 30])
    # shortest-route flag: 1 for trials 1 and 4; the detour and the timeout get 0
    np.testing.assert_array_equal(cost[:, 5], [1, 0, 0, 1])
    times = np.array([[0.0, 1.0, 5.0], [6.0, 7.0, 12.0], [13.0, 14.0, 24.0], [25.0, 26.0, 30.0]])
    obj = unity.unity_object(log, times)
    assert obj["timePerformance"][0] == pytest.approx(3 / 4)
    assert obj["routePerformance"][0] == pytest.approx(2 / 4)
    np.testing.assert_allclose(obj["trialRouteRatio"][0], np.array(HAND_ACTUAL) / HAND_IDEAL)


# the hand log's frames (0-based among the frame lines): 84 at 0, five 0s, then trial 1's
# 13 at 6, ten 0s, 23 at 17, 139 walking frames (7 edges x 20 - 1), 33 at 157; so, one row
# lower without the session-start frame: rows 5, 16, 156
HAND_FIRST_TRIAL_ROWS = [5, 16, 156]


@pytest.mark.parametrize(
    "header",
    [
        [f"Key{i}: value" for i in range(13)] + ["PosterLocations: " + HAND_POSTER_TEXT],
        [f"Key{i}: value" for i in range(10)] + ["PosterLocations: " + HAND_POSTER_TEXT],
        [json.dumps({"Version": "3", "PosterLocations": HAND_POSTER_TEXT})],
    ],
    ids=["text14", "text11", "json"],
)
def test_rows_count_from_the_frame_after_the_session_start(tmp_path, header):
    path, rows = _hand_log(tmp_path, header)
    log = unity.read_log(path)
    assert log.data[0, 0] == 84 and log.first_line == len(header) + 1
    times = np.array([[0.0, 1.0, 5.0], [6.0, 7.0, 12.0], [13.0, 14.0, 24.0], [25.0, 26.0, 30.0]])
    obj = unity.unity_object(log, times)
    trig = obj["unityTriggers"][0]
    np.testing.assert_array_equal(trig[0], HAND_FIRST_TRIAL_ROWS)
    # the same rule from the file's text: line of the marker - header lines - 2
    text = path.read_text().splitlines()
    marker_lines = [i + 1 for i, ln in enumerate(text) if ln.split()[0] in ("13", "23", "33")]
    np.testing.assert_array_equal(trig[0], np.array(marker_lines) - len(header) - 2)
    data = obj["unityData"][0]
    assert data.shape[0] == len(rows) - 1 and data[0, 0] == 0 and not np.any(data[:, 0] == 84)
    np.testing.assert_array_equal(data[trig[0], 0], [13, 23, 33])
    np.testing.assert_array_equal(obj["sessionStartFrame"], [[84, 0.02, -10.0, 10.0, 0.0]])
    # unityTime: [0, cumsum(deltaTime)] over the rows (every hand frame lasts 0.02 s)
    np.testing.assert_allclose(obj["unityTime"][0], 0.02 * np.arange(len(rows)))
    assert not any("session-start" in n for n in obj["notes"])


def test_log_without_session_start_frame_keeps_every_frame(tmp_path):
    path, rows = _hand_log(tmp_path)
    lines = path.read_text().splitlines()
    del lines[2]  # the 84 frame (after the two header lines)
    path.write_text("\n".join(lines) + "\n")
    log = unity.read_log(path)
    times = np.array([[0.0, 1.0, 5.0], [6.0, 7.0, 12.0], [13.0, 14.0, 24.0], [25.0, 26.0, 30.0]])
    obj = unity.unity_object(log, times)
    # no frame dropped: rows are the frame lines; the first trial starts on the 6th (row 5)
    assert obj["unityData"][0].shape[0] == len(rows) - 1
    np.testing.assert_array_equal(obj["unityTriggers"][0][0], HAND_FIRST_TRIAL_ROWS)
    assert obj["sessionStartFrame"].shape == (0, 5)
    assert any("not a session-start frame" in n for n in obj["notes"])


def test_marker_errors_name_the_file_line_after_the_dropped_frame(tmp_path):
    bad = tmp_path / "bad.txt"
    _write_log(bad, ["h", "h2"], [(84, 0, 0), (0, 0, 0), (23, 0, 0), (33, 0, 0)])
    log = unity.read_log(bad)
    # the 23 is the third frame line: file line 2 + 3 = 5
    with pytest.raises(InputError, match=r"marker 23 on line 5 where a 1x marker"):
        unity.unity_object(log, np.zeros((0, 3)))


def test_back_and_forth_counts_as_shortest(tmp_path):
    # (0,10) -> P4 spot (5,10) = 5, but stepping back to (0,10) once: route 0->5->0->5 (15)
    route = [(0, 10), (5, 10), (0, 10), (5, 10)]
    rows = [(84, 0.0, 10.0)] + _trial_rows(4, route, 3)
    path = tmp_path / "s.txt"
    _write_log(path, ["{}"], rows)
    log = unity.read_log(path)
    trig, _ = unity.find_triggers(log.data[:, 0])
    cost = unity.sum_cost(log.data, trig, log.posters)
    assert cost[0, 0] == 5.0 and cost[0, 1] == 15.0
    assert cost[0, 5] == 1  # PyHipp: a short back-and-forth is still the shortest route


def test_direction_and_distance():
    x = np.array([0.0, 0.0, 1.0, 1.0, 0.0])
    z = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
    d, dist = unity.direction_and_distance(x, z)
    assert np.isnan(d[0]) and np.isnan(d[3])
    assert d[1] == pytest.approx(0.0)  # +z is north
    assert d[2] == pytest.approx(90.0)  # +x is east
    assert d[4] == pytest.approx(225.0)  # towards -x, -z
    np.testing.assert_allclose(dist, [0, 1, 1, 0, np.sqrt(2)])


def test_grid_position():
    x = np.array([-12.5, 12.49, -12.5, 12.5, 0.0, -12.5 + 0.625 * 3 + 0.1])
    z = np.array([-12.5, -12.5, -11.8, 12.5, 0.0, -12.5 + 0.625 * 2 + 0.1])
    # by hand: (ix, iz) 1-based = (1,1), (40,1), (1,2), (40,40), (21,21), (4,3)
    expected = [1, 40, 41, 1600, 21 + 40 * 20, 4 + 40 * 2]
    np.testing.assert_array_equal(unity.grid_position(x, z), expected)


@pytest.mark.parametrize(
    "header",
    [
        # JSON: posters as the text form inside a string
        [
            json.dumps(
                {
                    "PosterLocations": "P1(-5,1.5,-7.55) P2(-7.55,1.5,5) P3(7.55,1.5,-5) "
                    "P4(5,1.5,7.55) P5(5,1.5,2.45) P6(-5,1.5,-2.45)"
                }
            )
        ],
        # JSON: a list of objects with names and x/y/z positions, nested
        [
            json.dumps(
                {
                    "maze": {
                        "posters": [
                            {"name": f"P{k}", "position": {"x": x, "y": y, "z": z}}
                            for k, (x, y, z) in STANDARD_POSTERS.items()
                        ]
                    }
                }
            )
        ],
        # 11-line text header with the posters on line 9
        [f"line {i}" for i in range(8)]
        + [
            "PosterLocations: "
            + " ".join(f"P{k}({x},{y},{z})" for k, (x, y, z) in STANDARD_POSTERS.items())
        ]
        + ["a", "b"],
    ],
    ids=["json-string", "json-objects", "text11"],
)
def test_header_variants(tmp_path, header):
    path, rows = _hand_log(tmp_path, header)
    log = unity.read_log(path)
    assert log.posters == STANDARD_POSTERS
    assert log.first_line == len(header) + 1
    assert log.data.shape[0] == len(rows)


def test_header_without_posters_uses_standard_maze(tmp_path):
    path, _ = _hand_log(tmp_path, ["no posters here", "1 2 3 4"])
    log = unity.read_log(path)
    assert log.posters == STANDARD_POSTERS
    assert any("PosterLocations" in n for n in log.notes)


def test_trial_count_mismatch_names_both_counts(tmp_path):
    path, _ = _hand_log(tmp_path)
    log = unity.read_log(path)
    times = np.arange(9, dtype=float).reshape(3, 3)
    with pytest.raises(InputError) as exc:
        unity.unity_object(log, times, "session01/181105_Block1.nev")
    msg = str(exc.value)
    assert str(path) in msg and "4 complete trials" in msg and "3 trials" in msg
    assert "181105_Block1.nev" in msg


def test_incomplete_trailing_trial_dropped_and_bad_sequence(tmp_path):
    path, rows = _hand_log(tmp_path)
    text = path.read_text() + "13 0.0200 0.0 0.0 0.0\n23 0.0200 0.0 0.0 0.0\n"
    path.write_text(text)
    log = unity.read_log(path)
    trig, notes = unity.find_triggers(log.data[:, 0], path, log.first_line)
    assert trig.shape == (4, 3) and "incomplete last trial" in notes[0]
    # a cue-offset marker without its trial start is an error naming the line
    bad = tmp_path / "bad.txt"
    _write_log(bad, ["h"], [(84, 0, 0), (0, 0, 0), (23, 0, 0), (33, 0, 0)])
    log = unity.read_log(bad)
    with pytest.raises(InputError, match=r"marker 23 on line 4"):
        unity.find_triggers(log.data[:, 0], bad, log.first_line)


def test_malformed_lines(tmp_path):
    path, rows = _hand_log(tmp_path)
    lines = path.read_text().splitlines()
    lines.insert(10, "0 0.02 garbage 1 2")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"line 11 is not a frame line"):
        unity.read_log(path)
    # a truncated last line (the file was being written) is dropped with a note
    lines.pop(10)
    path.write_text("\n".join(lines) + "\n0 0.02 1.0")
    log = unity.read_log(path)
    assert log.data.shape[0] == len(rows)
    assert any("incomplete last line" in n for n in log.notes)
    empty = tmp_path / "empty.txt"
    empty.write_text("header only\n")
    with pytest.raises(InputError, match="no frame lines"):
        unity.read_log(empty)


def test_lattice_is_pyhipp_shape():
    assert maze.VERTICES.shape == (21, 2)
    # every vertex has 2-4 neighbours at 5 units; the lattice is connected
    d = np.linalg.norm(maze.VERTICES[:, None] - maze.VERTICES[None], axis=2)
    degree = np.isclose(d, 5).sum(axis=1)
    assert degree.min() >= 2 and degree.max() <= 4
    assert np.isfinite(unity.lattice_distances()).all()
