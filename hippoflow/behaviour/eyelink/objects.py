"""The Eyelink object of one session (PyHipp's ``eyelink`` attributes), and how it is stored.

Inputs: one session's :class:`~hippoflow.behaviour.eyelink.recording.Recording` (a
navigation session from :func:`hippoflow.behaviour.eyelink.sessions.split_navigation`, or
the whole ``P*`` file of the ``FIXATION_SESSION``) and that session's ``rplparallel``
markers, times and session start.  Outputs:

* :func:`session_object`: the session as plain arrays on the EyeLink tracker clock (s),
  trial times reconciled with Ripple
  (:func:`hippoflow.behaviour.eyelink.sessions.reconcile`), gaze limited to the ``SCREEN``,
  fixation/saccade events and the ``missing`` rows for ``missingData.csv`` (written by
  :func:`hippoflow.behaviour.eyelink.sessions.write_missing_csv`).  The computation and
  the alignment work on this form.
* :func:`eyelink_object`: the object as PyHipp's Eyelink holds it (pandas tables,
  one-element lists, the ``calib_*`` keys of the fixation session, DPT bookkeeping), which
  is what ``eyelink_<h>.hkl`` stores; :func:`pyhipp_containers` re-applies the containers
  after the alignment has rewritten the times as arrays.
* :func:`save_object`: a DPT file whose pandas values load in the lab's environment.

PyHipp's containers (its plots call ``.to_numpy()``/``.empty`` on the tables, index the
lists with ``[0]``, and its ``append`` concatenates the tables with ``pd.concat`` and
extends the lists):

=====================  =====================================================================
trial_timestamps       DataFrame N x k, columns 0..k-1 (k = the Ripple table's columns), s.
                       Navigation: since the session's first sample (tracker clock), so
                       that ``trial_timestamps * samplingRate`` is the row of the message's
                       sample in this session's ``timestamps``/``eye_pos`` (how PyHipp's
                       XT/XY plots and raycast index them; exact for a recording without
                       gaps); kept as they are by the alignment, as PyHipp's.  Fixation
                       (``sessioneye``): the messages' absolute times, as PyHipp's (its
                       plots index with ``indices``), moved onto Ripple time by the
                       alignment
trial_times            (not PyHipp's) N x k array: the absolute trial times on the
                       object's clock (tracker, then Ripple after the alignment)
trial_timestamps_origin (not PyHipp's) the tracker time (s) ``trial_timestamps`` count
                       from: the session's first sample; 0.0 when they are absolute
trial_codes            DataFrame N x k of the Ripple markers (their dtype, uint16)
eye_pos                DataFrame S x 2, columns ``gx_left``, ``gy_left`` (PyHipp's names,
                       kept so objects concatenate; the gaze is that of ``eye``), pixels, NaN
                       off screen; empty (0 x 2) in the fixation session
timestamps             Series ``time`` (S,), absolute s
fix_times              DataFrame F x 3, columns ``start``, ``end``, ``0`` (the duration), s
fix_event, sacc_event  Series of durations (ms); empty in the fixation session
timeouts               Series, absolute s of the trial ends with a 4x code
calib_eye_pos          the fixation session's gaze (as ``eye_pos``); empty elsewhere
calib_fix_event,       Series: the fixation session's fixation and saccade durations (ms);
calib_sacc_event       empty elsewhere.  (PyHipp made one-column DataFrames; its
                       ``SaccFixSession`` plot of the fixation session boxplots
                       ``.dropna().to_numpy()`` of them, which only a Series makes 1-D)
calib_fix_times        (fixation session only) as ``fix_times``
indices                DataFrame N x k int64: index in ``timestamps`` (and ``calib_eye_pos``)
                       of the first sample at or after each trial time, -1 when none, in the
                       fixation session; empty elsewhere
noOfTrials, expTime,   one-element lists: [N], [s], [s], [index].  ``expTime``: the tracker
session_start,         time of the file's first sample (PyHipp's), the same for every
session_start_index    session of the file and not moved by the alignment.
                       ``session_start``: the ``Trigger Version 84`` message (navigation) or
                       the first trial start (fixation), on the object's clock (PyHipp took
                       the session's second sample); ``session_start_index`` the row of the
                       first sample at or after it
noOfSessions           1 (the object's own count of sessions)
numSets                [1]: a list, as PyHipp's Eyelink keeps it (its append extends it)
setidx                 one 0 per trial
plotopts, current_idx  ``{"indexer": "session"}`` and None (DPT's ``create``)
samplingRate           int Hz (from the recording configuration)
=====================  =====================================================================

Storage: hickle has no loader for pandas, so it pickles tables.  A plain pickle made with
numpy 2 names ``numpy._core``, which the lab's numpy 1.x cannot import (hickle then hands
back raw bytes instead of a table), and pandas 3's string column labels are of a dtype
older pandas cannot rebuild.  :func:`save_object` therefore stores each table as a pickle
that names only ``numpy.ndarray``/``numpy.array``/``numpy.dtype`` (both numpy lines have
them) and uses object-dtype column labels; it loads as the same DataFrame or Series in
either environment with ``hickle.load``.
"""

from __future__ import annotations

import _pickle
import io
import pickle
import warnings

import numpy as np
import pandas as pd

from hippoflow import dpt
from hippoflow.behaviour.eyelink.recording import Recording
from hippoflow.behaviour.eyelink.sessions import (
    FIX_END,
    FIX_REWARD,
    FIX_ROLE_NAMES,
    FIX_START,
    MESSAGE_TYPE,
    fixation_has_reward,
    fixation_roles,
    fixation_trial_messages,
    navigation_trial_messages,
    reconcile,
    reward_times,
    trigger_times,
)
from hippoflow.behaviour.maze import SCREEN
from hippoflow.errors import InputError
from hippoflow.naming import FIXATION_SESSION

LEVEL = "session"  # DPT level of the Eyelink object
EYE_COLUMNS = ("gx_left", "gy_left")
FIX_COLUMNS = ("start", "end", 0)
FIXATION_START_TEXT = "1  0  0  0  0  0  0  0"

# key -> column labels of its DataFrame (None: 0..k-1 from the data)
FRAMES: dict[str, tuple | None] = {
    "trial_timestamps": None,
    "trial_codes": None,
    "indices": None,
    "eye_pos": EYE_COLUMNS,
    "calib_eye_pos": EYE_COLUMNS,
    "fix_times": FIX_COLUMNS,
    "calib_fix_times": FIX_COLUMNS,
}
FRAME_DTYPES = {"indices": np.int64}
# key -> name of its Series
SERIES: dict[str, str | None] = {
    "timestamps": "time",
    "fix_event": None,
    "sacc_event": None,
    "timeouts": None,
    "calib_fix_event": None,
    "calib_sacc_event": None,
}
# key -> type of the single element of its list
ONE_ELEMENT = {
    "noOfTrials": int,
    "expTime": float,
    "session_start": float,
    "session_start_index": int,
    "numSets": int,
}


_FIXATION_TEXT = {
    FIX_START: FIXATION_START_TEXT,
    FIX_REWARD: "reward (8-digit code)",
    FIX_END: "trial end (8-digit code)",
}


def _message_text(code: int, column: int, role: int | None = None) -> str:
    """The missing message's text: a navigation message, or (``role`` given: the fixation
    session) the fixation start pattern or what the 8-digit message marks."""
    if role is not None:
        return _FIXATION_TEXT.get(role, f"8-digit code (Ripple {code})")
    if column == 0:
        return f"Start Trial {code}"
    if column == 1:
        return f"Cue Offset {code}"
    return f"End Trial {code}" if code // 10 == 3 else f"Timeout {code}"


def _event_name(column: int, role: int | None = None) -> str:
    if role is not None:
        return FIX_ROLE_NAMES[role]
    return ("start", "cue", "end")[column]


def _rate(value: float) -> int | float:
    """A sampling rate as PyHipp keeps it: an int (EyeLink rates are whole Hz)."""
    v = float(value)
    return int(v) if v.is_integer() else v


def session_object(
    rec: Recording,
    ripple_markers: np.ndarray,
    ripple_times: np.ndarray,
    fixation: bool = False,
    *,
    ripple_session_start: float | None = None,
    session: str | None = None,
    screen: tuple[int, int] = SCREEN,
    tolerance_s: float = 0.5,
) -> dict:
    """One session's Eyelink attributes as plain arrays (navigation or ``sessioneye``).

    ``rec`` is one session of :func:`split_navigation` (navigation) or the whole ``P*``
    file (``fixation=True``).  ``ripple_markers``/``ripple_times`` are the session's
    ``rplparallel`` ``markers`` and ``timeStamps`` (N x 3 navigation; N x 2 or N x 3
    fixation, as RPLParallel arranged the fixation stream: the lab's 1 start, 2 reward,
    x end triplets, or 1, 2 start/end pairs; matched by role,
    :func:`~hippoflow.behaviour.eyelink.sessions.fixation_roles`).
    ``ripple_session_start`` (``rplparallel.sessionStartTime``, the 84 marker, s) anchors
    the first trial to the ``Trigger Version 84`` message.  :func:`eyelink_object` turns
    this into the stored object.

    Keys (times in s unless said; "absolute" = EyeLink tracker clock / 1000):
      trial_timestamps  N x k, trial message times (missing ones filled): navigation,
                        relative to the session's first sample (PyHipp: row of the
                        message's sample = trial_timestamps * samplingRate, see
                        :func:`relative_trial_times`); fixation, absolute (PyHipp).
      trial_times       N x k absolute trial times; trial_timestamps_origin: what
                        trial_timestamps count from (the first sample's time; 0.0).
      trial_codes       the Ripple markers (N x k, their dtype).
      trial_sample_index N x k int, index into ``timestamps`` of the first sample at or
                        after each trial time (-1 when no such sample).
      eye_pos           S x 2 (gx, gy) pixels; NaN when missing or outside the screen
                        [0, 1920] x [0, 1080].
      timestamps        S absolute sample times.
      fix_times         F x 3 [start, end, duration] absolute (fixations overlapping the
                        session); fix_event (F,) and sacc_event (A,) durations in ms
                        (end - start, as PyHipp; float64, as the times may be
                        fractional).
      timeouts          absolute times of the trial ends whose Ripple code is 4x.
      session_start     absolute time of the session start: navigation, the ``Trigger
                        Version 84`` message (the first sample without one); fixation, the
                        first trial start.  session_start_index: index in ``timestamps`` of
                        the first sample at or after it (PyHipp used a sample's time; at
                        1000 Hz without gaps the two agree).
      expTime           absolute time of the file's first sample (PyHipp), s (the first
                        sample of the day's navigation file for every navigation session).
      noOfTrials, noOfSessions (1: this object's one session), samplingRate (Hz, from the
                        recording), discrepancies (N x k, |Ripple - EyeLink| interval
                        differences, see reconcile).
      reward_times      (fixation only) absolute times of the 8-digit messages other than
                        trial starts and ends (the rewards).
      missing           rows for missingData.csv (dicts with the MISSING_CSV_COLUMNS keys;
                        Timestamps = filled EyeLink time, absolute ms).
      clock_ratio       EyeLink ms per Ripple ms fitted on the matched messages.
      eye               the eye whose gaze and events these are ('left' or 'right').
      notes             the reader's warnings about the file (``Recording.notes``).
    """
    label = rec.label if session is None else f"{rec.label} [{session}]"
    codes_in = np.array(ripple_markers, copy=True)
    markers = np.asarray(ripple_markers, dtype=np.float64)
    rtimes = np.asarray(ripple_times, dtype=np.float64)
    if markers.ndim == 1:
        markers = markers.reshape(1, -1)
        rtimes = rtimes.reshape(1, -1)
        codes_in = codes_in.reshape(1, -1)
    if rec.samples_time.size == 0:
        raise InputError(f"{label}: no gaze samples in this session")
    want_k = (2, 3) if fixation else (3,)
    if markers.shape[1] not in want_k:
        raise InputError(
            f"{label}: Ripple markers have {markers.shape[1]} columns, expected "
            f"{' or '.join(map(str, want_k))} for a "
            f"{'fixation' if fixation else 'navigation'} session"
        )
    roles = None
    if fixation:
        # matched by what each marker marks (start, reward, end), not by code
        roles = fixation_roles(markers)
        events = fixation_trial_messages(rec, with_reward=fixation_has_reward(roles))
        anchor_e = anchor_r = None
    else:
        events = navigation_trial_messages(rec)
        trig = trigger_times(rec)
        anchor_e = float(trig[0]) if trig else None
        anchor_r = ripple_session_start
    res = reconcile(
        events,
        roles if fixation else markers,
        rtimes,
        label=label,
        eye_anchor_ms=anchor_e,
        ripple_anchor_s=anchor_r,
        tolerance_s=tolerance_s,
    )
    tt = res["times_ms"]
    st = rec.samples_time
    exp_ms = float(
        rec.file_start_ms if rec.file_start_ms is not None else (st[0] if st.size else 0)
    )
    gx, gy = rec.gx.copy(), rec.gy.copy()
    off = (gx < 0) | (gx > screen[0]) | (gy < 0) | (gy > screen[1])
    gx[off] = np.nan
    gy[off] = np.nan
    sidx = np.searchsorted(st, tt, "left")
    sidx[sidx >= st.size] = -1
    fx = rec.fixations
    fix_times = np.column_stack([fx[:, 0], fx[:, 1], fx[:, 1] - fx[:, 0]]) / 1000.0
    start_ms = tt[0, 0] if fixation else (anchor_e if anchor_e is not None else float(st[0]))
    ss_idx = int(np.searchsorted(st, start_ms, "left")) if st.size else 0
    ss_idx = min(ss_idx, max(st.size - 1, 0))
    end_codes = np.rint(markers[:, -1]).astype(int)
    timeouts = tt[end_codes // 10 == 4, -1] / 1000.0 if not fixation else np.zeros(0)
    who = session or (f"session{rec.session_index + 1:02d}" if not fixation else FIXATION_SESSION)
    missing_rows = []
    for r, c in res["missing"]:
        code = int(round(markers[r, c]))
        role = int(roles[r, c]) if roles is not None else None
        missing_rows.append(
            {
                "Type": MESSAGE_TYPE,
                "Timestamps": round(float(tt[r, c]), 3),
                "Messages": _message_text(code, c, role),
                "Session": who,
                "Trial": r + 1,
                "Event": _event_name(c, role),
            }
        )
    if fixation:
        origin_ms = 0.0
        rel = tt / 1000.0
    else:
        origin_ms = float(st[0])
        rel = relative_trial_times(tt - origin_ms, rec.sampling_rate)
    out = {
        "trial_timestamps": rel,
        "trial_times": tt / 1000.0,
        "trial_timestamps_origin": origin_ms / 1000.0,
        "trial_codes": codes_in,
        "trial_sample_index": sidx.astype(np.int64),
        "eye_pos": np.column_stack([gx, gy]),
        "timestamps": st.astype(np.float64) / 1000.0,
        "fix_times": fix_times,
        "fix_event": (fx[:, 1] - fx[:, 0]).astype(np.float64),
        "sacc_event": (rec.saccades[:, 1] - rec.saccades[:, 0]).astype(np.float64),
        "timeouts": timeouts,
        "session_start": float(start_ms) / 1000.0,
        "session_start_index": ss_idx,
        "expTime": exp_ms / 1000.0,
        "noOfTrials": int(markers.shape[0]),
        "noOfSessions": 1,
        "samplingRate": _rate(rec.sampling_rate),
        "discrepancies": res["discrepancies"],
        "clock_ratio": res["clock_ratio"],
        "missing": missing_rows,
        "eye": str(rec.eye),
        "notes": list(rec.notes),
    }
    if fixation:
        out["reward_times"] = reward_times(rec) / 1000.0
    return out


def relative_trial_times(offset_ms: np.ndarray, rate: float) -> np.ndarray:
    """Times in s of offsets from the session's first sample, as PyHipp indexes them.

    PyHipp's plots take ``int(trial_timestamps * samplingRate)`` as the row of a message's
    sample.  ``offset / 1000 * rate`` is not always exactly the whole number of samples it
    stands for in floating point (1 in 100 at 1000 Hz falls a hair below and would truncate
    to the previous row), so such a value is raised by the few ulps that make the product
    reach it; every other value is ``offset / 1000``.
    """
    ms = np.asarray(offset_ms, dtype=np.float64)
    out = ms / 1000.0
    want = ms * float(rate) / 1000.0
    whole = np.isfinite(want) & (np.abs(want - np.rint(want)) < 1e-6)
    target = np.rint(want)
    for _ in range(4):
        low = whole & (out * float(rate) < target)
        if not low.any():
            break
        out[low] = np.nextafter(out[low], np.inf)
    return out


# ---------------------------------------------------------------------------------------
# PyHipp's containers


def object_labels(columns) -> pd.Index:
    """Column labels as an object Index (pandas 3 would make string labels its ``str``
    dtype, which older pandas cannot unpickle)."""
    return pd.Index(list(columns), dtype=object)


def frame(values, columns=None, dtype=None) -> pd.DataFrame:
    """A DataFrame of a 2-D table; ``columns`` None: labels 0..k-1 (a RangeIndex)."""
    if isinstance(values, pd.DataFrame):
        values = values.to_numpy()
    arr = np.asarray(values, dtype=dtype)
    width = len(columns) if columns is not None else (arr.shape[1] if arr.ndim == 2 else 0)
    if arr.ndim != 2:
        arr = arr.reshape(-1, width) if width else arr.reshape(arr.size, 1 if arr.size else 0)
    if columns is None:
        return pd.DataFrame(arr, columns=pd.RangeIndex(arr.shape[1]))
    return pd.DataFrame(arr, columns=object_labels(columns))


def series(values, name=None) -> pd.Series:
    """A float64 Series of a 1-D sequence, index 0..n-1."""
    if isinstance(values, pd.Series | pd.DataFrame):
        values = values.to_numpy()
    return pd.Series(np.asarray(values, dtype=np.float64).ravel(), name=name)


def one_element(value, kind) -> list:
    """``[kind(value)]`` for a scalar, a one-element list or array."""
    v = np.asarray(value).ravel()
    if v.size != 1:
        raise ValueError(f"expected one value, got {v.size}")
    return [kind(v[0].item())]


def pyhipp_containers(obj: dict) -> dict:
    """A copy of an Eyelink object with every PyHipp key in PyHipp's container.

    Idempotent; accepts the arrays :func:`session_object` and the alignment write.  Keys
    not present are left absent (:func:`eyelink_object` decides which keys exist).
    """
    out = dict(obj)
    for key, columns in FRAMES.items():
        if key in out:
            dtype = FRAME_DTYPES.get(key, None if key == "trial_codes" else np.float64)
            out[key] = frame(out[key], columns, dtype=dtype)
    for key, name in SERIES.items():
        if key in out:
            out[key] = series(out[key], name)
    for key, kind in ONE_ELEMENT.items():
        if key in out:
            out[key] = one_element(out[key], kind)
    if "samplingRate" in out:
        out["samplingRate"] = _rate(np.asarray(out["samplingRate"]).ravel()[0])
    return out


def eyelink_object(obj: dict, fixation: bool) -> dict:
    """The stored Eyelink object of a :func:`session_object` (see the module doc).

    The fixation session keeps its gaze and events in the ``calib_*`` keys and its trial
    sample indices in ``indices``, as PyHipp's ``sessioneye`` object; its ``eye_pos``,
    ``fix_times``, ``fix_event`` and ``sacc_event`` are empty.  Navigation sessions have
    empty ``calib_*`` tables and ``indices``.
    """
    out = dict(obj)
    k = np.atleast_2d(np.asarray(obj["trial_timestamps"])).shape[1]
    empty_gaze = np.zeros((0, 2))
    if fixation:
        out["calib_eye_pos"] = obj["eye_pos"]
        out["calib_fix_times"] = obj["fix_times"]
        out["calib_fix_event"] = obj["fix_event"]
        out["calib_sacc_event"] = obj["sacc_event"]
        out["indices"] = obj["trial_sample_index"]
        out["eye_pos"] = empty_gaze
        out["fix_times"] = np.zeros((0, 3))
        out["fix_event"] = np.zeros(0)
        out["sacc_event"] = np.zeros(0)
    else:
        out["calib_eye_pos"] = empty_gaze
        out["calib_fix_event"] = np.zeros(0)
        out["calib_sacc_event"] = np.zeros(0)
        out["indices"] = np.zeros((0, k), dtype=np.int64)
    n = int(np.asarray(obj["noOfTrials"]).ravel()[0])
    out.update(dpt.bookkeeping(LEVEL, n_items=n))
    out["numSets"] = [1]
    out["noOfSessions"] = 1
    return pyhipp_containers(out)


# ---------------------------------------------------------------------------------------
# Storage: pickles of tables that numpy 1.x / pandas 1.x environments load


class _PortablePickler(pickle.Pickler):
    """Pickles numpy arrays and scalars by names every numpy version has."""

    def reducer_override(self, obj):
        if type(obj) is np.ndarray:
            if obj.dtype.hasobject:
                return np.array, (obj.tolist(), np.dtype(object))
            a = np.ascontiguousarray(obj)
            return np.ndarray, (a.shape, a.dtype, bytearray(a.tobytes()))
        if isinstance(obj, np.bool_):
            return bool, (bool(obj),)
        if isinstance(obj, np.generic):
            return type(obj), (obj.item(),)
        return NotImplemented


def portable_dumps(obj) -> bytes:
    """A pickle of ``obj`` whose numpy parts name no ``numpy._core`` module."""
    buf = io.BytesIO()
    _PortablePickler(buf, protocol=4).dump(obj)
    return buf.getvalue()


class _Portable:
    """Stands for a pandas object in hickle's dump: hickle pickles it (it has no loader for
    it), and the pickle rebuilds the pandas object from :func:`portable_dumps` bytes."""

    def __init__(self, obj):
        self.obj = obj

    def __reduce__(self):
        return _pickle.loads, (portable_dumps(self.obj),)


def storable(obj: dict) -> dict:
    """``obj`` with its pandas values wrapped for :func:`save_object`."""
    return {
        k: _Portable(v) if isinstance(v, pd.DataFrame | pd.Series) else v for k, v in obj.items()
    }


def save_object(path, obj: dict, args: dict, dirs: list) -> None:
    """:func:`hippoflow.dpt.save_object` for an object holding pandas tables."""
    from hickle.lookup import SerializedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SerializedWarning)  # the tables are pickled on purpose
        dpt.save_object(path, storable(obj), args, dirs)
