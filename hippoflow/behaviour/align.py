"""Alignment of Unity and EyeLink timing onto the Ripple clock.

Ripple is the reference.  Each source's trial markers are flattened into one sequence
(start, cue, end, start, ...), preceded by the session-start marker when both the source
and Ripple have one.  Every time of the source between two consecutive markers is
rescaled linearly so the pair spans exactly the Ripple interval, and everything after is
shifted by the change: a piecewise-linear map whose knots are the source's marker times
and whose values are Ripple's.  Times before the first knot and after the last are
shifted by the constant offset at that knot, so the result is on Ripple time (seconds
since the start of the .nev), like PyHipp's aligned objects.

Unity trials whose intervals (start->cue plus cue->end) disagree with Ripple by more than
``threshold`` (0.02 s) in total are *dubious*: their frames between markers are flattened
onto the preceding marker's time (the marker frames themselves keep the Ripple times), and
they are listed in ``dubiousTrials`` (1-based trial numbers).  Unity's ``deltaTime``
column and ``unityTrialTime`` are recomputed from the aligned ``unityTime``.

Residuals (source interval minus Ripple interval, ms, N x 3: previous end->start, or
session start->start for the first trial; start->cue; cue->end) are kept in
``alignResiduals``.  Alignment is idempotent: an object whose markers already sit on the
Ripple times (within ``ALREADY_ALIGNED_S``) is returned unchanged.
"""

from __future__ import annotations

import copy

import numpy as np

from hippoflow.behaviour import unity as unity_mod
from hippoflow.errors import InputError
from hippoflow.naming import SESSION_START_CODES

THRESHOLD_S = 0.02
ALREADY_ALIGNED_S = 1e-6


def piecewise_map(t, src, ref) -> np.ndarray:
    """Map times ``t`` with knots ``src`` -> ``ref`` (linear between, shifted outside)."""
    t = np.asarray(t, dtype=np.float64)
    src = np.asarray(src, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    out = np.interp(t, src, ref)
    before = t < src[0]
    after = t > src[-1]
    out[before] = t[before] + (ref[0] - src[0])
    out[after] = t[after] + (ref[-1] - src[-1])
    return out


def ripple_reference(rpl: dict, path="<rplparallel>") -> tuple[float | None, np.ndarray]:
    """(session start or None, N x k marker times) of an ``rplparallel`` object."""
    ts = np.asarray(rpl["timeStamps"], dtype=np.float64)
    if ts.ndim != 2 or ts.shape[0] == 0:
        raise InputError(f"{path}: no trial markers (timeStamps {ts.shape})")
    raw = np.asarray(rpl.get("rawMarkers", []), dtype=np.float64).ravel()
    start = None
    if raw.size and int(raw[0]) in SESSION_START_CODES:
        start = float(np.asarray(rpl["sessionStartTime"]).ravel()[0])
    return start, ts


def _check_knots(src, label):
    bad = np.flatnonzero(np.diff(src) <= 0)
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"{label}: marker times are not increasing at marker {i + 2} of the flattened "
            f"sequence ({src[i]:.6f} s then {src[i + 1]:.6f} s): cannot align"
        )


def _residuals(src_start, src, ref_start, ref, k) -> np.ndarray:
    """(N, k) ms: source interval minus Ripple interval, per marker (see module doc)."""
    s = src.reshape(-1, k)
    r = ref.reshape(-1, k)
    out = np.zeros(s.shape)
    out[1:, 0] = (s[1:, 0] - s[:-1, -1]) - (r[1:, 0] - r[:-1, -1])
    if src_start is not None and ref_start is not None:
        out[0, 0] = (s[0, 0] - src_start) - (r[0, 0] - ref_start)
    out[:, 1:] = np.diff(s, axis=1) - np.diff(r, axis=1)
    return out * 1000.0


def _knots(src_start, src_flat, ref_start, ref_flat):
    if src_start is not None and ref_start is not None:
        return np.concatenate([[src_start], src_flat]), np.concatenate([[ref_start], ref_flat])
    return src_flat, ref_flat


# ---------------------------------------------------------------------------------------
# Unity


def unity_marker_times(obj: dict, label="unity") -> tuple[float | None, np.ndarray, np.ndarray]:
    """(session-start time or None, N x 3 marker times, N x 3 rows) on the object's clock.

    The session start is ``unityTime[0]`` when the log's session-start frame was dropped
    (``sessionStartFrame`` has its row: PyHipp's row convention, see
    :mod:`hippoflow.behaviour.unity`); otherwise the time of a session-start frame kept
    among the rows before the first trial, if any.
    """
    ut = np.asarray(obj["unityTime"][0], dtype=np.float64)
    trig = np.asarray(obj["unityTriggers"][0], dtype=np.int64)
    data = np.asarray(obj["unityData"][0])
    if "sessionStartFrame" not in obj:
        if data.shape[0] and int(data[0, 0]) in SESSION_START_CODES:
            raise InputError(
                f"{label}: a Unity object whose row 0 is the session-start frame (made by an "
                f"older hippoflow, rows one above PyHipp's): remake it "
                f"(snakemake --forcerun unity)"
            )
    elif np.asarray(obj["sessionStartFrame"]).size:
        return float(ut[0]), ut[trig + 1], trig
    start = None
    first = int(trig[0, 0]) if trig.size else data.shape[0]
    rows84 = np.flatnonzero(np.isin(data[:first, 0], SESSION_START_CODES))
    if rows84.size:
        start = float(ut[rows84[0] + 1])
    return start, ut[trig + 1], trig


def align_unity(obj: dict, rpl: dict, threshold: float = THRESHOLD_S, label="unity") -> dict:
    """Aligned copy of a Unity object (see module doc); adds alignment keys."""
    ref_start, ref = ripple_reference(rpl, label)
    src_start, src, trig = unity_marker_times(obj, label)
    if src.shape != ref.shape:
        raise InputError(
            f"{label}: {src.shape[0]} Unity trials but {ref.shape[0]} Ripple trials "
            f"({ref.shape[1]} markers each): cannot align"
        )
    if ref.shape[1] != 3:
        raise InputError(f"{label}: Ripple markers have {ref.shape[1]} columns, expected 3")
    use_start = src_start if ref_start is not None else None
    x, y = _knots(use_start, src.ravel(), ref_start, ref.ravel())
    if _is_aligned(x, y):
        out = copy.copy(obj)
        out.setdefault("dubiousTrials", np.zeros(0, dtype=np.int64))
        out["aligned"] = True
        return out
    _check_knots(x, label)
    resid = _residuals(use_start, src.ravel(), ref_start, ref.ravel(), 3)
    per_trial = np.abs(resid[:, 1]) + np.abs(resid[:, 2])
    dubious = np.flatnonzero(per_trial > threshold * 1000.0)

    ut = piecewise_map(obj["unityTime"][0], x, y)
    for i in dubious:
        s, c, e = (int(v) for v in trig[i])
        ut[s + 2 : c + 1] = ut[s + 1]  # frames after the start marker, before the cue marker
        ut[c + 2 : e + 1] = ut[c + 1]  # frames after the cue marker, before the end marker
    data = np.array(obj["unityData"][0], dtype=np.float64, copy=True)
    data[:, 1] = np.diff(ut)
    out = dict(obj)
    out["unityTime"] = [ut]
    out["unityData"] = [data]
    out["unityTrialTime"] = [unity_mod.trial_time(ut, trig)]
    out["alignResiduals"] = resid
    out["dubiousTrials"] = (dubious + 1).astype(np.int64)
    out["alignThreshold"] = float(threshold)
    out["aligned"] = True
    return out


def _is_aligned(x, y) -> bool:
    return x.shape == y.shape and bool(np.all(np.abs(x - y) <= ALREADY_ALIGNED_S))


# ---------------------------------------------------------------------------------------
# EyeLink


def eyelink_marker_times(obj: dict, label="eyelink") -> tuple[float, np.ndarray]:
    """(session start, N x k absolute trial times) of an eyelink object, in s, on its clock.

    The absolute times are ``trial_times``; an object without them (a hand-made one) has
    PyHipp's navigation ``trial_timestamps``, counted from its first sample.
    """
    start = float(np.asarray(obj["session_start"]).ravel()[0])
    if "trial_times" in obj:
        return start, np.asarray(obj["trial_times"], dtype=np.float64)
    if "indices" in obj:  # a stored object (eyelink_object) from before trial_times
        raise InputError(
            f"{label}: an Eyelink object without trial_times (made by an older hippoflow, "
            f"trial_timestamps counted from the file start): remake it "
            f"(snakemake --forcerun eyelink)"
        )
    tt = np.asarray(obj["trial_timestamps"], dtype=np.float64)
    first = float(np.asarray(obj["timestamps"], dtype=np.float64).ravel()[0])
    return start, tt + first


def _relative(obj: dict) -> bool:
    """Whether the object's ``trial_timestamps`` count from its first sample (PyHipp's
    navigation sessions) rather than being absolute times (its fixation session)."""
    origin = obj.get("trial_timestamps_origin")
    return origin is None or float(np.asarray(origin).ravel()[0]) != 0.0


def align_eyelink(obj: dict, rpl: dict, label="eyelink") -> dict:
    """Aligned copy of an eyelink object: every time key mapped onto Ripple time.

    Reads the arrays of :func:`hippoflow.behaviour.eyelink.objects.session_object` or the
    stored object's pandas tables and one-element lists alike; the times it rewrites
    (``timestamps``, ``trial_times``, ``fix_times``/``calib_fix_times``, ``timeouts``,
    ``reward_times``, ``session_start``, and the fixation session's absolute
    ``trial_timestamps``) come back as arrays and floats
    (:func:`~hippoflow.behaviour.eyelink.objects.pyhipp_containers` restores PyHipp's
    containers before the object is saved).  A navigation session's ``trial_timestamps``
    (offsets from its first sample, PyHipp's sample rows) and ``expTime`` (the file's first
    sample, tracker clock) are kept, as PyHipp's alignment keeps them.
    """
    ref_start, ref = ripple_reference(rpl, label)
    src_start, src = eyelink_marker_times(obj, label)
    if src.shape != ref.shape:
        raise InputError(
            f"{label}: EyeLink trial table {src.shape} but Ripple markers {ref.shape}: cannot align"
        )
    k = ref.shape[1]
    use_start = src_start if (ref_start is not None and k == 3) else None
    ref_start_used = ref_start if use_start is not None else None
    x, y = _knots(use_start, src.ravel(), ref_start_used, ref.ravel())
    if _is_aligned(x, y):
        out = copy.copy(obj)
        out["aligned"] = True
        return out
    _check_knots(x, label)
    resid = _residuals(use_start, src.ravel(), ref_start_used, ref.ravel(), k)

    def m(v):
        return piecewise_map(np.asarray(v, dtype=np.float64), x, y)

    out = dict(obj)
    out["timestamps"] = m(obj["timestamps"])
    # expTime (the file's first sample, tracker clock) is kept, as PyHipp's alignment does
    out["expTime"] = float(np.asarray(obj["expTime"]).ravel()[0])
    out["trial_times"] = ref.copy()  # the knots: exactly the Ripple times
    if _relative(obj):
        # rows into this session's samples (PyHipp): the samples are the same after the
        # alignment, so these are too
        out["trial_timestamps"] = np.asarray(obj["trial_timestamps"], dtype=np.float64)
    else:
        out["trial_timestamps"] = ref.copy()
    for key in ("fix_times", "calib_fix_times"):  # calib_: the fixation session's (PyHipp)
        if key not in obj:
            continue
        fix = np.array(obj[key], dtype=np.float64, copy=True).reshape(-1, 3)
        if fix.size:
            fix[:, 0] = m(fix[:, 0])
            fix[:, 1] = m(fix[:, 1])
            fix[:, 2] = fix[:, 1] - fix[:, 0]
        out[key] = fix
    out["timeouts"] = m(np.asarray(obj.get("timeouts", []), dtype=np.float64).ravel())
    out["session_start"] = float(m([float(np.asarray(obj["session_start"]).ravel()[0])])[0])
    if "reward_times" in obj:
        out["reward_times"] = m(np.asarray(obj["reward_times"], dtype=np.float64).ravel())
    out["alignResiduals"] = resid
    out["aligned"] = True
    return out


def summary(obj: dict, rpl: dict, kind: str) -> dict:
    """Post-alignment check: largest |marker - Ripple| (ms) and residual statistics."""
    _, ref = ripple_reference(rpl)
    if kind == "unity":
        _, src, _ = unity_marker_times(obj)
    else:
        _, src = eyelink_marker_times(obj, "eyelink")
    resid = np.asarray(obj.get("alignResiduals", np.zeros((0, 3))))
    return {
        "max_marker_error_ms": float(np.max(np.abs(src - ref)) * 1000.0),
        "max_abs_residual_ms": float(np.max(np.abs(resid))) if resid.size else 0.0,
        "median_abs_residual_ms": float(np.median(np.abs(resid))) if resid.size else 0.0,
        "dubious_trials": [int(v) for v in np.asarray(obj.get("dubiousTrials", [])).ravel()],
    }
