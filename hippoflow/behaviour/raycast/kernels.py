"""Geometric gaze raycaster: EyeLink gaze samples onto the virtual maze (contract section 8).

This replaces the lab's compiled Unity program. Each gaze sample is turned into a disc of
rays from the monkey's virtual camera; each ray is intersected analytically with the maze
(floor, ceiling, perimeter walls, four pillars) and the surface patch it hits is reported
as a bin id.

Coordinates
-----------
World axes are Unity's: x to the right, y up, z forward, floor centre at the origin.
The camera sits at ``(x, CAMERA_HEIGHT, z)`` with yaw in degrees (0 = looking along +z,
90 = along +x), no pitch or roll. Forward is ``(sin yaw, 0, cos yaw)``, screen right is
``(cos yaw, 0, -sin yaw)``, screen up is ``(0, 1, 0)``. Pinhole projection with a
vertical field of view of ``FOV_DEG`` over ``SCREEN_H`` pixels: focal length
``F = (SCREEN_H / 2) / tan(FOV_DEG / 2)`` px. EyeLink pixel ``(gx, gy)`` (y grows
downward) maps to the camera-frame direction ``(u, v, 1)`` with
``u = (gx - SCREEN_W / 2) / F`` and ``v = ((SCREEN_H - gy) - SCREEN_H / 2) / F``.

Bins (0 = nothing hit / ignored; bin size ``BIN = 0.625``)
----------------------------------------------------------
- 1 cue image, 2 hint image (see *Cue and hint* below).
- Floor (y = 0) 3-1602: ``3 + ix + 40 * iz``; ``ix = floor((x + 12.5) / 0.625)``,
  ``iz = floor((z + 12.5) / 0.625)``, both 0-based and clipped to 0..39.
- Ceiling (y = 5) 1603-3202: ``1603 + ix + 40 * iz``, same layout.
- Perimeter walls 3203-4482: ``3203 + ring + 160 * h``. ``ring`` (0..159, 40 bins per
  wall) starts at corner (-12.5, -12.5) and runs along x = -12.5 towards +z (0..39), then
  z = +12.5 towards +x (40..79), x = +12.5 towards -z (80..119), z = -12.5 towards -x
  (120..159). ``h = floor(y / 0.625)`` in 0..7 (walls are 5 high).
- Pillars 4483-5122, in the order green, blue, red, yellow (160 bins each):
  ``4483 + 160 * p + ring + 32 * h``. Each 5 x 5 pillar has a 32-bin ring (8 per face),
  laid out exactly like the walls: it starts at the pillar's (x_min, z_min) corner and
  runs along the face x = x_min towards +z (0..7), then z = z_max towards +x (8..15),
  x = x_max towards -z (16..23), z = z_min towards -x (24..31). ``h = floor(y / 0.625)``
  in 0..4 (pillars are 3 high, so the top height bin covers 2.5-3.0). Pillar tops are
  never visible because the camera (1.85) is below them.
- Posters are flat on pillar faces, so a ray at a poster gets the bin of the pillar face
  behind it (``POSTERS`` lists their centres for reference and tests).

Cue and hint
------------
The cue image is shown, during cue periods, as a rectangle centred on the screen; the
hint image is a smaller rectangle centred at the top of the screen, shown while the hint
is on. Both are given in EyeLink pixels as ``(left, top, right, bottom)``
(``CUE_RECT``, ``HINT_RECT``; override with ``cue_rect=`` / ``hint_rect=``). When the
per-sample flag ``cue_on[i]`` (``hint_on[i]``) is set and a ray's pixel lies in the
rectangle (edges included), the ray's bin is 1 (2) instead of the maze; the cue wins
where both apply.

Samples and rays
----------------
A sample whose central gaze is NaN or off the screen (outside [0, SCREEN_W] x
[0, SCREEN_H]), whose pose is NaN, or that is flagged in ``ignore`` gets 0 for every
ray. Rays of the disc that fall off the screen edge also get 0 (nothing is shown
there). The disc's first ray is always the central one (offset (0, 0)).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hippoflow.atomic import atomic_output

SCREEN_W, SCREEN_H = 1920, 1080
FOV_DEG = 60.0
CAMERA_HEIGHT = 1.85
FOCAL_PX = (SCREEN_H / 2) / math.tan(math.radians(FOV_DEG / 2))

HALF = 12.5  # maze half-width
BIN = 0.625
WALL_HEIGHT = 5.0  # ceiling height as well
PILLAR_HEIGHT = 3.0
N_GRID = 40  # 25 / 0.625

CUE_BIN, HINT_BIN = 1, 2
FLOOR0, CEILING0, WALL0, PILLAR0 = 3, 1603, 3203, 4483
N_BINS = 5122  # highest bin id

# (x_min, x_max, z_min, z_max), in bin order.
PILLARS = {
    "green": (2.5, 7.5, -7.5, -2.5),
    "blue": (-7.5, -2.5, -7.5, -2.5),
    "red": (2.5, 7.5, 2.5, 7.5),
    "yellow": (-7.5, -2.5, 2.5, 7.5),
}
PILLAR_NAMES = tuple(PILLARS)
_PILLAR_ARRAY = np.array(list(PILLARS.values()), dtype=np.float64)

# Poster centres (x, y, z) from the Unity log header, their pillar and the face they sit on.
POSTERS = {
    "P1": ((-5.0, 1.5, -7.55), "blue", "south"),
    "P2": ((-7.55, 1.5, 5.0), "yellow", "west"),
    "P3": ((7.55, 1.5, -5.0), "green", "east"),
    "P4": ((5.0, 1.5, 7.55), "red", "north"),
    "P5": ((5.0, 1.5, 2.45), "red", "south"),
    "P6": ((-5.0, 1.5, -2.45), "blue", "north"),
}

# Screen rectangles in EyeLink pixels (left, top, right, bottom); gy grows downward.
# Cue: 600 x 375 px (the posters' 1.6 aspect ratio) centred on the screen.
CUE_RECT = (660.0, 352.5, 1260.0, 727.5)
# Hint: 300 x 187.5 px, horizontally centred, 40 px below the top edge.
HINT_RECT = (810.0, 40.0, 1110.0, 227.5)

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
        i = min(max(int(math.floor(s / BIN)), 0), 7)
        h = min(max(int(math.floor(hy / BIN)), 0), 4)
        return PILLAR0 + 160 * best_p + 8 * best_face + i + 32 * h, t_best
    if t_fc <= t_w:
        ix = min(max(int(math.floor((hx + HALF) / BIN)), 0), N_GRID - 1)
        iz = min(max(int(math.floor((hz + HALF) / BIN)), 0), N_GRID - 1)
        base = FLOOR0 if dy < 0.0 else CEILING0
        return base + ix + N_GRID * iz, t_best
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
    i = min(max(int(math.floor(s / BIN)), 0), N_GRID - 1)
    h = min(max(int(math.floor(hy / BIN)), 0), 7)
    return WALL0 + 40 * face + i + 160 * h, t_best


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
    gx, gy, x, z, yaw, flags = _prepare(gx, gy, x, z, yaw, ignore, cue_on, hint_on)
    offs = ray_offsets(radius_px, density)
    cr, hr = _rects(cue_rect, hint_rect)
    n = gx.shape[0]
    out = np.zeros((n, offs.shape[0]), dtype=np.int32)
    dummy = np.empty((0, 3))
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        _cast_kernel(
            gx[s:e],
            gy[s:e],
            x[s:e],
            z[s:e],
            yaw[s:e],
            flags[s:e],
            offs,
            cr,
            hr,
            _PILLAR_ARRAY,
            out[s:e],
            dummy,
            False,
        )
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
    gx, gy, x, z, yaw, flags = _prepare(gx, gy, x, z, yaw, ignore, cue_on, hint_on)
    offs = ray_offsets(radius_px, density)
    cr, hr = _rects(cue_rect, hint_rect)
    n = gx.shape[0]
    nr = offs.shape[0]
    buf = np.empty((min(chunk, max(n, 1)), nr), dtype=np.int32)
    dbuf = np.empty_like(buf)
    dummy = np.empty((0, 3))
    # Chunks are kept compact (their own width, int16: bin ids < 2**15) and assembled
    # at the end, freeing each as it is copied: peak ~1.5x the int32 result.
    parts = []
    kmax = 0
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        b = buf[: e - s]
        d = dbuf[: e - s]
        _cast_kernel(
            gx[s:e],
            gy[s:e],
            x[s:e],
            z[s:e],
            yaw[s:e],
            flags[s:e],
            offs,
            cr,
            hr,
            _PILLAR_ARRAY,
            b,
            dummy,
            False,
        )
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
    gx, gy, x, z, yaw, flags = _prepare(gx, gy, x, z, yaw, ignore, cue_on, hint_on)
    cr, hr = _rects(cue_rect, hint_rect)
    n = gx.shape[0]
    bins = np.zeros((n, 1), dtype=np.int32)
    hits = np.full((n, 3), np.nan)
    _cast_kernel(
        gx, gy, x, z, yaw, flags, np.zeros((1, 2)), cr, hr, _PILLAR_ARRAY, bins, hits, True
    )
    return bins[:, 0], hits


def _build_names() -> np.ndarray:
    names = np.empty(N_BINS + 1, dtype=object)
    names[0] = "none"
    names[CUE_BIN] = "cue"
    names[HINT_BIN] = "hint"
    names[FLOOR0:CEILING0] = "floor"
    names[CEILING0:WALL0] = "ceiling"
    names[WALL0:PILLAR0] = "wall"
    for p, colour in enumerate(PILLAR_NAMES):
        names[PILLAR0 + 160 * p : PILLAR0 + 160 * (p + 1)] = f"pillar_{colour}"
    return names


_NAMES = _build_names()


def object_name(bin_id) -> str:
    """Name of the object a bin belongs to: 'none', 'cue', 'hint', 'floor', 'ceiling',
    'wall', 'pillar_green', 'pillar_blue', 'pillar_red' or 'pillar_yellow'."""
    b = int(bin_id)
    if b < 0 or b > N_BINS:
        raise ValueError(f"object_name: bin id {b} outside 0..{N_BINS}")
    return _NAMES[b]


def write_bindata(path, times, bins_distinct) -> None:
    """Write ``binData.hdf``: dataset ``values`` (float64), one row per sample,
    ``[time, bin ids...]`` zero padded. Written to a temporary file, then renamed."""
    import h5py

    times = np.asarray(times, dtype=np.float64).reshape(-1)
    bins_distinct = np.asarray(bins_distinct)
    if bins_distinct.ndim == 1:
        bins_distinct = bins_distinct[:, None]
    if bins_distinct.shape[0] != times.shape[0]:
        raise ValueError(
            f"write_bindata: {times.shape[0]} times but {bins_distinct.shape[0]} bin rows"
        )
    n = times.shape[0]
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as f:
            ds = f.create_dataset(
                "values",
                shape=(n, 1 + bins_distinct.shape[1]),
                dtype=np.float64,
                chunks=(min(max(n, 1), 65536), 1 + bins_distinct.shape[1]),
                compression="gzip",
                compression_opts=1,
                shuffle=True,
            )
            step = 250_000
            for s in range(0, n, step):
                e = min(s + step, n)
                block = np.empty((e - s, ds.shape[1]))
                block[:, 0] = times[s:e]
                block[:, 1:] = bins_distinct[s:e]
                ds[s:e] = block


CSV_COLUMNS = (
    "type",
    "time",
    "object",
    "gx",
    "gy",
    "pos_x",
    "pos_z",
    "yaw",
    "hit_x",
    "hit_y",
    "hit_z",
)


def write_unityfile_eyelink(path, table: dict) -> None:
    """Write ``unityfile_eyelink.csv``, one row per sample, columns ``CSV_COLUMNS``.

    ``table`` holds per-sample arrays: ``time``, ``gx``, ``gy``, ``x``, ``z``, ``yaw``;
    optionally ``bin`` (central-ray bin id) and ``hit`` ((n, 3) hit point) — both are
    computed with :func:`hit_points` when absent (passing ``ignore``, ``cue_on``,
    ``hint_on`` from the table if present); optionally ``type`` (str or per-sample
    strings, default ``"SAMPLE"``) and ``ignore`` (bool: the object column then reads
    ``ignored``). The hit object is :func:`object_name` of the bin; NaN is written as an
    empty field. Written to a temporary file, then renamed.
    """
    missing = [k for k in ("time", "gx", "gy", "x", "z", "yaw") if k not in table]
    if missing:
        raise ValueError(f"write_unityfile_eyelink: table lacks {missing}")
    t = np.asarray(table["time"], dtype=np.float64).reshape(-1)
    n = t.shape[0]
    cols = {
        k: np.asarray(table[k], dtype=np.float64).reshape(-1) for k in ("gx", "gy", "x", "z", "yaw")
    }
    for k, v in cols.items():
        if v.shape[0] != n:
            raise ValueError(
                f"write_unityfile_eyelink: column {k} has {v.shape[0]} rows, time has {n}"
            )
    ignore = table.get("ignore")
    if "bin" in table and "hit" in table:
        bins = np.asarray(table["bin"]).reshape(-1).astype(np.int64)
        hit = np.asarray(table["hit"], dtype=np.float64).reshape(n, 3)
    else:
        bins, hit = hit_points(
            cols["gx"],
            cols["gy"],
            cols["x"],
            cols["z"],
            cols["yaw"],
            ignore=ignore,
            cue_on=table.get("cue_on"),
            hint_on=table.get("hint_on"),
        )
    names = _NAMES[np.clip(bins, 0, N_BINS)]
    if ignore is not None:
        names = np.where(np.asarray(ignore, dtype=bool).reshape(-1), "ignored", names)
    types = np.broadcast_to(np.asarray(table.get("type", "SAMPLE"), dtype=object), (n,))
    if any("nan" in str(v).lower() for v in np.unique(types.astype(str))):
        raise ValueError("write_unityfile_eyelink: a row type may not contain 'nan'")

    row_fmt = "%s,%.4f,%s,%.2f,%.2f,%.4f,%.4f,%.3f,%.4f,%.4f,%.4f"
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="") as f:
            f.write(",".join(CSV_COLUMNS) + "\n")
            step = 100_000
            for s in range(0, n, step):
                e = min(s + step, n)
                cols_se = (
                    types[s:e].tolist(),
                    t[s:e].tolist(),
                    names[s:e].tolist(),
                    cols["gx"][s:e].tolist(),
                    cols["gy"][s:e].tolist(),
                    cols["x"][s:e].tolist(),
                    cols["z"][s:e].tolist(),
                    cols["yaw"][s:e].tolist(),
                    hit[s:e, 0].tolist(),
                    hit[s:e, 1].tolist(),
                    hit[s:e, 2].tolist(),
                )
                text = "\n".join([row_fmt % r for r in zip(*cols_se, strict=True)])
                # NaN prints as "nan": leave the field empty (no name or type contains "nan")
                f.write(text.replace("nan", ""))
                f.write("\n")
