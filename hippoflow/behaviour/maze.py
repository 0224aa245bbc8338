"""The one virtual maze of the lab's task, shared by the Unity reader, the raycaster and the
synthetic writers.

Inputs: none (constants). Outputs: the floor and walls, the four pillars, the six posters,
the 40 x 40 place grid, the route lattice, the gaze-bin numbering, and the screen and
camera of the Unity display. Values that follow from others are computed from them.

Coordinates
-----------
World axes are Unity's: x to the right, y up, z forward, floor centre at the origin; the
floor is ``[-HALF, HALF]^2`` (25 x 25), walls and ceiling ``WALL_HEIGHT`` (5) high. The
camera sits at ``(x, CAMERA_HEIGHT, z)`` with yaw in degrees (0 = looking along +z,
90 = along +x), no pitch or roll. Forward is ``(sin yaw, 0, cos yaw)``, screen right is
``(cos yaw, 0, -sin yaw)``, screen up is ``(0, 1, 0)``. Pinhole projection with a
vertical field of view of ``FOV_DEG`` over ``SCREEN_H`` pixels: focal length
``FOCAL_PX = (SCREEN_H / 2) / tan(FOV_DEG / 2)``. EyeLink pixel ``(gx, gy)`` (y grows
downward) maps to the camera-frame direction ``(u, v, 1)`` with
``u = (gx - SCREEN_W / 2) / FOCAL_PX`` and ``v = ((SCREEN_H - gy) - SCREEN_H / 2) / FOCAL_PX``.

Gaze bins (0 = nothing hit / ignored; every bin is ``GRID_BIN = 0.625`` on a side)
-------------------------------------------------------------------------------
- 1 cue image, 2 hint image: screen rectangles ``CUE_RECT`` / ``HINT_RECT`` in EyeLink
  pixels ``(left, top, right, bottom)``, edges included; the cue wins where both apply.
- Floor (y = 0) 3-1602: ``3 + ix + 40 * iz``; ``ix = floor((x + 12.5) / 0.625)``,
  ``iz = floor((z + 12.5) / 0.625)``, both 0-based and clipped to 0..39 (the place grid).
- Ceiling (y = 5) 1603-3202: ``1603 + ix + 40 * iz``, same layout.
- Perimeter walls 3203-4482: ``3203 + ring + 160 * h``. ``ring`` (0..159, 40 bins per
  wall) starts at corner (-12.5, -12.5) and runs along x = -12.5 towards +z (0..39), then
  z = +12.5 towards +x (40..79), x = +12.5 towards -z (80..119), z = -12.5 towards -x
  (120..159). ``h = floor(y / 0.625)`` in 0..7.
- Pillars 4483-5122, in the order green, blue, red, yellow (160 bins each):
  ``4483 + 160 * p + ring + 32 * h``. Each 5 x 5 pillar has a 32-bin ring (8 per face),
  laid out exactly like the walls: it starts at the pillar's (x_min, z_min) corner and
  runs along the face x = x_min towards +z (0..7), then z = z_max towards +x (8..15),
  x = x_max towards -z (16..23), z = z_min towards -x (24..31). ``h = floor(y / 0.625)``
  in 0..4 (pillars are 3 high, so the top height bin covers 2.5-3.0). Pillar tops are
  never visible because the camera (1.85) is below them.
- Posters are flat on pillar faces, so a ray at a poster gets the bin of the pillar face
  behind it.

Route lattice
-------------
The corridors' centre lines, every ``LATTICE_STEP`` (5) over [-10, 10]^2 without the four
pillar centres: 21 vertices, listed like PyHipp (rows from z = +10 down to z = -10, x
increasing). ``POSTER_SPOTS`` is the vertex in front of each poster.
"""

from __future__ import annotations

import math

import numpy as np

# --- screen and camera -----------------------------------------------------------------
# The Unity display the monkey sees and the EyeLink gaze coordinates refer to (pixels).
SCREEN_W, SCREEN_H = 1920, 1080
SCREEN = (SCREEN_W, SCREEN_H)
FOV_DEG = 60.0  # vertical
CAMERA_HEIGHT = 1.85
FOCAL_PX = (SCREEN_H / 2) / math.tan(math.radians(FOV_DEG / 2))


def _rect(centre_x: float, top: float, width: float, height: float) -> tuple:
    return (centre_x - width / 2, top, centre_x + width / 2, top + height)


# Cue: 600 x 375 px (the posters' 1.6 aspect ratio) centred on the screen.
CUE_W, CUE_H = 600.0, 375.0
CUE_RECT = _rect(SCREEN_W / 2, (SCREEN_H - CUE_H) / 2, CUE_W, CUE_H)
# Hint: half the cue's size, horizontally centred, 40 px below the top edge.
HINT_TOP = 40.0
HINT_RECT = _rect(SCREEN_W / 2, HINT_TOP, CUE_W / 2, CUE_H / 2)

# --- floor, walls, place grid ------------------------------------------------------------
HALF = 12.5  # the floor is [-HALF, HALF]^2
WALL_HEIGHT = 5.0  # ceiling height as well
GRID_N = 40  # place bins per side
GRID_BIN = 2 * HALF / GRID_N  # 0.625: a place bin's side, and every gaze bin's

# --- pillars -----------------------------------------------------------------------------
PILLAR_SIZE = 5.0
PILLAR_HEIGHT = 3.0
# (x, z) of each pillar's centre, in bin order.
PILLAR_CENTRES = {
    "green": (5.0, -5.0),
    "blue": (-5.0, -5.0),
    "red": (5.0, 5.0),
    "yellow": (-5.0, 5.0),
}
PILLAR_NAMES = tuple(PILLAR_CENTRES)
# (x_min, x_max, z_min, z_max), in bin order.
PILLARS = {
    name: (x - PILLAR_SIZE / 2, x + PILLAR_SIZE / 2, z - PILLAR_SIZE / 2, z + PILLAR_SIZE / 2)
    for name, (x, z) in PILLAR_CENTRES.items()
}

# --- posters -----------------------------------------------------------------------------
# Poster centres (x, y, z) as the Unity log header lists them, their pillar and the face
# they sit on (0.05 in front of it).
POSTERS = {
    "P1": ((-5.0, 1.5, -7.55), "blue", "south"),
    "P2": ((-7.55, 1.5, 5.0), "yellow", "west"),
    "P3": ((7.55, 1.5, -5.0), "green", "east"),
    "P4": ((5.0, 1.5, 7.55), "red", "north"),
    "P5": ((5.0, 1.5, 2.45), "red", "south"),
    "P6": ((-5.0, 1.5, -2.45), "blue", "north"),
}
# The same centres by poster number, as the Unity parser reads them: {1: (x, y, z), ...}.
POSTER_CENTRES = {int(name[1:]): centre for name, (centre, _, _) in POSTERS.items()}

# --- route lattice -----------------------------------------------------------------------
LATTICE_STEP = 5.0
_STEP = int(LATTICE_STEP)
_EDGE = int(HALF - LATTICE_STEP / 2)  # 10: centre line of the corridors along the walls
# (x, z) integer vertices in PyHipp's order; VERTICES is the same as a float array.
ROUTE_POINTS = tuple(
    (x, z)
    for z in range(_EDGE, -_EDGE - 1, -_STEP)
    for x in range(-_EDGE, _EDGE + 1, _STEP)
    if (x, z) not in PILLAR_CENTRES.values()
)
VERTICES = np.array(ROUTE_POINTS, dtype=np.float64)


def _nearest_point(x: float, z: float) -> tuple[int, int]:
    return min(ROUTE_POINTS, key=lambda p: math.hypot(p[0] - x, p[1] - z))


# The vertex nearest each poster (where the monkey stands when it reaches it).
POSTER_SPOTS = {k: _nearest_point(x, z) for k, (x, _, z) in POSTER_CENTRES.items()}

# --- gaze-bin numbering (see the module docstring) ---------------------------------------
CUE_BIN, HINT_BIN = 1, 2
FLOOR0 = 3
CEILING0 = FLOOR0 + GRID_N * GRID_N  # 1603
WALL0 = CEILING0 + GRID_N * GRID_N  # 3203
WALL_RING = 4 * GRID_N  # 160 bins around the perimeter
WALL_LEVELS = round(WALL_HEIGHT / GRID_BIN)  # 8
PILLAR0 = WALL0 + WALL_RING * WALL_LEVELS  # 4483
PILLAR_FACE_BINS = round(PILLAR_SIZE / GRID_BIN)  # 8
PILLAR_RING = 4 * PILLAR_FACE_BINS  # 32
PILLAR_LEVELS = math.ceil(PILLAR_HEIGHT / GRID_BIN)  # 5 (the top one is partial)
PILLAR_BINS = PILLAR_RING * PILLAR_LEVELS  # 160 per pillar
N_BINS = PILLAR0 + len(PILLARS) * PILLAR_BINS - 1  # 5122: the highest bin id
