"""Unity VirtualMaze logs: parser and PyHipp's Unity object.

A log (``RawData_T1-400/session_1_<id>.txt``) is a header followed by one line per frame:
``marker deltaTime x z yaw``.  Three header styles exist: 14 text lines (old), 11 text
lines (some versions) and a single JSON line (newest).  The parser does not count header
lines: it skips lines until one holds five numeric fields, and reads the poster
locations (``PosterLocations: P1(-5,1.5,-7.55) ...``) from whatever the header holds.
Bad frame lines are errors naming the file and the line: a line with a field that is not
a number (also the first frame line, which would otherwise pass for header), a header with
no frame line after it; only a last line cut short (fewer than five fields) is dropped.

Frame rows (as PyHipp, whose reader skipped a fixed 15 lines: the 14 header lines of the
lab's logs and the session-start frame after them): the Unity object's ``unityData`` holds
the frames *after* the session-start (84) frame, so row 0 is the frame after it and every
row index (``unityTriggers``, the trial times) counts from there, whatever the header style.
Exactly that one frame is dropped, and only when the log's first frame is a session-start
frame (:func:`session_frames`); a log without one keeps every frame.  The dropped frame is
kept under ``sessionStartFrame`` (its five fields; no row when the log had none).
:func:`read_log` itself returns every frame line of the file.

Time conventions (as PyHipp): ``unityTime = [0, cumsum(deltaTime)]`` over the rows of
``unityData``, one more entry than there are rows: the frame on row ``r`` happens at
``unityTime[r + 1]``, and ``unityTime[0]`` is the time of the session-start frame (the
moment before row 0's interval began).  A marker on row ``r`` therefore has time
``unityTime[r + 1]``; the alignment maps ``unityTime[0]`` onto Ripple's session start.

The object keeps PyHipp's layout, in which every per-session attribute is a list with one
entry per concatenated log (always one here), so analysis code written for PyHipp
(``unity.unityData[0]``, ``unity.sumCost[0]`` ...) loads it unchanged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from hippoflow.behaviour import maze
from hippoflow.errors import InputError
from hippoflow.naming import SESSION_START, SESSION_START_CODES


@cache
def lattice_distances() -> np.ndarray:
    """(21, 21) shortest routes over maze.VERTICES, computed once on first use."""
    # scipy here, not at the top: the workflow imports this module (find_logs) when it plans,
    # and scipy.sparse would add ~0.5 s to every snakemake start
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    d = np.linalg.norm(maze.VERTICES[:, None, :] - maze.VERTICES[None, :, :], axis=2)
    adjacency = np.where(np.isclose(d, maze.LATTICE_STEP), maze.LATTICE_STEP, 0.0)
    return dijkstra(csr_matrix(adjacency), directed=False)


_POSTER_RE = re.compile(r"P(\d+)\s*\(\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*\)")


@dataclass
class UnityLog:
    path: Path
    header: list[str]
    header_style: str  # "text<n>" (n header lines) or "json"
    posters: dict[int, tuple[float, float, float]]
    data: np.ndarray  # (frames, 5): marker, deltaTime, x, z, yaw
    first_line: int  # 1-based file line of the first frame
    notes: list[str] = field(default_factory=list)
    frame_lines: np.ndarray | None = None  # 1-based file line of each frame (data row)

    def line_of(self, row: int) -> int:
        """1-based file line of frame ``row`` of :attr:`data`."""
        if self.frame_lines is not None and 0 <= row < self.frame_lines.size:
            return int(self.frame_lines[row])
        return self.first_line + row


def _numeric_fields(line: str) -> list[float] | None:
    parts = line.split()
    if len(parts) != 5:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError:
        return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _damaged_frame(line: str) -> bool:
    """A frame line with a field that is not a number: five fields, at least three of them
    numbers, no ``Key:`` and no JSON (which header lines have)."""
    parts = line.split()
    if len(parts) != 5 or ":" in line or line.lstrip().startswith("{"):
        return False
    return sum(map(_is_number, parts)) >= 3


def _truncated_frame(line: str) -> bool:
    """The start of a frame line cut off while the file was being written: fewer than five
    fields, all but the (cut) last one numbers."""
    parts = line.split()
    return 0 < len(parts) < 5 and all(map(_is_number, parts[:-1]))


def _not_a_frame(path, number: int, line: str) -> InputError:
    return InputError(
        f"{path}: line {number} is not a frame line (marker deltaTime x z yaw): "
        f"{line.strip()[:80]!r}"
    )


def parse_posters(header: list[str]) -> dict[int, tuple[float, float, float]]:
    """Poster locations from a text or JSON header ({} when it lists none)."""
    posters: dict[int, tuple[float, float, float]] = {}
    for line in header:
        s = line.strip()
        if s.startswith("{"):
            try:
                posters.update(_json_posters(json.loads(s)))
            except json.JSONDecodeError:
                pass
            if posters:
                continue
        for m in _POSTER_RE.finditer(s):
            posters[int(m.group(1))] = tuple(float(m.group(i)) for i in (2, 3, 4))
    return posters


def _json_posters(obj) -> dict[int, tuple[float, float, float]]:
    """Find a poster table anywhere in a JSON header (several shapes accepted)."""
    out: dict[int, tuple[float, float, float]] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            if "poster" in str(key).lower():
                out.update(_poster_value(value))
            else:
                out.update(_json_posters(value))
    elif isinstance(obj, list):
        for item in obj:
            out.update(_json_posters(item))
    return out


def _xyz(v) -> tuple[float, float, float] | None:
    if isinstance(v, dict):
        keys = {k.lower(): k for k in v}
        if all(c in keys for c in "xyz"):
            return tuple(float(v[keys[c]]) for c in "xyz")
        return None
    if isinstance(v, (list, tuple)) and len(v) == 3:
        return tuple(float(c) for c in v)
    return None


def _poster_value(value) -> dict[int, tuple[float, float, float]]:
    out: dict[int, tuple[float, float, float]] = {}
    if isinstance(value, str):
        for m in _POSTER_RE.finditer(value):
            out[int(m.group(1))] = tuple(float(m.group(i)) for i in (2, 3, 4))
    elif isinstance(value, dict):
        for k, v in value.items():
            num = re.search(r"\d+", str(k))
            xyz = _xyz(v)
            if num and xyz:
                out[int(num.group())] = xyz
    elif isinstance(value, list):
        for i, item in enumerate(value, start=1):
            if isinstance(item, dict):
                name = item.get("name") or item.get("Name") or f"P{i}"
                pos = item.get("position") or item.get("Position") or item
                num = re.search(r"\d+", str(name))
                xyz = _xyz(pos)
                if xyz:
                    out[int(num.group()) if num else i] = xyz
            elif _xyz(item):
                out[i] = _xyz(item)
    return out


def read_log(path) -> UnityLog:
    """Parse a Unity log by content (any header style)."""
    path = Path(path)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read Unity log ({exc})") from None
    start = None
    for i, line in enumerate(lines):
        if _numeric_fields(line) is not None:
            start = i
            break
    header = lines[: len(lines) if start is None else start]
    # a damaged first frame line would otherwise pass for a header line
    for i, line in enumerate(header):
        if _damaged_frame(line):
            raise _not_a_frame(path, i + 1, line)
    if start is None:
        if not lines:
            raise InputError(f"{path}: no frame lines: the Unity log is empty")
        raise InputError(
            f"{path}: no frame lines (five numeric fields: marker deltaTime x z yaw) in the "
            f"Unity log: its {len(lines)} lines are all header, nothing follows line "
            f"{len(lines)}"
        )
    notes: list[str] = []
    rows: list[list[float]] = []
    numbers: list[int] = []
    body = lines[start:]
    last = max((k for k, s in enumerate(body) if s.strip()), default=-1)
    for k, line in enumerate(body):
        if not line.strip():
            continue
        vals = _numeric_fields(line)
        if vals is None:
            if k == last and _truncated_frame(line):
                notes.append(
                    f"{path}: dropped an incomplete last line {start + k + 1}: {line.strip()!r}"
                )
                continue
            raise _not_a_frame(path, start + k + 1, line)
        rows.append(vals)
        numbers.append(start + k + 1)
    data = np.array(rows, dtype=np.float64).reshape(-1, 5)
    if not np.all(np.isfinite(data)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(data), axis=1))[0])
        raise InputError(f"{path}: non-finite value on frame line {numbers[bad]}")
    if np.any(data[:, 1] < 0):
        bad = int(np.flatnonzero(data[:, 1] < 0)[0])
        raise InputError(f"{path}: negative deltaTime {data[bad, 1]} on line {numbers[bad]}")
    if header and header[0].strip().startswith("{"):
        style = "json"
    else:
        style = f"text{len(header)}"
    posters = parse_posters(header)
    if not posters:
        notes.append(f"{path}: header lists no PosterLocations; using the standard maze's")
        posters = dict(maze.POSTER_CENTRES)
    return UnityLog(
        path, header, style, posters, data, start + 1, notes, np.array(numbers, dtype=np.int64)
    )


def session_frames(log: UnityLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(session-start frame, the frames after it, file line of each of those frames).

    The session-start frame is the log's first frame when its marker is a session-start
    code (84, or 204); it comes back as a (1, 5) array and is not one of the frames.  A log
    whose first frame is anything else keeps all its frames and gives a (0, 5) array.
    """
    data = log.data
    k = 1 if data.shape[0] and int(data[0, 0]) in SESSION_START_CODES else 0
    lines = np.array([log.line_of(r) for r in range(k, data.shape[0])], dtype=np.int64)
    return data[:k].copy().reshape(k, 5), data[k:], lines


def direction_and_distance(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compass direction of motion (0 = +z, 90 = +x; NaN when stationary) and step length."""
    dx = np.diff(x, prepend=x[:1])
    dz = np.diff(z, prepend=z[:1])
    dist = np.hypot(dx, dz)
    with np.errstate(invalid="ignore"):
        direction = np.mod(np.degrees(np.arctan2(dx, dz)), 360.0)
    direction[dist == 0] = np.nan
    return direction, dist


def unity_time(delta_time: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(delta_time)])


def find_triggers(markers: np.ndarray, path="<unity log>", first_line: int = 1, lines=None):
    """(N, 3) row indices of each trial's 1p, 2p and 3p/4p markers.

    An incomplete trailing trial is dropped (reported in the returned notes); any other
    break of the 1p -> 2p -> 3p/4p sequence is an error naming the line: ``lines[r]`` is the
    file line of row ``r`` when given, else ``first_line + r``.
    """
    markers = np.asarray(markers)

    def line(r):
        return int(lines[r]) if lines is not None else first_line + r

    rows = np.flatnonzero((markers != 0) & (markers != SESSION_START))
    codes = markers[rows].astype(np.int64)
    trials: list[list[int]] = []
    current: list[int] = []
    notes: list[str] = []
    for r, c in zip(rows.tolist(), codes.tolist(), strict=True):
        kind, poster = divmod(c, 10)
        expected = (1,) if len(current) == 0 else (2,) if len(current) == 1 else (3, 4)
        if kind not in expected or not 1 <= poster <= 9:
            want = "/".join(f"{e}x" for e in expected)
            raise InputError(
                f"{path}: marker {c} on line {line(r)} where a {want} marker belongs "
                f"(trial {len(trials) + 1})"
            )
        if current and poster != int(markers[current[0]]) % 10:
            raise InputError(
                f"{path}: marker {c} on line {line(r)} names poster {poster} but trial "
                f"{len(trials) + 1} started with {int(markers[current[0]])}"
            )
        current.append(r)
        if len(current) == 3:
            trials.append(current)
            current = []
    if current:
        notes.append(
            f"{path}: incomplete last trial (markers "
            + ", ".join(str(int(markers[r])) for r in current)
            + f" from line {line(current[0])}) dropped"
        )
    return np.array(trials, dtype=np.int64).reshape(-1, 3), notes


def trial_time(utime: np.ndarray, triggers: np.ndarray) -> np.ndarray:
    """Time since cue offset for the frames cue..end of each trial (NaN padded columns)."""
    n = triggers.shape[0]
    length = int(np.max(triggers[:, 2] - triggers[:, 1])) + 2 if n else 1
    out = np.full((length, n), np.nan)
    for a, (_, cue, end) in enumerate(triggers):
        t = utime[cue + 1 : end + 2] - utime[cue + 1]
        out[: t.size, a] = t
    return out


def nearest_vertex(xz: np.ndarray) -> np.ndarray:
    """Index of the nearest lattice vertex for each (x, z) row (first on ties)."""
    xz = np.atleast_2d(xz)
    d2 = ((xz[:, None, :] - maze.VERTICES[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d2, axis=1)


def sum_cost(
    data: np.ndarray, triggers: np.ndarray, posters: dict, path="<unity log>", lines=None
) -> np.ndarray:
    """PyHipp's sumCost (N, 6): ideal, actual, excess, target, end code - target, shortest flag.

    ``path`` and ``lines`` (file line of each row of ``data``) only name the place in messages.
    """
    n = triggers.shape[0]
    out = np.zeros((n, 6))
    for a, (_, cue, end) in enumerate(triggers):
        end_code = int(data[end, 0])
        target = end_code % 10
        if target not in posters:
            where = f" on line {int(lines[end])}" if lines is not None else ""
            raise InputError(
                f"{path}: trial {a + 1} (end marker {end_code}{where}) targets poster "
                f"{target}, absent from the header (its PosterLocations list posters "
                f"{', '.join(map(str, sorted(posters))) or 'none'})"
            )
        px, _, pz = posters[target]
        start_v = int(nearest_vertex(data[cue, 2:4])[0])
        target_v = int(nearest_vertex(np.array([px, pz]))[0])
        ideal = float(lattice_distances()[target_v, start_v])
        visited = nearest_vertex(data[cue : end + 1, 2:4])
        keep = np.concatenate([[True], np.diff(visited) != 0])
        route = visited[keep]
        actual = (route.size - 1) * maze.LATTICE_STEP
        out[a, :5] = [ideal, actual, actual - ideal, target, end_code - target]
        if out[a, 2] <= 0:
            out[a, 5] = 1
        elif out[a, 4] == 30:
            # PyHipp: a brief back-and-forth across a vertex boundary still counts as the
            # shortest route; a longer stay at the turning vertex (> 165 frames) does not.
            steps = np.diff(route)
            for c in range(steps.size - 1):
                if steps[c] == -steps[c + 1]:
                    if np.count_nonzero(visited == route[c + 1]) > 165:
                        break
                    out[a, 5] = 1
    out[out[:, 4] == 40, 5] = 0
    return out


def grid_position(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """1-based 40 x 40 place bin, x fastest: ix + 40 * (iz - 1)."""
    n, half, side = maze.GRID_N, maze.HALF, maze.GRID_BIN
    ix = np.clip(np.floor((np.asarray(x) + half) / side), 0, n - 1) + 1
    iz = np.clip(np.floor((np.asarray(z) + half) / side), 0, n - 1) + 1
    return (ix + n * (iz - 1)).astype(np.int64)


def unity_object(log: UnityLog, ripple_times: np.ndarray, ripple_path="<rplparallel>") -> dict:
    """PyHipp's Unity attributes for one session (unaligned: Unity's own clock).

    Rows are those of :func:`session_frames` (the frames after the session-start frame, as
    PyHipp's files index them); ``sessionStartFrame`` keeps the dropped frame's five fields
    ((1, 5), or (0, 5) when the log has no session-start frame), whose moment is
    ``unityTime[0]``.
    """
    start_frame, data, lines = session_frames(log)
    direction, dist = direction_and_distance(data[:, 2], data[:, 3])
    unity_data = np.column_stack([data, direction, dist])
    triggers, notes = find_triggers(data[:, 0], log.path, lines=lines)
    if start_frame.shape[0] == 0:
        notes.append(
            f"{log.path}: the first frame (line {log.first_line}) is not a session-start "
            f"frame: every frame kept, rows count from it"
        )
    ripple_times = np.asarray(ripple_times, dtype=np.float64)
    n_ripple = ripple_times.shape[0] if ripple_times.ndim == 2 else 0
    if triggers.shape[0] != n_ripple or (ripple_times.ndim == 2 and ripple_times.shape[1] != 3):
        raise InputError(
            f"{log.path}: {triggers.shape[0]} complete trials in the Unity log but "
            f"{n_ripple} trials ({'x'.join(map(str, ripple_times.shape))} markers) in "
            f"{ripple_path}: the two recordings do not describe the same session"
        )
    if triggers.shape[0] == 0:
        raise InputError(f"{log.path}: no complete trial in the Unity log")
    utime = unity_time(data[:, 1])
    cost = sum_cost(data, triggers, log.posters, log.path, lines)
    n = triggers.shape[0]
    end_codes = data[triggers[:, 2], 0]
    within = np.count_nonzero((end_codes > 30) & (end_codes < 40))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = cost[:, 1] / cost[:, 0]
    durations = utime[triggers[:, 2] + 1] - utime[triggers[:, 0] + 1]
    duration_diff = (durations - (ripple_times[:, 2] - ripple_times[:, 0])) * 1000.0
    return {
        "numSets": 1,
        "unityData": [unity_data],
        "unityTriggers": [triggers],
        "unityTime": [utime],
        "unityTrialTime": [trial_time(utime, triggers)],
        "sumCost": [cost],
        "timePerformance": [within / n],
        "routePerformance": [np.count_nonzero(cost[:, 5] == 1) / n],
        "trialRouteRatio": [ratio],
        "durationDiff": [duration_diff],
        "timeStamps": [ripple_times],
        "gridPosition": [grid_position(data[:, 2], data[:, 3])],
        "posterLocations": np.array([log.posters[k] for k in sorted(log.posters)]),
        "headerStyle": log.header_style,
        "sessionStartFrame": start_frame,
        "setidx": [0] * n,
        "notes": log.notes + notes,
        "aligned": False,
    }


def find_logs(session_dir) -> list[Path]:
    """Unity logs of a session: ``RawData*/session*.txt`` (PyHipp's DirName/FileName)."""
    session_dir = Path(session_dir)
    return sorted(p for p in session_dir.glob("RawData*/session*.txt") if p.is_file())
