"""Trials from the session's parallel-port markers (RPLParallel), on the Ripple clock.

Input: RPLParallel's ``markers`` (N x 3 codes, or N x 2 for an old fixation stream) and
``timeStamps`` (s), and for navigation sessions Unity's ``dubiousTrials`` (1-based).  One row
per trial: ``start_time`` (column 0's time), ``cue_offset_time`` (column 1's; NaN in an
N x 2 table), ``stop_time`` (the last column's), the three codes, ``poster`` (the start
code's last digit, navigation: 1p), ``timeout`` (end code 4p) and ``dubious`` (Unity's
alignment flagged the trial).
"""

from __future__ import annotations

import numpy as np
from pynwb import NWBFile

from hippoflow.naming import is_fixation

TIMEOUT_TENS = 4  # end code 4p: the trial timed out (3p: the poster was reached)


def add_trials(nwbfile: NWBFile, rpl: dict, session: str, dubious=()) -> int:
    markers = np.asarray(rpl["markers"], dtype=np.int64)
    times = np.asarray(rpl["timeStamps"], dtype=np.float64)
    if markers.size == 0:
        return 0
    markers = markers.reshape(len(markers), -1)
    times = times.reshape(len(times), -1)
    fixation = is_fixation(session)
    nwbfile.add_trial_column(
        "cue_offset_time",
        "s: the second marker (navigation: cue offset 2p; fixation task: reward)",
    )
    for name, what in (("start_code", "first"), ("cue_code", "second"), ("end_code", "last")):
        nwbfile.add_trial_column(name, f"parallel-port code of the trial's {what} marker")
    nwbfile.add_trial_column(
        "poster", "poster number (the start code's last digit; 0 in the fixation task)"
    )
    nwbfile.add_trial_column("timeout", "the trial ended in a timeout (end code 4p)")
    nwbfile.add_trial_column(
        "dubious",
        "Unity's frame times disagreed with the Ripple markers by more than "
        "behaviour.align_threshold (Unity's dubiousTrials)",
    )
    bad = {int(t) - 1 for t in np.asarray(dubious, dtype=np.int64).ravel()}
    for i, (codes, t) in enumerate(zip(markers, times, strict=True)):
        nwbfile.add_trial(
            start_time=float(t[0]),
            stop_time=float(t[-1]),
            cue_offset_time=float(t[1]) if len(t) == 3 else float("nan"),
            start_code=int(codes[0]),
            cue_code=int(codes[1]) if len(codes) == 3 else 0,
            end_code=int(codes[-1]),
            poster=0 if fixation else int(codes[0]) % 10,
            timeout=bool(not fixation and int(codes[-1]) // 10 == TIMEOUT_TENS),
            dubious=i in bad,
        )
    return len(markers)
