"""The .nev, Unity log and EyeLink files replaced alone after their outputs were made, and a
session folder deleted outright (hippoflow.plan.stale).

Each case writes a day (a session's .ns5 and .nev, its Unity log, the day's navigation and
fixation EyeLink files) and, in an output tree, the digest record each file's reader would
have written (hashlib of the bytes, the file's stat, an hour after the file), then changes a
file the way a lab does (another file of the same size with its older time kept, as `mv`
or a restored copy does); every expectation is stated here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from hippoflow import dpt, plan
from hippoflow.digests import EYELINK_RECORD, NEV_RECORD, NS5_RECORD, UNITY_RECORD
from hippoflow.digests import main as digests_main
from hippoflow.naming import EDFSPLIT_NAME, EYELINK_NAME, RPLPARALLEL_NAME, UNITY_NAME
from hippoflow.ripple import nsx

SUBJECT, DAY = "picasso", "20181105"
HOUR = 3600 * 10**9
T0 = 1_541_400_000 * 10**9


def ns5(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nsx.write_nsx(path, [nsx.ChannelSpec(1, 0, pin=1)], [(0, np.ones((30, 1), np.int16))])


def record(raw: Path, dest: Path) -> None:
    st = raw.stat()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(
        json.dumps(
            {
                "path": str(raw),
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "sha256": hashlib.sha256(raw.read_bytes()).hexdigest(),
            }
        )
    )
    os.utime(dest, ns=(T0 + HOUR,) * 2)


def same_size_other(path: Path) -> None:
    """Another file of the same size, with the old file's (older than the outputs) time."""
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    os.utime(path, ns=(T0 - HOUR,) * 2)


@pytest.fixture
def made(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    day, oday = data / SUBJECT / DAY, out / SUBJECT / DAY
    files = {}
    for s in ("session01", "sessioneye"):
        ns5(day / s / "b.ns5")
        (day / s / "b.nev").write_bytes(b"NEURALEV" + bytes((2, 3)) + b"\0" * 326)
        files[s] = day / s / "b.nev"
    files["unity"] = day / "session01" / "RawData_T1-400" / "session01_1105.txt"
    files["unity"].parent.mkdir()
    files["unity"].write_text("a Unity log\n")
    files["navigation"] = day / "181105.asc"
    files["navigation"].write_text("** EYELINK navigation\n")
    files["fixation"] = day / "P10_5.asc"
    files["fixation"].write_text("** EYELINK fixation\n")
    for p in day.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(T0,) * 2)
    records = {
        "session01": oday / "session01" / NEV_RECORD,
        "sessioneye": oday / "sessioneye" / NEV_RECORD,
        "unity": oday / "session01" / UNITY_RECORD,
        "navigation": oday / EYELINK_RECORD,
        "fixation": oday / "sessioneye" / EYELINK_RECORD,
    }
    for k, dest in records.items():
        record(files[k], dest)
    made = [RPLPARALLEL_NAME, UNITY_NAME, EYELINK_NAME]
    for p in [oday / "session01" / n for n in made] + [
        oday / EDFSPLIT_NAME,
        oday / "sessioneye" / EYELINK_NAME,
        oday / "sessioneye" / RPLPARALLEL_NAME,
    ]:
        p.write_bytes(b"made")
    config = {"data_root": str(data), "output_root": str(out), "channels": [1]}
    return config, files, records, oday


def test_the_same_files_are_fine(made):
    config, *_ = made
    p = plan.make_plan(config)
    assert p.problems == {} and p.warnings == []


@pytest.mark.parametrize(
    "which, key, problem, made_from, redo",
    [
        (
            "session01",
            ("session01",),
            "nev_changed",
            "the session's markers and the behaviour, trial QC and NWB files made from them",
            [("session01", RPLPARALLEL_NAME)],
        ),
        (
            "unity",
            ("session01",),
            "unity_changed",
            "the session's Unity objects, raycast and NWB file",
            [("session01", UNITY_NAME)],
        ),
        (
            "navigation",
            (),
            "eye_navigation_changed",
            "the day's EDFSplit object and the navigation sessions' EyeLink objects",
            [(EDFSPLIT_NAME,), ("session01", EYELINK_NAME)],
        ),
        (
            "fixation",
            ("sessioneye",),
            "eye_fixation_changed",
            "sessioneye's EyeLink object and NWB file",
            [("sessioneye", EYELINK_NAME)],
        ),
    ],
)
def test_a_file_replaced_alone_is_a_problem_its_reader_waits_on(
    made, which, key, problem, made_from, redo
):
    config, files, records, oday = made
    same_size_other(files[which])
    new = hashlib.sha256(files[which].read_bytes()).hexdigest()
    p = plan.make_plan(config)
    full = (SUBJECT, DAY, *key)
    assert set(p.problems) == {(full, problem)}, p.problems
    msg = p.problems[(full, problem)]
    assert msg.startswith(f"{files[which]}: not the file {made_from}")
    assert f"sha256 {new[:12]}..." in msg
    listed = " ".join([str(records[which])] + [str(oday.joinpath(*r)) for r in redo])
    assert f"to redo them from the file as it is now: rm {listed} and run again" in msg
    target = "/".join(full) + f"/.hippoflow-problem-{problem}"
    assert p.changed_raw(full, (problem,)) == [target]
    assert target in p.problem_targets()


def test_same_content_new_time_is_a_warning_and_refresh_records_it(made):
    config, files, records, _ = made
    os.utime(files["unity"], ns=(T0 - HOUR,) * 2)
    p = plan.make_plan(config)
    assert p.problems == {}
    (w,) = p.warnings
    assert w.startswith(f"{files['unity']}: modified ") and "content is the same" in w
    own = records["unity"].stat().st_mtime_ns
    argv = ["--refresh", "--data-root", config["data_root"], "--output-root", config["output_root"]]
    assert digests_main(argv) == 0
    assert json.loads(records["unity"].read_text())["mtime_ns"] == T0 - HOUR
    assert records["unity"].stat().st_mtime_ns == own
    assert plan.make_plan(config).warnings == []


def test_a_damaged_record_is_a_problem(made):
    config, _, records, _ = made
    records["fixation"].write_text("{not json")
    msg = plan.make_plan(config).problems[((SUBJECT, DAY, "sessioneye"), "eye_fixation_changed")]
    assert msg.startswith(f"{records['fixation']}: damaged digest record of ")


def test_a_session_folder_deleted_outright(made):
    config, _, _, oday = made
    gone = oday / "session02"
    gone.mkdir()
    (gone / RPLPARALLEL_NAME).write_bytes(b"made")
    raw = Path(config["data_root"], SUBJECT, DAY, "session02")
    p = plan.make_plan(config)
    assert p.problems == {}
    (w,) = p.warnings
    assert w.startswith(
        f"{gone}: outputs of session session02, whose raw folder {raw} no longer exists"
    )
    # split, and a sort of the day still holds its data: the day's sorts wait on a problem
    (gone / NS5_RECORD).write_text("{}")
    sort = oday / "sort" / "array01" / "channel001" / "mountainsort_abcd.hkl"
    sort.parent.mkdir(parents=True)
    dpt.save_object(sort, {"sessions": ["session01", "session02"]}, {}, [sort.parent])
    p = plan.make_plan(config)
    msg = p.problems[((SUBJECT, DAY), "session_gone_session02")]
    assert msg.startswith(f"{raw}: session folder gone from the raw tree")
    assert f"rm -r {gone} {oday / 'sort'} and run again" in msg
    assert p.gone_sessions((SUBJECT, DAY)) == [
        f"{SUBJECT}/{DAY}/.hippoflow-problem-session_gone_session02"
    ]
    # a sort made without it: a warning only
    dpt.save_object(sort, {"sessions": ["session01"]}, {}, [sort.parent])
    assert plan.make_plan(config).problems == {}


def test_no_check_once_its_outputs_are_gone(made):
    """The redo command removed the outputs: Snakemake redoes them (and the record)."""
    config, files, _, oday = made
    same_size_other(files["unity"])
    (oday / "session01" / UNITY_NAME).unlink()
    assert plan.make_plan(config).problems == {}


def test_a_replaced_session_folder_is_one_problem(made):
    """Its .ns5, .nev and Unity log all differ: the .ns5's problem (which blocks the markers,
    and so the Unity objects, too); once its redo removed the markers, no problem at all."""
    config, files, _, oday = made
    s1 = Path(config["data_root"], SUBJECT, DAY, "session01")
    record(s1 / "b.ns5", oday / "session01" / NS5_RECORD)
    for f in (s1 / "b.ns5", files["session01"], files["unity"]):
        same_size_other(f)
    assert set(plan.make_plan(config).problems) == {((SUBJECT, DAY, "session01"), "ns5_changed")}
    (oday / "session01" / NS5_RECORD).unlink()
    (oday / "session01" / RPLPARALLEL_NAME).unlink()
    assert plan.make_plan(config).problems == {}
