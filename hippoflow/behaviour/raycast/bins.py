"""Names of the maze objects the gaze bins belong to.

Inputs: bin ids of the numbering in :mod:`hippoflow.behaviour.maze`. Outputs: the object
name of each ('none', 'cue', 'hint', 'floor', 'ceiling', 'wall', 'pillar_<colour>').
"""

from __future__ import annotations

import numpy as np

from hippoflow.behaviour.maze import (
    CEILING0,
    CUE_BIN,
    FLOOR0,
    HINT_BIN,
    N_BINS,
    PILLAR0,
    PILLAR_BINS,
    PILLAR_NAMES,
    WALL0,
)


def _build_names() -> np.ndarray:
    names = np.empty(N_BINS + 1, dtype=object)
    names[0] = "none"
    names[CUE_BIN] = "cue"
    names[HINT_BIN] = "hint"
    names[FLOOR0:CEILING0] = "floor"
    names[CEILING0:WALL0] = "ceiling"
    names[WALL0:PILLAR0] = "wall"
    for p, colour in enumerate(PILLAR_NAMES):
        names[PILLAR0 + PILLAR_BINS * p : PILLAR0 + PILLAR_BINS * (p + 1)] = f"pillar_{colour}"
    return names


_NAMES = _build_names()


def object_name(bin_id) -> str:
    """Name of the object a bin belongs to: 'none', 'cue', 'hint', 'floor', 'ceiling',
    'wall', 'pillar_green', 'pillar_blue', 'pillar_red' or 'pillar_yellow'."""
    b = int(bin_id)
    if b < 0 or b > N_BINS:
        raise ValueError(f"object_name: bin id {b} outside 0..{N_BINS}")
    return _NAMES[b]


def object_names(bin_ids) -> np.ndarray:
    """:func:`object_name` of every bin id (object array); ids outside 0..N_BINS are
    clipped to the nearest end."""
    return _NAMES[np.clip(bin_ids, 0, N_BINS)]
