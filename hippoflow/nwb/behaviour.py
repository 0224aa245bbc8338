"""Behaviour (``processing/behavior``): Unity position and heading, EyeLink gaze and pupil,
fixations and saccades, and the raycast's central-ray hit object per gaze sample.

Inputs, all on the Ripple clock after the workflow's alignment:

- Unity (``unity_71bf.hkl``): ``unityData`` rows (marker, deltaTime, x, z, yaw, ...) at
  ``unityTime[1:]`` (``unityTime[0]`` is the session-start frame's moment): ``Position``
  (x, z) and ``CompassDirection`` (yaw, degrees);
- EyeLink (``eyelink_24d5.hkl``): gaze ``eye_pos`` (``calib_eye_pos`` in the fixation
  session) at ``timestamps``: ``EyeTracking``; ``fix_times`` (``calib_fix_times``):
  the ``fixations`` table;
- the day's EDFSplit (``edfsplit_c1fa.hkl``, navigation sessions): the session's rows of
  ``samples`` give the pupil area (``PupilTracking``; checked to be the rows of the session's
  gaze where the EyeLink object kept it), and its saccade events, moved from the tracker clock onto the Ripple clock through
  the session's (tracker time, aligned time) sample pairs, the ``saccades`` table (the
  EyeLink object keeps only their durations);
- the raycast (``unityfile_eyelink.csv``): per gaze sample the central ray's hit object and
  point: the ``raycast`` table.

Each is cropped to the session's recording span (``span``: 0 to the end of the session's
Ripple recording), with the number of samples left out in the series' description: the
day's EDFSplit keeps PyHipp's rule for the ``.hkl`` objects, under which a session's EyeLink
block may run past the end of its recording (up to the next session's trigger).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hdmf.common import DynamicTable, VectorData
from pynwb import NWBFile, TimeSeries
from pynwb.behavior import (
    CompassDirection,
    EyeTracking,
    Position,
    PupilTracking,
    SpatialSeries,
)
from pynwb.epoch import TimeIntervals

from hippoflow.errors import InputError
from hippoflow.naming import is_fixation

SCREEN = "screen pixels, (0, 0) at the top left of the 1920 x 1080 display"
MAZE = "Unity world coordinates of the maze floor (x, z); 1 Unity unit = 1 m by Unity's convention"


def _module(nwbfile: NWBFile):
    if "behavior" in nwbfile.processing:
        return nwbfile.processing["behavior"]
    return nwbfile.create_processing_module("behavior", "behaviour on the Ripple clock")


def _inside(times, span) -> np.ndarray:
    """Mask of the times within ``span`` (start, end) seconds; all when ``span`` is None."""
    times = np.asarray(times, dtype=np.float64)
    if span is None:
        return np.ones(times.shape, dtype=bool)
    return (times >= span[0]) & (times <= span[1])


def _cropped(kept: np.ndarray, span, what: str) -> str:
    """The description's note of a cropping ('' when nothing was left out)."""
    left = int(kept.size - np.count_nonzero(kept))
    if not left:
        return ""
    return (
        f"; {left} {what} outside the session's recording ({span[0]:g} to {span[1]:.3f} s) left out"
    )


def _one(v):
    """PyHipp's one-element lists hold the value."""
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def add_unity(nwbfile: NWBFile, unity: dict, path="unity", span=None) -> int:
    data = np.asarray(_one(unity["unityData"]), dtype=np.float64)
    time = np.asarray(_one(unity["unityTime"]), dtype=np.float64).ravel()
    if data.ndim != 2 or time.size != len(data) + 1:
        raise InputError(
            f"{path}: unityData has {len(data)} rows but unityTime {time.size} times "
            "(expected rows + 1)"
        )
    keep = _inside(time[1:], span)
    t, data = time[1:][keep], data[keep]
    module = _module(nwbfile)
    position = SpatialSeries(
        name="position",
        data=data[:, 2:4],
        timestamps=t,
        reference_frame=MAZE,
        unit="meters",
        description="subject's position in the virtual maze, one sample per Unity frame"
        + _cropped(keep, span, "frames"),
    )
    module.add(Position(spatial_series=position))
    heading = SpatialSeries(
        name="heading",
        data=data[:, 4],
        timestamps=position,
        reference_frame="Unity yaw, degrees clockwise from the maze's +z axis",
        unit="degrees",
        description="subject's heading (yaw) in the virtual maze, per Unity frame",
    )
    module.add(CompassDirection(spatial_series=heading))
    return len(data)


def add_eyelink(
    nwbfile: NWBFile, eyelink: dict, session: str, edfsplit=None, path="eyelink", span=None
):
    """Gaze, fixations and (navigation, from ``edfsplit``) pupil and saccades."""
    fixation = is_fixation(session)
    gaze = eyelink["calib_eye_pos" if fixation else "eye_pos"]
    times = np.asarray(eyelink["timestamps"], dtype=np.float64).ravel()
    xy = np.asarray(gaze, dtype=np.float64)
    if len(xy) != times.size:
        raise InputError(f"{path}: {len(xy)} gaze samples but {times.size} timestamps")
    keep = _inside(times, span)
    note = _cropped(keep, span, "samples")
    module = _module(nwbfile)
    eye = str(eyelink.get("eye", "left"))
    gaze_series = None
    if np.any(keep):
        gaze_series = SpatialSeries(
            name="gaze",
            data=xy[keep],
            timestamps=times[keep],
            reference_frame=SCREEN,
            unit="pixels",
            description=f"EyeLink gaze of the {eye} eye (NaN while the eye was lost)" + note,
        )
        module.add(EyeTracking(spatial_series=gaze_series))
    fix = np.asarray(eyelink["calib_fix_times" if fixation else "fix_times"], np.float64)
    if fix.size:
        fix = fix[_inside(fix[:, 0], span)]
    if fix.size:
        table = TimeIntervals(name="fixations", description=f"EyeLink fixations ({eye} eye)")
        for start, stop in fix[:, :2]:
            table.add_interval(start_time=float(start), stop_time=float(stop))
        nwbfile.add_time_intervals(table)
    if edfsplit is not None and gaze_series is not None:
        _add_pupil_and_saccades(nwbfile, module, edfsplit, session, eye, xy, keep, gaze_series)
    return int(np.count_nonzero(keep))


def _add_pupil_and_saccades(nwbfile, module, edfsplit, session, eye, xy, keep, gaze_series):
    rows = edfsplit["sessions"][session]["samples"]
    samples = edfsplit["samples"].iloc[int(rows[0]) : int(rows[1])]
    gx = samples[f"gx_{eye}"].to_numpy(np.float64)
    seen = np.isfinite(xy[:, 0])  # the EyeLink object blanks off-screen gaze
    if gx.size != len(xy) or not np.array_equal(gx[seen], xy[seen, 0]):
        raise InputError(
            f"{edfsplit.get('source', 'edfsplit')}: {session}'s rows of the samples are not "
            "the EyeLink object's gaze samples (was the EDFSplit object remade?)"
        )
    samples = samples[keep]
    pupil = TimeSeries(
        name="pupil_area",
        data=samples[f"pa_{eye}"].to_numpy(np.float64),
        timestamps=gaze_series,
        unit="a.u.",
        description=f"EyeLink pupil area of the {eye} eye (tracker units)",
    )
    module.add(PupilTracking(time_series=pupil))
    tracker = samples["time"].to_numpy(np.float64)  # ms, tracker clock
    ripple = np.asarray(gaze_series.timestamps, np.float64)
    ev = edfsplit["events"]
    sac = ev[(ev["type"] == "saccade") & (ev["start"] >= tracker[0]) & (ev["end"] <= tracker[-1])]
    if len(sac):
        table = TimeIntervals(
            name="saccades",
            description=f"EyeLink saccades ({eye} eye), moved onto the Ripple clock",
        )
        starts = np.interp(sac["start"].to_numpy(np.float64), tracker, ripple)
        stops = np.interp(sac["end"].to_numpy(np.float64), tracker, ripple)
        for a, b in zip(starts, stops, strict=True):
            table.add_interval(start_time=float(a), stop_time=float(b))
        nwbfile.add_time_intervals(table)


def add_raycast(nwbfile: NWBFile, csv_path, span=None) -> int:
    frame = pd.read_csv(csv_path, dtype={"object": str})
    frame = frame[frame["type"] == "SAMPLE"]
    keep = _inside(frame["time"].to_numpy(np.float64), span)
    frame = frame[keep]
    n = len(frame)
    cols = [
        VectorData(
            name="timestamp",
            description="s, Ripple clock: the gaze sample's time",
            data=frame["time"].to_numpy(np.float64),
        ),
        VectorData(
            name="object",
            description=(
                "maze object hit by the central ray through the gaze point ('ignored': off "
                "screen or in a mis-timed segment)"
            ),
            data=frame["object"].fillna("").astype(str).tolist(),
        ),
    ]
    for axis in "xyz":
        cols.append(
            VectorData(
                name=f"hit_{axis}",
                description=f"{axis} of the hit point, Unity world coordinates (NaN: no hit)",
                data=frame[f"hit_{axis}"].to_numpy(np.float64),
            )
        )
    table = DynamicTable(
        name="raycast",
        description="central gaze ray of each gaze sample cast into the maze (raycast rule)"
        + _cropped(keep, span, "samples"),
        columns=cols,
        id=np.arange(n),
    )
    _module(nwbfile).add(table)
    return n
