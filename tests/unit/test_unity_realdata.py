"""The Unity parser on the lab's real log (read in place) and on copies of it changed the
ways logs differ or break: every header style the parser supports, a header with no frame
after it, frame lines with a field that is not a number.

Reference values are read here independently: the frames with ``numpy.loadtxt``, the poster
line by hand from the README's text, the trial codes from ``rplparallel.mat`` (scipy).

Row convention of the Unity object (contract section 5): PyHipp skipped a fixed 15 lines (the
14 header lines and the session-start 84 frame), so ``unityData`` row 0 is the frame after
the 84 frame and a marker on file line L is row L - 15 - 1.  Counted in the file's text by
hand: the first three trials' markers 16 26 36, 11 21 31, 14 24 34 are on lines 66, 90, 272,
313, 334, 579, 640, 670, 1133, i.e. rows 50, 74, 256, 297, 318, 563, 624, 654, 1117 (PyHipp's
aligning_objects notes "indices from unityTrigger (eg. 50 261)" for the lab's files).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from hippoflow.behaviour import unity
from hippoflow.errors import InputError
from tests.conftest import REALDATA as SHARED_REALDATA

REALDATA = SHARED_REALDATA / "unity"
pytestmark = pytest.mark.realdata

LOG = REALDATA / "session_1_2312018113452.txt"
MAT = REALDATA / "rplparallel.mat"
HEADER_LINES = 14
FRAMES = 35512
PYHIPP_SKIP = 15  # PyHipp's FileLineOffset: the 14 header lines and the 84 frame
FIRST_MARKER_LINES = [[66, 90, 272], [313, 334, 579], [640, 670, 1133]]  # counted by hand
FIRST_MARKER_CODES = [[16, 26, 36], [11, 21, 31], [14, 24, 34]]
# "PosterLocations: P1(-5,1.5,-7.55) P2(-7.55,1.5,5) P3(7.55,1.5,-5) P4(5,1.5,7.55)
#  P5(5,1.5,2.45) P6(-5,1.5,-2.45)", line 4 of the header
POSTERS = {
    1: (-5.0, 1.5, -7.55),
    2: (-7.55, 1.5, 5.0),
    3: (7.55, 1.5, -5.0),
    4: (5.0, 1.5, 7.55),
    5: (5.0, 1.5, 2.45),
    6: (-5.0, 1.5, -2.45),
}


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return LOG.read_text().splitlines()


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.loadtxt(LOG, skiprows=HEADER_LINES)


def mat_markers() -> np.ndarray:
    df = scipy.io.loadmat(MAT, squeeze_me=True, struct_as_record=False)["df"]
    return np.asarray(df.data.markers, np.int64)


def write(tmp_path, name, lines) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_real_log(frames):
    log = unity.read_log(LOG)
    assert log.header_style == "text14" and len(log.header) == HEADER_LINES
    assert log.header[0] == "Version: 20171221 Taxi Continuous v4"
    assert log.first_line == HEADER_LINES + 1
    assert log.data.shape == (FRAMES, 5)
    np.testing.assert_array_equal(log.data, frames)
    assert log.posters == POSTERS
    assert log.notes == []
    assert log.data[0, 0] == 84  # the session-start frame
    trig, notes = unity.find_triggers(log.data[:, 0], LOG, log.first_line)
    assert notes == []
    np.testing.assert_array_equal(log.data[trig, 0], mat_markers())


def text11(lines):
    """The 11-line header of some versions: the same keys without three of them."""
    drop = ("Trigger:", "TaskType:", "RewardViewCriteria:")
    header = [ln for ln in lines[:HEADER_LINES] if not ln.startswith(drop)]
    assert len(header) == 11
    return header


def json_header(lines, posters_as):
    """The newest style: the header's keys as one JSON line."""
    obj = {}
    for ln in lines[:HEADER_LINES]:
        key, _, value = ln.partition(":")
        obj[key.strip()] = value.strip()
    if posters_as == "dict":
        obj["PosterLocations"] = {f"P{k}": list(v) for k, v in POSTERS.items()}
    elif posters_as == "objects":
        obj["PosterLocations"] = [
            {"name": f"P{k}", "position": dict(zip("xyz", v, strict=True))}
            for k, v in POSTERS.items()
        ]
    return [json.dumps(obj)]


@pytest.mark.parametrize(
    "style, make, reported",
    [
        ("text14", lambda ls: ls[:HEADER_LINES], "text14"),
        ("text11", text11, "text11"),
        ("json-string", lambda ls: json_header(ls, "string"), "json"),
        ("json-dict", lambda ls: json_header(ls, "dict"), "json"),
        ("json-objects", lambda ls: json_header(ls, "objects"), "json"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_header_style_on_the_real_frames(tmp_path, lines, frames, style, make, reported):
    header = make(lines)
    path = write(tmp_path, "session_1_x.txt", header + lines[HEADER_LINES:])
    log = unity.read_log(path)
    assert log.header_style == reported
    assert log.first_line == len(header) + 1
    assert log.posters == POSTERS
    np.testing.assert_array_equal(log.data, frames)


def mat_times() -> np.ndarray:
    df = scipy.io.loadmat(MAT, squeeze_me=True, struct_as_record=False)["df"]
    return np.asarray(df.data.timeStamps, np.float64)


def test_hand_counted_lines_hold_the_first_markers(lines):
    """The hand count itself, read back from the text (line L is lines[L - 1])."""
    assert lines[PYHIPP_SKIP - 1].split()[0] == "84"  # the session-start frame, line 15
    for line_row, code_row in zip(FIRST_MARKER_LINES, FIRST_MARKER_CODES, strict=True):
        assert [int(lines[n - 1].split()[0]) for n in line_row] == code_row


def check_pyhipp_rows(obj, header_lines):
    """unityTriggers, unityData and unityTime by the rule, on a log whose first frame line
    (the 84 frame) follows ``header_lines`` header lines."""
    trig = obj["unityTriggers"][0]
    # the hand-counted marker lines of the lab's file, moved with the header
    marker_lines = np.array(FIRST_MARKER_LINES) + header_lines - HEADER_LINES
    # line L: frame line L - header_lines (1-based; 1 = the 84 frame), row L - header - 2
    expected = marker_lines - header_lines - 1 - 1
    np.testing.assert_array_equal(trig[:3], expected)
    np.testing.assert_array_equal(trig[:3], [[50, 74, 256], [297, 318, 563], [624, 654, 1117]])
    # every row by PyHipp's reading of the lab's file (numpy.loadtxt skipping 15 lines)
    rows = np.loadtxt(LOG, skiprows=PYHIPP_SKIP)
    data = obj["unityData"][0]
    assert data.shape == (FRAMES - 1, 7)
    np.testing.assert_array_equal(data[:, :5], rows)
    np.testing.assert_array_equal(data[trig, 0], mat_markers())
    # unityTime = [0, cumsum(deltaTime)] over those rows
    ut = obj["unityTime"][0]
    assert ut.size == FRAMES and ut[0] == 0
    np.testing.assert_allclose(ut[1:], np.cumsum(rows[:, 1]), rtol=1e-12)
    # the dropped frame, kept under its own key: line 15 of the file
    np.testing.assert_array_equal(obj["sessionStartFrame"], [[84, 0.03205466, 0, -10, 0]])
    # trial durations: unityTime[end + 1] - unityTime[start + 1] (PyHipp's durationDiff)
    dur = ut[trig[:, 2] + 1] - ut[trig[:, 0] + 1]
    ripple = mat_times()
    np.testing.assert_allclose(
        obj["durationDiff"][0], (dur - (ripple[:, 2] - ripple[:, 0])) * 1000, atol=1e-9
    )


def test_unity_object_rows_on_the_real_log():
    obj = unity.unity_object(unity.read_log(LOG), mat_times(), MAT)
    check_pyhipp_rows(obj, HEADER_LINES)
    assert obj["headerStyle"] == "text14"


@pytest.mark.parametrize(
    "make",
    [text11, lambda ls: json_header(ls, "string"), lambda ls: json_header(ls, "dict")],
    ids=["text11", "json-string", "json-dict"],
)
def test_unity_object_rows_for_every_header_style(tmp_path, lines, make):
    """The same rows whatever the header: only the session-start frame is dropped."""
    header = make(lines)
    path = write(tmp_path, "session_1_x.txt", header + lines[HEADER_LINES:])
    obj = unity.unity_object(unity.read_log(path), mat_times(), MAT)
    # the marker lines move with the header (read back from the new file); the rows do not
    text = path.read_text().splitlines()
    moved = np.array(FIRST_MARKER_LINES) + len(header) - HEADER_LINES
    assert [[int(text[n - 1].split()[0]) for n in r] for r in moved] == FIRST_MARKER_CODES
    check_pyhipp_rows(obj, len(header))


def test_header_without_frames(tmp_path, lines):
    path = write(tmp_path, "session_1_header.txt", lines[:HEADER_LINES])
    with pytest.raises(InputError) as exc:
        unity.read_log(path)
    msg = str(exc.value)
    assert str(path) in msg and "no frame lines" in msg and "line 14" in msg


@pytest.mark.parametrize(
    "where",
    [HEADER_LINES, HEADER_LINES + 1000, HEADER_LINES + FRAMES - 1],
    ids=["first-frame", "middle", "last-frame"],
)
def test_frame_line_with_a_non_numeric_field(tmp_path, lines, where):
    """A field that is not a number, on the first frame line (which could pass for a header
    line), in the middle and on the last line (which could pass for a cut-off one)."""
    damaged = list(lines)
    fields = damaged[where].split()
    fields[2] = "0.0O00"  # letter O for a zero
    damaged[where] = " ".join(fields)
    path = write(tmp_path, "session_1_bad.txt", damaged)
    with pytest.raises(InputError) as exc:
        unity.read_log(path)
    msg = str(exc.value)
    assert str(path) in msg
    assert f"line {where + 1} is not a frame line" in msg and "0.0O00" in msg


def test_cut_off_last_line_is_dropped(tmp_path, lines, frames):
    cut = lines[:-1] + [lines[-1][: len(lines[-1]) // 2].rstrip()]
    assert len(cut[-1].split()) < 5
    path = write(tmp_path, "session_1_cut.txt", cut)
    log = unity.read_log(path)
    np.testing.assert_array_equal(log.data, frames[:-1])
    assert any(f"incomplete last line {HEADER_LINES + FRAMES}" in n for n in log.notes)
