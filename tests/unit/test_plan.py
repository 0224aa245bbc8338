"""Planning (hippoflow.plan) on hand-built raw trees: session table, channel sets, each
day-channel's sessions, problems found while planning, targets, resources.

The trees are written here with the NSx writer (headers are all planning reads) and empty
files for .nev, Unity logs and EyeLink files; every expectation is stated by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hippoflow import naming, plan
from hippoflow.ripple import nsx

SUBJECT, DAY, DAY2 = "picasso", "20181105", "20181106"


def ns5(path: Path, electrodes):
    """An .ns5 with the given (electrode id, bank) channels and 30 samples."""
    path.parent.mkdir(parents=True, exist_ok=True)
    specs = [nsx.ChannelSpec(e, bank, pin=i + 1) for i, (e, bank) in enumerate(electrodes)]
    nsx.write_nsx(path, specs, [(0, np.zeros((30, len(specs)), dtype=np.int16))])


def touch(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "data"
    day = root / SUBJECT / DAY
    ns5(day / "session01" / "b1.ns5", [(1, 1), (2, 1), (33, 2)])
    ns5(day / "session02" / "b2.ns5", [(1, 1), (2, 1)])
    ns5(day / "sessioneye" / "b3.ns5", [(1, 1), (2, 1), (33, 2)])
    ns5(day / "session03" / "a.ns5", [(1, 1)])
    ns5(day / "session03" / "b.ns5", [(1, 1)])
    for s in ("session01", "session02", "sessioneye"):
        touch(day / s / f"{s}.nev")
    touch(day / "session01" / "RawData_T1-400" / "session_1_5112018105323.txt")
    touch(day / "session02" / "RawData_T1-400" / "session_1_a.txt")
    touch(day / "session02" / "RawData_T401-800" / "session_2_b.txt")
    touch(day / "181105.edf")
    touch(day / "181105.asc")  # an export beside its .edf: the .edf is used
    touch(day / "P1_2.asc")
    (day / "notes").mkdir()  # not a session folder
    bad = root / SUBJECT / DAY2 / "session01" / "x.ns5"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"NEURALCD" + b"\0" * 20)  # truncated header
    return root


def test_sessions_channels_and_day_channels(tree):
    p = plan.make_plan({"data_root": str(tree)})
    keys = [s.key for s in p.sessions]
    assert keys == [
        (SUBJECT, DAY, "session01"),
        (SUBJECT, DAY, "session02"),
        (SUBJECT, DAY, "session03"),
        (SUBJECT, DAY, "sessioneye"),
        (SUBJECT, DAY2, "session01"),
    ]
    assert p.channels((SUBJECT, DAY, "session01")) == [("01", "001"), ("01", "002"), ("02", "033")]
    assert p.channels((SUBJECT, DAY, "session02")) == [("01", "001"), ("01", "002")]
    assert p.channels((SUBJECT, DAY, "session03")) == []  # two .ns5: no channels, a problem
    # one split rule per distinct channel set
    assert sorted(map(sorted, p.channel_sets.values())) == [
        [f"{SUBJECT}/{DAY}/session01", f"{SUBJECT}/{DAY}/sessioneye"],
        [f"{SUBJECT}/{DAY}/session02"],
    ]
    chans = p.day_channels[(SUBJECT, DAY)]
    assert chans[("01", "001")] == ["session01", "session02", "sessioneye"]
    assert chans[("02", "033")] == ["session01", "sessioneye"]
    assert (SUBJECT, DAY2) not in p.day_channels


def test_problems_found_while_planning(tree):
    p = plan.make_plan({"data_root": str(tree)})
    found = {(key[2] if key[1] == DAY else f"{key[1]}/{key[2]}", name) for key, name in p.problems}
    assert found == {
        ("session03", "ns5_count"),
        ("session02", "unity_logs"),
        (f"{DAY2}/session01", "ns5_header"),
    }
    msg = p.problems[((SUBJECT, DAY, "session02"), "unity_logs")]
    assert "found 2" in msg and "session_2_b.txt" in msg
    assert "x.ns5" in p.problems[((SUBJECT, DAY2, "session01"), "ns5_header")]
    assert sorted(p.problem_targets()) == sorted(
        f"{SUBJECT}/{d}/{s}/.hippoflow-problem-{k}"
        for d, s, k in [
            (DAY, "session03", "ns5_count"),
            (DAY, "session02", "unity_logs"),
            (DAY2, "session01", "ns5_header"),
        ]
    )


def test_behaviour_sessions_and_eyelink_files(tree):
    p = plan.make_plan({"data_root": str(tree)})
    assert [s.name for s in p.unity_sessions()] == ["session01"]
    assert [s.name for s in p.eyelink_sessions()] == ["session01", "sessioneye"]
    day = (SUBJECT, DAY)
    assert [Path(f).name for f in p.navigation_eye_files(day)] == ["181105.edf"]
    assert [Path(f).name for f in p.fixation_eye_files(day)] == ["P1_2.asc"]
    targets = p.behaviour_targets()
    assert f"{SUBJECT}/{DAY}/session01/binData.hdf" in targets
    assert not any("sessioneye/binData" in t for t in targets)
    off = plan.make_plan({"data_root": str(tree), "behaviour": {"eyelink": False}})
    assert off.eyelink_sessions() == []
    assert off.behaviour_targets() == [f"{SUBJECT}/{DAY}/session01/{naming.UNITY_NAME}"]


def test_ripple_sorting_and_qc_targets(tree):
    p = plan.make_plan({"data_root": str(tree)})
    t = p.ripple_targets("L.hkl", "H.hkl")
    # rplparallel for the three sessions with one .nev; LFP + high-pass per session-channel
    assert sum(t_.endswith(naming.RPLPARALLEL_NAME) for t_ in t) == 3
    assert sum(t_.endswith("/L.hkl") for t_ in t) == 3 + 2 + 3
    assert f"{SUBJECT}/{DAY}/sessioneye/array02/channel033/H.hkl" in t
    s = p.sorting_targets()
    assert sorted(x for x in s if x.endswith("cells.tsv")) == [
        f"{SUBJECT}/{DAY}/sort/array01/channel001/cells.tsv",
        f"{SUBJECT}/{DAY}/sort/array01/channel002/cells.tsv",
        f"{SUBJECT}/{DAY}/sort/array02/channel033/cells.tsv",
    ]
    assert f"{SUBJECT}/{DAY}/sort/metrics.html" in s
    assert f"{SUBJECT}/{DAY}/sort/outcome.tsv" in s  # rule sort_outcome, one per day
    qc = p.qc_targets()
    assert sum(x.endswith("qc_trials.png") for x in qc) == 3
    assert sum(x.endswith("qc_lfp_spectrum.png") for x in qc) == 3
    assert p.report_targets() == ["provenance.html"]
    raw = p.raw_files()
    assert raw == sorted(raw)
    assert sorted(Path(f).name for f in raw) == sorted(
        ["b1.ns5", "b2.ns5", "b3.ns5", "a.ns5", "b.ns5", "x.ns5"]
        + ["session01.nev", "session02.nev", "sessioneye.nev"]
    )


def test_selections(tree):
    p = plan.make_plan({"data_root": str(tree), "days": [int(DAY)], "channels": ["33", 99]})
    assert {s.day for s in p.sessions} == {DAY}
    assert p.channels((SUBJECT, DAY, "session01")) == [("02", "033")]
    assert p.channels((SUBJECT, DAY, "session02")) == []
    assert list(p.day_channels[(SUBJECT, DAY)]) == [("02", "033")]
    unknown = [msg for (key, name), msg in p.problems.items() if name == "channel099"]
    assert len(unknown) == 1 and "channel 99" in unknown[0] and "1-2, 33" in unknown[0]
    none = plan.make_plan({"data_root": str(tree), "subjects": ["nobody"]})
    assert none.sessions == [] and none.report_targets() == []


def test_missing_data_root_is_an_error(tmp_path):
    with pytest.raises(Exception, match="data_root does not exist"):
        plan.make_plan({"data_root": str(tmp_path / "absent")})


def test_session_order():
    names = ["sessioneye", "session10", "session02", "session01", "session9"]
    assert naming.session_order(names) == [
        "session01",
        "session02",
        "session9",
        "session10",
        "sessioneye",
    ]


def test_resources(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"\0" * 2_000_000)
    b.write_bytes(b"\0" * 1_000_000)
    assert plan.mem_for(a, factor=3) == 600 + 6
    assert plan.mem_for([a, b], factor=2, base=800) == 800 + 6
    assert plan.mem_for([tmp_path / "absent"]) == 600  # inputs not made yet count 0
    assert plan.runtime_for([a] * 500, minutes_per_gb=10) == 10 + 10


def test_lab_ripple_tree_0_based_and_analog_inputs_not_counted(tmp_path):
    """The lab's Ripple headers: connector 0 = array01; analog inputs are no channels, not even
    in the message for a channel no header lists."""
    root = tmp_path / "data"
    path = root / SUBJECT / DAY / "session01" / "b.ns5"
    path.parent.mkdir(parents=True)
    specs = [
        nsx.ChannelSpec(1, 0, 1, label="raw 1"),
        nsx.ChannelSpec(33, 1, 1, label="raw 33"),
        nsx.ChannelSpec(10241, 0, 1, label="ainp1", units="mV"),
    ]
    nsx.write_nsx(path, specs, [(0, np.zeros((30, 3), dtype=np.int16))])
    p = plan.make_plan({"data_root": str(root), "channels": [1, 33, 99]})
    assert p.channels((SUBJECT, DAY, "session01")) == [("01", "001"), ("02", "033")]
    (msg,) = p.problems.values()
    assert "channel 99" in msg and "they list 2 channels: 1, 33)" in msg


# ----------------------------------------------------------------------------- issue 15
def _nev(path: Path, version=(2, 3)):
    """The first bytes of a .nev: planning reads only its file spec."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"NEURALEV" + bytes(version) + b"\0" * 326)


@pytest.fixture
def broken_tree(tmp_path) -> Path:
    """One problem per session, each hand-made: what planning says, what it still plans."""
    root = tmp_path / "data"
    day = root / SUBJECT / DAY
    for s in ("session01", "session02", "session03", "session04", "session05", "sessioneye"):
        ns5(day / s / "b.ns5", [(1, 0), (33, 1)])
        _nev(day / s / "b.nev")
        touch(day / s / "RawData_T1-400" / f"session_{s}.txt")
    (day / "session01" / "b.ns5").unlink()
    (day / "session01" / "b.ns5").symlink_to(tmp_path / "nowhere.ns5")  # dangling
    _nev(day / "session02" / "b.nev", version=(2, 2))  # spec mismatch with the 2.3 .ns5
    (day / "session03" / "b.nev").unlink()
    os.mkfifo(day / "session03" / "b.nev")  # a named pipe: never opened
    (day / "session04" / "RawData_T1-400" / "session_session04.txt").unlink()  # no Unity log
    ns5(day / "session05" / "b.ns5", [(1, 0), (1, 1)])  # electrode 1 twice
    (day / "sessioneye" / "RawData_T1-400" / "session_sessioneye.txt").unlink()  # fixation
    (day / "181105.edf").symlink_to(tmp_path / "gone.edf")
    (day / "session06").mkdir()  # empty session folder
    ns5(day / "session07" / "b.ns5", [(1, 0)])  # no .nev
    for name in ("Session08", "session_09"):
        (day / name).mkdir()
    (root / SUBJECT / "2018-11-06").mkdir()
    return root


def test_broken_files_are_problems_and_the_rest_is_planned(broken_tree):
    p = plan.make_plan({"data_root": str(broken_tree), "days": [DAY, "20181199"]})
    d = broken_tree / SUBJECT / DAY
    where = {target: msg for target, msg in p.problem_messages().items()}
    assert where == {
        f"{SUBJECT}/{DAY}/session01/.hippoflow-problem-ns5_file_b.ns5": (
            f"{d}/session01/b.ns5: dangling symbolic link (to "
            f"{broken_tree.parent}/nowhere.ns5, which does not exist)"
        ),
        f"{SUBJECT}/{DAY}/session02/.hippoflow-problem-pair": (
            f"{d}/session02/b.nev: file spec 2.2 differs from b.ns5 (spec 2.3): the pair does "
            "not come from one recording (the split of the .ns5 and the markers of the .nev "
            "are still made: check that the two files belong together)"
        ),
        f"{SUBJECT}/{DAY}/session03/.hippoflow-problem-nev_file_b.nev": (
            f"{d}/session03/b.nev: not a regular file (a named pipe)"
        ),
        f"{SUBJECT}/{DAY}/session04/.hippoflow-problem-unity_log_missing": (
            f"{d}/session04: no Unity log (RawData*/session*.txt): the session's unity, "
            "eyelink and raycast outputs are not made"
        ),
        f"{SUBJECT}/{DAY}/session05/.hippoflow-problem-ns5_header": (
            f"{d}/session05/b.ns5: electrode id(s) 1 listed more than once in the header: "
            "which column holds which electrode is ambiguous"
        ),
        f"{SUBJECT}/{DAY}/.hippoflow-problem-eye_file_181105.edf": (
            f"{d}/181105.edf: dangling symbolic link (to {broken_tree.parent}/gone.edf, "
            "which does not exist)"
        ),
        ".hippoflow-problem-days_20181199": (
            f"{broken_tree}: days selection names '20181199', but no day folder of that "
            "name with session folders was found (pattern [0-9]+)"
        ),
    }
    assert p.warnings == [
        f"{broken_tree}/{SUBJECT}/2018-11-06: folder skipped: looks like a day but day "
        "folders are named by digits only (pattern [0-9]+, e.g. 20181106)",
        f"{d}/Session08: folder skipped: looks like a session but session folders are named "
        "session01, session02, ..., sessioneye (pattern session[a-z0-9]+)",
        f"{d}/session_09: folder skipped: looks like a session but session folders are named "
        "session01, session02, ..., sessioneye (pattern session[a-z0-9]+)",
        f"{d}/session06: session folder without .nev or .ns5 file: skipped",
        f"{d}/session07: no .nev file: the session's markers (rplparallel), trial QC and "
        "behaviour outputs are not made",
    ]
    key = {s.name: s.key for s in p.sessions}
    # markers: every session with a readable .nev, whatever its .ns5 (session01, session05)
    rpl = [t.split("/")[2] for t in p.ripple_targets("L", "H") if naming.RPLPARALLEL_NAME in t]
    assert rpl == ["session01", "session02", "session04", "session05", "sessioneye"]
    # split: every session with a good .ns5, whatever its .nev (session02, session03)
    assert [s.name for s in p.neural_sessions()] == [
        "session02",
        "session03",
        "session04",
        "session07",
        "sessioneye",
    ]
    # narrow pair inputs: the other file only when both were read and agree
    assert p.pair_ns5(key["session01"]) == [] and p.pair_nev(key["session02"]) == []
    assert p.pair_ns5(key["session02"]) == [] and p.pair_nev(key["session03"]) == []
    assert p.pair_ns5(key["session04"]) == [str(d / "session04" / "b.ns5")]
    assert p.pair_nev(key["session04"]) == [str(d / "session04" / "b.nev")]
    assert [s.name for s in p.unity_sessions()] == ["session01", "session02", "session05"]
    # only readable files are digested by the provenance page
    assert str(d / "session01" / "b.ns5") not in p.raw_files()
    assert str(d / "session03" / "b.nev") not in p.raw_files()


def test_missing_subject_selection_is_a_problem_of_the_run(broken_tree):
    p = plan.make_plan({"data_root": str(broken_tree), "subjects": [SUBJECT, "nobody"]})
    assert p.problem_message(".hippoflow-problem-subjects_nobody") == (
        f"{broken_tree}: subjects selection names 'nobody', but no subject folder of that "
        "name with session folders was found (pattern [a-zA-Z]+)"
    )


def test_dangling_day_and_session_folders_are_warned_not_skipped_silently(tree):
    subject = tree / SUBJECT
    (subject / "20181107").symlink_to(tree.parent / "unmounted" / "20181107")
    (subject / DAY / "session04").symlink_to(tree.parent / "moved" / "session04")
    (subject / DAY / "notes-link").symlink_to(tree.parent / "nowhere")  # not a session name
    (tree / "ghost").symlink_to(tree.parent / "gone-subject")
    p = plan.make_plan({"data_root": str(tree), "subjects": "all", "days": "all"})
    dangling = [w for w in p.warnings if "symbolic link" in w]
    assert dangling == [
        f"{tree}/ghost: subject folder skipped: a symbolic link to {tree.parent}/gone-subject, "
        "which does not exist",
        f"{subject}/20181107: day folder skipped: a symbolic link to "
        f"{tree.parent}/unmounted/20181107, which does not exist",
        f"{subject}/{DAY}/session04: session folder skipped: a symbolic link to "
        f"{tree.parent}/moved/session04, which does not exist",
    ]
    assert "session04" not in [s.name for s in p.sessions]
