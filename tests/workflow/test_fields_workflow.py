"""Rules fields / fields_day through the real snakemake command, on the shared small day run
(tests/conftest.py: 2 navigation sessions + sessioneye, every default target)."""

from __future__ import annotations

import numpy as np
import pytest
from pyhipp_rules import pyhipp_placebins

from hippoflow import dpt
from hippoflow.fields import steps
from hippoflow.naming import SPIKETRAIN_NAME, UNITY_NAME

DAY = ("picasso", "20181105")


def _channels(outroot):
    return sorted(outroot.joinpath(*DAY, "sort").glob("array*/channel*"))


def test_every_cell_has_fields_and_pyhipps_vmplacecell(small_day_run):
    _, outroot, _, _ = small_day_run
    day = outroot.joinpath(*DAY)
    chans = _channels(outroot)
    assert chans
    n_cells = 0
    for sort_dir in chans:
        rel = sort_dir.relative_to(day / "sort")
        table = steps.read_table(day / "fields" / rel / "fields.tsv")
        cells = {r["cell"] for r in table}
        listed = {
            line.split("\t")[1] for line in (sort_dir / "cells.tsv").read_text().splitlines()[1:]
        }
        assert cells == listed  # every curated cell, no other
        for row in table:
            n_cells += 1
            f = steps.read_cell_file(day / "fields" / rel / f"{row['cell']}.h5")
            for kind, n in (("place", 1600), ("view", 5122)):
                res = f[kind]
                assert res["rate"].shape == (n,) and res["occupancy"].shape == (n,)
                assert 0 < res["p_value"] <= 1
                assert float(row[f"{kind}_p"]) == pytest.approx(res["p_value"], rel=1e-5)
            assert f["params"]["shuffles"] == 1000
            # each session's own p-value, in the table and the cell's file
            per = steps.session_p_values(row["place_p_sessions"])
            assert set(per) == {"session01", "session02"}
            import h5py

            with h5py.File(day / "fields" / rel / f"{row['cell']}.h5") as h5:
                for name, p in per.items():
                    got = h5[f"sessions/{name}/place"].attrs["p_value"]
                    assert got == pytest.approx(p, rel=1e-5) and 0 < got <= 1
            # every cell's picture, in the directory the report takes its items from
            png = day / "fields" / rel / "figures" / f"{row['cell']}.png"
            assert png.read_bytes()[:4] == b"\x89PNG"
            # PyHipp's object in each navigation session's cell directory
            objs = []
            for session in ("session01", "session02"):
                cdir = day / session / rel / row["cell"]
                obj = dpt.load_object(cdir / steps.VMPLACECELL_NAME)
                unity = dpt.load_object(day / session / UNITY_NAME)
                train = dpt.load_object(cdir / SPIKETRAIN_NAME)
                spikes = np.array(train["spiketimes"][0], dtype=float) / 1000  # as VMPlaceCell
                np.testing.assert_array_equal(obj["placebins"], pyhipp_placebins(unity, spikes))
                objs.append(obj)
            # what DPT's base append and VMPlaceCell's append read: one set per directory,
            # placebins columns put side by side
            assert all(o["numSets"] == 1 and o["setidx"] == [0] and o["dirs"] for o in objs)
            placebins = np.concatenate([o["placebins"] for o in objs], axis=1)
            assert placebins.shape == (1600, 2) and placebins.dtype.kind == "i"
            assert not (day / "sessioneye" / rel / row["cell"] / steps.VMPLACECELL_NAME).exists()
    day_table = steps.read_table(day / "fields" / "cells.tsv")
    assert len(day_table) == n_cells > 0
    # the report's day page: the significant cells of each kind, then every cell's row
    page = (day / "fields" / "fields.html").read_text()
    for kind in ("place", "view"):
        n_sig = sum(r[f"{kind}_significant"] == "yes" for r in day_table)
        assert f"Significant {kind} cells: {n_sig} of {n_cells}" in page
    assert page.count("<tr>") == n_cells + 1


def test_nwb_units_carry_information_and_p_values(small_day_run):
    from pynwb import NWBHDF5IO

    _, outroot, _, _ = small_day_run
    day = outroot.joinpath(*DAY)
    want = {}
    for table in day.glob("fields/array*/channel*/fields.tsv"):
        channel = table.parent.name.removeprefix("channel")
        for row in steps.read_table(table):
            uid = int(channel) * 1000 + int(row["cell"].removeprefix("cell"))
            want[uid] = row
    assert want
    for session in ("session01", "sessioneye"):
        with NWBHDF5IO(str(day / session / f"{DAY[0]}_{DAY[1]}_{session}.nwb"), "r") as io:
            df = io.read().units.to_dataframe()
        for uid, row in want.items():
            for col in ("place_information", "place_p", "view_information", "view_p"):
                assert df.loc[uid, col] == float(row[col]), (uid, col)


def test_docs_python_example_runs(small_day_run, repo, tmp_path):
    """docs/place-fields.md's python block, its file path pointed at this run's cell01."""
    import re
    import subprocess
    import sys

    _, outroot, _, _ = small_day_run
    text = (repo / "docs" / "place-fields.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    cell = next(outroot.joinpath(*DAY, "fields").glob("array*/channel*/cell01.h5"))
    for code in blocks:
        code = code.replace(
            "demo/data/picasso/20181105/fields/array01/channel001/cell01.h5", str(cell)
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip()


def test_report_has_every_cells_picture(small_day_run, tmp_path):
    """`snakemake --report` of the run: every cell's picture is an item of its own, with its
    array, channel and cell as labels, and the day page is there."""
    import base64
    import re

    from conftest import run_snakemake

    work, outroot, cfg, _ = small_day_run
    report = tmp_path / "report.html"
    run_snakemake(work, "--report", str(report), config=cfg)
    text = report.read_text()
    embedded = {
        base64.b64decode(m.group(2))
        for m in re.finditer(r"filename=([^;]+);base64,([A-Za-z0-9+/=]+)", text)
    }
    pngs = sorted(outroot.joinpath(*DAY, "fields").glob("array*/channel*/figures/cell*.png"))
    assert pngs
    for png in pngs:
        assert png.read_bytes() in embedded, png
        array, channel = png.parts[-4].removeprefix("array"), png.parts[-3].removeprefix("channel")
        labels = f'"labels": {{"array": "{array}", "channel": "{channel}", "cell": "{png.stem}"}}'
        assert labels in text, png
    assert (outroot.joinpath(*DAY, "fields", "fields.html")).read_bytes() in embedded
