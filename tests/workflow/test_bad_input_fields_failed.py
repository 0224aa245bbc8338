"""A day's fields that fail on their data, through the real snakemake command: the sessions'
NWB files are still written (the mechanism of a failed sort, docs/design/failed-fields.md).

The shared small day's whole-workflow run (tests/conftest.py ``small_day_run``) is copied with
its modification times to an output root of this test. session02's ``binData.hdf`` is
rewritten with its rows in reverse time order (so Snakemake redoes its samples and what is
made from them) and the workflow run again from a new working directory. The run must:

- fail (exit code not 0) with the day's ``fields_day`` job naming every day-channel and the
  cause, in its message and in the run summary;
- still write every session's NWB file, with every unit, its place/view columns NaN and its
  notes starting with ``FIELDS MISSING`` naming the cause;
- leave the failed samples file and the failed fields tables dated 1970.

A third run, after the original binData.hdf is put back, from another new working directory,
redoes them by itself and replaces every NWB file with one holding the values again. Raw
files are byte-identical throughout.
"""

from __future__ import annotations

import math
import shutil

import numpy as np
from conftest import digests, run_snakemake
from pynwb import NWBHDF5IO

from hippoflow.behaviour.raycast.outputs import write_bindata
from hippoflow.fields import outcome, steps
from hippoflow.naming import BINDATA_NAME

DAY = ("picasso", "20181105")
SESSIONS = ("session01", "session02", "sessioneye")


def units_of(out, session):
    with NWBHDF5IO(str(out.joinpath(*DAY, session, f"{DAY[0]}_{DAY[1]}_{session}.nwb")), "r") as io:
        f = io.read()
        df = f.units.to_dataframe()
        return {i: float(df.loc[i, "place_p"]) for i in df.index}, f.notes


def test_failed_fields_leave_nan_columns_in_the_nwb_files_and_are_redone(small_day_run, tmp_path):
    _, first, cfg, before = small_day_run
    out = tmp_path / "derived"
    shutil.copytree(first, out, symlinks=True)  # copy2: modification times kept
    full = {s: units_of(out, s)[0] for s in SESSIONS}
    assert all(full.values()) and all(
        not math.isnan(p) for units in full.values() for p in units.values()
    )
    bindata = out.joinpath(*DAY, "session02", BINDATA_NAME)
    original = bindata.read_bytes()
    values = steps._load_bindata(bindata)[::-1]
    bindata.unlink()
    write_bindata(bindata, values[:, 0], values[:, 1:].astype(np.int32))
    config = {**cfg, "output_root": out}

    proc = run_snakemake(
        tmp_path / "work2", "--cores", "2", "--keep-going", config=config, check=False
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "hippoflow: fields failed: 4 of 4 day-channel(s) of picasso 20181105: " in text
    assert "picasso 20181105 array02 channel033: " in text
    assert "binData times are not in increasing order" in text
    summary = (out / "hippoflow_summary.txt").read_text()
    failed = summary.split("failed: ", 1)[1].split("not run")[0]
    assert failed.startswith("1 job(s)\n  fields_day (logs/fields_day/picasso/20181105.log): ")
    produced = summary.split("failed: ", 1)[0]
    assert "  fields: 4 job(s)" in produced and "  nwb: 3 job(s)" in produced
    samples = out.joinpath(*DAY, "fields", "samples", "session02.h5")
    assert samples.stat().st_mtime_ns == 0
    tables = sorted(out.joinpath(*DAY, "fields").glob("array*/channel*/fields.tsv"))
    assert len(tables) == 4
    for t in tables:
        assert t.stat().st_mtime_ns == 0 and "not in increasing order" in outcome.table_failure(t)
        assert not list(t.parent.glob("cell*.h5")) and not list(t.parent.glob("figures/*.png"))
    for s in SESSIONS:
        units, notes = units_of(out, s)
        assert set(units) == set(full[s]) and all(math.isnan(p) for p in units.values())
        assert notes.startswith("FIELDS MISSING: no place/view information or p-values (NaN)")
        assert "not in increasing order" in notes
    assert digests(cfg["data_root"]) == before

    # the original gaze bins back: the next run redoes the samples, fields and NWB files
    bindata.unlink()
    bindata.write_bytes(original)
    proc = run_snakemake(
        tmp_path / "work3", "--cores", "2", "--keep-going", config=config, check=False
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    for s in SESSIONS:
        units, notes = units_of(out, s)
        assert units == full[s] and "FIELDS MISSING" not in notes
    assert all(outcome.table_failure(t) is None for t in tables)
    assert digests(cfg["data_root"]) == before
