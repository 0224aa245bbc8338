"""RPLParallel: a session's parallel-port stream arranged into PyHipp's trial table.

Inputs: (code, time in s) events as :func:`hippoflow.ripple.nev.read_nev_events` returns
them. Outputs: the RPLParallel attributes (``markers``, ``timeStamps``, ``trialIndices``,
``rawMarkers``, ``sessionStartTime``, ``samplingRate``) with PyHipp's types, and DPT's
bookkeeping keys.

Types, as PyHipp stores them (the port is 16 bits wide): ``markers`` (N x k) and
``rawMarkers`` (the whole stream, codes and their 0s) ``uint16``; ``timeStamps`` float64 s;
``trialIndices`` ``int64``; ``samplingRate`` the int 30000; ``sessionStartTime`` float s.
Bookkeeping: ``numSets`` 1, ``setidx`` one 0 per trial (row of ``markers``), ``plotopts``
``{"indexer": "session"}`` and ``current_idx`` None, as DataProcessingTools' ``create``
sets them.  (PyHipp's RPLParallel left ``setidx`` empty; one entry per trial is what DPT's
level indexer reads, as for the Unity and Eyelink objects.)

Arrangement (PyHipp's rule, which made the lab's existing files): each code is followed
by a 0.

* First code 84 or 204: the session-start marker; the pair is dropped and the remaining
  codes form N x 3 rows (trial start 1p, cue offset 2p, end 3p / timeout 4p).
* No session marker: N x 3 when the first code is > 1 (navigation codes), or when the first
  code is 1 and the second is 2 (the fixation task's 1, 2, x triplets); otherwise N x 2.

A navigation table (session marker, or a first code of 10 or more) must hold 1x, 2x and
3x/4x codes in its three columns.  A stream that cannot be arranged (odd length, a
non-zero where a 0 belongs, a 0 where a code belongs, a code beyond 16 bits, an incomplete
last row) is an :class:`~hippoflow.errors.InputError` naming the file and the event
position (0-based index in the raw stream).
"""

from __future__ import annotations

import numpy as np

from hippoflow.dpt import bookkeeping
from hippoflow.errors import InputError
from hippoflow.naming import SESSION_START_CODES
from hippoflow.ripple.nsx import SAMPLING_RATE

LEVEL = "session"  # DPT level of the RPLParallel object
PORT_MAX = np.iinfo(np.uint16).max  # the parallel port's 16 bits


def table_columns(codes: np.ndarray, has_session_marker: bool) -> int:
    """Columns of the trial table for the codes after any session marker (PyHipp's rule)."""
    if has_session_marker or codes[0] > 1:
        return 3
    if codes.size >= 2 and codes[1] == 2:
        return 3
    return 2


def arrange_markers(raw_codes, times, path="<nev>") -> dict:
    """Arrange a parallel-port stream into PyHipp's RPLParallel attributes (module doc)."""
    raw = np.asarray(raw_codes).astype(np.int64).ravel()
    times = np.asarray(times, dtype=np.float64).ravel()
    if raw.size != times.size:
        raise InputError(f"{path}: {raw.size} marker codes but {times.size} event times")
    if raw.size == 0:
        raise InputError(f"{path}: no parallel-port events")
    out_of_range = np.flatnonzero((raw < 0) | (raw > PORT_MAX))
    if out_of_range.size:
        i = int(out_of_range[0])
        raise InputError(
            f"{path}: event {i} has code {raw[i]}, outside the 16-bit parallel port (0-{PORT_MAX})"
        )
    if raw.size % 2:
        raise InputError(
            f"{path}: marker stream ends with code {raw[-1]} without its trailing 0 "
            f"(event {raw.size - 1})"
        )
    nonzero_gaps = np.flatnonzero(raw[1::2] != 0)
    if nonzero_gaps.size:
        i = 2 * int(nonzero_gaps[0]) + 1
        raise InputError(f"{path}: event {i} is code {raw[i]} where the 0 after a code belongs")
    zero_codes = np.flatnonzero(raw[0::2] == 0)
    if zero_codes.size:
        raise InputError(f"{path}: event {2 * int(zero_codes[0])} is a 0 where a code belongs")
    codes = raw[0::2]
    code_times = times[0::2]
    has_start = bool(codes[0] in SESSION_START_CODES)
    first = 1 if has_start else 0
    codes, code_times = codes[first:], code_times[first:]
    if codes.size == 0:
        raise InputError(f"{path}: no trial markers after the session-start marker")
    ncol = table_columns(codes, has_start)
    if codes.size % ncol:
        k = codes.size - codes.size % ncol
        raise InputError(
            f"{path}: {codes.size} trial markers do not fill rows of {ncol}: incomplete trial "
            f"starting at event {2 * (k + first)} (code {codes[k]})"
        )
    table = codes.reshape(-1, ncol)
    if ncol == 3 and (has_start or codes[0] >= 10):
        expect = ((1,), (2,), (3, 4))
        for col, allowed in enumerate(expect):
            bad = np.flatnonzero(~np.isin(table[:, col] // 10, allowed))
            if bad.size:
                r = int(bad[0])
                ev = 2 * (r * ncol + col + first)
                raise InputError(
                    f"{path}: trial {r + 1} has code {table[r, col]} at event {ev} where a "
                    f"{'/'.join(f'{a}x' for a in allowed)} code belongs"
                )
    time_table = code_times.reshape(-1, ncol)
    return {
        "markers": table.astype(np.uint16),
        "timeStamps": time_table,
        "trialIndices": np.floor(time_table * SAMPLING_RATE).astype(np.int64),
        "rawMarkers": raw.astype(np.uint16),
        "sessionStartTime": float(times[0]),
        "samplingRate": int(SAMPLING_RATE),
        **bookkeeping(LEVEL, n_items=table.shape[0]),
    }
