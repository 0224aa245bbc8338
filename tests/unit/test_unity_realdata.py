"""The Unity parser on the lab's real log (read in place) and on copies of it changed the
ways logs differ or break: every header style the parser supports, a header with no frame
after it, frame lines with a field that is not a number.

Reference values are read here independently: the frames with ``numpy.loadtxt``, the poster
line by hand from the README's text, the trial codes from ``rplparallel.mat`` (scipy).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from hippoflow.behaviour import unity
from hippoflow.errors import InputError

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "unity"
LOG = REALDATA / "session_1_2312018113452.txt"
MAT = REALDATA / "rplparallel.mat"
HEADER_LINES = 14
FRAMES = 35512
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
