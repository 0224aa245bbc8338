"""EyeLink sessions and trials: EDFSplit, trial messages, and their match to Ripple.

Inputs: a :class:`~hippoflow.behaviour.eyelink.recording.Recording` (a whole file, or one
navigation session of it) and, for the reconciliation, the session's Ripple markers and
times (``rplparallel`` ``markers``/``timeStamps``).  Outputs:

* :func:`trigger_times` (session-start ``EYELINK_TRIGGER`` messages) and
  :func:`split_navigation` (EDFSplit: one Recording per navigation session);
* :func:`navigation_trial_messages`, :func:`fixation_trial_messages` and
  :func:`reward_times` (trial and reward messages, tracker ms), and
  :func:`fixation_roles` (what each Ripple code of the fixation session marks);
* :func:`reconcile` (EyeLink messages matched in order to the Ripple markers, missing ones
  filled; the order-preserving match itself is :func:`_align_dp`);
* :func:`write_missing_csv` (``missingData.csv``, columns ``MISSING_CSV_COLUMNS``).

Messages keep their text exactly as recorded (surrounding whitespace stripped).  Trial
messages may carry an EyeLink time offset (``MSG 1000 -5 Start Trial 13`` means 1005 ms);
that is interpreted only for the named navigation messages and ``EYELINK_TRIGGER``
(``Trigger Version 84``).  The fixation task's ``1  0  0  0  0  0  0  0`` style messages
are matched by their whole 8-digit pattern and never read as an offset.

The fixation session (``sessioneye``) is matched by what each marker *marks*, not by its
code: its EyeLink messages need not spell the Ripple code.  The lab's Ripple stream holds
the task's 1, 2, x triplets (trial start 1, reward 2, trial end x; RPLParallel arranges
them N x 3), and its EyeLink file marks a trial's start with ``1  0  0  0  0  0  0  0``
and its reward and end with the next two 8-digit messages: PyHipp's Eyelink reads the
trial start by that pattern and the reward and end as the two other 8-digit messages of
the trial (its ``trial_timestamps`` columns start, reward, end).  An older stream of 1, 2
pairs (start, end) is matched as start and trial end (the last 8-digit message of the
trial), its other 8-digit messages being rewards.
"""

from __future__ import annotations

import csv
import re
from dataclasses import replace

import numpy as np

from hippoflow.atomic import atomic_output
from hippoflow.behaviour.eyelink.recording import Recording
from hippoflow.errors import InputError
from hippoflow.naming import EYELINK_TRIGGER

MESSAGE_TYPE = 24  # edfapi MESSAGEEVENT: the "Type" column of missingData.csv
MISSING_CSV_COLUMNS = ["Type", "Timestamps", "Messages", "Session", "Trial", "Event"]

_KINDS = {"Start Trial": 0, "Cue Offset": 1, "End Trial": 2, "Timeout": 2}
_TRIAL_RE = re.compile(r"^(?:(-?\d+)\s+)?(Start Trial|Cue Offset|End Trial|Timeout)\s+(\d+)$")
_TRIGGER_RE = re.compile(r"^(?:(-?\d+)\s+)?" + re.escape(EYELINK_TRIGGER) + "$")
_EIGHT_RE = re.compile(r"^[0-9](?:\s+[0-9]){7}$")
_FIX_START_RE = re.compile(r"^1(?:\s+0){7}$")

# What a fixation-session marker marks (the codes the reconciliation matches for it)
FIX_START, FIX_REWARD, FIX_END, FIX_OTHER = 0, 1, 2, 3
FIX_REWARD_OR_END = -1  # an EyeLink message that may be either (the trial's only other one)
FIX_ROLE_NAMES = {FIX_START: "start", FIX_REWARD: "reward", FIX_END: "end", FIX_OTHER: "other"}
FIXATION_START_CODE = 1  # the Ripple code of a fixation trial's start


# ---------------------------------------------------------------------------------------
# EDFSplit


def trigger_times(rec: Recording) -> list[int]:
    """Times (ms) of the ``EYELINK_TRIGGER`` session-start messages, offset applied."""
    out = []
    for t, text in rec.messages:
        m = _TRIGGER_RE.match(text)
        if m:
            out.append(t - int(m.group(1) or 0))
    return out


def _slice(rec: Recording, lo: float, hi: float, k: int, n: int) -> Recording:
    st = rec.samples_time
    i0, i1 = np.searchsorted(st, lo, "left"), np.searchsorted(st, hi, "left")

    def overlapping(ev):
        if not len(ev):
            return ev
        keep = (ev[:, 0] < hi) & (ev[:, 1] >= lo)
        return ev[keep]

    return replace(
        rec,
        samples_time=st[i0:i1],
        gx=rec.gx[i0:i1],
        gy=rec.gy[i0:i1],
        pupil=rec.pupil[i0:i1],
        messages=[(t, s) for t, s in rec.messages if lo <= t < hi],
        fixations=overlapping(rec.fixations),
        saccades=overlapping(rec.saccades),
        blinks=overlapping(rec.blinks),
        blocks=[(a, b) for a, b in rec.blocks if a < hi and b >= lo],
        file_start_ms=rec.file_start_ms,
        session_index=k,
        n_sessions=n,
        bounds=(lo, hi),
    )


def split_navigation(rec: Recording, n_sessions: int | None = None) -> list[Recording]:
    """EDFSplit: one Recording per navigation session.

    Sessions start at each ``EYELINK_TRIGGER`` message T_k; session k keeps the samples
    and messages with time in [T_k, T_k+1) (T_1 taken as -inf, i.e. everything before the
    first trigger belongs to session 1; the last bound is open) and the fixations, saccades,
    blinks and recording blocks that overlap that interval (not clipped).  A file without
    any trigger is one session.  ``n_sessions`` (the number of navigation session folders)
    must equal the number found, else InputError naming both counts.
    """
    trig = trigger_times(rec)
    found = max(len(trig), 1)
    if n_sessions is not None and found != n_sessions:
        raise InputError(
            f"{rec.path}: {len(trig)} '{EYELINK_TRIGGER}' session-start messages but "
            f"{n_sessions} navigation sessions expected"
        )
    if len(trig) > 1 and np.any(np.diff(trig) <= 0):
        raise InputError(f"{rec.path}: '{EYELINK_TRIGGER}' messages are not in time order: {trig}")
    bounds = [-np.inf] + list(map(float, trig[1:])) + [np.inf]
    return [_slice(rec, bounds[k], bounds[k + 1], k, found) for k in range(found)]


# ---------------------------------------------------------------------------------------
# Trial messages and their reconciliation with the Ripple markers


def navigation_trial_messages(rec: Recording) -> list[tuple[float, int, int, str]]:
    """(time ms, column 0/1/2, code, text) of each Start/Cue/End/Timeout message in order."""
    out = []
    for t, text in rec.messages:
        m = _TRIAL_RE.match(text)
        if m:
            off = int(m.group(1) or 0)
            out.append((float(t - off), _KINDS[m.group(2)], int(m.group(3)), text))
    return out


def _fixation_trials(rec: Recording) -> list[tuple[tuple[float, str], list[tuple[float, str]]]]:
    """(start message, the other 8-digit messages up to the next start) per trial."""
    trials: list = []
    for t, s in rec.messages:
        if not _EIGHT_RE.match(s):
            continue
        if _FIX_START_RE.match(s):
            trials.append(((float(t), s), []))
        elif trials:  # 8-digit messages before the first trial start are not trial markers
            trials[-1][1].append((float(t), s))
    return trials


def fixation_trial_messages(
    rec: Recording, with_reward: bool = False
) -> list[tuple[float, int, int, str]]:
    """(time ms, column, role, text) of the fixation task's trial messages, in order.

    A trial starts at a message matching ``1  0  0  0  0  0  0  0`` as a whole (role
    ``FIX_START``, column 0).  ``with_reward`` (the Ripple stream holds start, reward, end
    triplets): the first other 8-digit message of the trial is its reward (``FIX_REWARD``,
    column 1) and the last its end (``FIX_END``, column 2), as PyHipp reads them; a trial
    with a single other message (the other one lost) has it as ``FIX_REWARD_OR_END``, which
    :func:`reconcile` places by its timing.  Without: the last other 8-digit message
    of the trial is its end (``FIX_END``, column 1) and the ones before it are rewards, not
    trial markers.  The role is what :func:`reconcile` matches with :func:`fixation_roles`.
    """
    out = []
    for (t0, s0), others in _fixation_trials(rec):
        out.append((t0, 0, FIX_START, s0))
        if with_reward and len(others) == 1:
            out.append((others[0][0], 2, FIX_REWARD_OR_END, others[0][1]))
            continue
        if with_reward and len(others) >= 2:
            out.append((others[0][0], 1, FIX_REWARD, others[0][1]))
        if others:
            out.append((others[-1][0], 2 if with_reward else 1, FIX_END, others[-1][1]))
    return out


def reward_times(rec: Recording) -> np.ndarray:
    """Times (ms) of the fixation task's 8-digit messages other than trial starts and ends
    (the rewards: the first other message of a trial with two or more)."""
    return np.array(
        [t for _, others in _fixation_trials(rec) for t, _ in others[:-1]], dtype=np.float64
    )


def fixation_roles(codes) -> np.ndarray:
    """What each Ripple code of a fixation session marks, in the table's shape.

    The stream is read in order (the table flattened): a ``FIXATION_START_CODE`` (1) starts
    a trial; of the codes after it, up to the next start, the last is the trial end and,
    when there are two or more, the first is the reward (the 1, 2, x triplets: start,
    reward, end; 1, 2 pairs: start, end), any between them ``FIX_OTHER``.  This holds
    however RPLParallel arranged the stream (pairs of a stream that begins 1, 2 come as
    N x 3 rows, as in PyHipp).
    """
    table = np.rint(np.asarray(codes, dtype=np.float64)).astype(np.int64)
    flat = table.ravel()
    roles = np.full(flat.size, FIX_OTHER, dtype=np.int64)
    starts = np.flatnonzero(flat == FIXATION_START_CODE)
    bounds = [0, *starts.tolist(), flat.size]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b <= a:
            continue
        rest = a + 1 if flat[a] == FIXATION_START_CODE else a
        if rest > a:
            roles[a] = FIX_START
        if b > rest:
            roles[b - 1] = FIX_END
            if b - rest >= 2:
                roles[rest] = FIX_REWARD
    return roles.reshape(table.shape)


def fixation_has_reward(roles) -> bool:
    """Whether the Ripple fixation stream marks rewards (start, reward, end triplets)."""
    return bool(np.any(np.asarray(roles) == FIX_REWARD))


def _codes_match(r_codes: np.ndarray, e_code: int) -> np.ndarray:
    """Which Ripple slots an EyeLink event may take: equal code (``FIX_REWARD_OR_END``
    takes a fixation reward or end slot)."""
    if e_code == FIX_REWARD_OR_END:
        return (r_codes == FIX_REWARD) | (r_codes == FIX_END)
    return r_codes == e_code


def _align_dp(e_codes, e_t, r_codes, r_t, anchor_cost) -> tuple[np.ndarray, float]:
    """Order-preserving match of EyeLink events to Ripple slots with equal codes.

    Minimises the summed |EyeLink interval - Ripple interval| between consecutive matched
    events (ms).  Returns slot index per EyeLink event and the cost (inf if impossible).
    """
    m, n = len(e_codes), len(r_codes)
    D = n - m
    ds = np.arange(D + 1)
    cost = np.where(_codes_match(r_codes[ds], e_codes[0]), anchor_cost(ds), np.inf)
    if not np.isfinite(cost).any():
        return np.full(m, -1), 0.0
    back = np.zeros((m, D + 1), dtype=np.int64)
    for j in range(1, m):
        slots = j + ds  # slot of event j for each d
        ok = _codes_match(r_codes[slots], e_codes[j])
        de = e_t[j] - e_t[j - 1]
        dr = r_t[slots][:, None] - r_t[j - 1 + ds][None, :]  # [d, d']
        step = cost[None, :] + np.abs(de - dr)
        step[ds[:, None] < ds[None, :]] = np.inf  # d' <= d
        best = np.argmin(step, axis=1)
        new = step[ds, best]
        new[~ok] = np.inf
        back[j] = best
        cost = new
        if not np.isfinite(cost).any():
            return np.full(m, -1), float(j)  # j: first event without a consistent slot
    d = int(np.argmin(cost))
    total = float(cost[d])
    slot = np.empty(m, dtype=np.int64)
    for j in range(m - 1, -1, -1):
        slot[j] = j + d
        d = int(back[j, d])
    return slot, total


def reconcile(
    eye_events,
    ripple_markers,
    ripple_times,
    *,
    label: str,
    eye_anchor_ms: float | None = None,
    ripple_anchor_s: float | None = None,
    tolerance_s: float = 0.5,
    max_missing: int = 300,
) -> dict:
    """Match EyeLink trial messages to the Ripple markers; fill what EyeLink lacks.

    ``eye_events``: (time ms, column, code, text) from :func:`navigation_trial_messages` or
    :func:`fixation_trial_messages`.  The Ripple markers (N x k codes, times in s) are
    flattened (start, cue, end, start, ...); the EyeLink messages are placed in that
    sequence in order, by equal code, where their intervals disagree least with Ripple's:
    missing EyeLink messages (whole trials included) fall where the gaps disagree most.
    A missing time is filled from the nearest matched message plus the Ripple interval
    (scaled by the clock ratio fitted on the matched messages).  Any remaining interval
    disagreement above ``tolerance_s`` between consecutive EyeLink messages is an error.

    Returns dict: ``times_ms`` (N x k EyeLink-clock times, filled ones included),
    ``matched`` (N x k bool), ``discrepancies`` (N x k s, |Ripple - EyeLink| for the
    intervals previous end->start (first row: session start->start when both anchors are
    known, else 0), start->cue, cue->end), ``clock_ratio`` (EyeLink ms per Ripple ms) and
    ``missing`` (list of (row, column) of filled slots).
    """
    codes = np.rint(np.asarray(ripple_markers, dtype=np.float64)).astype(np.int64)
    rt = np.asarray(ripple_times, dtype=np.float64) * 1000.0
    if codes.ndim != 2 or codes.shape != rt.shape:
        raise InputError(
            f"{label}: Ripple markers {codes.shape} and times {rt.shape} are not N x k tables"
        )
    N, k = codes.shape
    r_codes, r_t = codes.ravel(), rt.ravel()
    n = r_codes.size
    m = len(eye_events)
    if m > n:
        raise InputError(
            f"{label}: {m} EyeLink trial messages but only {n} Ripple markers "
            f"({N} trials): EyeLink has messages Ripple lacks"
        )
    if m == 0:
        raise InputError(f"{label}: no EyeLink trial messages to match {N} Ripple trials")
    if n - m > max_missing:
        raise InputError(
            f"{label}: {n - m} of {n} trial messages missing from EyeLink (more than "
            f"{max_missing}): not the recording of this session?"
        )
    e_t = np.array([e[0] for e in eye_events], dtype=np.float64)
    e_codes = np.array([e[2] for e in eye_events], dtype=np.int64)
    if eye_anchor_ms is not None and ripple_anchor_s is not None:
        a_e, a_r = float(eye_anchor_ms), float(ripple_anchor_s) * 1000.0

        def anchor_cost(ds):
            return np.abs((e_t[0] - a_e) - (r_t[ds] - a_r))
    else:

        def anchor_cost(ds):
            return np.zeros(ds.shape)

    slot, total = _align_dp(e_codes, e_t, r_codes, r_t, anchor_cost)
    if not np.isfinite(total) or slot[0] < 0:
        j = int(total) if np.isfinite(total) else 0
        t, _, c, text = eye_events[j]
        raise InputError(
            f"{label}: EyeLink trial messages cannot be matched to the Ripple markers in "
            f"order: message {j + 1} of {m} ({text!r} at {t:.0f} ms, code {c}) has no "
            f"Ripple marker left with that code ({m} EyeLink messages, {n} Ripple markers)"
        )
    # consecutive matched intervals must agree with Ripple
    if m > 1:
        d_int = np.abs(np.diff(e_t) - np.diff(r_t[slot]))
        bad = np.flatnonzero(d_int > tolerance_s * 1000.0)
        if bad.size:
            j = int(bad[np.argmax(d_int[bad])])
            row = int(slot[j + 1] // k) + 1
            raise InputError(
                f"{label}: EyeLink and Ripple disagree by {d_int[j] / 1000:.3f} s (tolerance "
                f"{tolerance_s} s) on the interval ending at trial {row}: EyeLink "
                f"{(e_t[j + 1] - e_t[j]) / 1000:.3f} s between {eye_events[j][3]!r} and "
                f"{eye_events[j + 1][3]!r}, Ripple {(r_t[slot[j + 1]] - r_t[slot[j]]) / 1000:.3f} s"
            )
    matched = np.zeros(n, dtype=bool)
    matched[slot] = True
    times = np.full(n, np.nan)
    times[slot] = e_t
    if m >= 2 and r_t[slot[-1]] > r_t[slot[0]]:
        ratio = float(np.polyfit(r_t[slot], e_t, 1)[0])
    else:
        ratio = 1.0
    idx = np.flatnonzero(matched)
    for i in np.flatnonzero(~matched):
        pos = np.searchsorted(idx, i)
        cands = [idx[p] for p in (pos - 1, pos) if 0 <= p < idx.size]
        ref = min(cands, key=lambda q: (abs(r_t[q] - r_t[i]), q > i))
        times[i] = times[ref] + ratio * (r_t[i] - r_t[ref])
    tt = times.reshape(N, k)
    disc = np.zeros((N, k))
    disc[1:, 0] = np.abs((rt[1:, 0] - rt[:-1, -1]) - (tt[1:, 0] - tt[:-1, -1])) / 1000.0
    if eye_anchor_ms is not None and ripple_anchor_s is not None:
        disc[0, 0] = abs((rt[0, 0] - ripple_anchor_s * 1000.0) - (tt[0, 0] - eye_anchor_ms)) / 1000
    disc[:, 1:] = np.abs(np.diff(rt, axis=1) - np.diff(tt, axis=1)) / 1000.0
    missing = [(int(i // k), int(i % k)) for i in np.flatnonzero(~matched)]
    return {
        "times_ms": tt,
        "matched": matched.reshape(N, k),
        "discrepancies": disc,
        "clock_ratio": ratio,
        "missing": missing,
    }


def write_missing_csv(path, rows) -> None:
    """missingData.csv (header always written, even with no rows), atomically."""
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MISSING_CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)
