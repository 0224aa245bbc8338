"""The raycaster's bin numbering against the lab's own bin table (real file, read in place).

``realdata/maze/bintocoords.csv`` (pyVirtualMazeBinning, the lab's binning of the
VirtualMaze) lists every bin id 1..5122 with its centre (Unity axes, y up) and the object it
lies on.  It is the reference here: every bin id the raycaster reports for a hit point must
be the table's bin whose centre lies within half a bin (0.3125) of that point, on the same
surface; and every id of the table must be reachable by some ray.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from hippoflow.behaviour import maze
from hippoflow.behaviour.raycast.bins import object_name
from hippoflow.behaviour.raycast.kernels import hit_points
from tests.conftest import REALDATA as SHARED_REALDATA

REALDATA = SHARED_REALDATA
pytestmark = pytest.mark.realdata

TABLE = REALDATA / "maze" / "bintocoords.csv"
HALF_BIN = 0.3125
EPS = 1e-6


class BinTable:
    """The CSV as arrays indexed by bin id (row 0 unused)."""

    def __init__(self, path: Path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        self.n_rows = len(rows)
        self.ids = np.array([int(r["bin"]) for r in rows])
        n = int(self.ids.max()) + 1
        self.centre = np.full((n, 3), np.nan)
        self.centre[self.ids] = [
            [float(r["coordsx"]), float(r["coordsy"]), float(r["coordsz"])] for r in rows
        ]
        self.object = np.full(n, "", dtype=object)
        self.object[self.ids] = [r["object"] for r in rows]
        # per surface object: the axis its bins share (its plane) and that coordinate
        self.plane: dict[str, tuple[int, float]] = {}
        for name in set(self.object[self.ids]) - {"CueImage", "HintImage"}:
            pts = self.centre[self.object == name]
            axes = [k for k in range(3) if np.ptp(pts[:, k]) == 0]
            assert len(axes) == 1, (name, axes)
            self.plane[name] = (axes[0], float(pts[0, axes[0]]))


@pytest.fixture(scope="module")
def table() -> BinTable:
    return BinTable(TABLE)


def our_surface(table_object: str, centres: np.ndarray) -> str:
    """The name bins.object_name should give for a table object, from the table alone: its
    name for floor, ceiling and perimeter walls; for a pillar face (``m_wall_*``) the pillar
    whose outline the face's bin centres lie on."""
    if table_object == "Ground":
        return "floor"
    if table_object == "Ceiling":
        return "ceiling"
    if table_object.startswith("wall_"):
        return "wall"
    assert table_object.startswith("m_wall_"), table_object
    on = [
        colour
        for colour, (x0, x1, z0, z1) in maze.PILLARS.items()
        if np.all((centres[:, 0] >= x0) & (centres[:, 0] <= x1))
        and np.all((centres[:, 2] >= z0) & (centres[:, 2] <= z1))
    ]
    assert len(on) == 1, (table_object, on)
    return f"pillar_{on[0]}"


def check_hits(table: BinTable, bins: np.ndarray, hits: np.ndarray) -> None:
    """Every (bin, hit point): same surface as the table's bin, centre within half a bin."""
    assert np.all(bins >= 3), "every ray inside the closed maze hits a surface"
    objects = table.object[bins]
    assert np.all(objects != ""), "bin ids outside the table"
    surfaces = {name: our_surface(name, table.centre[table.object == name]) for name in table.plane}
    for name in np.unique(objects):
        sel = objects == name
        b, h = bins[sel], hits[sel]
        # same surface: object names agree, and the hit lies on the table object's plane
        names = {object_name(v) for v in np.unique(b)}
        assert names == {surfaces[name]}, (name, names)
        axis, value = table.plane[name]
        np.testing.assert_allclose(h[:, axis], value, atol=EPS, err_msg=name)
        # within half a bin of the table's centre, along each axis of the plane
        d = np.abs(h - table.centre[b])
        d[:, axis] = 0.0
        worst = int(np.argmax(d.max(axis=1)))
        assert d.max() <= HALF_BIN + EPS, (
            f"{name}: bin {b[worst]} reported for hit {h[worst]}, table centre "
            f"{table.centre[b[worst]]}"
        )


def test_table_shape(table):
    # what the README measured on the file, counted here with the csv module
    assert table.n_rows == 5122 and np.array_equal(table.ids, np.arange(1, 5123))
    assert table.object[1] == "CueImage" and table.object[2] == "HintImage"
    counts = {name: int(np.count_nonzero(table.object == name)) for name in ("Ground", "Ceiling")}
    assert counts == {"Ground": 1600, "Ceiling": 1600}
    walls = {o for o in table.object[table.ids] if o.startswith("wall_")}
    assert walls == {f"wall_{k:02d}" for k in range(1, 25)}
    assert table.ids.max() == maze.N_BINS


def random_poses(rng, n):
    """Camera poses in the corridors (not inside or touching a pillar), any yaw, gaze
    anywhere on the screen."""
    x = rng.uniform(-maze.HALF + 0.05, maze.HALF - 0.05, 3 * n)
    z = rng.uniform(-maze.HALF + 0.05, maze.HALF - 0.05, 3 * n)
    inside = np.zeros(x.shape, bool)
    for x0, x1, z0, z1 in maze.PILLARS.values():
        inside |= (x > x0 - 0.05) & (x < x1 + 0.05) & (z > z0 - 0.05) & (z < z1 + 0.05)
    x, z = x[~inside][:n], z[~inside][:n]
    assert x.size == n
    yaw = rng.uniform(0.0, 360.0, n)
    gx = rng.uniform(0.0, maze.SCREEN_W, n)
    gy = rng.uniform(0.0, maze.SCREEN_H, n)
    return gx, gy, x, z, yaw


@pytest.fixture(scope="module")
def random_hits():
    rng = np.random.default_rng(20181031)
    bins, hits = hit_points(*random_poses(rng, 200_000))
    return bins, hits


def test_random_rays_hit_the_table_bin_around_the_hit_point(table, random_hits):
    bins, hits = random_hits
    check_hits(table, bins, hits)
    # the random set already covers most of the maze
    assert np.unique(bins).size > 4500


def aimed_rays(table: BinTable, step: float = 1.0):
    """For every table bin, rays aimed from a grid of camera positions straight at its
    centre (the centre on the screen's vertical mid-line, inside the field of view)."""
    g = np.arange(-maze.HALF + step / 2, maze.HALF, step)
    cx, cz = (a.ravel() for a in np.meshgrid(g, g))
    free = np.ones(cx.shape, bool)
    for x0, x1, z0, z1 in maze.PILLARS.values():
        free &= ~((cx >= x0 - 0.1) & (cx <= x1 + 0.1) & (cz >= z0 - 0.1) & (cz <= z1 + 0.1))
    cx, cz = cx[free], cz[free]
    targets = np.arange(3, table.ids.max() + 1)
    t = np.repeat(targets, cx.size)
    px, pz = np.tile(cx, targets.size), np.tile(cz, targets.size)
    c = table.centre[t]
    dx, dz = c[:, 0] - px, c[:, 2] - pz
    r = np.hypot(dx, dz)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = (c[:, 1] - maze.CAMERA_HEIGHT) / r
    # within the vertical field of view, and the target in front of the camera
    ok = (r > 0.5) & (np.abs(v) * maze.FOCAL_PX < maze.SCREEN_H / 2 - 1)
    yaw = np.degrees(np.arctan2(dx, dz))
    gx = np.full(t.shape, maze.SCREEN_W / 2)
    gy = maze.SCREEN_H / 2 - v * maze.FOCAL_PX
    return t[ok], gx[ok], gy[ok], px[ok], pz[ok], yaw[ok]


def test_every_table_bin_is_reachable(table, random_hits):
    t, gx, gy, x, z, yaw = aimed_rays(table)
    bins, hits = hit_points(gx, gy, x, z, yaw)
    # a ray that reaches the target point unobstructed must report that table's bin
    reached = np.all(np.abs(hits - table.centre[t]) < 1e-6, axis=1)
    wrong = reached & (bins != t)
    assert not wrong.any(), (
        f"{int(wrong.sum())} rays aimed at a bin centre report another bin, e.g. table bin "
        f"{t[wrong][:5]} -> {bins[wrong][:5]}"
    )
    seen = set(np.unique(t[reached]).tolist())
    missing = sorted(set(range(3, table.ids.max() + 1)) - seen)
    # the only bins no ray reaches: the floor under the four pillars (8 x 8 each), hidden
    # inside them, from the table's Ground centres and the pillars' outlines
    hidden = sorted(hidden_floor_bins(table))
    assert len(hidden) == 4 * 8 * 8
    assert missing == hidden, f"{len(missing)} table bins never hit by an aimed ray: {missing[:20]}"
    # every aimed ray that hits (reached or blocked) obeys the table too
    check_hits(table, bins, hits)
    # cue and hint: screen rectangles, shown while the cue / hint is on
    centre = [(r[0] + r[2]) / 2 for r in (maze.CUE_RECT, maze.HINT_RECT)]
    middle = [(r[1] + r[3]) / 2 for r in (maze.CUE_RECT, maze.HINT_RECT)]
    b, _ = hit_points(centre, middle, [0.0, 0.0], [-10.0, -10.0], [0.0, 0.0],
                      cue_on=[True, False], hint_on=[False, True])  # fmt: skip
    assert [table.object[v] for v in b] == ["CueImage", "HintImage"]
    # together with the random rays: every id of the table but the hidden floor bins
    all_seen = seen | set(b.tolist()) | set(np.unique(random_hits[0]).tolist())
    assert all_seen == set(table.ids.tolist()) - set(hidden)
    assert len(all_seen) == 5122 - 256


def hidden_floor_bins(table: BinTable) -> set[int]:
    out = set()
    for b in np.flatnonzero(table.object == "Ground"):
        x, _, z = table.centre[b]
        if any(x0 < x < x1 and z0 < z < z1 for x0, x1, z0, z1 in maze.PILLARS.values()):
            out.add(int(b))
    return out


def test_aiming_is_what_the_camera_model_says():
    """The aiming used above, on one case worked by hand: from (x 0.2, z -10) facing +z,
    the floor point 5.3 ahead is atan(1.85 / 5.3) below the horizon, FOCAL_PX * 1.85 / 5.3
    pixels below the screen centre."""
    depth = 5.3
    gy = maze.SCREEN_H / 2 + maze.FOCAL_PX * maze.CAMERA_HEIGHT / depth
    b, h = hit_points([maze.SCREEN_W / 2], [gy], [0.2], [-10.0], [0.0])
    np.testing.assert_allclose(h[0], [0.2, 0.0, -10.0 + depth], atol=1e-9)
    # the table's bin around (0.2, 0, -4.7): centre within half a bin on the floor
    assert table_bin_near(BinTable(TABLE), "Ground", 0.2, -4.7) == b[0]


def table_bin_near(table: BinTable, name: str, x: float, z: float) -> int:
    sel = np.flatnonzero(table.object == name)
    d = np.maximum(np.abs(table.centre[sel, 0] - x), np.abs(table.centre[sel, 2] - z))
    return int(sel[np.argmin(d)])


def test_check_rejects_a_numbering_off_by_one(table, random_hits):
    """The comparison is sharp: the same hits with each pillar bin numbered one further
    along its ring, or with the wall numbering reversed, fail it."""
    bins, hits = random_hits
    pillar = bins >= maze.PILLAR0
    shifted = bins.copy()
    shifted[pillar] = maze.PILLAR0 + (bins[pillar] - maze.PILLAR0 + 1) % 640
    with pytest.raises(AssertionError):
        check_hits(table, shifted[pillar], hits[pillar])
    wall = (bins >= maze.WALL0) & (bins < maze.PILLAR0)
    flipped = maze.WALL0 + (maze.PILLAR0 - 1 - bins[wall])
    with pytest.raises(AssertionError):
        check_hits(table, flipped, hits[wall])
