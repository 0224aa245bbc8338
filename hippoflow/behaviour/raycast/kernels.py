"""Geometric gaze raycaster: EyeLink gaze samples onto the virtual maze.

This replaces the lab's compiled Unity program. Each gaze sample is turned into a disc of
rays from the monkey's virtual camera; each ray is intersected analytically with the maze
(floor, ceiling, perimeter walls, four pillars) and the surface patch it hits is reported
as a bin id. The geometry, the camera and the bin numbering are those of
:mod:`hippoflow.behaviour.maze`.

Inputs: per-sample arrays ``gx, gy`` (EyeLink gaze pixels, gy grows downward), ``x, z,
yaw`` (camera pose, yaw in degrees), optional bool flags ``ignore``, ``cue_on``,
``hint_on``. Outputs: bin ids per ray (:func:`cast_bins`), the distinct bins per sample
(:func:`distinct_bins`, :func:`cast_distinct`), or the central ray's bin and hit point
(:func:`hit_points`); :func:`ray_offsets` gives the disc of rays.

A sample whose central gaze is NaN or off the screen (outside [0, SCREEN_W] x
[0, SCREEN_H]), whose pose is NaN, or that is flagged in ``ignore`` gets 0 for every
ray. Rays of the disc that fall off the screen edge also get 0 (nothing is shown
there). The disc's first ray is always the central one (offset (0, 0)). When
``cue_on[i]`` (``hint_on[i]``) is set and a ray's pixel lies in ``cue_rect``
(``hint_rect``, defaults :data:`maze.CUE_RECT` / :data:`maze.HINT_RECT`), the ray's bin is
1 (2) instead of the maze.

(About 500 lines: the three numba kernels and the functions that check their inputs and
feed them in chunks; apart, each kernel would sit away from the only code that calls it.)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hippoflow.behaviour.maze import (
    CAMERA_HEIGHT,
    CEILING0,
    CUE_BIN,
    CUE_RECT,
    FLOOR0,
    FOCAL_PX,
    GRID_BIN,
    GRID_N,
    HALF,
    HINT_BIN,
    HINT_RECT,
    PILLAR0,
    PILLAR_BINS,
    PILLAR_FACE_BINS,
    PILLAR_HEIGHT,
    PILLAR_LEVELS,
    PILLAR_RING,
    PILLARS,
    SCREEN_H,
    SCREEN_W,
    WALL0,
    WALL_HEIGHT,
    WALL_LEVELS,
    WALL_RING,
)

_PILLAR_ARRAY = np.array(list(PILLARS.values()), dtype=np.float64)

DEFAULT_CHUNK = 100_000

_IGNORE, _CUE, _HINT = 1, 2, 4


def ray_offsets(radius_px: float = 20, density: float = 220) -> np.ndarray:
    """Pixel offsets ``(n, 2)`` (dx, dy) of a disc of rays on a golden-angle spiral.

    ``n = ceil(pi * radius_px**2 * density / 1e4)`` (28 for the defaults); radius 0 gives
    the single central ray. Ray k sits at radius ``R * sqrt(k / (n - 1))`` and angle
    ``k * golden_angle``: ray 0 is the centre and the last ray lies on the rim.
    """
    if radius_px < 0 or density <= 0:
        raise ValueError(
            f"ray_offsets: need radius_px >= 0 and density > 0, got {radius_px}, {density}"
        )
    n = math.ceil(math.pi * radius_px**2 * density / 1e4) if radius_px > 0 else 1
    if n <= 1:
        return np.zeros((1, 2))
    k = np.arange(n)
    r = radius_px * np.sqrt(k / (n - 1))
    theta = k * math.pi * (3.0 - math.sqrt(5.0))
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


@njit(cache=True, nogil=True)
def _trace(ox, oz, dx, dy, dz, pillars):
    """Nearest hit of the ray (ox, H, oz) + t (dx, dy, dz): (bin, t); bin 0 if none."""
    h0 = CAMERA_HEIGHT
    inf = np.inf
    # Enclosing box: floor / ceiling.
    t_fc = inf
    if dy < 0.0:
        t_fc = -h0 / dy
    elif dy > 0.0:
        t_fc = (WALL_HEIGHT - h0) / dy
    # Perimeter walls (the camera is inside the box).
    tx = inf
    if dx > 0.0:
        tx = (HALF - ox) / dx
    elif dx < 0.0:
        tx = (-HALF - ox) / dx
    tz = inf
    if dz > 0.0:
        tz = (HALF - oz) / dz
    elif dz < 0.0:
        tz = (-HALF - oz) / dz
    t_w = min(tx, tz)
    t_best = min(t_fc, t_w)
    if t_best == inf or t_best < 0.0:
        return 0, np.nan
    # Pillars: slab test in x-z, then the height of the entry point.
    best_p = -1
    best_face = 0
    for p in range(pillars.shape[0]):
        x0 = pillars[p, 0]
        x1 = pillars[p, 1]
        z0 = pillars[p, 2]
        z1 = pillars[p, 3]
        if dx == 0.0:
            if ox < x0 or ox > x1:
                continue
            txn, txf = -inf, inf
        elif dx > 0.0:
            txn, txf = (x0 - ox) / dx, (x1 - ox) / dx
        else:
            txn, txf = (x1 - ox) / dx, (x0 - ox) / dx
        if dz == 0.0:
            if oz < z0 or oz > z1:
                continue
            tzn, tzf = -inf, inf
        elif dz > 0.0:
            tzn, tzf = (z0 - oz) / dz, (z1 - oz) / dz
        else:
            tzn, tzf = (z1 - oz) / dz, (z0 - oz) / dz
        t_in = max(txn, tzn)
        t_out = min(txf, tzf)
        if t_in > t_out or t_in <= 0.0 or t_in >= t_best:
            continue
        y = h0 + dy * t_in
        if y < 0.0 or y > PILLAR_HEIGHT:
            continue
        t_best = t_in
        best_p = p
        # face: 0 x_min, 1 z_max, 2 x_max, 3 z_min (ring order)
        if txn >= tzn:
            best_face = 0 if dx > 0.0 else 2
        else:
            best_face = 3 if dz > 0.0 else 1
    hx = ox + dx * t_best
    hy = h0 + dy * t_best
    hz = oz + dz * t_best
    if best_p >= 0:
        x0 = pillars[best_p, 0]
        x1 = pillars[best_p, 1]
        z0 = pillars[best_p, 2]
        z1 = pillars[best_p, 3]
        if best_face == 0:
            s = hz - z0
        elif best_face == 1:
            s = hx - x0
        elif best_face == 2:
            s = z1 - hz
        else:
            s = x1 - hx
        i = min(max(int(math.floor(s / GRID_BIN)), 0), PILLAR_FACE_BINS - 1)
        h = min(max(int(math.floor(hy / GRID_BIN)), 0), PILLAR_LEVELS - 1)
        return (
            PILLAR0 + PILLAR_BINS * best_p + PILLAR_FACE_BINS * best_face + i + PILLAR_RING * h,
            t_best,
        )
    if t_fc <= t_w:
        ix = min(max(int(math.floor((hx + HALF) / GRID_BIN)), 0), GRID_N - 1)
        iz = min(max(int(math.floor((hz + HALF) / GRID_BIN)), 0), GRID_N - 1)
        base = FLOOR0 if dy < 0.0 else CEILING0
        return base + ix + GRID_N * iz, t_best
    if tx <= tz:
        if dx < 0.0:
            s, face = hz + HALF, 0
        else:
            s, face = HALF - hz, 2
    else:
        if dz > 0.0:
            s, face = hx + HALF, 1
        else:
            s, face = HALF - hx, 3
    i = min(max(int(math.floor(s / GRID_BIN)), 0), GRID_N - 1)
    h = min(max(int(math.floor(hy / GRID_BIN)), 0), WALL_LEVELS - 1)
    return WALL0 + GRID_N * face + i + WALL_RING * h, t_best


@njit(cache=True, nogil=True)
def _cast_kernel(
    gx, gy, x, z, yaw, flags, offs, cue_rect, hint_rect, pillars, out_bins, out_hit, want_hit
):
    n = gx.shape[0]
    nr = offs.shape[0]
    cx = SCREEN_W / 2.0
    cy = SCREEN_H / 2.0
    for i in range(n):
        g_x = gx[i]
        g_y = gy[i]
        ok = (
            (flags[i] & _IGNORE) == 0
            and g_x >= 0.0
            and g_x <= SCREEN_W
            and g_y >= 0.0
            and g_y <= SCREEN_H
            and not math.isnan(x[i])
            and not math.isnan(z[i])
            and not math.isnan(yaw[i])
        )  # NaN gaze fails the range tests
        if not ok:
            for k in range(nr):
                out_bins[i, k] = 0
            if want_hit:
                out_hit[i, 0] = np.nan
                out_hit[i, 1] = np.nan
                out_hit[i, 2] = np.nan
            continue
        a = math.radians(yaw[i])
        sa = math.sin(a)
        ca = math.cos(a)
        cue = (flags[i] & _CUE) != 0
        hint = (flags[i] & _HINT) != 0
        for k in range(nr):
            px = g_x + offs[k, 0]
            py = g_y + offs[k, 1]
            if px < 0.0 or px > SCREEN_W or py < 0.0 or py > SCREEN_H:
                out_bins[i, k] = 0
                if want_hit and k == 0:
                    out_hit[i, 0] = np.nan
                    out_hit[i, 1] = np.nan
                    out_hit[i, 2] = np.nan
                continue
            if (
                cue
                and px >= cue_rect[0]
                and px <= cue_rect[2]
                and py >= cue_rect[1]
                and py <= cue_rect[3]
            ):
                b = CUE_BIN
                t = np.nan
            elif (
                hint
                and px >= hint_rect[0]
                and px <= hint_rect[2]
                and py >= hint_rect[1]
                and py <= hint_rect[3]
            ):
                b = HINT_BIN
                t = np.nan
            else:
                u = (px - cx) / FOCAL_PX
                v = ((SCREEN_H - py) - cy) / FOCAL_PX
                dxw = sa + u * ca
                dzw = ca - u * sa
                b, t = _trace(x[i], z[i], dxw, v, dzw, pillars)
                if want_hit and k == 0:
                    out_hit[i, 0] = x[i] + dxw * t
                    out_hit[i, 1] = CAMERA_HEIGHT + v * t
                    out_hit[i, 2] = z[i] + dzw * t
            out_bins[i, k] = b
            if want_hit and k == 0 and b <= HINT_BIN:
                out_hit[i, 0] = np.nan
                out_hit[i, 1] = np.nan
                out_hit[i, 2] = np.nan


@njit(cache=True, nogil=True)
def _distinct_kernel(bins, out):
    """Distinct nonzero values per row, sorted ascending, zero padded; returns the max count."""
    n, nr = bins.shape
    buf = np.empty(nr, dtype=bins.dtype)
    kmax = 0
    for i in range(n):
        m = 0
        for k in range(nr):
            b = bins[i, k]
            if b == 0:
                continue
            # insertion into the sorted buffer, skipping duplicates
            j = m
            dup = False
            while j > 0 and buf[j - 1] >= b:
                if buf[j - 1] == b:
                    dup = True
                    break
                j -= 1
            if dup:
                continue
            for q in range(m, j, -1):
                buf[q] = buf[q - 1]
            buf[j] = b
            m += 1
        for k in range(m):
            out[i, k] = buf[k]
        for k in range(m, out.shape[1]):
            out[i, k] = 0
        if m > kmax:
            kmax = m
    return kmax


def _as_f64(a, n, name):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64).reshape(-1))
    if a.shape[0] != n:
        raise ValueError(f"raycast: {name} has {a.shape[0]} samples, gaze has {n}")
    return a


def _prepare(gx, gy, x, z, yaw, ignore, cue_on, hint_on):
    gx = np.ascontiguousarray(np.asarray(gx, dtype=np.float64).reshape(-1))
    n = gx.shape[0]
    gy = _as_f64(gy, n, "gy")
    x = _as_f64(x, n, "x")
    z = _as_f64(z, n, "z")
    yaw = _as_f64(yaw, n, "yaw")
    flags = np.zeros(n, dtype=np.uint8)
    for arr, bit, name in (
        (ignore, _IGNORE, "ignore"),
        (cue_on, _CUE, "cue_on"),
        (hint_on, _HINT, "hint_on"),
    ):
        if arr is None:
            continue
        arr = np.asarray(arr, dtype=bool).reshape(-1)
        if arr.shape[0] != n:
            raise ValueError(f"raycast: {name} has {arr.shape[0]} samples, gaze has {n}")
        flags[arr] |= bit
    return gx, gy, x, z, yaw, flags


def _rects(cue_rect, hint_rect):
    return np.asarray(cue_rect, dtype=np.float64), np.asarray(hint_rect, dtype=np.float64)


_NO_HITS = np.empty((0, 3))


def _cast(samples, s, e, offs, rects, out, hits=None):
    """Run the kernel on samples ``s:e`` (``_prepare``'s arrays) into ``out`` (``e - s``
    rows); with ``hits`` ((e - s, 3)) also the central ray's hit points."""
    gx, gy, x, z, yaw, flags = (a[s:e] for a in samples)
    want_hit = hits is not None
    hits = hits if want_hit else _NO_HITS
    cr, hr = rects
    _cast_kernel(gx, gy, x, z, yaw, flags, offs, cr, hr, _PILLAR_ARRAY, out, hits, want_hit)


def cast_bins(
    gx,
    gy,
    x,
    z,
    yaw,
    radius_px=20,
    density=220,
    ignore=None,
    *,
    cue_on=None,
    hint_on=None,
    cue_rect=CUE_RECT,
    hint_rect=HINT_RECT,
    chunk=DEFAULT_CHUNK,
) -> np.ndarray:
    """Bin id hit by every ray of every sample: int32 ``(n_samples, n_rays)``.

    ``gx, gy``: EyeLink gaze pixels (gy grows downward); ``x, z, yaw``: camera pose per
    sample (yaw degrees, 0 = +z, 90 = +x). Column 0 is the central ray. Samples that are
    NaN, off screen, have a NaN pose or are flagged in ``ignore`` get 0 everywhere;
    ``cue_on`` / ``hint_on`` (bool per sample) enable the cue (1) / hint (2) rectangles.
    The result takes ``4 * n_rays`` bytes per sample; for long sessions prefer
    :func:`cast_distinct`, which keeps only the distinct bins per chunk.
    """
    samples = _prepare(gx, gy, x, z, yaw, ignore, cue_on, hint_on)
    offs = ray_offsets(radius_px, density)
    rects = _rects(cue_rect, hint_rect)
    n = samples[0].shape[0]
    out = np.zeros((n, offs.shape[0]), dtype=np.int32)
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        _cast(samples, s, e, offs, rects, out[s:e])
    return out


def distinct_bins(bins: np.ndarray) -> np.ndarray:
    """Per sample the distinct nonzero bins, sorted ascending and zero padded.

    Shape ``(n, max_distinct)`` where ``max_distinct`` is the largest count over samples
    (0 columns if nothing was hit at all).
    """
    bins = np.ascontiguousarray(np.asarray(bins, dtype=np.int32))
    if bins.ndim != 2:
        raise ValueError(f"distinct_bins: need a 2-D array, got shape {bins.shape}")
    out = np.empty_like(bins)
    kmax = _distinct_kernel(bins, out) if bins.shape[0] else 0
    return np.ascontiguousarray(out[:, :kmax])


def cast_distinct(
    gx,
    gy,
    x,
    z,
    yaw,
    radius_px=20,
    density=220,
    ignore=None,
    *,
    cue_on=None,
    hint_on=None,
    cue_rect=CUE_RECT,
    hint_rect=HINT_RECT,
    chunk=DEFAULT_CHUNK,
    progress=None,
) -> np.ndarray:
    """``distinct_bins(cast_bins(...))`` computed chunk by chunk (bounded memory).

    ``progress``, if given, is called as ``progress(done, total)`` after each chunk.
    """
    samples = _prepare(gx, gy, x, z, yaw, ignore, cue_on, hint_on)
    offs = ray_offsets(radius_px, density)
    rects = _rects(cue_rect, hint_rect)
    n = samples[0].shape[0]
    nr = offs.shape[0]
    buf = np.empty((min(chunk, max(n, 1)), nr), dtype=np.int32)
    dbuf = np.empty_like(buf)
    # Chunks are kept compact (their own width, int16: bin ids < 2**15) and assembled
    # at the end, freeing each as it is copied: peak ~1.5x the int32 result.
    parts = []
    kmax = 0
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        b = buf[: e - s]
        d = dbuf[: e - s]
        _cast(samples, s, e, offs, rects, b)
        k = _distinct_kernel(b, d)
        parts.append(d[:, :k].astype(np.int16))
        kmax = max(kmax, k)
        if progress is not None:
            progress(e, n)
    out = np.zeros((n, kmax), dtype=np.int32)
    s = 0
    parts.reverse()
    while parts:
        p = parts.pop()
        out[s : s + p.shape[0], : p.shape[1]] = p
        s += p.shape[0]
    return out


def hit_points(
    gx,
    gy,
    x,
    z,
    yaw,
    *,
    ignore=None,
    cue_on=None,
    hint_on=None,
    cue_rect=CUE_RECT,
    hint_rect=HINT_RECT,
) -> tuple[np.ndarray, np.ndarray]:
    """Central ray only: ``(bin id int32 (n,), hit point xyz (n, 3))``.

    The hit point is NaN where nothing in the maze is hit (bin 0, cue or hint).
    """
    samples = _prepare(gx, gy, x, z, yaw, ignore, cue_on, hint_on)
    n = samples[0].shape[0]
    bins = np.zeros((n, 1), dtype=np.int32)
    hits = np.full((n, 3), np.nan)
    _cast(samples, 0, n, np.zeros((1, 2)), _rects(cue_rect, hint_rect), bins, hits)
    return bins[:, 0], hits


# numba caches each kernel keyed on this file alone, with the maze constants it reads frozen
# in: after an edit of maze.py the cache would keep the old maze. _baked is cached the same
# way; when what it froze differs from maze.py, every kernel's cache is dropped. _BAKED
# lists every maze constant the kernels read.
_BAKED = tuple(
    float(v)
    for v in (
        SCREEN_W, SCREEN_H, FOCAL_PX, CAMERA_HEIGHT, HALF, WALL_HEIGHT, PILLAR_HEIGHT,
        GRID_BIN, GRID_N, CUE_BIN, HINT_BIN, FLOOR0, CEILING0, WALL0, PILLAR0, WALL_RING,
        WALL_LEVELS, PILLAR_FACE_BINS, PILLAR_RING, PILLAR_LEVELS, PILLAR_BINS,
    )
)  # fmt: skip


@njit(cache=True)
def _baked():
    return _BAKED


if _baked() != _BAKED:
    for _kernel in (_trace, _cast_kernel, _distinct_kernel, _baked):
        _kernel.recompile()
