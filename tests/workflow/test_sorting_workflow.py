"""sort / curate (cell export, QC) through the real snakemake command on generated days."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import hickle
import numpy as np
import pytest
from conftest import generate, job_counts, run_snakemake

from hippoflow import dpt
from hippoflow.sorting import curate as curation
from hippoflow.sorting import sort as sorting

DAY = ("picasso", "20181105")
SORT_NAME = sorting.sort_name(sorting.DEFAULTS)
CURATED_NAME = curation.curated_name(sorting.DEFAULTS)


def sort_dir(root, array, channel):
    return root.joinpath(*DAY, "sort", f"array{array}", f"channel{channel}")


def templates_path(root, channel):
    """Where PyHipp's Waveform reads a day-channel's templates (no array level)."""
    return root.joinpath(*DAY, "mountains", f"channel{channel}", "output", "templates.hkl")


def targets(root, channels, sessions):
    day = root.joinpath(*DAY)
    out = [day / "sort" / "metrics.html"]
    for a, c in channels:
        out += [sort_dir(root, a, c) / "cells.tsv", sort_dir(root, a, c) / "qc_sort.png"]
        out.append(templates_path(root, c))
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
    assert counts["curate"] == 3  # with the cell export and the QC figure
    assert "export_cells" not in counts and "qc_sort" not in counts
    assert counts["waveform_templates"] == 3
    assert plan_seconds < 60


def test_curation_limit_reruns_curation_not_the_sort(ran):
    work, outroot, cfg, _, _ = ran
    wanted = targets(outroot, CHANNELS, ["session01", "sessioneye"])
    dry = run_snakemake(work, "-n", *wanted, config={**cfg, "sorting": "{min_snr: 4}"})
    counts = job_counts(dry.stdout)
    assert "sort" not in counts
    assert counts["curate"] == 3
    # the sorter's own keys do name a new sort file
    dry = run_snakemake(work, "-n", *wanted, config={**cfg, "sorting": "{detect_threshold: 5}"})
    assert job_counts(dry.stdout)["sort"] == 3
    # and the time limit re-runs nothing
    dry = run_snakemake(work, "-n", *wanted, config={**cfg, "sorting": "{time_limit_factor: 1}"})
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_channel_in_one_session_is_sorted_from_it_alone(ran):
    _, outroot, _, _, _ = ran
    sort65 = dpt.load_object(sort_dir(outroot, "03", "065") / SORT_NAME)
    assert sort65["sessions"] == ["session01"]
    assert len(sort65["inputs"]) == 1 and "session01" in sort65["inputs"][0]
    np.testing.assert_array_equal(sort65["session_samples"], [20 * 30000])
    day = outroot.joinpath(*DAY)
    assert not (day / "sessioneye" / "array03").exists()
    cells = sorted(p.name for p in (day / "session01" / "array03" / "channel065").glob("cell*"))
    cur65 = dpt.load_object(sort_dir(outroot, "03", "065") / CURATED_NAME)
    assert cells == [f"cell{c:02d}" for c in cur65["cells"]]
    sort1 = dpt.load_object(sort_dir(outroot, "01", "001") / SORT_NAME)
    assert sort1["sessions"] == ["session01", "sessioneye"]


def read_csv(path) -> np.ndarray:
    text = path.read_text().strip()
    return np.array([float(v) for v in text.split(",")]) if text else np.zeros(0)


@pytest.mark.parametrize("array,channel", CHANNELS[:2])
def test_cells_split_back_per_session(ran, array, channel):
    _, outroot, _, _, _ = ran
    sdir = sort_dir(outroot, array, channel)
    sort = dpt.load_object(sdir / CURATED_NAME)
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
            assert isinstance(hk["spiketimes"], list) and len(hk["spiketimes"]) == 1
            np.testing.assert_allclose(np.array(hk["spiketimes"][0], dtype=float), got)
            assert hk["numSets"] == 1 and list(hk["setidx"]) == [0]
            assert hk["dirs"] == [str((cdir / name).resolve())]


def test_plan_targets_include_the_templates(ran):
    _, _, cfg, _, _ = ran
    from hippoflow import plan

    wanted = plan.make_plan({"data_root": cfg["data_root"]}).sorting_targets()
    got = sorted(t for t in wanted if t.endswith("templates.hkl"))
    assert got == [
        f"{DAY[0]}/{DAY[1]}/mountains/channel{c}/output/templates.hkl" for _, c in CHANNELS
    ]


@pytest.mark.parametrize("array,channel", CHANNELS)
def test_templates_where_waveform_reads_them(ran, array, channel):
    _, outroot, _, _, _ = ran
    sort = dpt.load_object(sort_dir(outroot, array, channel) / CURATED_NAME)
    arr = hickle.load(str(templates_path(outroot, channel)))
    k = len(sort["cells"])
    # MountainSort's orientation: channels x clip samples x units, one channel; 3 ms clips
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32
    assert arr.shape == (1, 90, k)
    # unit k-1's column is cellNN k's waveform: the cells' troughs deepen from cell 1 down
    troughs = -np.squeeze(arr, axis=0).min(axis=0)
    assert np.all(np.diff(troughs) <= 1e-6)
    for c in range(k):
        np.testing.assert_array_equal(arr[0, :, c], sort["templates"][c])


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
    # one row per sorter unit, with the curation's decision on it
    rows = [dict(zip(head, line.split("\t"), strict=True)) for line in table[1:]]
    for a, c in CHANNELS:
        cur = dpt.load_object(sort_dir(outroot, a, c) / CURATED_NAME)
        mine = [r for r in rows if r["channel"] == c]
        assert [int(r["unit"]) for r in mine] == list(cur["units"]["unit_ids"])
        assert {r["cell"] for r in mine if r["cell"]} == {f"cell{k:02d}" for k in cur["cells"]}
        assert all(r["decision"].startswith(("kept as", "merged into", "dropped")) for r in mine)


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


def test_sort_time_limit_ends_the_sorter_and_the_day_goes_on(ran):
    """A sort past its limit failed on its data: a unit-less object saying so (no cells), the
    rest of the day goes on, and the day's sort_outcome fails naming it (docs/bad-input.md)."""
    work, outroot, cfg, _, _ = ran
    sdir = sort_dir(outroot, "03", "065")
    for name in (SORT_NAME, CURATED_NAME, "cells.tsv"):
        (sdir / name).unlink()
    trials = outroot.joinpath(*DAY, "session01", "qc_trials.png")
    trials.unlink()
    outcome = outroot.joinpath(*DAY, "sort", "outcome.tsv")
    proc = run_snakemake(
        work,
        "--cores",
        "2",
        "--keep-going",
        str(sdir / "cells.tsv"),
        str(trials),
        str(outcome),
        config={**cfg, "sorting": "{time_limit_factor: 0, time_limit_min_s: 1}"},
        check=False,
    )
    assert proc.returncode != 0
    assert trials.exists()  # the rest of the day went on
    said = "picasso 20181105 array03 channel065: MountainSort5 did not finish within its time limit of 1 s"
    assert dpt.load_object(sdir / SORT_NAME)["failed"].startswith(said)
    assert (sdir / "cells.tsv").read_text() == "session\tcell\tn_spikes\tdirectory\n"
    assert (sdir / SORT_NAME).stat().st_mtime_ns == 0  # the next run redoes it
    assert not outcome.exists()
    log = (work / "logs" / "sort" / "picasso" / "20181105" / "03" / "065.log").read_text()
    assert f"WARNING {said}" in log
    assert f"hippoflow: sort failed: 1 of 3 day-channel sort(s) of picasso 20181105: {said}" in (
        proc.stdout + proc.stderr
    )
    # killed at the limit: the job's log spans the concatenation, 1 s and the kill
    stamps = [
        time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) + int(line[20:23]) / 1000
        for line in log.splitlines()
        if line[:4].isdigit()
    ]
    assert stamps[-1] - stamps[0] < 1 + 3


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
    assert len(dpt.load_object(sdir / SORT_NAME)["unit_ids"]) == 0
    assert len(dpt.load_object(sdir / CURATED_NAME)["cells"]) == 0
    log = (tmp_path / "logs" / "sort" / "picasso" / "20181105" / "01" / "001.log").read_text()
    assert "picasso 20181105 array01 channel001: the sorter found no units" in log
    # Waveform's file still exists, holding no unit
    tmpl = templates_path(outroot, "001")
    run_snakemake(tmp_path, "--cores", "1", str(tmpl), config=cfg)
    assert hickle.load(str(tmpl)).shape == (1, 90, 0)
