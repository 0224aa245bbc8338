"""EDFSplit and Eyelink files as PyHipp's analysis code reads them.

The files are made by the real steps (rplparallel, edfsplit, eyelink, align) from a generated
day; the expectations are stated by hand from the lab's documented behaviour (PyHipp consumer
notes, pipeline contract section 6) and counted independently from the ``.asc`` text and the
generator's ground truth: which keys are pandas DataFrames/Series and with which columns,
which are one-element lists, the ``calib_*`` keys of the fixation session, DPT bookkeeping,
and DataProcessingTools' append over two session directories.
"""

from __future__ import annotations

import json
import re

import h5py
import numpy as np
import pandas as pd
import pytest
from dptlike import DPTLike

from hippoflow import dpt, naming
from hippoflow.behaviour import steps
from hippoflow.ripple import steps as ripple_steps

DAY = ("picasso", "20181105")
NAV = ("session01", "session02")
SESSIONS = NAV + ("sessioneye",)
EYE_COLUMNS = ["gx_left", "gy_left"]
FIX_COLUMNS = ["start", "end", 0]


def asc_counts(path):
    """Independent reading of an .asc: sample times, MSG lines, event end lines."""
    times, msgs, ends = [], [], {"EFIX": 0, "ESACC": 0, "EBLINK": 0}
    for line in path.read_text().splitlines():
        if line[:1].isdigit():
            times.append(float(line.split()[0]))
        elif line.startswith("MSG"):
            msgs.append(line)
        else:
            word = line.split(" ")[0].split("\t")[0]
            if word in ends:
                ends[word] += 1
    return np.array(times), msgs, ends


@pytest.fixture(scope="module")
def made(small_day, tmp_path_factory):
    """Every Eyelink-related file of the generated day, written by the real steps."""
    raw = small_day.joinpath(*DAY)
    out = tmp_path_factory.mktemp("pyhipp_eyelink").joinpath(*DAY)
    truth = json.loads((raw / "groundtruth_eyelink.json").read_text())
    files = {"truth": truth, "trials": json.loads((raw / "groundtruth_trials.json").read_text())}
    for s in SESSIONS:
        base = "181105_DST" if s == "sessioneye" else "181105_Block1"
        rpl = out / s / naming.RPLPARALLEL_NAME
        ripple_steps.rplparallel(raw / s / f"{base}.nev", raw / s / f"{base}.ns5", rpl, {})
        files[s, "rpl"] = rpl
    split = out / naming.EDFSPLIT_NAME
    steps.edfsplit([raw / truth["navigation_file"]], raw, "20181105", list(SESSIONS), split)
    files["edfsplit"] = split
    for s in SESSIONS:
        source = [raw / truth["fixation_file"]] if s == "sessioneye" else [split]
        unaligned = out / s / f".unaligned_{naming.EYELINK_NAME}"
        steps.eyelink(
            source, files[s, "rpl"], s, unaligned, out / s / "missingData.csv", day_dir=raw
        )
        final = out / s / naming.EYELINK_NAME
        steps.align_eyelink(unaligned, files[s, "rpl"], final)
        files[s, "unaligned"], files[s, "eyelink"] = unaligned, final
    return raw, out, files


def test_edfsplit_tables(made):
    raw, _, files = made
    obj = dpt.load_object(files["edfsplit"])
    times, msgs, ends = asc_counts(raw / files["truth"]["navigation_file"])
    samples, messages, events = obj["samples"], obj["messages"], obj["events"]
    for table in (samples, messages, events):
        assert isinstance(table, pd.DataFrame)
    assert list(samples.columns) == ["time", "gx_left", "gy_left", "pa_left"]
    np.testing.assert_array_equal(samples["time"].to_numpy(), times)
    assert list(messages.columns) == ["time", "message"] and len(messages) == len(msgs)
    assert messages["message"].iloc[0] == msgs[0].split(maxsplit=2)[2].strip()
    assert list(events.columns) == ["type", "start", "end", "gavx", "gavy"]
    counts = events["type"].value_counts().to_dict()
    assert counts == {
        k: n
        for k, n in (
            ("fixation", ends["EFIX"]),
            ("saccade", ends["ESACC"]),
            ("blink", ends["EBLINK"]),
        )
        if n
    }
    assert np.all(np.diff(events["start"].to_numpy()) >= 0)  # time order
    starts = [m for m in msgs if re.search(r"\tStart Trial \d+$|\d Start Trial \d+$", m)]
    assert type(obj["noOfTrials"]) is int and obj["noOfTrials"] == len(starts)
    timeouts = [float(m.split()[1]) for m in msgs if re.search(r" Timeout \d+$", m)]
    assert isinstance(obj["timeouts"], pd.Series)
    np.testing.assert_array_equal(obj["timeouts"].to_numpy(), timeouts)
    assert obj["noOfSessions"] == 2 and obj["actualSessionNo"] == 2
    assert obj["esr"] == 1000 and type(obj["esr"]) is int
    assert obj["numSets"] == 1 and obj["setidx"] == []  # EDFSplit plots nothing
    assert obj["plotopts"] == {"indexer": "day"} and obj["current_idx"] is None
    assert obj["dirs"] == [str(files["edfsplit"].parent.resolve())]
    assert obj["args"] == naming.EDFSPLIT_ARGS


def _nav_sample_counts(truth):
    """Samples per navigation session, from the generator's blocks and triggers (1 kHz)."""
    s = truth["sessions"]
    ms = np.concatenate([np.arange(*s[n]["block"]) for n in NAV])
    cuts = [-np.inf] + [s[n]["trigger_ms"] for n in NAV[1:]] + [np.inf]
    return [int(np.count_nonzero((ms >= cuts[k]) & (ms < cuts[k + 1]))) for k in range(2)]


@pytest.mark.parametrize("stage", ["unaligned", "eyelink"])
def test_navigation_object_containers(made, stage):
    _, _, files = made
    counts = _nav_sample_counts(files["truth"])
    for k, s in enumerate(NAV):
        e = dpt.load_object(files[s, stage])
        codes = np.array(files["trials"][s]["codes"])
        n, n_samples = codes.shape[0], counts[k]
        tt = e["trial_timestamps"]
        assert isinstance(tt, pd.DataFrame) and tt.shape == (n, 3)
        assert list(tt.columns) == [0, 1, 2] and tt.dtypes.eq(np.float64).all()
        assert isinstance(e["trial_codes"], pd.DataFrame)
        np.testing.assert_array_equal(e["trial_codes"].to_numpy(), codes)
        assert e["trial_codes"].dtypes.eq(np.uint16).all()  # RPLParallel's markers
        eye = e["eye_pos"]
        assert isinstance(eye, pd.DataFrame) and list(eye.columns) == EYE_COLUMNS
        assert eye.shape == (n_samples, 2) and eye.dtypes.eq(np.float64).all()
        ts = e["timestamps"]
        assert isinstance(ts, pd.Series) and ts.name == "time" and ts.size == n_samples
        fix = e["fix_times"]
        assert isinstance(fix, pd.DataFrame) and list(fix.columns) == FIX_COLUMNS
        for key in ("fix_event", "sacc_event", "timeouts"):
            assert isinstance(e[key], pd.Series), key
        assert e["fix_event"].size == fix.shape[0] > 0 and e["sacc_event"].size > 0
        assert e["timeouts"].size == int(np.count_nonzero(codes[:, 2] // 10 == 4))
        for key in ("calib_eye_pos", "indices"):
            assert isinstance(e[key], pd.DataFrame) and e[key].empty, key
        for key in ("calib_fix_event", "calib_sacc_event"):
            assert isinstance(e[key], pd.Series) and e[key].empty, key
        assert "calib_fix_times" not in e
        for key, kind in (
            ("noOfTrials", int),
            ("expTime", float),
            ("session_start", float),
            ("session_start_index", int),
        ):
            assert isinstance(e[key], list) and len(e[key]) == 1, key
            assert isinstance(e[key][0], kind | np.integer if kind is int else kind), key
        assert e["noOfTrials"] == [n]
        assert e["noOfSessions"] == 1
        assert e["numSets"] == [1] and e["setidx"] == [0] * n
        assert e["plotopts"] == {"indexer": "session"} and e["current_idx"] is None
        assert e["samplingRate"] == 1000 and isinstance(e["samplingRate"], int | np.integer)
        assert np.asarray(e["discrepancies"]).shape == (n, 3)
        assert e["dirs"] == [str(files[s, stage].parent.resolve())]
        assert e["args"] == naming.EYELINK_ARGS


@pytest.mark.parametrize("stage", ["unaligned", "eyelink"])
def test_navigation_rows_as_pyhipp_plots_index_them(made, stage):
    """PyHipp's XT/XY plots take ``trial_timestamps * samplingRate`` as rows of the
    session's own ``timestamps``/``eye_pos``: every session (session02 too) must give rows
    inside its samples, on the sample at the message (aligned: at the Ripple marker)."""
    raw, _, files = made
    truth = files["truth"]["sessions"]
    split = dpt.load_object(files["edfsplit"])
    for s in NAV:
        e = dpt.load_object(files[s, stage])
        rpl = dpt.load_object(files[s, "rpl"])
        x = e["trial_timestamps"].to_numpy() * e["samplingRate"]
        rows = x.astype(int)
        ts = e["timestamps"].to_numpy()
        assert rows.min() >= 0 and rows.max() < ts.size, s
        assert e["eye_pos"].to_numpy()[rows[:, 0]].shape == (rows.shape[0], 2)
        # the session's first sample is the file's (session01) or its trigger's (session02)
        first = truth[s]["block"][0] if s == NAV[0] else truth[s]["trigger_ms"]
        trial_ms = np.asarray(truth[s]["trial_ms"], dtype=float)
        written = np.ones(trial_ms.shape, bool)  # the dropped message's time is filled
        for d in files["truth"]["dropped"]:
            if d["session"] == s:
                written[d["trial"], d["column"]] = False
        np.testing.assert_array_equal(rows[written], (trial_ms - first)[written].astype(int))
        assert np.all(np.abs(rows - (trial_ms - first)) <= 1)
        if stage == "eyelink":
            assert np.max(np.abs(ts[rows] - rpl["timeStamps"])[written]) < 1e-3, s
        else:
            np.testing.assert_array_equal(ts[rows][written] * 1000, trial_ms[written])
        # expTime: the file's first sample (the EDFSplit's), the same for both sessions
        assert e["expTime"] == [split["samples"]["time"].iloc[0] / 1000.0]


def test_fixation_object_calib_keys(made):
    raw, _, files = made
    e = dpt.load_object(files["sessioneye", "eyelink"])
    rpl = dpt.load_object(files["sessioneye", "rpl"])
    times, _, ends = asc_counts(raw / files["truth"]["fixation_file"])
    n, k = rpl["markers"].shape
    calib = e["calib_eye_pos"]
    assert isinstance(calib, pd.DataFrame) and list(calib.columns) == EYE_COLUMNS
    assert calib.shape == (times.size, 2)
    assert isinstance(e["timestamps"], pd.Series) and e["timestamps"].size == times.size
    for key, rows in (("calib_fix_event", ends["EFIX"]), ("calib_sacc_event", ends["ESACC"])):
        assert isinstance(e[key], pd.Series) and e[key].shape == (rows,), key
    cft = e["calib_fix_times"]
    assert isinstance(cft, pd.DataFrame) and list(cft.columns) == FIX_COLUMNS
    assert cft.shape == (ends["EFIX"], 3)
    # durations: s on the (aligned) clock of the times, ms of the tracker in the events
    np.testing.assert_allclose(
        cft[0].to_numpy(), e["calib_fix_event"].to_numpy() / 1000.0, atol=1e-3
    )
    before = dpt.load_object(files["sessioneye", "unaligned"])
    np.testing.assert_allclose(
        before["calib_fix_times"][0].to_numpy(),
        before["calib_fix_event"].to_numpy() / 1000.0,
        rtol=1e-12,
    )
    idx = e["indices"]
    assert isinstance(idx, pd.DataFrame) and idx.shape == (n, k) and idx.dtypes.eq(np.int64).all()
    assert isinstance(e["trial_timestamps"], pd.DataFrame) and e["trial_timestamps"].shape == (n, k)
    # PyHipp's fixation plots slice the gaze between a trial's first and last index
    gaze = calib.to_numpy()
    ix = idx.to_numpy()
    for i in range(n):
        assert 0 <= ix[i, 0] < ix[i, -1] <= gaze.shape[0]
        assert gaze[ix[i][0] : ix[i][2]].shape[0] > 0
    # the sample at each index is the first at or after the trial time (aligned clock)
    t = e["timestamps"].to_numpy()
    # PyHipp's fixation trial_timestamps: the messages' absolute times (here on the Ripple
    # clock after the alignment): start, reward, end of the 1, 2, x triplets
    trial_abs = e["trial_timestamps"].to_numpy()
    np.testing.assert_allclose(trial_abs, rpl["timeStamps"], atol=1e-9)
    assert k == 3 and np.all(rpl["markers"][:, :2] == [1, 2])
    assert np.all(t[ix] >= trial_abs - 1e-9)
    assert np.all(t[np.maximum(ix - 1, 0)][:, 1:] < trial_abs[:, 1:])
    for key in ("eye_pos", "fix_times"):
        assert isinstance(e[key], pd.DataFrame) and e[key].empty, key
    for key in ("fix_event", "sacc_event"):
        assert isinstance(e[key], pd.Series) and e[key].empty, key
    assert e["noOfSessions"] == 1 and e["numSets"] == [1] and e["setidx"] == [0] * n
    assert e["noOfTrials"] == [n]


def test_saccfix_consumer_calls(made):
    """What the SaccFix plots do with the tables: ``.empty`` then ``.to_numpy()``; the
    per-session box plot masks at a cut-off, drops NaN and needs one 1-D array per group."""
    _, _, files = made
    nav = dpt.load_object(files["session01", "eyelink"])
    eye = dpt.load_object(files["sessioneye", "eyelink"])
    assert not nav["sacc_event"].empty and not eye["calib_sacc_event"].empty
    sacc = nav["sacc_event"].to_numpy()
    fix = nav["fix_event"].to_numpy()
    assert sacc.ndim == 1 and fix.ndim == 1 and np.all(fix > 0)
    calib = eye["calib_fix_event"].to_numpy()
    assert calib.ndim == 1 and np.all(calib > 0)
    for obj, key in ((eye, "calib_sacc_event"), (eye, "calib_fix_event"), (nav, "sacc_event")):
        cut = obj[key][obj[key] < 600].dropna().to_numpy()
        assert cut.ndim == 1 and cut.size > 0, key


class DPTAppend(DPTLike):
    """DataProcessingTools' loader and append, restated from their documented behaviour, with
    the Eyelink class's own part: tables concatenated row-wise (``trial_timestamps`` with its
    columns relabelled 0, 1, 2; ``indices`` and ``trial_codes`` side by side) and the
    ``numSets``/``expTime``/``noOfTrials``/``session_start*`` lists extended."""

    ROWS = ("eye_pos", "calib_eye_pos", "calib_fix_event", "calib_sacc_event", "timestamps")
    ROWS += ("timeouts", "fix_times")
    load = staticmethod(dpt.load_object)

    def append(self, other):
        super().append(other)
        for key in self.ROWS:
            setattr(self, key, pd.concat([getattr(self, key), getattr(other, key)]))
        other.trial_timestamps.columns = [0, 1, 2]
        self.trial_timestamps = pd.concat(
            [self.trial_timestamps, other.trial_timestamps], axis=0, ignore_index=True
        )
        self.indices = pd.concat([self.indices, other.indices], axis=1)
        self.trial_codes = pd.concat([self.trial_codes, other.trial_codes], axis=1)
        for key in ("numSets", "expTime", "noOfTrials"):
            getattr(self, key).append(getattr(other, key)[0])
        self.session_start.append(other.session_start)
        self.session_start_index.append(other.session_start_index)


def test_dpt_append_over_two_sessions(made):
    _, _, files = made
    a = DPTAppend(files["session01", "eyelink"])
    b = DPTAppend(files["session02", "eyelink"])
    na, nb = a.noOfTrials[0], b.noOfTrials[0]
    sa, sb = a.timestamps.size, b.timestamps.size
    # the second's setidx is offset by the first's number of sets
    assert a.setidx[-1] + 1 == a.numSets[0] == 1
    a.append(b)
    assert a.setidx == [0] * na + [1] * nb
    assert a.dirs == [str(files[s, "eyelink"].parent.resolve()) for s in NAV]
    assert a.trial_timestamps.shape == (na + nb, 3)
    assert a.eye_pos.shape == (sa + sb, 2) and list(a.eye_pos.columns) == EYE_COLUMNS
    assert a.timestamps.size == sa + sb and a.fix_times.shape[1] == 3
    assert a.numSets == [1, 1] and a.noOfTrials == [na, nb] and len(a.expTime) == 2
    assert a.trial_codes.shape == (max(na, nb), 6)


def test_dpt_append_with_the_fixation_session(made):
    _, _, files = made
    a = DPTAppend(files["session01", "eyelink"])
    eye = DPTAppend(files["sessioneye", "eyelink"])
    n_eye = eye.noOfTrials[0]
    calib_rows, eye_rows = eye.calib_eye_pos.shape[0], a.eye_pos.shape[0]
    a.append(eye)
    # the calibration gaze joins as its own two columns, the navigation gaze is unchanged
    assert a.calib_eye_pos.shape == (calib_rows, 2) and a.eye_pos.shape == (eye_rows, 2)
    assert a.setidx == [0] * a.noOfTrials[0] + [1] * n_eye
    assert a.calib_fix_event.shape == eye.calib_fix_event.shape


def test_tables_load_without_numpy2_or_pandas3_names(made):
    """The lab's environment (numpy 1.x, pandas 1.5) has no ``numpy._core`` module and no
    pandas ``str`` dtype: the stored tables must name neither; labels are plain objects."""
    _, _, files = made
    paths = [files["edfsplit"]] + [files[s, "eyelink"] for s in SESSIONS]
    for path in paths:
        with h5py.File(path, "r") as h5:
            blobs = []
            h5.visititems(
                lambda name, node, out=blobs: (
                    out.append(bytes(np.asarray(node[()]).tobytes()))
                    if isinstance(node, h5py.Dataset)
                    else None
                )
            )
        assert blobs
        for blob in blobs:
            assert b"numpy._core" not in blob, path
            assert b"StringDtype" not in blob and b"ArrowString" not in blob, path
        for value in dpt.load_object(path).values():
            if isinstance(value, pd.DataFrame):
                assert isinstance(value.columns, pd.RangeIndex) or value.columns.dtype == object
                assert isinstance(value.index, pd.RangeIndex)
            if isinstance(value, pd.Series):
                assert isinstance(value.index, pd.RangeIndex)


def test_workflow_readers_use_the_stored_objects(made, small_day, tmp_path):
    """align (already run by the fixture) and the raycast's gaze table read the files."""
    raw, out, files = made
    s = "session01"
    e = dpt.load_object(files[s, "eyelink"])
    rpl = dpt.load_object(files[s, "rpl"])
    assert e["aligned"] is True
    np.testing.assert_allclose(e["trial_times"], rpl["timeStamps"], atol=1e-6)
    assert abs(e["session_start"][0] - rpl["sessionStartTime"]) < 1e-3
    log = next((raw / s).glob("RawData*/session*.txt"))
    unaligned_u = tmp_path / "u.hkl"
    steps.unity(log, files[s, "rpl"], unaligned_u)
    unity = tmp_path / naming.UNITY_NAME
    steps.align_unity(unaligned_u, files[s, "rpl"], unity)
    table = steps.gaze_table(dpt.load_object(unity), e)
    assert table["time"].size == e["timestamps"].size
    np.testing.assert_array_equal(table["gx"], e["eye_pos"]["gx_left"].to_numpy())
    assert np.isfinite(table["x"]).sum() > table["time"].size // 2
    # aligning the stored object again changes nothing and keeps the containers
    again = steps.align_eyelink(files[s, "eyelink"], files[s, "rpl"], tmp_path / "again.hkl")
    back = dpt.load_object(tmp_path / "again.hkl")
    for obj in (again, back):
        assert isinstance(obj["timestamps"], pd.Series) and obj["expTime"] == e["expTime"]
        np.testing.assert_array_equal(obj["timestamps"].to_numpy(), e["timestamps"].to_numpy())
        pd.testing.assert_frame_equal(obj["eye_pos"], e["eye_pos"])
