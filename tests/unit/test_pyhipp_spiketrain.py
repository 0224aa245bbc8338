"""The sort's files as the lab's analysis code (PyHipp on DataProcessingTools) uses them.

Expectations are stated by hand from PyHipp's documented behaviour (the pipeline contract,
section 9, and the consumers' reference): Spiketrain keeps ``spiketimes`` as a one-element
list holding the csv row (ms); DPT's append concatenates those lists, extends ``setidx`` (the
appended entries offset by the last entry + 1) and ``dirs``, and adds ``numSets``;
VMPlaceCell bins ``np.array(st.spiketimes[0], dtype=float) / 1000`` (s) into the place bins
of the session's time/position table; Waveform reads ``<day>/mountains/channelNNN/output/
templates.hkl``, squeezes it and plots it against the sample index.  The files are written by
the real steps (``export_cells``, ``waveform_templates``) from a hand-made sort object.
"""

from __future__ import annotations

import csv

import hickle
import numpy as np
import pytest
from dptlike import DPTLike

from hippoflow import dpt
from hippoflow.sorting import steps

FS = 30000
N1 = 3 * FS  # session01: 3 s; sessioneye follows it in the concatenation
N2 = 6 * FS
# concatenation samples of the two cells' spikes: cell 1 fires at session01's first, second
# and last samples and at sessioneye's first sample
CELL1_S1 = [0, 1, 15000, 33000, 36000, 48000, 75000, 81000, 87000, N1 - 1]
CELL1 = CELL1_S1 + [N1]
CELL2 = [30, N1 + 300]
TEMPLATE_SAMPLES = 90


def ms(samples):
    """Hand arithmetic of the contract: 0-based sample in the session / 30000 x 1000."""
    return [s * 1000 / FS for s in samples]


# session01's trains: the spikes below N1; sessioneye's: concatenation sample - N1
SESSION01 = {1: ms(CELL1_S1), 2: ms([30])}
SESSIONEYE = {1: ms([0]), 2: ms([300])}


def hand_templates(k):
    """Distinct, known templates: cell c has its trough -c * 10 uV at sample 30 + c."""
    t = np.zeros((k, TEMPLATE_SAMPLES), np.float32)
    for c in range(1, k + 1):
        t[c - 1] = np.linspace(0.1 * c, 0.2 * c, TEMPLATE_SAMPLES)
        t[c - 1, 30 + c] = -10.0 * c
    return t


def sort_object(templates):
    times = np.array(CELL1 + CELL2, dtype=np.int64)
    cells = np.array([1] * len(CELL1) + [2] * len(CELL2), dtype=np.int64)
    order = np.argsort(times, kind="stable")
    return {
        "cells": np.arange(1, templates.shape[0] + 1),
        "spike_times": times[order],
        "spike_cells": cells[order],
        "session_starts": np.array([0, N1]),
        "session_samples": np.array([N1, N2]),
        "sessions": ["session01", "sessioneye"],
        "templates": templates,
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("pyhipp") / "picasso" / "20181105"
    sort_path = root / "sort" / "array01" / "channel001" / "mountainsort_abcd.hkl"
    dpt.save_object(sort_path, sort_object(hand_templates(2)), {}, [sort_path.parent])
    dirs = {s: root / s / "array01" / "channel001" for s in ("session01", "sessioneye")}
    for d in dirs.values():
        d.mkdir(parents=True)
    steps.export_cells(sort_path, dirs, sort_path.parent / "cells.tsv")
    templates = root / "mountains" / "channel001" / "output" / "templates.hkl"
    steps.waveform_templates(sort_path, templates)
    return root, dirs, templates


def cell_dir(written, session, cell):
    return written[1][session] / f"cell{cell:02d}"


def load_spiketrain(written, session, cell):
    return hickle.load(str(cell_dir(written, session, cell) / "spiketrain_d41d.hkl"))


def csv_rows(written, session, cell):
    with open(cell_dir(written, session, cell) / "spiketrain.csv", newline="") as f:
        return list(csv.reader(f))


# ---------------------------------------------------------------- Spiketrain object
@pytest.mark.parametrize("session,trains", [("session01", SESSION01), ("sessioneye", SESSIONEYE)])
def test_spiketrain_keys_containers_and_dtypes(written, session, trains):
    for cell, expected in trains.items():
        obj = load_spiketrain(written, session, cell)
        assert {"spiketimes", "numSets", "setidx", "dirs", "args"} <= set(obj)
        st = obj["spiketimes"]
        assert isinstance(st, list) and len(st) == 1
        assert isinstance(st[0], np.ndarray) and st[0].dtype == np.float64 and st[0].ndim == 1
        np.testing.assert_allclose(st[0], expected, rtol=0, atol=1e-9)
        assert type(obj["numSets"]) is int and obj["numSets"] == 1
        assert isinstance(obj["setidx"], list) and [int(i) for i in obj["setidx"]] == [0]
        assert obj["dirs"] == [str(cell_dir(written, session, cell).resolve())]
        assert obj["args"] == {}
        assert obj["plotopts"] == {"indexer": "cell"} and obj["current_idx"] is None


def test_spike_time_rounding_and_boundary_spike(written):
    st = load_spiketrain(written, "session01", 1)["spiketimes"][0]
    # sample 0 is 0 ms, sample 1 is 1/30 ms (PyHipp's 1-based times were 1/30 ms later)
    assert st[0] == 0.0 and st[1] == pytest.approx(1 / 30, abs=1e-12)
    # the last spike before sessioneye starts is kept (PyHipp dropped it)
    assert st[-1] == pytest.approx((N1 - 1) / 30, abs=1e-9)
    assert len(st) == len(SESSION01[1])
    # the spike at the first sample of sessioneye is that session's 0 ms
    eye = load_spiketrain(written, "sessioneye", 1)["spiketimes"][0]
    np.testing.assert_array_equal(eye, [0.0])
    # every time maps back to its sample exactly
    np.testing.assert_array_equal(np.round(st * 30), CELL1_S1)


def test_csv_is_one_row_that_pyhipps_reader_takes(written):
    for session, trains in (("session01", SESSION01), ("sessioneye", SESSIONEYE)):
        for cell, expected in trains.items():
            rows = csv_rows(written, session, cell)
            assert len(rows) == 1  # PyHipp keeps rows[0]
            np.testing.assert_allclose([float(v) for v in rows[0]], expected, atol=1e-9)
            # the hickle twin holds the same values, bit for bit
            twin = load_spiketrain(written, session, cell)["spiketimes"][0]
            np.testing.assert_array_equal(np.array(rows[0], dtype=float), twin)


def test_silent_cell_has_one_empty_row(tmp_path):
    sort = sort_object(hand_templates(2))
    keep = sort["spike_times"] < N1  # nothing in sessioneye
    sort["spike_times"], sort["spike_cells"] = sort["spike_times"][keep], sort["spike_cells"][keep]
    sort_path = tmp_path / "sort.hkl"
    dpt.save_object(sort_path, sort, {}, [tmp_path])
    dirs = {s: tmp_path / s for s in sort["sessions"]}
    steps.export_cells(sort_path, dirs, tmp_path / "cells.tsv")
    with open(dirs["sessioneye"] / "cell01" / "spiketrain.csv", newline="") as f:
        assert list(csv.reader(f)) == [[]]  # PyHipp's [rows[0]] is [[]]: no spikes
    obj = hickle.load(str(dirs["sessioneye"] / "cell01" / "spiketrain_d41d.hkl"))
    assert len(obj["spiketimes"]) == 1 and obj["spiketimes"][0].shape == (0,)
    assert np.array(obj["spiketimes"][0], dtype=float).size == 0


class SpiketrainLike(DPTLike):
    """DPT's base append plus Spiketrain's own part, as documented: numSets added and the
    spiketimes lists concatenated."""

    def append(self, other):
        super().append(other)
        self.numSets += other.numSets
        self.spiketimes = self.spiketimes + other.spiketimes


def test_dpt_append_over_two_directories(written):
    a = SpiketrainLike(cell_dir(written, "session01", 1) / "spiketrain_d41d.hkl")
    b = SpiketrainLike(cell_dir(written, "sessioneye", 1) / "spiketrain_d41d.hkl")
    first_numsets = a.numSets
    a.append(b)
    assert a.numSets == 2
    assert [int(i) for i in a.setidx] == [0, first_numsets]  # offset by the first's numSets
    assert a.dirs == [str(cell_dir(written, s, 1).resolve()) for s in ("session01", "sessioneye")]
    # the lists are concatenated: one train per directory, each whole
    assert len(a.spiketimes) == 2
    np.testing.assert_allclose(a.spiketimes[0], SESSION01[1], atol=1e-9)
    np.testing.assert_allclose(a.spiketimes[1], SESSIONEYE[1], atol=1e-9)


# ---------------------------------------------------------------- VMPlaceCell's arithmetic
GRID = 40


def grid_position(x, z):
    """Contract section 5: 40 x 40 bins of 0.625 over [-12.5, 12.5], ix + 40 (iz - 1)."""
    ix = int(np.floor((x + 12.5) / 0.625)) + 1
    iz = int(np.floor((z + 12.5) / 0.625)) + 1
    return ix + GRID * (iz - 1)


def place_track():
    """A hand-made Unity-like track, as the session's time/position table (rows: time s,
    grid position, 0 between trials; row 0 unused, as Umaze leaves it).  Trial 1 runs
    1.0-2.0 s, starting in the corner bin and moving to the centre bin at 1.5 s; trial 2
    runs 3.0-4.0 s in the centre bin."""
    corner, centre = grid_position(-12.2, -12.2), grid_position(0.1, 0.1)
    assert (corner, centre) == (1, 821)  # ix 1, iz 1; ix 21, iz 21
    rows = [
        (0.0, 0),
        (1.0, corner),
        (1.5, centre),
        (2.0, 0),
        (3.0, centre),
        (4.0, 0),
    ]
    return np.array(rows, dtype=float), corner, centre


def place_bins(spiketimes_first, table):
    """VMPlaceCell's counting, from its description: spike times (s) strictly inside
    (table[1, 0], table[-1, 0]) are put in the table row they fall in (np.digitize - 1);
    rows of position 0 are dropped; the rest counted per place bin (1600 bins)."""
    stimes = np.array(spiketimes_first, dtype="float") / 1000
    edges = table[:, 0]
    inside = stimes[(stimes > edges[1]) & (stimes < edges[-1])]
    gp = table[np.digitize(inside, edges) - 1, 1]
    counts, _ = np.histogram(gp[gp > 0] - 1, bins=np.arange(GRID * GRID + 1))
    return counts


def test_place_bin_counts_from_our_container_equal_the_csv_row(tmp_path):
    # spikes (ms): 500 before the first trial, 1100 and 1200 in the corner, 1600 in the
    # centre, 2500 between trials, 3100 and 3900 in the centre, 4500 after the last trial
    spikes_ms = [500, 1100, 1200, 1600, 2500, 3100, 3900, 4500]
    samples = [t * FS // 1000 for t in spikes_ms]
    sort = {
        "cells": np.array([1]),
        "spike_times": np.array(samples, dtype=np.int64),
        "spike_cells": np.ones(len(samples), dtype=np.int64),
        "session_starts": np.array([0]),
        "session_samples": np.array([5 * FS]),
        "sessions": ["session01"],
        "templates": hand_templates(1),
    }
    sort_path = tmp_path / "sort.hkl"
    dpt.save_object(sort_path, sort, {}, [tmp_path])
    chan = tmp_path / "session01" / "array01" / "channel001"
    steps.export_cells(sort_path, {"session01": chan}, tmp_path / "cells.tsv")
    table, corner, centre = place_track()

    st = hickle.load(str(chan / "cell01" / "spiketrain_d41d.hkl"))
    ours = place_bins(st["spiketimes"][0], table)
    with open(chan / "cell01" / "spiketrain.csv", newline="") as f:
        row = list(csv.reader(f))[0]
    from_csv = place_bins(row, table)

    expected = np.zeros(GRID * GRID, dtype=int)
    expected[corner - 1], expected[centre - 1] = 2, 3
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(from_csv, expected)
    # the earlier flat float array: spiketimes[0] is the first spike only (500 ms, before
    # the first trial), so the place bins come out empty
    flat = np.array([float(v) for v in row])
    assert place_bins(flat[0], table).sum() == 0 != expected.sum()


# ---------------------------------------------------------------- Waveform's templates
def test_templates_file_in_mountainsorts_orientation(written):
    root, _, path = written
    assert path == root / "mountains" / "channel001" / "output" / "templates.hkl"
    arr = hickle.load(str(path))  # a bare array, as PyHipp's sorting step dumped it
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32
    # channels x clip samples x units
    assert arr.shape == (1, TEMPLATE_SAMPLES, 2)
    y = np.squeeze(arr)  # what Waveform plots, against np.arange(y.shape[0]) samples
    assert y.shape == (TEMPLATE_SAMPLES, 2)
    for c in (1, 2):
        assert int(np.argmin(y[:, c - 1])) == 30 + c and y[30 + c, c - 1] == -10.0 * c
        assert y[0, c - 1] == pytest.approx(0.1 * c)


@pytest.mark.parametrize("k,squeezed", [(1, (TEMPLATE_SAMPLES,)), (0, (TEMPLATE_SAMPLES, 0))])
def test_templates_file_one_and_zero_cells(tmp_path, k, squeezed):
    sort_path = tmp_path / "sort.hkl"
    dpt.save_object(sort_path, {"templates": hand_templates(k)}, {}, [tmp_path])
    path = tmp_path / "mountains" / "channel001" / "output" / "templates.hkl"
    steps.waveform_templates(sort_path, path)
    arr = hickle.load(str(path))
    assert arr.shape == (1, TEMPLATE_SAMPLES, k)
    assert np.squeeze(arr).shape == squeezed
