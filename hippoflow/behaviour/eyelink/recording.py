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

    Times are absolute tracker times in ms, float64: samples that share one integer
    millisecond stamp (2000 Hz) get sub-millisecond times (see
    :func:`~hippoflow.behaviour.eyelink.asc.read_asc`), and ``edf2asc -ftime`` fractional
    stamps are kept.  ``gx``, ``gy`` (pixels, NaN when missing) and ``pupil`` are those of
    ``eye``, the eye used: the one asked for (``left`` by default, as PyHipp) when it was
    recorded, else the only recorded one.  ``fixations`` is float64 (n, 4): start, end,
    mean gx, mean gy; ``saccades`` and ``blinks`` are float64 (n, 2): start, end (``end``
    is the event's last sample, as the tracker reports it).  ``messages`` are (time,
    text).  ``blocks`` are the recording blocks (START time, END time; a block without END
    ends at its last sample).  ``file_start_ms`` is the first sample time of the whole
    file (PyHipp's ``expTime``), kept by ``split_navigation``; ``session_index``/
    ``n_sessions`` say which navigation session this is; ``bounds`` are the [T_k, T_k+1)
    limits used by the split.  ``notes`` are what the reader warned about (a block
    without END, an eye other than the one asked for, ...), one sentence each.
    """

    path: str
    samples_time: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    pupil: np.ndarray
    sampling_rate: float
    messages: list[tuple[float, str]]
    fixations: np.ndarray
    saccades: np.ndarray
    blinks: np.ndarray
    blocks: list[tuple[float, float]]
    eye: str = "left"
    format: str = ""
    header: list[str] = field(default_factory=list)
    file_start_ms: float | None = None
    session_index: int = 0
    n_sessions: int = 1
    bounds: tuple[float, float] = (-np.inf, np.inf)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.samples_time = np.asarray(self.samples_time, dtype=np.float64)
        self.saccades = np.asarray(self.saccades, dtype=np.float64).reshape(-1, 2)
        self.blinks = np.asarray(self.blinks, dtype=np.float64).reshape(-1, 2)
        if self.file_start_ms is None and len(self.samples_time):
            self.file_start_ms = float(self.samples_time[0])

    @property
    def label(self) -> str:
        """The file, plus the navigation session when this is one of several."""
        if self.n_sessions > 1 or self.session_index:
            return f"{self.path} (navigation session {self.session_index + 1} of {self.n_sessions})"
        return str(self.path)
