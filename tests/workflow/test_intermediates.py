"""Keep or drop the split (rplraw) and high-pass files: config `intermediates`, real snakemake.

The dry runs state by hand which files must be temporary (every session's split of every
channel, every high-pass file) and where node-local ones are declared. One real run with both
dropped, beside a run with the defaults on the same generated day and targets, shows that the
files are deleted after their consumers ran (and kept by default) and that every final file is
identical (read with h5py, tests/cluster/finals.py). The node-local mode on Slurm:
tests/cluster/test_nodelocal.py.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from cluster.finals import differences, final_files, intermediate_files
from conftest import generate, run_snakemake

DAY = "picasso/20181105"
SESSIONS = ("session01", "sessioneye")
CHANNELS = (("01", "001"), ("02", "033"))
RAW, HP = "rplraw_d41d.hkl", "rplhighpass_b59f.hkl"
DROP = "intermediates={keep_split: false, keep_highpass: false}"
WOULD_REMOVE = re.compile(r"^Would remove temporary output (\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("intermediates") / "data"
    generate(root, "--channels", 2, "--seconds", 10, "--sessions", 1, "--seed", 7)
    return root


def _dry(day, tmp_path, *extra):
    out = tmp_path / "out"
    proc = run_snakemake(
        tmp_path, "-n", "--config", f"data_root={day}", f"output_root={out}", *extra
    )
    return out, proc.stdout + proc.stderr


def _all_inputs(text: str) -> list[str]:
    block = text[text.index("rule all:") :]
    return block.split("input: ", 1)[1].splitlines()[0].split(", ")


def _paths(out, name):
    return {
        str(out / DAY / s / f"array{a}" / f"channel{c}" / name)
        for s in SESSIONS
        for a, c in CHANNELS
    }


def test_dropped_intermediates_are_temp(day, tmp_path):
    out, text = _dry(day, tmp_path, DROP)
    removed = {p.rstrip(".") for p in WOULD_REMOVE.findall(text)}
    intermediates = {p for p in removed if Path(p).name in (RAW, HP)}
    assert intermediates == _paths(out, RAW) | _paths(out, HP)
    assert not any(Path(p).name == HP for p in _all_inputs(text))


def test_node_local_files_are_declared_on_the_node(day, tmp_path):
    node = tmp_path / "node"
    out, text = _dry(day, tmp_path, f"intermediates={{node_local_dir: {node}}}")
    for s in SESSIONS:
        m = re.search(rf"output: (\S+/{s}/array01/channel001/{RAW}) \(nodelocal\)", text)
        assert m and m.group(1) == str(node / DAY / s / "array01" / "channel001" / RAW)
    assert f"{node}/{DAY}/session01/array02/channel033/{HP} (nodelocal)" in text
    assert str(out / DAY / "session01" / "array01" / "channel001" / RAW) not in text


def test_node_local_profile_needs_the_directory(day, tmp_path):
    from conftest import REPO

    proc = run_snakemake(
        tmp_path,
        "-n",
        "--profile",
        str(REPO / "profiles" / "pcluster-nodelocal"),
        "--config",
        f"data_root={day}",
        f"output_root={tmp_path / 'out'}",
        check=False,
    )
    assert proc.returncode != 0
    assert "set intermediates.node_local_dir" in proc.stdout + proc.stderr


def test_nwb_highpass_needs_the_highpass_kept(day, tmp_path):
    proc = run_snakemake(
        tmp_path,
        "-n",
        "--config",
        f"data_root={day}",
        f"output_root={tmp_path / 'out'}",
        "nwb={highpass: true}",
        "intermediates={keep_highpass: false}",
        check=False,
    )
    assert proc.returncode != 0
    assert (
        "hippoflow: nwb.highpass needs the highpass files kept on the output tree, but "
        "intermediates has keep_highpass: False" in proc.stdout + proc.stderr
    )


def test_dropped_files_are_deleted_and_finals_identical(day, tmp_path_factory):
    """Channel 1's chain (split, LFP, high-pass, sort, curation, cells) run for real twice."""
    root = tmp_path_factory.mktemp("runs")
    chan = "array01/channel001"

    def targets(out):
        lfps = [str(out / DAY / s / chan / "rpllfp_6eca.hkl") for s in SESSIONS]
        return lfps + [str(out / DAY / "sort" / chan / "cells.tsv")]

    runs = {}

    def go(name, *extra):
        work, out = root / name, root / name / "out"
        work.mkdir()
        runs[name] = run_snakemake(
            work,
            "--cores",
            "1",
            *targets(out),
            "--config",
            f"data_root={day}",
            f"output_root={out}",
            "channels=[1]",
            *extra,
            check=False,
        )

    threads = [
        threading.Thread(target=go, args=("keep",)),
        threading.Thread(target=go, args=("drop", DROP)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, proc in runs.items():
        assert proc.returncode == 0, (name, proc.stderr[-4000:])
    keep, drop = root / "keep" / "out", root / "drop" / "out"

    def one(out, name):
        return {str(out / DAY / s / chan / name) for s in SESSIONS}

    # defaults (PyHipp's layout): both kept, neither removed
    assert {str(keep / p) for p in intermediate_files(keep)} == one(keep, RAW) | one(keep, HP)
    kept_log = runs["keep"].stdout + runs["keep"].stderr
    assert not re.findall(r"Removing temporary output \S+(?:rplraw|rplhighpass)_", kept_log)
    assert intermediate_files(drop) == []
    log = runs["drop"].stdout + runs["drop"].stderr
    removed = {p.rstrip(".") for p in re.findall(r"Removing temporary output (\S+)", log)}
    assert one(drop, RAW) | one(drop, HP) <= removed
    assert len(final_files(keep)) >= 8  # 2 LFP, sort, curated, cells.tsv, cells of 1 session
    assert differences(keep, drop) == []


def test_the_comparison_sees_a_changed_sample(tmp_path):
    """finals.differences is not blind: one float changed in a copied LFP file is reported."""
    import h5py
    import hickle
    import numpy as np

    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "x").mkdir(parents=True)
        hickle.dump(
            {"data": np.arange(5, dtype=np.float32), "dirs": [str(root / "x")]},
            str(root / "x" / "o.hkl"),
        )
    assert differences(a, b) == []
    with h5py.File(b / "x" / "o.hkl", "r+") as f:
        name = [n for n in _datasets(f) if f[n].dtype == np.float32][0]
        f[name][2] = 7.5
    assert differences(a, b) == [f"x/o.hkl: {name} differs"]


def _datasets(f):
    import h5py

    names = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return names
