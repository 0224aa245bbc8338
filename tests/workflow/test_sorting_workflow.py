"""sort / export_cells / QC through the real snakemake command on generated days."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import generate, job_counts, run_snakemake

from hippoflow import dpt
from hippoflow.sorting import sort as sorting

DAY = ("picasso", "20181105")
SORT_NAME = sorting.sort_name(sorting.DEFAULTS)


def sort_dir(root, array, channel):
    return root.joinpath(*DAY, "sort", f"array{array}", f"channel{channel}")


def targets(root, channels, sessions):
    day = root.joinpath(*DAY)
    out = [day / "sort" / "metrics.html"]
    for a, c in channels:
        out += [sort_dir(root, a, c) / "cells.tsv", sort_dir(root, a, c) / "qc_sort.png"]
    for s in sessions:
        out += [day / s / "qc_trials.png", day / s / "qc_lfp_spectrum.png"]
    return [str(p) for p in out]


CHANNELS = [("01", "001"), ("02", "033"), ("03", "065")]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A day whose session01 has channels 1, 33, 65 and sessioneye only 1 and 33."""
    base = tmp_path_factory.mktemp("sortwf")
    a, b = base / "a", base / "b"
    generate(a, "--channels", 2, "--seconds", 20, "--sessions", 1, "--units", 3)
    generate(b, "--channels", 3, "--seconds", 20, "--sessions", 1, "--units", 3, "--no-eye")
    day = a.joinpath(*DAY)
    shutil.rmtree(day / "session01")
    shutil.copytree(b.joinpath(*DAY, "session01"), day / "session01")
    return a


@pytest.fixture(scope="module")
def ran(tree, tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    outroot = work / "derived"
    cfg = {"data_root": tree, "output_root": outroot}
    t0 = time.monotonic()
    dry = run_snakemake(
        work, "-n", *targets(outroot, CHANNELS, ["session01", "sessioneye"]), config=cfg
    )
    plan_seconds = time.monotonic() - t0
    run_snakemake(
        work, "--cores", "2", *targets(outroot, CHANNELS, ["session01", "sessioneye"]), config=cfg
    )
    return work, outroot, cfg, dry, plan_seconds


def test_dry_run_plans_sort_and_export_jobs(ran):
    _, _, _, dry, plan_seconds = ran
    counts = job_counts(dry.stdout)
    assert counts["sort"] == 3
    assert counts["export_cells"] == 3
    assert counts["qc_sort"] == 3
    assert plan_seconds < 60


def test_channel_in_one_session_is_sorted_from_it_alone(ran):
    _, outroot, _, _, _ = ran
    sort65 = dpt.load_object(sort_dir(outroot, "03", "065") / SORT_NAME)
    assert sort65["sessions"] == ["session01"]
    assert len(sort65["inputs"]) == 1 and "session01" in sort65["inputs"][0]
    np.testing.assert_array_equal(sort65["session_samples"], [20 * 30000])
    day = outroot.joinpath(*DAY)
    assert not (day / "sessioneye" / "array03").exists()
    cells = sorted(p.name for p in (day / "session01" / "array03" / "channel065").glob("cell*"))
    assert cells == [f"cell{c:02d}" for c in sort65["cells"]]
    sort1 = dpt.load_object(sort_dir(outroot, "01", "001") / SORT_NAME)
    assert sort1["sessions"] == ["session01", "sessioneye"]


def read_csv(path) -> np.ndarray:
    text = path.read_text().strip()
    return np.array([float(v) for v in text.split(",")]) if text else np.zeros(0)


@pytest.mark.parametrize("array,channel", CHANNELS[:2])
def test_cells_split_back_per_session(ran, array, channel):
    _, outroot, _, _, _ = ran
    sdir = sort_dir(outroot, array, channel)
    sort = dpt.load_object(sdir / SORT_NAME)
    day = outroot.joinpath(*DAY)
    names = [f"cell{c:02d}" for c in sort["cells"]]
    assert names, "the generated channel has units: the sort should find some"
    listing = [line.split("\t") for line in (sdir / "cells.tsv").read_text().splitlines()[1:]]
    assert sum(int(r[2]) for r in listing) == len(sort["spike_times"])
    for s, start, n in zip(
        sort["sessions"], sort["session_starts"], sort["session_samples"], strict=True
    ):
        cdir = day / s / f"array{array}" / f"channel{channel}"
        assert sorted(p.name for p in cdir.glob("cell*")) == names  # same numbering everywhere
        for c, name in zip(sort["cells"], names, strict=True):
            # independent split: spikes of this cell inside [start, start + n), ms from start
            mine = [
                (t - start) / 30.0
                for t, k in zip(sort["spike_times"], sort["spike_cells"], strict=True)
                if k == c and start <= t < start + n
            ]
            got = read_csv(cdir / name / "spiketrain.csv")
            np.testing.assert_allclose(got, mine)
            hk = dpt.load_object(cdir / name / "spiketrain_d41d.hkl")
            np.testing.assert_allclose(hk["spiketimes"], got)


def test_qc_outputs_written(ran):
    _, outroot, _, _, _ = ran
    for t in targets(outroot, CHANNELS, ["session01", "sessioneye"]):
        p = Path(t)
        assert p.stat().st_size > (100 if p.suffix == ".tsv" else 1000), p
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (outroot.joinpath(*DAY, "sort", "metrics.tsv")).read_text().splitlines()
    head = table[0].split("\t")
    for m in sorting.METRICS:
        assert m in head


def test_unreadable_highpass_fails_sort_naming_it(ran):
    work, outroot, cfg, _, _ = ran
    hp = outroot.joinpath(*DAY, "sessioneye", "array02", "channel033", "rplhighpass_b59f.hkl")
    hp.write_bytes(b"this is not an HDF5 file")
    (sort_dir(outroot, "02", "033") / SORT_NAME).unlink()
    target = str(sort_dir(outroot, "02", "033") / SORT_NAME)
    proc = run_snakemake(work, "--cores", "1", target, config=cfg, check=False)
    assert proc.returncode != 0
    log = (work / "logs" / "sort" / "picasso" / "20181105" / "02" / "033.log").read_text()
    assert str(hp) in log and "not a readable HDF5" in log
    assert not (sort_dir(outroot, "02", "033") / SORT_NAME).exists()


def test_missing_highpass_is_named(ran):
    work, outroot, cfg, _, _ = ran
    hp = outroot.joinpath(*DAY, "sessioneye", "array01", "channel001", "rplhighpass_b59f.hkl")
    hp.unlink()
    (sort_dir(outroot, "01", "001") / SORT_NAME).unlink()
    target = str(sort_dir(outroot, "01", "001") / SORT_NAME)
    # high-pass jobs not allowed (e.g. the raw split was removed): the sort cannot run
    proc = run_snakemake(
        work, "--cores", "1", "--allowed-rules", "sort", target, config=cfg, check=False
    )
    assert proc.returncode != 0
    assert str(hp) in proc.stdout + proc.stderr


def test_zero_units_gives_no_cells(tmp_path):
    data = tmp_path / "data"
    generate(data, "--channels", 1, "--seconds", 10, "--sessions", 1, "--units", 0, "--no-eye")
    outroot = tmp_path / "derived"
    cfg = {"data_root": data, "output_root": outroot}
    sdir = sort_dir(outroot, "01", "001")
    run_snakemake(
        tmp_path, "--cores", "2", str(sdir / "cells.tsv"), str(sdir / "qc_sort.png"), config=cfg
    )
    assert (sdir / "cells.tsv").read_text().splitlines() == ["session\tcell\tn_spikes\tdirectory"]
    chan = outroot.joinpath(*DAY, "session01", "array01", "channel001")
    assert chan.is_dir() and not list(chan.glob("cell*"))
    assert len(dpt.load_object(sdir / SORT_NAME)["cells"]) == 0
