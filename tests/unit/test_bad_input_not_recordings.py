"""Files that are not recordings never block recordings (planning, hippoflow.plan.files):
hidden files and macOS AppleDouble files (``._<name>``), duplicate downloads beside their
original; two candidate EyeLink files for one role are one problem naming both.

Trees are written by hand (.ns5 headers with the NSx writer; the other files' content is
what planning reads: nothing but sizes and a .nev's first bytes); every expectation is
stated by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hippoflow import naming, plan
from hippoflow.behaviour import steps
from hippoflow.errors import InputError
from hippoflow.ripple import nsx

SUBJECT, DAY = "picasso", "20181105"
# what a Finder copy through an exFAT disk writes beside each file: a small metadata blob
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 4000


def ns5(path: Path, electrodes):
    path.parent.mkdir(parents=True, exist_ok=True)
    specs = [nsx.ChannelSpec(e, bank, pin=i + 1) for i, (e, bank) in enumerate(electrodes)]
    nsx.write_nsx(path, specs, [(0, np.zeros((30, len(specs)), dtype=np.int16))])


def nev(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"NEURALEV" + bytes((2, 3)) + b"\0" * 326)


def write(path: Path, data: bytes = b""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def day(tmp_path) -> Path:
    """Two navigation sessions and sessioneye, each with its .ns5, .nev and (navigation) a
    Unity log; the day's 181105.asc and P10_5.asc."""
    d = tmp_path / "data" / SUBJECT / DAY
    for s in ("session01", "session02", "sessioneye"):
        ns5(d / s / "b.ns5", [(1, 0), (33, 1)])
        nev(d / s / "b.nev")
        if s != "sessioneye":
            write(d / s / "RawData_T1-400" / f"session_{s}.txt", b"log")
    write(d / "181105.asc", b"** navigation")
    write(d / "P10_5.asc", b"** fixation")
    return d


def _plan(d: Path):
    return plan.make_plan({"data_root": str(d.parent.parent)})


def _raw_bytes(d: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_appledouble_and_hidden_files_are_ignored_with_a_warning(day):
    for rel in ("session01/._b.ns5", "session01/._b.nev", "session02/.b.ns5", "._181105.asc"):
        write(day / rel, APPLEDOUBLE)
    write(day / "._P10_5.asc", APPLEDOUBLE)  # hidden: never a navigation (nor fixation) file
    write(day / "session01" / "RawData_T1-400" / "._session_session01.txt", APPLEDOUBLE)
    before = _raw_bytes(day)
    p = _plan(day)
    assert p.problems == {}
    # every session is split as if the files were not there
    for s in ("session01", "session02", "sessioneye"):
        assert p.channels((SUBJECT, DAY, s)) == [("01", "001"), ("02", "033")]
        assert [Path(f).name for f in p.ns5((SUBJECT, DAY, s))] == ["b.ns5"]
        assert [Path(f).name for f in p.nev((SUBJECT, DAY, s))] == ["b.nev"]
    assert [Path(f).name for f in p.navigation_eye_files((SUBJECT, DAY))] == ["181105.asc"]
    assert [Path(f).name for f in p.fixation_eye_files((SUBJECT, DAY))] == ["P10_5.asc"]
    assert [s.name for s in p.eyelink_sessions()] == ["session01", "session02", "sessioneye"]
    # one warning per folder, naming each file ignored and why
    by_folder = {w.split(": ")[0]: w for w in p.warnings}
    w1 = by_folder[str(day / "session01")]
    assert "2 file(s) ignored" in w1 and "._b.ns5 (a macOS metadata file" in w1
    assert "._b.nev (a macOS metadata file (AppleDouble) of b.nev" in w1
    assert ".b.ns5 (a hidden file" in by_folder[str(day / "session02")]
    wd = by_folder[str(day)]
    assert "._181105.asc" in wd and "._P10_5.asc" in wd
    assert str(day / "session01" / "RawData_T1-400") not in by_folder  # not a log name
    assert _raw_bytes(day) == before


def test_duplicate_download_of_the_same_size_is_ignored(day):
    (day / "session01" / "b (1).ns5").write_bytes((day / "session01" / "b.ns5").read_bytes())
    (day / "181105 (1).asc").write_bytes((day / "181105.asc").read_bytes())
    (day / "P10_5 copy.asc").write_bytes((day / "P10_5.asc").read_bytes())
    log = day / "session02" / "RawData_T1-400"
    (log / "session_session02 - Copy.txt").write_bytes(b"log")
    p = _plan(day)
    assert p.problems == {}
    assert [Path(f).name for f in p.ns5((SUBJECT, DAY, "session01"))] == ["b.ns5"]
    assert [Path(f).name for f in p.navigation_eye_files((SUBJECT, DAY))] == ["181105.asc"]
    assert [Path(f).name for f in p.fixation_eye_files((SUBJECT, DAY))] == ["P10_5.asc"]
    assert [f.name for f in p.unity_logs[(SUBJECT, DAY, "session02")]] == ["session_session02.txt"]
    text = "\n".join(p.warnings)
    assert "b (1).ns5 (a duplicate of b.ns5 (same name with '(1)', same size))" in text
    assert "181105 (1).asc (a duplicate of 181105.asc" in text
    assert "P10_5 copy.asc (a duplicate of P10_5.asc (same name with 'copy'" in text
    assert "session_session02 - Copy.txt (a duplicate of session_session02.txt" in text


def test_a_copy_of_another_size_is_not_a_duplicate_and_both_are_named(day):
    ns5(day / "session01" / "b (1).ns5", [(1, 0)])  # another recording, another size
    write(day / "181105 (1).asc", b"** another navigation recording")
    p = _plan(day)
    assert p.problems[((SUBJECT, DAY, "session01"), "ns5_count")] == (
        f"{day / 'session01'}: expected exactly one .ns5 per session, found 2: b (1).ns5, b.ns5"
    )
    assert p.channels((SUBJECT, DAY, "session01")) == []
    assert not any("ignored" in w for w in p.warnings)
    msg = p.problems[((SUBJECT, DAY), "eye_navigation_count")]
    assert msg.startswith(f"{day}: 2 navigation EyeLink files, expected one: 181105 (1).asc, ")
    assert "181105.asc" in msg


def test_two_navigation_eyelink_files_one_problem_of_the_day(day):
    write(day / "181106.edf", b"** another day's file")
    before = _raw_bytes(day)
    p = _plan(day)
    assert set(p.problems) == {((SUBJECT, DAY), "eye_navigation_count")}
    msg = p.problems[((SUBJECT, DAY), "eye_navigation_count")]
    assert msg.startswith(
        f"{day}: 2 navigation EyeLink files, expected one: 181105.asc, 181106.edf;"
    )
    assert p.problem_targets() == [f"{SUBJECT}/{DAY}/.hippoflow-problem-eye_navigation_count"]
    # the navigation sessions' EyeLink outputs are not planned; sessioneye's and everything
    # else (unity, NWB) are
    assert [s.name for s in p.eyelink_sessions()] == ["sessioneye"]
    eye = {t for t in p.behaviour_targets() if t.endswith(naming.EYELINK_NAME)}
    assert eye == {f"{SUBJECT}/{DAY}/sessioneye/{naming.EYELINK_NAME}"}
    assert not any(t.endswith(naming.BINDATA_NAME) for t in p.behaviour_targets())
    assert len(p.nwb_targets()) == 3
    assert _raw_bytes(day) == before


def test_two_fixation_files_leave_navigation_alone(day):
    write(day / "P10_6.asc", b"** second calibration")
    p = _plan(day)
    assert set(p.problems) == {((SUBJECT, DAY), "eye_fixation_count")}
    assert "P10_5.asc, P10_6.asc" in p.problems[((SUBJECT, DAY), "eye_fixation_count")]
    assert [s.name for s in p.eyelink_sessions()] == ["session01", "session02"]


def test_edfsplit_names_both_files_given_as_strings(tmp_path):
    """The rule passes its inputs as strings: the message names both, no AttributeError."""
    files = [str(tmp_path / "181105.asc"), str(tmp_path / "181105 (1).asc")]
    with pytest.raises(
        InputError, match=r"2 navigation EyeLink files \(181105.asc, 181105 \(1\).asc\)"
    ):
        steps._one_file(files, tmp_path, "navigation", "181105.edf")
