"""Occupancy and spike counts per place bin and per gaze bin, rate maps and their smoothing.

Inputs: a session's aligned Unity object (``unityData``, ``unityTime``, ``unityTriggers``),
its ``binData.hdf`` rows (time, gaze bin ids, zero padded) and a cell's spike times (s, on the
same Ripple clock). Outputs: :class:`Samples` (time intervals, each spread over one or more
bins with weights), counts per bin, rate maps.

Place samples: in each trial with navigation time (:func:`navigated`), from cue offset to
the end marker, Unity frame ``r`` (row ``r``, at ``unityTime[r + 1]``) holds its place bin
from its own time to the next frame's; the first frame after the cue-offset frame holds from
the cue-offset frame's time, and the last interval ends at the end marker's frame. The place
bin is ``gridPosition``: ``ix + 40 * (iz - 1)``, 1-based, x fastest, on the 40 x 40 grid of
``hippoflow.behaviour.maze`` (``GridSteps`` 40 over ``OverallGridSize`` 25). Speed of an
interval: the distance to the next frame over its duration (maze units/s).

PyHipp's ``VMPlaceCell.placebins`` (:func:`placebins`) are counted on the rows of PyHipp's
``Umaze.sessionTime`` (:func:`umaze_session_time`), whose place-change times come from the
object's ``unityTrialTime``; they equal the place samples' intervals except for trials
without navigation time, which count nothing in both.

The null (:func:`joint_grid`, :func:`shifted_counts`): a table over the session's 1 ms grid
(the place bin and the view sample holding each millisecond's start) through which every
spike of every circularly shifted train is counted.

View samples: each ``binData.hdf`` row is one EyeLink sample lasting one sample period; a
sample that hit ``k`` distinct bins counts ``1/k`` towards each (time and spikes alike); a
sample with no bin (eye off screen, nothing hit, ignored by the raycast) is left out. A
sample's speed is that of the place interval containing it (0 outside navigation).

Smoothing (:func:`smooth_place`, :func:`smooth_view`): a Gaussian kernel of standard
deviation ``sigma`` bins applied to the spike-count map and the occupancy map separately,
rate = smoothed counts / smoothed occupancy (as the field's tools do: opexebo, spatial-maps),
truncated at 3 sigma. Place maps: the 40 x 40 floor grid (zero padding at the walls). View
maps: within each surface of the maze (floor and ceiling as 40 x 40 grids, the perimeter
walls as a 160 x 8 ring that wraps around, each pillar a 32 x 5 ring); the cue and hint
bins are not smoothed. Bins whose occupancy is below ``min_occupancy`` seconds are NaN in
the rate map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from scipy import ndimage

from hippoflow.behaviour import maze

N_PLACE = maze.GRID_N * maze.GRID_N  # 1600 place bins, ids 1..1600
N_VIEW = maze.N_BINS  # 5122 gaze bins, ids 1..5122
GRID_STEP_S = 0.001  # the shifts' time grid: whole milliseconds (the EyeLink sample period)


@dataclass
class Samples:
    """Time intervals ``[start, end)`` (s), each spread over bins (0-based column ``bin``
    of a CSR layout: sample ``i`` owns ``bins[ptr[i]:ptr[i+1]]`` with ``weights`` alike)."""

    start: np.ndarray
    end: np.ndarray
    ptr: np.ndarray
    bins: np.ndarray
    weights: np.ndarray
    n_bins: int

    @property
    def duration(self) -> np.ndarray:
        return self.end - self.start

    def select(self, keep: np.ndarray) -> Samples:
        """Only the samples where ``keep`` is true."""
        keep = np.asarray(keep, dtype=bool)
        lengths = np.diff(self.ptr)
        owner = np.repeat(np.arange(lengths.size), lengths)
        entry = keep[owner]
        ptr = np.concatenate([[0], np.cumsum(lengths[keep])])
        return Samples(
            self.start[keep],
            self.end[keep],
            ptr,
            self.bins[entry],
            self.weights[entry],
            self.n_bins,
        )

    def occupancy(self) -> np.ndarray:
        """Seconds per bin."""
        lengths = np.diff(self.ptr)
        dur = np.repeat(self.duration, lengths)
        return np.bincount(self.bins, weights=dur * self.weights, minlength=self.n_bins)

    def sample_of(self, t: np.ndarray) -> np.ndarray:
        """Index of the sample holding each time, -1 where none does."""
        t = np.asarray(t, dtype=np.float64)
        i = np.searchsorted(self.start, t, side="right") - 1
        ok = i >= 0
        ok[ok] &= t[ok] < self.end[i[ok]]
        return np.where(ok, i, -1)

    def counts(self, t: np.ndarray) -> np.ndarray:
        """Spikes per bin of the spike times ``t`` (s)."""
        return self.counts_many(np.asarray(t, dtype=np.float64)[None, :])[0]

    def time_grid(self, t0: float, t1: float, step: float = GRID_STEP_S) -> np.ndarray:
        """The sample holding the left edge of each ``step`` of ``[t0, t1)`` (-1: none)."""
        n = int(np.ceil((t1 - t0) / step))
        g = t0 + step * np.arange(n)
        # sample i holds the cells [a_i, b_i) up to the next sample's first (the later of two
        # overlapping samples holds their common cells, as in sample_of)
        a = np.searchsorted(g, self.start, side="left")
        b = np.minimum(np.searchsorted(g, self.end, side="left"), np.append(a[1:], n))
        lengths = np.maximum(b - a, 0)
        grid = np.full(n, -1, dtype=np.int32)
        grid[np.repeat(a, lengths) + _ranges(lengths)] = np.repeat(
            np.arange(a.size, dtype=np.int32), lengths
        )
        return grid

    def counts_many(self, t: np.ndarray) -> np.ndarray:
        """(S, n_bins) spikes per bin of S spike trains given as an (S, N) array."""
        t = np.asarray(t, dtype=np.float64)
        s_n, n = t.shape
        idx = self.sample_of(t.ravel())
        row = np.repeat(np.arange(s_n), n)
        ok = idx >= 0
        idx, row = idx[ok], row[ok]
        lengths = np.diff(self.ptr)[idx]
        entry = np.repeat(self.ptr[idx], lengths) + _ranges(lengths)
        rows = np.repeat(row, lengths)
        flat = rows * self.n_bins + self.bins[entry]
        out = np.bincount(flat, weights=self.weights[entry], minlength=s_n * self.n_bins)
        return out.reshape(s_n, self.n_bins)


def joint_grid(place: Samples, view: Samples | None, t0: float, t1: float):
    """The shifts' lookup over the ``GRID_STEP_S`` cells of ``[t0, t1)``: an (n, 2) int32
    array (per cell: the 0-based place bin of the place sample holding its left edge, and
    where the view sample holding it starts in ``packed``; -1: none) and ``packed`` (int16:
    per view sample its number of bins ``k`` then its bins, each of weight ``1/k``). Place
    samples have one bin of weight 1 each; view samples ``k`` bins of weight ``1/k``."""
    if not np.all(np.diff(place.ptr) == 1) or not np.all(place.weights == 1):
        raise ValueError("place samples must have one bin of weight 1 each")
    gp = place.time_grid(t0, t1)
    out = np.full((gp.size, 2), -1, dtype=np.int32)
    out[:, 0] = np.where(gp >= 0, place.bins[np.maximum(gp, 0)], -1)
    packed = np.zeros(0, dtype=np.int16)
    if view is not None:
        k = np.diff(view.ptr)
        if not np.array_equal(view.weights, np.repeat(1.0 / np.maximum(k, 1), k)):
            raise ValueError("view samples must have k bins of weight 1/k each")
        starts = view.ptr[:-1] + np.arange(k.size)  # each sample's k, then its bins
        packed = np.zeros(view.bins.size + k.size, dtype=np.int16)
        packed[starts] = k
        packed[np.repeat(starts + 1, k) + _ranges(k)] = view.bins
        gv = view.time_grid(t0, t1)
        out[:, 1] = np.where(gv >= 0, starts[np.maximum(gv, 0)], -1)
    return out, packed


PREFETCH_AHEAD = 16  # spikes ahead whose lookup row is fetched early (packed bins: half that)


@intrinsic
def _prefetch(typingctx, arr, idx):  # pragma: no cover (compiled by numba)
    """Ask the CPU to fetch ``arr[idx]`` (1-D) into its caches (LLVM's prefetch: read,
    high locality); no effect on the results."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        arrty, _ = signature.args
        ary = context.make_array(arrty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, arrty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        consts = [ir.Constant(i32, v) for v in (0, 3, 1)]
        builder.call(fn, [builder.bitcast(ptr, i8p), *consts])
        return context.get_dummy_value()

    return sig, codegen


def shifted_counts(grid, view: bool, cells, shifts):
    """Place and view counts of a spike train shifted circularly by each of ``shifts``
    (grid cells), the train given as grid cells (``cells``) of :func:`joint_grid`'s
    ``grid`` (its pair): ((S, 1600), (S, 5122) or None)."""
    lookup, packed = grid
    n = lookup.shape[0]
    cells = np.sort(np.remainder(np.asarray(cells, dtype=np.int64), n))
    shifts = np.remainder(np.asarray(shifts, dtype=np.int64), n)
    out_p = np.zeros((shifts.size, N_PLACE))
    out_v = np.zeros((shifts.size, N_VIEW if view else 0))
    packed = packed if packed.size else np.zeros(1, dtype=np.int16)
    lookup = np.ascontiguousarray(lookup, dtype=np.int32)
    _shifted_counts(cells, shifts, lookup, lookup.reshape(-1), bool(view), packed, out_p, out_v)
    return out_p, (out_v if view else None)


@njit(cache=True, nogil=True)
def _shifted_counts(
    cells, shifts, lookup, flat, has_view, packed, out_p, out_v
):  # pragma: no cover
    """out_p[s, b] += 1 for the place bin b, out_v[s, b] += 1/k for each of the k view bins
    b, of the grid cell holding each spike shifted by shifts[s] (circularly). Per spike and
    shift one row of the lookup (``flat``: the same, 1-D) and one run of ``packed``; spikes
    sorted, so the lookup is read in order, and the rows and runs of the spikes ahead are
    prefetched (the lookup is too large for the caches: waiting for memory is the cost)."""
    n = lookup.shape[0]
    m = cells.size
    for s in range(shifts.size):
        for i in range(m):
            if i + PREFETCH_AHEAD < m:
                a = cells[i + PREFETCH_AHEAD] + shifts[s]
                if a >= n:
                    a -= n
                _prefetch(flat, 2 * a)
            if has_view and i + PREFETCH_AHEAD // 2 < m:
                a = cells[i + PREFETCH_AHEAD // 2] + shifts[s]
                if a >= n:
                    a -= n
                if lookup[a, 1] >= 0:
                    _prefetch(packed, lookup[a, 1])
            j = cells[i] + shifts[s]  # both in [0, n): one wrap at most
            if j >= n:
                j -= n
            b = lookup[j, 0]
            if b >= 0:
                out_p[s, b] += 1.0
            q = lookup[j, 1]
            if has_view and q >= 0:
                k = packed[q]
                w = 1.0 / k
                for p in range(q + 1, q + 1 + k):
                    out_v[s, packed[p]] += w


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """0..l-1 for each l in ``lengths``, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    return np.arange(total) - np.repeat(starts, lengths)


def navigated(unity: dict) -> np.ndarray:
    """Per trial, whether it has navigation time: PyHipp's Umaze keeps a trial's places only
    when Unity's frame durations (``unityData`` column 1) of the frames after the cue-offset
    frame and before the end-marker frame add up to more than zero. A dubious trial, whose
    frames the alignment flattened onto its markers, has none."""
    dt = np.asarray(unity["unityData"][0], dtype=np.float64)[:, 1]
    trig = np.asarray(unity["unityTriggers"][0], dtype=np.int64).reshape(-1, 3)
    return np.array(
        [dt[c + 1 : e].size > 0 and np.cumsum(dt[c + 1 : e])[-1] != 0 for _, c, e in trig],
        dtype=bool,
    )


def place_intervals(unity: dict) -> dict:
    """The navigation intervals of a session: start, end, place bin (1-based), speed; one
    per frame of the trials with navigation time (:func:`navigated`)."""
    data = np.asarray(unity["unityData"][0], dtype=np.float64)
    utime = np.asarray(unity["unityTime"][0], dtype=np.float64)
    trig = np.asarray(unity["unityTriggers"][0], dtype=np.int64).reshape(-1, 3)
    gp = np.asarray(unity["gridPosition"][0], dtype=np.int64)
    starts, ends, bins, speeds = [], [], [], []
    for (_, cue, end), ok in zip(trig, navigated(unity), strict=True):
        rows = np.arange(cue + 1, end)  # frames holding a place until the next frame
        if rows.size == 0 or not ok:
            continue
        s = utime[rows + 1].copy()
        s[0] = utime[cue + 1]
        e = utime[rows + 2]
        dist = data[rows + 1, 6]
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(e > utime[rows + 1], dist / (e - utime[rows + 1]), 0.0)
        starts.append(s)
        ends.append(e)
        bins.append(gp[rows])
        speeds.append(v)
    cat = lambda a, dt: np.concatenate(a) if a else np.zeros(0, dt)  # noqa: E731
    return {
        "start": cat(starts, np.float64),
        "end": cat(ends, np.float64),
        "bin": cat(bins, np.int64),
        "speed": cat(speeds, np.float64),
    }


def place_samples(unity: dict, min_speed: float = 0.0) -> Samples:
    """Place samples where the animal moves at ``min_speed`` or faster (0: all)."""
    iv = place_intervals(unity)
    n = iv["start"].size
    samples = Samples(
        iv["start"],
        iv["end"],
        np.arange(n + 1),
        iv["bin"] - 1,
        np.ones(n),
        N_PLACE,
    )
    return samples.select((iv["speed"] >= min_speed) & (iv["end"] > iv["start"]))


def umaze_grid_position(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Umaze's place bin of each position: ``ix + 40 * (iz - 1)`` with ``ix``, ``iz`` the
    1-based intervals of the edges ``-12.5, -11.875, ..., 12.5`` holding the coordinate (a
    coordinate on the last edge in the last interval; 0 below the first edge, 41 above the
    last). Equal to ``gridPosition`` except, at most, for a coordinate within rounding of an
    edge or outside the floor."""
    n = maze.GRID_N
    edges = np.arange(-maze.HALF, maze.HALF + maze.GRID_BIN, maze.GRID_BIN)

    def interval(v):
        v = np.asarray(v, dtype=np.float64)
        i = np.searchsorted(edges, v, side="right")
        return np.where(v == edges[-1], n, i)

    return (interval(x) + n * (interval(z) - 1)).astype(np.int64)


def umaze_session_time(unity: dict) -> tuple[np.ndarray, np.ndarray]:
    """PyHipp's ``Umaze.sessionTime`` (its time and place columns) from a Unity object.

    A first row (0, 0); per trial, with ``tstart`` the cue-offset frame's time and the
    trial's places those of the frames from the one after the cue-offset frame to the
    end-marker frame: when the trial has navigation time (:func:`navigated`), a row
    (``tstart``, first place) and a row at each change of place (``tstart`` plus the trial
    time ``unityTrialTime`` of the frame after the change's, at most the end-marker frame's
    time, and the new place); otherwise
    one row (``tstart``, 0); then a row (end-marker frame's time, 0). Places are
    :func:`umaze_grid_position` of ``unityData``'s x and z."""
    data = np.asarray(unity["unityData"][0], dtype=np.float64)
    utime = np.asarray(unity["unityTime"][0], dtype=np.float64)
    trig = np.asarray(unity["unityTriggers"][0], dtype=np.int64).reshape(-1, 3)
    if "unityTrialTime" in unity:
        trial_time = np.asarray(unity["unityTrialTime"][0], dtype=np.float64)
    else:
        from hippoflow.behaviour.unity import trial_time as _trial_time

        trial_time = _trial_time(utime, trig)
    gp = umaze_grid_position(data[:, 2], data[:, 3])
    times, places = [np.zeros(1)], [np.zeros(1, np.int64)]
    for a, ((_, cue, end), ok) in enumerate(zip(trig, navigated(unity), strict=True)):
        tstart, tend = utime[cue + 1], utime[end + 1]
        if ok:
            tgp = gp[cue + 1 : end + 1]
            change = np.flatnonzero(tgp[1:] != tgp[:-1])  # tgp[i + 1] differs from tgp[i]
            # clipped to the trial: where rounding puts ``tstart`` plus the trial time of
            # the end-marker frame past that frame's own time (PyHipp's digitize stops there)
            times += [[tstart], np.clip(trial_time[change + 2, a] + tstart, tstart, tend)]
            places += [tgp[:1], tgp[change + 1]]
        else:
            times.append([tstart])
            places.append([0])
        times.append([tend])
        places.append([0])
    return np.concatenate(times).astype(np.float64), np.concatenate(places).astype(np.int64)


def vmplacecell_placebins(unity: dict, spike_s: np.ndarray) -> np.ndarray:
    """PyHipp's ``VMPlaceCell.placebins`` of a Unity object (see :func:`placebins`)."""
    return placebins(*umaze_session_time(unity), spike_s)


def placebins(times: np.ndarray, places: np.ndarray, spike_s: np.ndarray) -> np.ndarray:
    """PyHipp's ``VMPlaceCell.placebins`` as a (1600, 1) int64 column: the spikes after the
    second row of :func:`umaze_session_time` (``times``, ``places``) and before its last,
    each given the place of the last row at or before it; places 1..1600 counted (no speed
    or occupancy rule)."""
    t = np.asarray(times, dtype=np.float64)
    s = np.asarray(spike_s, dtype=np.float64)
    if t.size < 2:
        return np.zeros((N_PLACE, 1), dtype=np.int64)
    s = s[(s > t[1]) & (s < t[-1])]
    p = np.asarray(places, dtype=np.int64)[np.searchsorted(t, s, side="right") - 1]
    p = p[(p >= 1) & (p <= N_PLACE + 1)] - 1
    p[p == N_PLACE] = N_PLACE - 1  # a histogram's last bin holds its right edge too
    return np.bincount(p, minlength=N_PLACE)[:N_PLACE].astype(np.int64).reshape(-1, 1)


def view_samples(
    values: np.ndarray, unity: dict, sampling_rate: float, min_speed: float = 0.0
) -> Samples:
    """View samples from ``binData.hdf``'s ``values`` rows, during navigation at
    ``min_speed`` or faster, with at least one gaze bin. Consecutive samples with the same
    bins are one sample (a run of them: the same time and spikes per bin, less memory)."""
    values = np.asarray(values, dtype=np.float64)
    t = values[:, 0]
    if np.any(np.diff(t) < 0):
        raise ValueError("binData times are not in increasing order")
    ids = values[:, 1:].astype(np.int64)
    ids.sort(axis=1)
    iv = place_intervals(unity)
    nav = Samples(
        iv["start"], iv["end"], np.arange(iv["start"].size + 1), iv["bin"], iv["speed"], 0
    )
    j = nav.sample_of(t)
    speed = np.where(j >= 0, iv["speed"][np.maximum(j, 0)], -1.0)
    k = np.count_nonzero(ids > 0, axis=1)
    keep = (j >= 0) & (speed >= min_speed) & (k > 0)
    period = 1.0 / sampling_rate
    idx = np.flatnonzero(keep)
    same = np.zeros(idx.size, dtype=bool)
    if idx.size > 1:
        same[1:] = (
            (np.diff(idx) == 1)
            & (np.abs(np.diff(t[idx]) - period) < 0.5 * period)
            & np.all(ids[idx[1:]] == ids[idx[:-1]], axis=1)
        )
    first = idx[~same]  # the first sample of each run
    last = np.append(idx[np.flatnonzero(~same)[1:] - 1], idx[-1]) if idx.size else idx
    kk = k[first]
    ptr = np.concatenate([[0], np.cumsum(kk)])
    rows = ids[first]
    bins = rows[rows > 0] - 1  # ids sorted ascending: the nonzero ones are each row's last kk
    weights = np.repeat(1.0 / np.maximum(kk, 1), kk)
    return Samples(t[first], t[last] + period, ptr, bins, weights, N_VIEW)


def rate_map(counts, occupancy, min_occupancy: float) -> np.ndarray:
    """Spikes / seconds per bin; NaN where the occupancy is below ``min_occupancy``."""
    counts = np.asarray(counts, dtype=np.float64)
    occupancy = np.asarray(occupancy, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = counts / occupancy
    return np.where(occupancy >= max(min_occupancy, 1e-12), rate, np.nan)


# ---- smoothing -------------------------------------------------------------------------


def smooth_place(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of (..., 1600) place maps over the 40 x 40 grid (zero padding)."""
    maps = np.asarray(maps, dtype=np.float64)
    if sigma <= 0:
        return maps.copy()
    n = maze.GRID_N
    grid = maps.reshape(maps.shape[:-1] + (n, n))  # [..., iz, ix]: x fastest
    sig = (0,) * (maps.ndim - 1) + (sigma, sigma)
    out = ndimage.gaussian_filter(grid, sig, mode="constant", cval=0.0, truncate=3.0)
    return out.reshape(maps.shape)


def view_surfaces() -> list[tuple[int, tuple[int, int], bool]]:
    """(first 0-based bin, (rows, columns), wraps along columns) of each view surface."""
    n = maze.GRID_N
    out = [
        (maze.FLOOR0 - 1, (n, n), False),
        (maze.CEILING0 - 1, (n, n), False),
        (maze.WALL0 - 1, (maze.WALL_LEVELS, maze.WALL_RING), True),
    ]
    for p in range(len(maze.PILLARS)):
        out.append(
            (maze.PILLAR0 - 1 + p * maze.PILLAR_BINS, (maze.PILLAR_LEVELS, maze.PILLAR_RING), True)
        )
    return out


def smooth_view(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of (..., 5122) view maps within each surface (see the module)."""
    maps = np.asarray(maps, dtype=np.float64)
    if sigma <= 0:
        return maps.copy()
    out = np.empty_like(maps)  # every bin is set below: the cue and hint as they are
    out[..., : maze.FLOOR0 - 1] = maps[..., : maze.FLOOR0 - 1]
    lead = maps.shape[:-1]
    for first, shape, wraps in view_surfaces():
        size = shape[0] * shape[1]
        part = maps[..., first : first + size].reshape(lead + shape)
        sig = (0,) * len(lead) + (sigma, sigma)
        if wraps:
            modes = ["constant"] * len(lead) + ["constant", "wrap"]
            sm = ndimage.gaussian_filter(part, sig, mode=modes, cval=0.0, truncate=3.0)
        else:
            sm = ndimage.gaussian_filter(part, sig, mode="constant", cval=0.0, truncate=3.0)
        out[..., first : first + size] = sm.reshape(lead + (size,))
    return out
