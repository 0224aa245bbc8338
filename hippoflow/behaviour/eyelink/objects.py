"""The Eyelink object of one session (PyHipp's ``eyelink`` attributes), unaligned.

Inputs: one session's :class:`~hippoflow.behaviour.eyelink.recording.Recording` (a
navigation session from :func:`hippoflow.behaviour.eyelink.sessions.split_navigation`, or
the whole ``P*`` file of the ``FIXATION_SESSION``) and that session's ``rplparallel``
markers, times and session start.  Outputs: :func:`session_object`, a dict of arrays on the
EyeLink tracker clock (s) with the trial times reconciled with Ripple
(:func:`hippoflow.behaviour.eyelink.sessions.reconcile`), the gaze limited to the
``SCREEN``, fixation/saccade events and the ``missing`` rows for ``missingData.csv``
(written by :func:`hippoflow.behaviour.eyelink.sessions.write_missing_csv`).
"""

from __future__ import annotations

import numpy as np

from hippoflow.behaviour.eyelink.recording import Recording
from hippoflow.behaviour.eyelink.sessions import (
    MESSAGE_TYPE,
    fixation_trial_messages,
    navigation_trial_messages,
    reconcile,
    reward_times,
    trigger_times,
)
from hippoflow.behaviour.maze import SCREEN
from hippoflow.errors import InputError
from hippoflow.naming import FIXATION_SESSION


def _message_text(code: int, column: int, fixation: bool) -> str:
    if fixation:
        return "1  0  0  0  0  0  0  0" if column == 0 else "trial end (8-digit code)"
    if column == 0:
        return f"Start Trial {code}"
    if column == 1:
        return f"Cue Offset {code}"
    return f"End Trial {code}" if code // 10 == 3 else f"Timeout {code}"


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
    """PyHipp's ``eyelink`` attributes for one session (navigation or ``sessioneye``).

    ``rec`` is one session of :func:`split_navigation` (navigation) or the whole ``P*``
    file (``fixation=True``).  ``ripple_markers``/``ripple_times`` are the session's
    ``rplparallel`` ``markers`` and ``timeStamps`` (N x 3 navigation, N x 2 fixation with
    codes 1 start, 2 end).  ``ripple_session_start`` (``rplparallel.sessionStartTime``,
    the 84 marker, s) anchors the first trial to the ``Trigger Version 84`` message.

    Keys (times in s unless said; "absolute" = EyeLink tracker clock / 1000):
      trial_timestamps  N x k, trial message times relative to ``expTime`` (PyHipp), i.e.
                        absolute = trial_timestamps + expTime; missing ones filled.
      trial_codes       the Ripple markers (N x k).
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
      expTime           absolute time of the file's first sample (PyHipp), s.
      noOfTrials, noOfSessions, samplingRate (Hz, from the recording), discrepancies
                        (N x k, |Ripple - EyeLink| interval differences, see reconcile).
      reward_times      (fixation only) absolute times of the other 8-digit messages.
      missing           rows for missingData.csv (dicts with the MISSING_CSV_COLUMNS keys;
                        Timestamps = filled EyeLink time, absolute ms).
      clock_ratio       EyeLink ms per Ripple ms fitted on the matched messages.
      eye               the eye whose gaze and events these are ('left' or 'right').
      notes             the reader's warnings about the file (``Recording.notes``).
    """
    label = rec.label if session is None else f"{rec.label} [{session}]"
    markers = np.asarray(ripple_markers, dtype=np.float64)
    rtimes = np.asarray(ripple_times, dtype=np.float64)
    if markers.ndim == 1:
        markers = markers.reshape(1, -1)
        rtimes = rtimes.reshape(1, -1)
    if rec.samples_time.size == 0:
        raise InputError(f"{label}: no gaze samples in this session")
    want_k = 2 if fixation else 3
    if markers.shape[1] != want_k:
        raise InputError(
            f"{label}: Ripple markers have {markers.shape[1]} columns, expected {want_k} for a "
            f"{'fixation' if fixation else 'navigation'} session"
        )
    if fixation:
        events = fixation_trial_messages(rec)
        anchor_e = anchor_r = None
    else:
        events = navigation_trial_messages(rec)
        trig = trigger_times(rec)
        anchor_e = float(trig[0]) if trig else None
        anchor_r = ripple_session_start
    res = reconcile(
        events,
        markers,
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
    missing_rows = [
        {
            "Type": MESSAGE_TYPE,
            "Timestamps": round(float(tt[r, c]), 3),
            "Messages": _message_text(int(round(markers[r, c])), c, fixation),
            "Session": who,
            "Trial": r + 1,
            "Event": ("start", "end")[c] if fixation else ("start", "cue", "end")[c],
        }
        for r, c in res["missing"]
    ]
    out = {
        "trial_timestamps": (tt - exp_ms) / 1000.0,
        "trial_codes": markers,
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
        "noOfSessions": int(rec.n_sessions) if not fixation else 1,
        "samplingRate": float(rec.sampling_rate),
        "discrepancies": res["discrepancies"],
        "clock_ratio": res["clock_ratio"],
        "missing": missing_rows,
        "eye": str(rec.eye),
        "notes": list(rec.notes),
    }
    if fixation:
        out["reward_times"] = reward_times(rec) / 1000.0
    return out
