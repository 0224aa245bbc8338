"""A day-channel sort that fails on its data, through the real snakemake command.

The shared small day's whole-workflow run (tests/conftest.py ``small_day_run``: 4 channels,
session01, session02 and sessioneye of 20 s, every NWB file with its units) is copied with
its modification times to an output root of this test, and made current with ``--touch``
(other tests change files of the shared run; no job runs).  Channel 33's high-pass file of
session01 is touched (so Snakemake redoes that sort) and the workflow run again, from a new
working directory, with a sorter time limit of 1 s (``sorting: {time_limit_factor: 0,
time_limit_min_s: 1}``: the limit is read from the config, so no other sort is redone): that
sort fails on its data.  The run must:

- fail (exit code not 0) with the day's ``sort_outcome`` job naming the day-channel and the
  cause, in its message and in the run summary;
- still write every session's NWB file: the units of the three other channels (read back
  with pynwb; the ids from the day's cells.tsv listings, read here), none of channel 33, and
  notes and an electrodes column naming channel 33 and the cause;
- leave the failed sort object dated 1970 (older than its inputs).

A third run with the default time limit, from another new working directory, redoes that
sort by itself and replaces every NWB file with one holding all the units.  Raw files are
byte-identical throughout.
"""

from __future__ import annotations

import csv
import shutil

from conftest import digests, run_snakemake
from pynwb import NWBHDF5IO

from hippoflow.naming import SORT_OUTCOME_NAME
from hippoflow.sorting import curate as curation
from hippoflow.sorting import sort as sorting

DAY = ("picasso", "20181105")
SESSIONS = ("session01", "session02", "sessioneye")
FAILED = ("02", "033")
HP = "rplhighpass_b59f.hkl"
CAUSE = "MountainSort5 did not finish within its time limit of 1 s"


def nwb_of(out, session):
    with NWBHDF5IO(str(out.joinpath(*DAY, session, f"{DAY[0]}_{DAY[1]}_{session}.nwb")), "r") as io:
        f = io.read()
        ids = {int(i) for i in f.units.id[:]} if f.units is not None else set()
        col = f.electrodes.colnames
        left = list(f.electrodes["units_left_out"][:]) if "units_left_out" in col else []
        return ids, f.notes, left


def unit_ids(out, session, but=None) -> set[int]:
    """The unit ids an NWB file of ``session`` holds, from the day's cells.tsv listings (read
    here): electrode id x 1000 + cell number, every day-channel but ``but``."""
    ids = set()
    for tsv in out.joinpath(*DAY, "sort").glob("array*/channel*/cells.tsv"):
        channel = tsv.parent.name.removeprefix("channel")
        if channel == but:
            continue
        with open(tsv, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                if row["session"] == session:
                    ids.add(int(channel) * 1000 + int(row["cell"].removeprefix("cell")))
    return ids


def test_failed_sort_leaves_its_units_out_of_the_nwb_files_and_is_redone(small_day_run, tmp_path):
    _, first, cfg, before = small_day_run
    out = tmp_path / "derived"
    shutil.copytree(first, out, symlinks=True)  # copy2: modification times kept
    config = {**cfg, "output_root": out}
    # other tests change files of the shared run: the copy is made current first (no job runs)
    run_snakemake(tmp_path / "work1", "--touch", "--cores", "1", config=config)
    full = {s: unit_ids(out, s) for s in SESSIONS}
    assert all(any(i // 1000 == int(FAILED[1]) for i in ids) for ids in full.values())
    sdir = out.joinpath(*DAY, "sort", f"array{FAILED[0]}", f"channel{FAILED[1]}")
    sort_obj = sdir / sorting.sort_name(sorting.DEFAULTS)
    # a new high-pass file of one session: Snakemake redoes that day-channel's sort (only)
    (out.joinpath(*DAY, "session01", f"array{FAILED[0]}", f"channel{FAILED[1]}", HP)).touch()

    proc = run_snakemake(
        tmp_path / "work2",
        "--cores",
        "2",
        "--keep-going",
        config={**config, "sorting": "{time_limit_factor: 0, time_limit_min_s: 1}"},
        check=False,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    label = f"picasso 20181105 array{FAILED[0]} channel{FAILED[1]}"
    assert (
        f"hippoflow: sort failed: 1 of 4 day-channel sort(s) of picasso 20181105: {label}: {CAUSE}"
        in text
    )
    summary = (out / "hippoflow_summary.txt").read_text()
    failed = summary.split("failed: ", 1)[1].split("not run")[0]
    assert failed.startswith("1 job(s)\n  sort_outcome (logs/sort_outcome/picasso/20181105.log): ")
    assert (
        f"sort failed: 1 of 4 day-channel sort(s) of picasso 20181105: {label}: {CAUSE}" in failed
    )
    assert "not run (an input failed or the run stopped): 0 job(s)" in summary  # none blocked
    produced = summary.split("failed: ", 1)[0]
    assert "  sort: 1 job(s)" in produced and "  nwb: 3 job(s)" in produced
    assert not (out.joinpath(*DAY, "sort", SORT_OUTCOME_NAME)).exists()
    assert sort_obj.stat().st_mtime_ns == 0  # older than its inputs: redone next run
    assert (sdir / curation.curated_name(sorting.DEFAULTS)).exists()
    for s in SESSIONS:
        ids, notes, left = nwb_of(out, s)
        assert (
            ids
            == unit_ids(out, s, but=FAILED[1])
            == {i for i in full[s] if i // 1000 != int(FAILED[1])}
        ), s
        assert notes.startswith(
            f"PARTIAL FILE: no units of 1 channel(s) whose sort failed ({label}: {CAUSE}"
        ), notes
        # the electrodes in plan order: array01/channel001, array02/channel033, ...
        assert [bool(v) for v in left] == [False, True, False, False]
        assert left[1].startswith(f"sort failed: {label}: {CAUSE}")
        nwb = out.joinpath(*DAY, s, f"picasso_20181105_{s}.nwb")
        assert f"  {nwb}: PARTIAL FILE: no units of 1 channel(s)" in summary
    assert digests(cfg["data_root"]) == before

    # the next run (default limits, another new working directory) redoes the sort and
    # replaces every NWB file with a full one
    proc = run_snakemake(
        tmp_path / "work3", "--cores", "2", "--keep-going", config=config, check=False
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert sort_obj.stat().st_mtime_ns > 0
    table = (out.joinpath(*DAY, "sort", SORT_OUTCOME_NAME)).read_text().splitlines()
    assert table[0] == "array\tchannel\tsessions\tunits\toutcome" and len(table) == 5
    assert all(row.endswith("\tsorted") for row in table[1:])
    for s in SESSIONS:
        ids, notes, left = nwb_of(out, s)
        assert ids == unit_ids(out, s), s
        assert any(i // 1000 == int(FAILED[1]) for i in ids), s
        assert "PARTIAL" not in notes and not left
    assert digests(cfg["data_root"]) == before
