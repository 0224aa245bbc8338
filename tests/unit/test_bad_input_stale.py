"""A raw .ns5 that is not the file its outputs were made from (hippoflow.plan.stale).

Each case writes a session's .ns5 and, in an output tree, the split's digest record as the
split would have written it (hashlib of the bytes, the file's stat), then changes the file
(content, size, modification time) the way a lab does; every expectation is stated here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from hippoflow import plan
from hippoflow.digests import NS5_RECORD
from hippoflow.naming import RPLPARALLEL_NAME
from hippoflow.ripple import nsx

SUBJECT, DAY, S = "picasso", "20181105", "sessioneye"  # needs no Unity log
KEY = (SUBJECT, DAY, S)
HOUR = 3600 * 10**9
T0 = 1_541_400_000 * 10**9  # the .ns5's mtime when recorded; the split ran an hour later


def ns5(path: Path, value: int):
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = [nsx.ChannelSpec(1, 0, pin=1)]
    nsx.write_nsx(path, spec, [(0, np.full((30, 1), value, dtype=np.int16))])


@pytest.fixture
def made(tmp_path):
    """A session split an hour after its .ns5 was recorded: the .ns5, its record, markers."""
    data, out = tmp_path / "data", tmp_path / "out"
    f = data / SUBJECT / DAY / S / "b.ns5"
    ns5(f, 1)
    (f.parent / "b.nev").write_bytes(b"NEURALEV" + bytes((2, 3)) + b"\0" * 326)
    os.utime(f, ns=(T0, T0))
    where = out / SUBJECT / DAY / S
    where.mkdir(parents=True)
    st = f.stat()
    record = {
        "path": str(f),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": hashlib.sha256(f.read_bytes()).hexdigest(),
    }
    (where / NS5_RECORD).write_text(json.dumps(record))
    (where / RPLPARALLEL_NAME).write_bytes(b"markers")
    for p in (where / NS5_RECORD, where / RPLPARALLEL_NAME):
        os.utime(p, ns=(T0 + HOUR, T0 + HOUR))
    return {"data_root": str(data), "output_root": str(out)}, f, where


def test_the_same_file_is_fine(made):
    config, _, _ = made
    p = plan.make_plan(config)
    assert p.problems == {} and p.warnings == []
    assert p.changed_raw(KEY) == []


def test_another_recording_of_the_same_size_older_than_the_outputs(made):
    """A session folder replaced by another one with mv (older mtime, same size)."""
    config, f, where = made
    ns5(f, 2)
    os.utime(f, ns=(T0 - HOUR,) * 2)  # recorded before the outputs were made
    new = hashlib.sha256(f.read_bytes()).hexdigest()
    p = plan.make_plan(config)
    msg = p.problems[(KEY, "ns5_changed")]
    assert msg.startswith(f"{f}: not the file the session's outputs in {where} were made from")
    assert f"sha256 {new[:12]}..." in msg
    assert msg.endswith(
        f"to redo the session's outputs from the file as it is now: rm {where / NS5_RECORD} "
        f"{where / RPLPARALLEL_NAME} and run again (the split, markers and everything made "
        "from them are then redone)"
    )
    assert p.changed_raw(KEY) == [f"{SUBJECT}/{DAY}/{S}/.hippoflow-problem-ns5_changed"]
    assert p.changed_raw(KEY)[0] in p.problem_targets()
    # the estimator and cluster jobs may skip the check
    assert plan.make_plan(config, check_outputs=False).problems == {}


def test_another_size_is_a_change_without_reading_the_file(made, monkeypatch):
    config, f, _ = made
    ns5(f, 1)
    with open(f, "ab") as fh:
        fh.write(b"\0\0")
    os.utime(f, ns=(T0,) * 2)
    from hippoflow.plan import stale

    monkeypatch.setattr(stale, "sha256_file", lambda p: pytest.fail("hashed"))
    msg = plan.make_plan(config).problems[(KEY, "ns5_changed")]
    size = f.stat().st_size
    assert f"it is now {size} bytes" in msg and f"it was {size - 2} bytes" in msg


def test_same_content_new_mtime_is_a_warning(made):
    config, f, _ = made
    os.utime(f, ns=(T0 - HOUR,) * 2)  # e.g. restored with another mtime
    p = plan.make_plan(config)
    assert p.problems == {}
    (w,) = p.warnings
    assert w.startswith(f"{f}: modified ") and w.endswith("the outputs are kept")


def test_a_newer_file_is_left_to_snakemake(made):
    config, f, where = made
    ns5(f, 3)  # written now: newer than the record, Snakemake re-splits
    assert plan.make_plan(config).problems == {}


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"path": "x"}',
        '{"path": "x", "size": "a", "mtime_ns": 1, "sha256": "0"}',
        "[]",
    ],
)
def test_a_damaged_record_is_a_problem_with_a_way_forward(made, text):
    config, f, where = made
    (where / NS5_RECORD).write_text(text)
    msg = plan.make_plan(config).problems[(KEY, "ns5_changed")]
    assert msg.startswith(f"{where / NS5_RECORD}: damaged digest record of {f} (")
    assert f"rm {where / NS5_RECORD} {where / RPLPARALLEL_NAME} and run again" in msg
