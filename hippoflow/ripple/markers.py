"""RPLParallel: a session's parallel-port stream arranged into PyHipp's trial table.

Inputs: (code, time in s) events as :func:`hippoflow.ripple.nev.read_nev_events` returns
them. Outputs: the RPLParallel attributes (``markers``, ``timeStamps``, ``trialIndices``,
``rawMarkers``, ``sessionStartTime``, ``samplingRate``).
"""

from __future__ import annotations

import numpy as np

from hippoflow.errors import InputError
from hippoflow.naming import SESSION_START_CODES
from hippoflow.ripple.nsx import SAMPLING_RATE


def arrange_markers(raw_codes: np.ndarray, times: np.ndarray, path="<nev>") -> dict:
    """Arrange a parallel-port stream into PyHipp's RPLParallel attributes.

    Each code is followed by a 0; an optional leading 84 (or 204) marks session start.
    Trials are rows: (start 1p, cue offset 2p, end 3p / timeout 4p), or two columns for
    streams that do not start with a 1x, 2x pair.
    """
    raw_codes = np.asarray(raw_codes, dtype=np.int64)
    times = np.asarray(times, dtype=np.float64)
    if raw_codes.size == 0:
        raise InputError(f"{path}: no parallel-port events")
    if raw_codes.size % 2:
        raise InputError(
            f"{path}: marker stream ends with code {raw_codes[-1]} without its trailing 0 "
            f"(event {raw_codes.size - 1})"
        )
    nonzero_gaps = np.flatnonzero(raw_codes[1::2] != 0)
    if nonzero_gaps.size:
        i = 2 * int(nonzero_gaps[0]) + 1
        raise InputError(
            f"{path}: event {i} is code {raw_codes[i]} where the 0 after a code belongs"
        )
    zero_codes = np.flatnonzero(raw_codes[0::2] == 0)
    if zero_codes.size:
        raise InputError(f"{path}: event {2 * int(zero_codes[0])} is a 0 where a code belongs")
    codes = raw_codes[0::2]
    code_times = times[0::2]
    first = 0
    if codes[0] in SESSION_START_CODES:
        first = 1
    codes, code_times = codes[first:], code_times[first:]
    if codes.size == 0:
        raise InputError(f"{path}: no trial markers after the session-start marker")
    ncol = 3 if codes.size >= 2 and codes[0] // 10 == 1 and codes[1] // 10 == 2 else 2
    if codes.size % ncol:
        k = codes.size - codes.size % ncol
        raise InputError(
            f"{path}: {codes.size} trial markers do not fill rows of {ncol}: incomplete trial "
            f"starting at event {2 * (k + first)} (code {codes[k]})"
        )
    table = codes.reshape(-1, ncol)
    if ncol == 3:
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
        "markers": table.astype(np.float64),
        "timeStamps": time_table,
        "trialIndices": np.floor(time_table * SAMPLING_RATE).astype(np.float64),
        "rawMarkers": raw_codes.astype(np.float64),
        "sessionStartTime": float(times[0]),
        "samplingRate": float(SAMPLING_RATE),
    }
