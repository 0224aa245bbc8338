"""PyHipp's rules restated for the tests from their description (never imported from PyHipp,
whose code is not in this project): used by the unit and workflow tests of the fields."""

from __future__ import annotations

import numpy as np


def pyhipp_placebins(unity: dict, spike_s: np.ndarray) -> np.ndarray:
    """VMPlaceCell's counts re-derived from its description (not from our code).

    Umaze's sessionTime: a first row of zeros; per trial, a row (time of the cue-offset
    frame, place of the first frame after it), a row at each change of place (the trial
    time of the changing frame, i.e. its own frame time, and the new place), and a row
    (end-marker frame time, place 0). VMPlaceCell keeps spikes after the second row's time
    and before the last row's, digitizes them on the first column, takes the place column
    of the row found, drops place 0 and histograms place - 1 into 1600 bins.
    """
    utime = unity["unityTime"][0]
    trig = unity["unityTriggers"][0]
    gp = unity["gridPosition"][0]
    rows = [(0.0, 0)]
    for _, cue, end in trig:
        frames = np.arange(cue + 1, end + 1)
        tgp = gp[frames]
        rows.append((utime[cue + 1], tgp[0]))
        for i in range(frames.size - 1):
            if tgp[i + 1] != tgp[i]:
                rows.append((utime[frames[i + 1] + 1], tgp[i + 1]))
        rows.append((utime[end + 1], 0))
    st = np.array(rows, dtype=np.float64)
    edges = st[:, 0]
    s = spike_s[(spike_s > edges[1]) & (spike_s < edges[-1])]
    place = st[np.digitize(s, edges) - 1, 1]
    place = place[place > 0] - 1
    return np.histogram(place, bins=np.arange(1601))[0].reshape(-1, 1)
