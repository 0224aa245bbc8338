"""A planted place cell through the whole chain: the day generator writes a unit firing in a
place field of its own Unity path into the .ns5 (``--place-units 1``); the real snakemake
command splits, filters, sorts and curates the day, then computes the fields. The cell sorted
on that channel must be significant with its peak within two place bins of the planted
centre; the other channel's unit (firing at random) is the control, reported not asserted
(one cell: its false-positive rate is the unit tests' and the benchmark's business)."""

from __future__ import annotations

import math

import numpy as np
from conftest import generate, run_snakemake

from hippoflow.fields import steps
from hippoflow.synth import fields as synth

DAY = ("picasso", "20181105")


def _bins_apart(a: int, b: int) -> float:
    return math.hypot((a - 1) % 40 - (b - 1) % 40, (a - 1) // 40 - (b - 1) // 40)


def test_planted_place_cell_is_found_after_sorting(tmp_path):
    data = tmp_path / "data"
    generate(
        data,
        "--channels",
        2,
        "--units",
        1,
        "--seconds",
        240,
        "--eye-seconds",
        10,
        "--place-units",
        1,
        "--seed",
        3,
    )
    truth = np.load(data.joinpath(*DAY, "session01", "groundtruth_spikes.npz"))
    centre = truth["place_centre_1"]
    out = tmp_path / "derived"
    target = out.joinpath(*DAY, "fields", "cells.tsv")
    run_snakemake(
        tmp_path / "work",
        "--cores",
        "2",
        str(target),
        config={"data_root": data, "output_root": out},
    )
    rows = {(r["channel"], r["cell"]): r for r in steps.read_table(target)}
    planted = [r for (ch, _), r in rows.items() if ch == "001"]
    assert len(planted) == 1, rows  # one unit on the channel: one curated cell
    cell = planted[0]
    assert cell["place_significant"] == "yes", cell
    want = synth.place_bin_of(*centre)
    assert _bins_apart(int(cell["place_peak_bin"]), want) <= 2.0, (cell, want)
