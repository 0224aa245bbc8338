"""Synthetic behaviour for a generated day: Unity logs (and EyeLink files, through
``hippoflow.synth.eyelink`` when present), consistent with the Ripple trial plan.

Called by ``hippoflow.synth.day`` as ``write_day(day_dir, plans, rng, opts)``.  For each
navigation session the monkey walks the maze corridors (the 5-unit route lattice between
the four pillars) from poster to poster: still while the cue is shown, moving between cue
offset and the end marker, along the shortest route or, sometimes, a detour; timeouts
wander without reaching the target.  Frames are irregular (about 60 Hz with jitter), a
frame falls exactly on every Ripple marker time, and Unity logs its frame intervals on
its own clock (a drift of tens of ppm, 0.1 ms resolution).  One frame freeze in a middle
trial is logged with Unity's 1/3 s cap on deltaTime, so that trial is "dubious" for the
alignment; a trial started after the Ripple recording stopped is left incomplete.

Ground truth: ``<day>/groundtruth_unity.json`` (per session: log path, header style,
marker rows, ideal and actual route lengths, dubious trials) and
``<session>/groundtruth_unity.npz`` (``frame_times``: each frame's time on the Ripple
clock, s; ``rows``/``codes`` of the markers).  Rows here count the log's frame lines
(``session_start_row`` 0: the first frame line is the session-start 84 frame); the Unity
object's rows start after that frame (PyHipp's convention), one lower.

Options read from ``opts`` (all optional): ``unity_header`` ("text" 14-line header,
"text11", "json"), ``unity_freeze`` (bool, default True), ``unity_trailing`` (bool,
default True), ``unity_drift_ppm`` (float, default random 20-60 ppm).
"""

from __future__ import annotations

import json
import math
from collections import deque
from pathlib import Path

import numpy as np

from hippoflow.behaviour import maze

# The standard maze the parser assumes: its posters, the corridor points (route lattice
# vertices) and the one in front of each poster, where the monkey stands when it reaches it.
POSTERS = maze.POSTER_CENTRES
POSTER_SPOT = maze.POSTER_SPOTS
SPOTS = list(maze.ROUTE_POINTS)
_STEP = int(maze.LATTICE_STEP)
FRAME_DT = 1.0 / 60.0
UNITY_MAX_DT = 1.0 / 3.0  # Unity's Time.maximumDeltaTime


def neighbours(v):
    x, z = v
    for dx, dz in ((_STEP, 0), (-_STEP, 0), (0, _STEP), (0, -_STEP)):
        w = (x + dx, z + dz)
        if w in SPOTS_SET:
            yield w


SPOTS_SET = set(SPOTS)


def shortest_route(a, b) -> list[tuple[int, int]]:
    """Breadth-first shortest route over the corridor lattice (list of points, a..b)."""
    prev = {a: None}
    queue = deque([a])
    while queue:
        v = queue.popleft()
        if v == b:
            break
        for w in neighbours(v):
            if w not in prev:
                prev[w] = v
                queue.append(w)
    route = [b]
    while route[-1] != a:
        route.append(prev[route[-1]])
    return route[::-1]


def _route_length(route) -> float:
    return maze.LATTICE_STEP * (len(route) - 1)


def _wander(rng, start, avoid, steps) -> list[tuple[int, int]]:
    route = [start]
    for _ in range(steps):
        options = [w for w in neighbours(route[-1]) if w != avoid]
        if len(route) > 1 and len(options) > 1:
            options = [w for w in options if w != route[-2]] or options
        if not options:
            break
        route.append(options[int(rng.integers(len(options)))])
    return route


def _positions(route, t0, t1, times):
    """Positions along a lattice route at constant speed from t0 to t1."""
    pts = np.array(route, dtype=np.float64)
    seg = np.hypot(*np.diff(pts, axis=0).T) if len(route) > 1 else np.zeros(0)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    if total == 0:
        return np.repeat(pts[:1], times.size, axis=0)
    s = np.clip((times - t0) / (t1 - t0), 0, 1) * total
    x = np.interp(s, cum, pts[:, 0])
    z = np.interp(s, cum, pts[:, 1])
    return np.column_stack([x, z])


def _frames_between(rng, a, b):
    """Frame times in (a, b] with jittered intervals, the last exactly at b."""
    gap = b - a
    n = max(1, int(round(gap / FRAME_DT)))
    dt = np.clip(rng.normal(FRAME_DT, 0.0015, size=n), 0.008, 0.04)
    long = rng.random(n) < 0.01
    dt[long] = rng.uniform(0.03, 0.05, size=int(long.sum()))
    dt *= gap / dt.sum()
    t = a + np.cumsum(dt)
    t[-1] = b
    return t


def session_log(rng, plan: dict, duration: float, opts) -> dict:
    """Frames (true times, markers, x, z, yaw) and the trial facts of one session."""
    codes = plan["codes"]
    times = plan["times"]
    n = codes.shape[0]
    start = float(plan["session_start"])
    trailing = bool(getattr(opts, "unity_trailing", True))
    events = [(start, 84)]
    for i in range(n):
        events += [(float(times[i, j]), int(codes[i, j])) for j in range(3)]
    end_time = (float(times[-1, 2]) if n else start) + 1.0
    if trailing:
        next_poster = int(codes[-1, 0] % 10) if n else 1
        events.append((duration + 0.2, 10 + next_poster))
        end_time = duration + 0.5
    # frames: the first exactly at session start, one exactly on every marker
    ft = [np.array([start])]
    bounds = [e[0] for e in events] + [end_time]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        ft.append(_frames_between(rng, a, b))
    frame_times = np.concatenate(ft)
    markers = np.zeros(frame_times.size, dtype=np.int64)
    rows = np.searchsorted(frame_times, [e[0] for e in events])
    markers[rows] = [e[1] for e in events]

    # one frame freeze (0.45 s) in a middle trial's navigation: the frames after it are
    # re-spaced so the marker times stay; Unity logs the frozen interval capped at 1/3 s
    freeze, dubious = None, []
    if getattr(opts, "unity_freeze", True) and n >= 3:
        k = n // 2
        r0, r1 = int(rows[1 + 3 * k + 1]), int(rows[1 + 3 * k + 2])
        r = (r0 + r1) // 2
        if r1 - r > 3 and frame_times[r1] - frame_times[r - 1] > 0.45 + 0.1:
            new = np.linspace(frame_times[r - 1] + 0.45, frame_times[r1], r1 - r + 1)
            frame_times[r:r1] = new[:-1]
            freeze = {"trial": k, "row": r, "true_interval": 0.45}
            dubious.append(k)

    # movement: still until cue offset, then along the route until the end marker
    pos = np.empty((frame_times.size, 2))
    here = SPOTS[int(rng.integers(len(SPOTS)))]
    pos[:] = here
    ideal, actual, detour = [], [], []
    for i in range(n):
        poster = int(codes[i, 0] % 10)
        target = POSTER_SPOT[poster]
        t_cue, t_end = float(times[i, 1]), float(times[i, 2])
        timeout = codes[i, 2] // 10 == 4
        if here == target and not timeout:
            # already there: step out and back (never happens with a new poster)
            route = [here, next(iter(neighbours(here))), here]
        elif timeout:
            route = _wander(rng, here, target, steps=int(rng.integers(2, 5)))
        elif rng.random() < 0.25:
            mid = SPOTS[int(rng.integers(len(SPOTS)))]
            route = shortest_route(here, mid)
            route = route + shortest_route(mid, target)[1:]
        else:
            route = shortest_route(here, target)
        # drop immediate repeats from concatenation
        route = [p for k, p in enumerate(route) if k == 0 or p != route[k - 1]]
        ideal.append(_route_length(shortest_route(here, target)))
        actual.append(_route_length(route))
        detour.append(_route_length(route) > ideal[-1])
        sel = (frame_times > t_cue) & (frame_times <= t_end)
        pos[sel] = _positions(route, t_cue, t_end, frame_times[sel])
        here = route[-1]
        pos[frame_times > t_end] = here
    # yaw: direction of motion, held while still; face the poster after reaching it
    d = np.diff(pos, axis=0, prepend=pos[:1])
    moving = np.hypot(d[:, 0], d[:, 1]) > 1e-9
    yaw = np.full(frame_times.size, np.nan)
    yaw[moving] = np.mod(np.degrees(np.arctan2(d[moving, 0], d[moving, 1])), 360)
    yaw[0] = float(rng.uniform(0, 360)) if not moving[0] else yaw[0]
    for i in range(n):
        if codes[i, 2] // 10 == 3:
            poster = int(codes[i, 2] % 10)
            r = int(rows[1 + 3 * i + 2])
            px, _, pz = POSTERS[poster]
            yaw[r] = math.degrees(math.atan2(px - pos[r, 0], pz - pos[r, 1])) % 360
    for k in range(1, yaw.size):
        if np.isnan(yaw[k]):
            yaw[k] = yaw[k - 1]

    # Unity's own clock: logged deltaTime = true interval x (1 + drift), 0.1 ms resolution
    drift = getattr(opts, "unity_drift_ppm", None)
    drift = float(rng.uniform(20, 60)) if drift is None else float(drift)
    true_dt = np.diff(frame_times, prepend=frame_times[0])
    true_dt[0] = FRAME_DT  # the first frame's interval since Unity started
    logged = true_dt * (1 + drift * 1e-6)
    if freeze is not None:
        logged[freeze["row"]] = UNITY_MAX_DT
    logged = np.round(logged, 4)
    return {
        "frame_times": frame_times,
        "markers": markers,
        "x": pos[:, 0],
        "z": pos[:, 1],
        "yaw": yaw,
        "logged_dt": logged,
        "marker_rows": rows,
        "marker_codes": np.array([e[1] for e in events]),
        "ideal": ideal,
        "actual": actual,
        "detour": detour,
        "dubious": dubious,
        "freeze": freeze,
        "drift_ppm": drift,
        "trailing": trailing,
    }


def header_lines(style: str, subject: str, day: str, session: str) -> list[str]:
    posters = " ".join(f"P{k}({x:g},{y:g},{z:g})" for k, (x, y, z) in POSTERS.items())
    date = f"{day[6:8]}/{day[4:6]}/{day[:4]}"
    if style == "json":
        return [
            json.dumps(
                {
                    "Version": "3.1.0",
                    "Date": date,
                    "Subject": subject,
                    "Session": session,
                    "TrialLimit": 400,
                    "TimeLimit": 10.0,
                    "PosterLocations": {f"P{k}": list(v) for k, v in POSTERS.items()},
                    "Columns": ["marker", "deltaTime", "posX", "posZ", "rotY"],
                }
            )
        ]
    lines = [
        "VirtualMaze Unity log",
        "Version: 1.6.2",
        f"Date: {date}",
        "Time: 10:00:00",
        f"Subject: {subject}",
        f"Session: {session}",
        "Experiment: four pillar navigation",
        "Trial limit: 400",
        "Time limit (s): 10",
        "Reward: 0.25 ml",
        "Cue duration (s): 1.0-2.0",
        f"Screen: {maze.SCREEN_W} x {maze.SCREEN_H}",
        f"PosterLocations: {posters}",
        "Columns: marker deltaTime posX posZ rotY",
    ]
    if style == "text11":  # some versions: no title, time or reward lines
        lines = [ln for k, ln in enumerate(lines) if k not in (0, 3, 9)]
    return lines


def write_log(path: Path, header: list[str], log: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        for line in header:
            f.write(line + "\n")
        for m, dt, x, z, yaw in zip(
            log["markers"], log["logged_dt"], log["x"], log["z"], log["yaw"], strict=True
        ):
            f.write(f"{int(m)} {dt:.4f} {x:.4f} {z:.4f} {yaw:.4f}\n")
    tmp.replace(path)


def write_day(day_dir, plans: dict, rng, opts, logs=None) -> dict:
    """Unity logs for each navigation session of the day (those in ``logs`` as given), then
    EyeLink files."""
    logs = logs or {}
    day_dir = Path(day_dir)
    style = getattr(opts, "unity_header", "text") or "text"
    if style not in ("text", "text11", "json"):
        raise ValueError(f"unity_header must be text, text11 or json, not {style!r}")
    subject = day_dir.parent.name
    day = day_dir.name
    seconds = float(getattr(opts, "seconds", 60.0))
    truth = {}
    for session, plan in plans.items():
        if plan.get("session_start") is None:
            continue  # fixation session: no Unity
        log = logs[session] if session in logs else session_log(rng, plan, seconds, opts)
        number = int("".join(c for c in session if c.isdigit()) or 1)
        stamp = f"{day[6:8]}{day[4:6]}{day[:4]}{10 + number:02d}0000"
        rel = Path(session) / "RawData_T1-400" / f"session_1_{stamp}.txt"
        write_log(day_dir / rel, header_lines(style, subject, day, session), log)
        rows = log["marker_rows"]
        n = plan["codes"].shape[0]
        np.savez(
            day_dir / session / "groundtruth_unity.npz",
            frame_times=log["frame_times"],
            rows=rows,
            codes=log["marker_codes"],
        )
        truth[session] = {
            "log": str(rel),
            "header_style": style,
            "frames": int(log["frame_times"].size),
            "session_start_row": int(rows[0]),
            "trigger_rows": rows[1 : 1 + 3 * n].reshape(-1, 3).tolist(),
            "trailing_incomplete": log["trailing"],
            "ideal": log["ideal"],
            "actual": log["actual"],
            "detour": log["detour"],
            "dubious_trials": log["dubious"],
            "freeze": log["freeze"],
            "drift_ppm": log["drift_ppm"],
        }
    (day_dir / "groundtruth_unity.json").write_text(json.dumps(truth, indent=1))
    try:
        from hippoflow.synth import eyelink as synth_eyelink
    except ImportError:
        synth_eyelink = None
    if synth_eyelink is not None and getattr(opts, "eyelink", True):
        synth_eyelink.write_eyelink_day(day_dir, plans, rng, opts)
    return truth
