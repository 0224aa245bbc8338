"""Ground truth for the fields: a navigation session whose Unity and EyeLink paths are known,
and units that fire in a known place field, when gaze falls on a known bin, or at random.

Inputs: a seed and a duration. Outputs (:func:`session`): a Unity object dict as the aligned
``unity_<hash>.hkl`` holds it (``unityData``, ``unityTime``, ``unityTriggers``,
``gridPosition``, ``unityTrialTime``; times on the Ripple clock, s), the raycast's ``binData.hdf`` rows (time,
distinct gaze bins; the real raycaster of :mod:`hippoflow.behaviour.raycast` on the
generator's gaze and the Unity pose), and the true path: position and gaze bins at every
1 ms step. The monkey's route and the trial plan are those of the day generator
(:mod:`hippoflow.synth.day`, :mod:`hippoflow.synth.unity`), the gaze that of
:mod:`hippoflow.synth.eyelink`.

Units (:func:`place_unit`, :func:`view_unit`, :func:`random_unit`): inhomogeneous Poisson
trains drawn on the 1 ms grid. A place unit fires at ``base + peak * exp(-d^2 / 2 w^2)``
Hz, ``d`` the distance of the animal from the field centre (maze units); a view unit at
``base + peak`` Hz while the gaze sample's bins include the target bin, ``base`` otherwise;
a random unit at ``base`` Hz throughout.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from hippoflow.behaviour import maze
from hippoflow.behaviour import unity as unity_mod
from hippoflow.behaviour.raycast.kernels import cast_distinct
from hippoflow.synth import day as synth_day
from hippoflow.synth import eyelink as synth_eyelink
from hippoflow.synth import unity as synth_unity

STEP_S = 0.001  # the truth's time grid (and the EyeLink sampling period)
EYE_RATE = 1000.0


def session(seed: int, seconds: float = 120.0, radius_px: float = 20.0) -> dict:
    """A navigation session (see the module); returns unity, bindata, truth, span."""
    rng = np.random.default_rng(seed)
    plan = synth_day.plan_trials(rng, seconds, navigation=True)
    opts = SimpleNamespace(unity_freeze=False, unity_trailing=False, unity_drift_ppm=0.0)
    log = synth_unity.session_log(rng, plan, seconds, opts)
    ft = np.asarray(log["frame_times"], dtype=np.float64)  # row 0: the session-start frame
    markers = np.asarray(log["markers"])
    data = np.column_stack([markers, np.diff(ft, prepend=ft[0]), log["x"], log["z"], log["yaw"]])[
        1:
    ]
    direction, dist = unity_mod.direction_and_distance(data[:, 2], data[:, 3])
    triggers, _ = unity_mod.find_triggers(data[:, 0])
    unity = {
        "unityData": [np.column_stack([data, direction, dist])],
        "unityTime": [ft.copy()],
        "unityTriggers": [triggers],
        "gridPosition": [unity_mod.grid_position(data[:, 2], data[:, 3])],
        "unityTrialTime": [unity_mod.trial_time(ft, triggers)],
    }
    # the truth on the 1 ms grid: the pose of the last frame shown
    t = np.arange(ft[0], ft[-1], STEP_S)
    row = np.searchsorted(ft, t, side="right") - 1  # frame index in the log (0 = start)
    x = np.asarray(log["x"])[row]
    z = np.asarray(log["z"])[row]
    yaw = np.asarray(log["yaw"])[row]
    # speed over the frame interval holding each step (maze units/s)
    step = np.hypot(np.diff(log["x"]), np.diff(log["z"])) / np.maximum(np.diff(ft), 1e-9)
    speed = np.append(step, 0.0)[row]
    gx, gy, _, _ = synth_eyelink.synth_gaze(rng, t.size)
    bins = cast_distinct(gx, gy, x, z, yaw, radius_px=radius_px)
    values = np.column_stack([t, bins]).astype(np.float64)
    return {
        "unity": unity,
        "bindata": values,
        "sampling_rate": EYE_RATE,
        "truth": {"t": t, "x": x, "z": z, "bins": bins, "speed": speed},
        "span": (float(ft[0]), float(ft[-1])),
    }


def _draw(rng, t, rate_hz) -> np.ndarray:
    p = np.clip(np.asarray(rate_hz) * STEP_S, 0, 1)
    return t[rng.random(t.size) < p] + rng.uniform(0, STEP_S, size=None)


def place_unit(rng, sess: dict, centre, width=1.5, peak=30.0, base=0.5) -> np.ndarray:
    tr = sess["truth"]
    d2 = (tr["x"] - centre[0]) ** 2 + (tr["z"] - centre[1]) ** 2
    return _draw(rng, tr["t"], base + peak * np.exp(-d2 / (2 * width**2)))


def _bin_coordinates() -> np.ndarray:
    """(N_BINS + 1, 4): surface index, row, column, ring length (0: no wrap) of each bin id;
    surface -1 for 0 and the cue/hint bins."""
    from hippoflow.fields.maps import view_surfaces

    out = np.full((maze.N_BINS + 1, 4), -1, dtype=np.int64)
    for k, (first, (rows, cols), wraps) in enumerate(view_surfaces()):
        ids = np.arange(rows * cols)
        out[first + 1 + ids] = np.column_stack(
            [np.full(ids.size, k), ids // cols, ids % cols, np.full(ids.size, cols if wraps else 0)]
        )
    return out


def view_distance(bins: np.ndarray, target_bin: int) -> np.ndarray:
    """Per sample (rows of gaze bin ids), bins between the target and the nearest bin hit on
    the target's surface (columns wrap around rings); inf when none is on it."""
    coords = _bin_coordinates()
    surf, r0, c0, ring = coords[int(target_bin)]
    co = coords[np.asarray(bins, dtype=np.int64)]
    dc = np.abs(co[..., 2] - c0)
    if ring:
        dc = np.minimum(dc, ring - dc)
    d = np.hypot(co[..., 1] - r0, dc).astype(np.float64)
    d[co[..., 0] != surf] = np.inf
    return d.min(axis=-1)


def view_unit(rng, sess: dict, target_bin: int, width=1.5, peak=30.0, base=0.5) -> np.ndarray:
    """Fires at ``base + peak * exp(-d^2 / 2 width^2)`` Hz, ``d`` the distance in bins
    between ``target_bin`` and the nearest bin the gaze sample hits on its surface."""
    d = view_distance(sess["truth"]["bins"], target_bin)
    with np.errstate(over="ignore"):
        rate = base + peak * np.exp(-(d**2) / (2 * width**2))
    return _draw(rng, sess["truth"]["t"], rate)


def random_unit(rng, sess: dict, rate=5.0) -> np.ndarray:
    tr = sess["truth"]
    return _draw(rng, tr["t"], np.full(tr["t"].size, rate))


def place_bin_of(x: float, z: float) -> int:
    """1-based place bin (gridPosition) of a point."""
    return int(unity_mod.grid_position(np.array([x]), np.array([z]))[0])


def busiest_vertex(sess: dict, moving_only=True) -> tuple[float, float]:
    """The route-lattice vertex the animal passes most often within 1 unit of (the planted
    place field's centre: a corridor point with data)."""
    tr = sess["truth"]
    best, score = None, -1
    for vx, vz in maze.VERTICES:
        n = np.count_nonzero((tr["x"] - vx) ** 2 + (tr["z"] - vz) ** 2 < 1.0)
        if n > score:
            best, score = (float(vx), float(vz)), n
    return best


def common_bin(sess: dict, lo: int = maze.WALL0, hi: int = maze.N_BINS, min_speed=1.0) -> int:
    """The gaze bin in ``[lo, hi]`` looked at most often while the animal moves at
    ``min_speed`` or faster (the planted view bin)."""
    tr = sess["truth"]
    b = tr["bins"][tr["speed"] >= min_speed].ravel()
    b = b[(b >= lo) & (b <= hi)]
    return int(np.bincount(b).argmax())


def plant_place_unit(
    rng, train, log: dict, n_samples: int, fs: float, peak_at: int, length: int, **field
):
    """Unit 0 of a channel's ``train`` ((sample, unit) arrays) replaced by a place unit of
    the day generator's Unity ``log`` (frame times in s of the recording, x, z): firing as
    :func:`place_unit` (``field``: width, peak, base) around the lattice vertex the animal
    passes most often while moving; returns the new train and the field's centre."""
    ft = np.asarray(log["frame_times"], dtype=np.float64)
    x, z = np.asarray(log["x"]), np.asarray(log["z"])
    speed = np.append(np.hypot(np.diff(x), np.diff(z)) / np.maximum(np.diff(ft), 1e-9), 0.0)
    t = np.arange(peak_at / fs, (n_samples - length) / fs, STEP_S)
    row = np.clip(np.searchsorted(ft, t, side="right") - 1, 0, ft.size - 1)
    truth = {"t": t, "x": x[row], "z": z[row], "speed": speed[row]}
    moving = truth["speed"] >= 1.0
    best, score = None, -1
    for vx, vz in maze.VERTICES:
        n = np.count_nonzero(moving & ((truth["x"] - vx) ** 2 + (truth["z"] - vz) ** 2 < 1.0))
        if n > score:
            best, score = (float(vx), float(vz)), n
    spikes_s = place_unit(rng, {"truth": truth}, best, **field)
    samples = np.clip(np.round(spikes_s * fs).astype(np.int64), peak_at + 1, n_samples - length - 1)
    times, units = train
    keep = units != 0
    times = np.concatenate([times[keep], np.unique(samples)])
    units = np.concatenate([units[keep], np.zeros(np.unique(samples).size, dtype=units.dtype)])
    order = np.argsort(times, kind="stable")
    return (times[order], units[order]), best
