"""The in-memory EyeLink recording shared by the readers, EDFSplit and the Eyelink object.

Inputs: none (a data class).  Outputs: :class:`Recording`, built per file by the readers
(:mod:`~hippoflow.behaviour.eyelink.edf`, :mod:`~hippoflow.behaviour.eyelink.asc`), cut
per navigation session by :mod:`~hippoflow.behaviour.eyelink.sessions` and turned into
the Eyelink object by :mod:`~hippoflow.behaviour.eyelink.objects`; and ``CHUNK``, the
number of samples both readers buffer in lists before converting them to arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CHUNK = 1 << 18  # samples parsed into Python lists before converting to arrays


@dataclass
class Recording:
    """One EyeLink recording (a whole file, or one navigation session of it).

    Times are absolute tracker times in ms.  ``gx``, ``gy`` (pixels, NaN when missing) and
    ``pupil`` are the left eye's (the right eye's in a right-eye-only recording).
    ``fixations`` is float64 (n, 4): start, end, mean gx, mean gy; ``saccades`` and
    ``blinks`` are int64 (n, 2): start, end (``end`` is the event's last sample, as the
    tracker reports it).  ``blocks`` are the recording blocks (START time, END time).
    ``file_start_ms`` is the first sample time of the whole file (PyHipp's ``expTime``),
    kept by ``split_navigation``; ``session_index``/``n_sessions`` say which navigation
    session this is; ``bounds`` are the [T_k, T_k+1) limits used by the split.
    """

    path: str
    samples_time: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    pupil: np.ndarray
    sampling_rate: float
    messages: list[tuple[int, str]]
    fixations: np.ndarray
    saccades: np.ndarray
    blinks: np.ndarray
    blocks: list[tuple[int, int]]
    eye: str = "left"
    format: str = ""
    header: list[str] = field(default_factory=list)
    file_start_ms: int | None = None
    session_index: int = 0
    n_sessions: int = 1
    bounds: tuple[float, float] = (-np.inf, np.inf)

    def __post_init__(self):
        if self.file_start_ms is None and len(self.samples_time):
            self.file_start_ms = int(self.samples_time[0])

    @property
    def label(self) -> str:
        """The file, plus the navigation session when this is one of several."""
        if self.n_sessions > 1 or self.session_index:
            return f"{self.path} (navigation session {self.session_index + 1} of {self.n_sessions})"
        return str(self.path)
