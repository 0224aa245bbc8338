"""PyHipp's rules restated for the tests from their description (never imported from PyHipp,
whose code is not in this project): used by the unit and workflow tests of the fields."""

from __future__ import annotations

import numpy as np
from scipy import stats


def umaze_places(unity: dict) -> np.ndarray:
    """Umaze's place of every Unity row: scipy's 2-D binning of x and z on the edges
    -12.5, -11.875, ..., 12.5 (GridSteps 40 over OverallGridSize 25), ix + 40 * (iz - 1)."""
    data = np.asarray(unity["unityData"][0], dtype=np.float64)
    edges = np.arange(-12.5, 12.5 + 0.625, 0.625)
    ret = stats.binned_statistic_2d(
        data[:, 2], data[:, 3], None, "count", bins=(edges, edges), expand_binnumbers=True
    )
    return ret.binnumber[0] + 40 * (ret.binnumber[1] - 1)


def pyhipp_placebins(unity: dict, spike_s: np.ndarray) -> np.ndarray:
    """VMPlaceCell's counts re-derived spike by spike from the description of Umaze and
    VMPlaceCell (not from our code).

    A trial runs from its cue-offset frame's time to its end-marker frame's time. Its frames
    are the rows after the cue-offset row up to the end-marker row; frame k (k >= 1) starts
    at the cue-offset time plus ``unityTrialTime[k + 1]``. A trial whose frame durations
    (``unityData`` column 1, the rows after the cue-offset row and before the end-marker
    row) add up to zero counts no spike. A spike in a trial takes the place of the last
    frame starting at or before it; spikes at or before the first trial's cue offset, at
    or after the last trial's end, or between trials are not counted; places outside
    1..1600 neither (1601, the histogram's closed right edge, counts in the last bin)."""
    utime = np.asarray(unity["unityTime"][0], dtype=np.float64)
    data = np.asarray(unity["unityData"][0], dtype=np.float64)
    trig = np.asarray(unity["unityTriggers"][0]).astype(int)
    ttime = np.asarray(unity["unityTrialTime"][0], dtype=np.float64)
    gp = umaze_places(unity)
    first, last = utime[trig[0, 1] + 1], utime[trig[-1, 2] + 1]
    places = []
    for s in np.asarray(spike_s, dtype=np.float64):
        if not first < s < last:
            continue
        for a, (_, cue, end) in enumerate(trig):
            tstart, tend = utime[cue + 1], utime[end + 1]
            if not tstart <= s < tend:
                continue
            if data[cue + 1 : end, 1].sum() == 0:
                break
            place = gp[cue + 1]
            for k in range(1, end - cue):
                if min(tstart + ttime[k + 1, a], tend) <= s:
                    place = gp[cue + 1 + k]
            places.append(place)
            break
    places = np.array([p - 1 for p in places if p > 0])
    return np.histogram(places, bins=np.arange(1601))[0].reshape(-1, 1)
