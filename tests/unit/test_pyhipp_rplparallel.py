"""RPLParallel as PyHipp's analysis code reads it: types, arrangement rule, DPT bookkeeping.

Expectations are stated by hand from the lab's documented behaviour (the pipeline contract,
section 3, and the PyHipp consumer notes): markers/rawMarkers uint16, trialIndices int64,
samplingRate the int 30000; a stream without session marker is N x 3 when its first code is
> 1, or when it is <= 1 and the second is 2 (the fixation task's 1, 2, x triplets), else
N x 2; a stream that cannot be arranged is an error naming the file and the position.
"""

from __future__ import annotations

import hickle
import numpy as np
import pytest

from hippoflow.errors import InputError
from hippoflow.qc import figures
from hippoflow.ripple import markers
from hippoflow.ripple import steps as ripple_steps

NEV = "day/sessioneye/181105_DST.nev"


def stream(codes, t0=1.0, step=0.25):
    """Each code followed by its 0, 1 ms later; codes ``step`` s apart (hand-written)."""
    raw, times = [], []
    for i, c in enumerate(codes):
        t = t0 + i * step
        raw += [c, 0]
        times += [t, t + 0.001]
    return np.array(raw), np.array(times)


def test_fixation_triplets_one_two_x():
    raw, times = stream([1, 2, 3, 1, 2, 4, 1, 2, 3])
    obj = markers.arrange_markers(raw, times, NEV)
    np.testing.assert_array_equal(obj["markers"], [[1, 2, 3], [1, 2, 4], [1, 2, 3]])
    assert obj["markers"].dtype == np.uint16 and obj["markers"].shape == (3, 3)
    code_times = 1.0 + 0.25 * np.arange(9)
    np.testing.assert_allclose(obj["timeStamps"], code_times.reshape(3, 3))
    assert obj["timeStamps"].dtype == np.float64
    assert obj["trialIndices"].dtype == np.int64
    np.testing.assert_array_equal(obj["trialIndices"], np.floor(code_times * 30000).reshape(3, 3))
    assert obj["rawMarkers"].dtype == np.uint16
    np.testing.assert_array_equal(obj["rawMarkers"], raw)
    assert obj["sessionStartTime"] == 1.0  # the first event, also without session marker
    assert type(obj["samplingRate"]) is int and obj["samplingRate"] == 30000


def test_fixation_pairs_one_two_are_arranged_as_triplets():
    # 1, 2 pairs start "1 then 2": PyHipp made N x 3 rows of them (the demo's 14 x 3)
    raw, times = stream([1, 2] * 6)
    obj = markers.arrange_markers(raw, times, NEV)
    np.testing.assert_array_equal(obj["markers"], [[1, 2, 1], [2, 1, 2]] * 2)
    np.testing.assert_allclose(obj["timeStamps"][1], 1.0 + 0.25 * np.array([3, 4, 5]))


@pytest.mark.parametrize(
    "codes, table",
    [
        ([1, 3, 1, 3], [[1, 3], [1, 3]]),  # first <= 1, second not 2
        ([1, 1, 1, 5], [[1, 1], [1, 5]]),
    ],
)
def test_pairs_when_the_second_code_is_not_two(codes, table):
    raw, times = stream(codes)
    obj = markers.arrange_markers(raw, times, NEV)
    np.testing.assert_array_equal(obj["markers"], table)
    assert obj["markers"].dtype == np.uint16
    np.testing.assert_allclose(obj["timeStamps"], (1.0 + 0.25 * np.arange(4)).reshape(2, 2))


@pytest.mark.parametrize(
    "codes, table",
    [
        ([11, 21, 31, 12, 22, 42], [[11, 21, 31], [12, 22, 42]]),  # navigation, no 84
        ([2, 1, 2], [[2, 1, 2]]),  # a first code > 1 makes rows of three
        ([84, 11, 21, 31], [[11, 21, 31]]),  # session-start marker dropped
        ([204, 13, 23, 43], [[13, 23, 43]]),
    ],
)
def test_three_columns(codes, table):
    raw, times = stream(codes)
    obj = markers.arrange_markers(raw, times)
    np.testing.assert_array_equal(obj["markers"], table)
    skip = 1 if codes[0] in (84, 204) else 0
    want_t = (1.0 + 0.25 * np.arange(skip, len(codes))).reshape(-1, 3)
    np.testing.assert_allclose(obj["timeStamps"], want_t)
    assert obj["sessionStartTime"] == 1.0


@pytest.mark.parametrize(
    "codes, position",
    [
        ([1, 2, 1, 2], "event 6"),  # 1, 2 ... must fill rows of 3: the 4th code (event 6)
        ([1, 2, 3, 1], "event 6"),
        ([1, 3, 1], "event 4"),  # rows of 2: the 3rd code starts an incomplete row
        ([84, 11, 21, 31, 12], "event 8"),
    ],
)
def test_streams_that_cannot_be_arranged_name_file_and_position(codes, position):
    raw, times = stream(codes)
    with pytest.raises(InputError) as err:
        markers.arrange_markers(raw, times, NEV)
    msg = str(err.value)
    assert NEV in msg and position in msg and "incomplete trial" in msg


def test_codes_beyond_the_port_are_refused_by_position():
    raw, times = stream([1, 2, 70000])
    with pytest.raises(InputError, match="event 4 has code 70000") as err:
        markers.arrange_markers(raw, times, NEV)
    assert NEV in str(err.value)


def test_dpt_bookkeeping_one_entry_per_trial():
    raw, times = stream([84, 11, 21, 31, 12, 22, 32])
    obj = markers.arrange_markers(raw, times)
    assert type(obj["numSets"]) is int and obj["numSets"] == 1
    assert obj["setidx"] == [0, 0]
    assert obj["plotopts"] == {"indexer": "session"}
    assert obj["current_idx"] is None


@pytest.fixture(scope="module")
def written(small_day, tmp_path_factory):
    """rplparallel files of the generated day's three sessions, by the real step."""
    out = tmp_path_factory.mktemp("rpl")
    day = small_day / "picasso" / "20181105"
    paths = {}
    for session, base in (
        ("session01", "181105_Block1"),
        ("session02", "181105_Block1"),
        ("sessioneye", "181105_DST"),
    ):
        path = out / "picasso" / "20181105" / session / "rplparallel_d41d.hkl"
        ripple_steps.rplparallel(
            day / session / f"{base}.nev", day / session / f"{base}.ns5", path, {}
        )
        paths[session] = path
    return paths


def test_written_file_keeps_the_types(written):
    for session, path in written.items():
        obj = hickle.load(str(path))
        assert obj["markers"].dtype == np.uint16 and obj["markers"].ndim == 2, session
        assert obj["rawMarkers"].dtype == np.uint16 and obj["rawMarkers"].ndim == 1
        assert obj["trialIndices"].dtype == np.int64
        assert obj["trialIndices"].shape == obj["markers"].shape == obj["timeStamps"].shape
        assert obj["timeStamps"].dtype == np.float64
        assert int(obj["samplingRate"]) == 30000 and float(obj["samplingRate"]).is_integer()
        assert isinstance(obj["samplingRate"], int | np.integer)
        assert [int(i) for i in obj["setidx"]] == [0] * obj["markers"].shape[0]
        assert obj["numSets"] == 1 and obj["plotopts"] == {"indexer": "session"}
        assert obj["current_idx"] is None and obj["dirs"] == [str(path.parent.resolve())]
    # the generated fixation session is the task's 1, 2, x triplet stream: rows of three
    eye = hickle.load(str(written["sessioneye"]))
    assert eye["markers"].shape[1] == 3
    np.testing.assert_array_equal(eye["markers"][:, :2], [[1, 2]] * eye["markers"].shape[0])


def test_dpt_append_over_two_sessions(written):
    """DataProcessingTools' documented base append, restated: the second object's setidx
    entries are offset by the first's count of sets (its last entry + 1), dirs extended."""
    a = hickle.load(str(written["session01"]))
    b = hickle.load(str(written["session02"]))
    offset = a["setidx"][-1] + 1
    assert offset == a["numSets"]
    setidx = list(a["setidx"]) + [s + offset for s in b["setidx"]]
    dirs = list(a["dirs"]) + list(b["dirs"])
    na, nb = a["markers"].shape[0], b["markers"].shape[0]
    assert [int(s) for s in setidx] == [0] * na + [1] * nb
    assert dirs == [str(written[s].parent.resolve()) for s in ("session01", "session02")]


def test_uint16_markers_in_the_qc_timeline(written, tmp_path):
    """qc's trial timeline reads the uint16 markers (timeouts are 4x codes: no wrap-around)."""
    obj = hickle.load(str(written["session01"]))
    out = tmp_path / "trials.png"
    figures.trial_timeline(obj["markers"], obj["timeStamps"], out, session_start=1.0)
    assert out.stat().st_size > 1000
