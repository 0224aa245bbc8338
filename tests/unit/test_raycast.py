"""Raycaster on hand-worked geometry (contract section 8).

Every expected bin below is derived by hand from the contract's layout:
floor ``3 + ix + 40*iz``, ceiling ``1603 + ...``, walls ``3203 + ring + 160*h`` (ring of
160 starting at (-12.5, -12.5): x=-12.5 +z, z=+12.5 +x, x=+12.5 -z, z=-12.5 -x),
pillars ``4483 + 160*p + ring + 32*h`` (p: green 0, blue 1, red 2, yellow 3; 32-bin ring
from the pillar's (x_min, z_min) corner in the same direction as the walls). The pinhole
camera is 1.85 high with a 60 degree vertical field of view over 1080 px, so its focal
length is F = 540 / tan(30 deg) px; EyeLink gy grows downward.
"""

import math

import h5py
import numpy as np
import pytest

from hippoflow.behaviour import maze
from hippoflow.behaviour.raycast import bins as gaze_bins
from hippoflow.behaviour.raycast import kernels as rc
from hippoflow.behaviour.raycast import outputs

F = 540 / math.tan(math.radians(30))  # focal length, px
EYE = 1.85


def gy_for_slope(v):
    """EyeLink gy of the screen-centre column whose ray rises by v per unit forward."""
    return 540 - v * F


def central(gx, gy, x, z, yaw, **kw):
    b, hit = rc.hit_points([gx], [gy], [x], [z], [yaw], **kw)
    return int(b[0]), hit[0]


# --- walls -----------------------------------------------------------------------------


def test_centre_looking_north_hits_north_wall_at_eye_height():
    b, hit = central(960, 540, 0.0, 0.0, 0.0)
    # Hits z=+12.5 at x=0, y=1.85. North wall is the ring's 2nd side (offset 40),
    # running +x from x=-12.5: 12.5/0.625 = 20 -> ring 60. Height 1.85/0.625 = 2.96 -> 2.
    assert b == 3203 + 60 + 160 * 2 == 3583
    np.testing.assert_allclose(hit, [0.0, EYE, 12.5], atol=1e-9)
    assert gaze_bins.object_name(b) == "wall"


def test_centre_looking_north_higher_on_wall():
    # Aim at y = 4.0 on the north wall 12.5 ahead: slope (4 - 1.85) / 12.5.
    b, hit = central(960, gy_for_slope((4.0 - EYE) / 12.5), 0.0, 0.0, 0.0)
    # height bin floor(4.0 / 0.625) = floor(6.4) = 6
    assert b == 3203 + 60 + 160 * 6
    np.testing.assert_allclose(hit, [0.0, 4.0, 12.5], atol=1e-9)


@pytest.mark.parametrize(
    "x0, z0, yaw, expected",
    [
        # west wall x=-12.5 (ring 0..39, +z from z=-12.5): z=0.2 -> 12.7/0.625=20.32 -> 20
        (0.0, 0.2, 270.0, 3203 + 20 + 320),
        # east wall x=+12.5 (ring 80..119, -z from z=+12.5): (12.5-0.2)/0.625=19.68 -> 99
        (0.0, 0.2, 90.0, 3203 + 80 + 19 + 320),
        # south wall z=-12.5 (ring 120..159, -x from x=+12.5): (12.5-0.3)/0.625=19.52 -> 139
        (0.3, 0.0, 180.0, 3203 + 120 + 19 + 320),
        # north wall from a corner area: x=-11.9 -> (0.6)/0.625=0.96 -> ring 40
        (-11.9, -11.0, 0.0, 3203 + 40 + 0 + 320),
    ],
)
def test_each_wall_ring_side(x0, z0, yaw, expected):
    b, _ = central(960, 540, x0, z0, yaw)
    assert b == expected


# --- floor and ceiling -------------------------------------------------------------------


def test_steeply_down_hits_floor_under_computed_point():
    # gy = 1080: bottom edge, slope -tan(30 deg); reaches y=0 after 1.85/tan(30) forward.
    d = EYE / math.tan(math.radians(30))  # 3.2043
    b, hit = central(960, 1080, 1.0, 2.0, 0.0)
    hx, hz = 1.0, 2.0 + d
    np.testing.assert_allclose(hit, [hx, 0.0, hz], atol=1e-9)
    ix = math.floor((hx + 12.5) / 0.625)  # 13.5 / 0.625 = 21.6 -> 21
    iz = math.floor((hz + 12.5) / 0.625)  # 17.70 / 0.625 = 28.3 -> 28
    assert (ix, iz) == (21, 28)
    assert b == 3 + 21 + 40 * 28 == 1144
    assert gaze_bins.object_name(b) == "floor"


@pytest.mark.parametrize("yaw", [0.0, 90.0])
def test_floor_off_axis_gaze_handedness(yaw):
    # gaze right of and below centre: u = 440/F right, v = -460/F down.
    gx, gy = 1400.0, 1000.0
    u, v = 440 / F, -460 / F
    t = EYE / -v  # forward distance to the floor
    fwd = t
    right = u * t
    # from (-1, 0) both paths stay clear of the pillars
    if yaw == 0.0:  # forward +z, screen right +x
        hx, hz = -1.0 + right, 0.0 + fwd
    else:  # forward +x, screen right -z (Unity is left-handed)
        hx, hz = -1.0 + fwd, 0.0 - right
    b, hit = central(gx, gy, -1.0, 0.0, yaw)
    np.testing.assert_allclose(hit, [hx, 0.0, hz], atol=1e-9)
    ix = math.floor((hx + 12.5) / 0.625)
    iz = math.floor((hz + 12.5) / 0.625)
    assert b == 3 + ix + 40 * iz
    # worked on paper: t = 1.85 F / 460 = 3.7616, u t = 1.85 * 440 / 460 = 1.7696
    # yaw 0: (0.7696, 3.7616) -> ix 21 (21.23), iz 26 (26.02)
    # yaw 90: (2.7616, -1.7696) -> ix 24 (24.42), iz 17 (17.17)
    expected = {0.0: 3 + 21 + 40 * 26, 90.0: 3 + 24 + 40 * 17}[yaw]
    assert b == expected


def test_ceiling_over_a_pillar():
    # From (-5.3, -12) looking +z with slope 0.3: at the blue pillar's face (4.5 ahead)
    # the ray is at 1.85 + 1.35 = 3.2 > 3, so it passes over the pillar and meets the
    # ceiling after (5 - 1.85) / 0.3 = 10.5: point (-5.3, 5, -1.5).
    b, hit = central(960, gy_for_slope(0.3), -5.3, -12.0, 0.0)
    np.testing.assert_allclose(hit, [-5.3, 5.0, -1.5], atol=1e-9)
    ix = math.floor((-5.3 + 12.5) / 0.625)  # 11.52 -> 11
    iz = math.floor((-1.5 + 12.5) / 0.625)  # 17.6 -> 17
    assert b == 1603 + ix + 40 * iz == 1603 + 11 + 680
    assert gaze_bins.object_name(b) == "ceiling"


# --- pillars and posters -----------------------------------------------------------------


def test_pillar_blocks_wall_behind():
    # From (-5.3, -12) looking +z level: blue pillar face z=-7.5 is 4.5 ahead.
    b, hit = central(960, 540, -5.3, -12.0, 0.0)
    np.testing.assert_allclose(hit, [-5.3, EYE, -7.5], atol=1e-9)
    # blue = p 1; face z_min is ring side 4 (24..31) running -x from x_max=-2.5:
    # (-2.5 - -5.3) / 0.625 = 4.48 -> 28; height floor(1.85/0.625) = 2
    assert b == 4483 + 160 * 1 + 28 + 32 * 2
    assert gaze_bins.object_name(b) == "pillar_blue"
    # the same ray from x=0 (the corridor between pillars) reaches the north wall
    b2, hit2 = central(960, 540, 0.0, -12.0, 0.0)
    assert gaze_bins.object_name(b2) == "wall"
    assert hit2[2] == pytest.approx(12.5)


def test_pillar_edge_ray_just_misses():
    # x = -7.6 is just west of the blue and yellow pillars (x from -7.5): the ray goes on
    # to the north wall: ring 40 + floor((12.5 - 7.6) / 0.625) = 40 + 7.
    b, _ = central(960, 540, -7.6, -12.0, 0.0)
    assert b == 3203 + 47 + 320


# poster: (centre, pillar index, camera x, z, yaw, expected ring index)
# The camera is 3 units out from the face the poster sits on, facing it, shifted 0.1 along
# the face so the ray is not on a bin edge (a poster centre lies exactly on one).
POSTER_CASES = {
    # P1 blue (1) south face z=-7.5 = z_min: ring 24 + floor((-2.5 - -4.9)/0.625 = 3.84)
    "P1": ((-4.9, -7.5), 1, -4.9, -10.5, 0.0, 24 + 3),
    # P2 yellow (3) west face x=-7.5 = x_min: ring 0 + floor((5.1 - 2.5)/0.625 = 4.16)
    "P2": ((-7.5, 5.1), 3, -10.5, 5.1, 90.0, 0 + 4),
    # P3 green (0) east face x=7.5 = x_max: ring 16 + floor((-2.5 - -4.9)/0.625 = 3.84)
    "P3": ((7.5, -4.9), 0, 10.5, -4.9, 270.0, 16 + 3),
    # P4 red (2) north face z=7.5 = z_max: ring 8 + floor((5.1 - 2.5)/0.625 = 4.16)
    "P4": ((5.1, 7.5), 2, 5.1, 10.5, 180.0, 8 + 4),
    # P5 red (2) south face z=2.5 = z_min: ring 24 + floor((7.5 - 5.1)/0.625 = 3.84)
    "P5": ((5.1, 2.5), 2, 5.1, -0.5, 0.0, 24 + 3),
    # P6 blue (1) north face z=-2.5 = z_max: ring 8 + floor((-4.9 - -7.5)/0.625 = 4.16)
    "P6": ((-4.9, -2.5), 1, -4.9, 0.5, 180.0, 8 + 4),
}


@pytest.mark.parametrize("poster", sorted(POSTER_CASES))
def test_ray_at_poster_maps_to_pillar_face_behind(poster):
    (fx, fz), p, cx, cz, yaw, ring = POSTER_CASES[poster]
    centre, colour, _face = maze.POSTERS[poster]
    # the aim point is the poster centre moved 0.05 back onto the face and 0.1 along it
    assert math.hypot(centre[0] - fx, centre[2] - fz) == pytest.approx(math.hypot(0.05, 0.1))
    assert maze.PILLAR_NAMES[p] == colour
    # poster centre height 1.5, 3 units ahead: slope (1.5 - 1.85) / 3
    b, hit = central(960, gy_for_slope((1.5 - EYE) / 3.0), cx, cz, yaw)
    np.testing.assert_allclose(hit, [fx, 1.5, fz], atol=1e-9)
    # height floor(1.5 / 0.625) = floor(2.4) = 2
    assert b == 4483 + 160 * p + ring + 32 * 2
    assert gaze_bins.object_name(b) == f"pillar_{colour}"


# --- cue, hint, invalid samples ------------------------------------------------------------


def test_cue_and_hint_regions():
    # documented regions: cue centred on (960, 540), hint centred on (960, 133.75)
    n = 4
    gx = np.full(n, 960.0)
    gy = np.array([540.0, 540.0, 133.75, 133.75])
    x = np.zeros(n)
    z = np.zeros(n)
    yaw = np.zeros(n)
    cue_on = np.array([True, False, False, False])
    hint_on = np.array([False, False, True, False])
    d = rc.distinct_bins(rc.cast_bins(gx, gy, x, z, yaw, cue_on=cue_on, hint_on=hint_on))
    assert d[0].tolist() == [1] + [0] * (d.shape[1] - 1)  # whole disc inside the cue
    assert d[2].tolist() == [2] + [0] * (d.shape[1] - 1)  # whole disc inside the hint
    # flags off: the maze is seen (north wall around eye height / upper wall or ceiling)
    assert set(d[1][d[1] > 0].tolist()) <= set(range(3203, 4483))
    assert not set(d[3].tolist()) & {1, 2}
    b, hit = rc.hit_points(gx, gy, x, z, yaw, cue_on=cue_on, hint_on=hint_on)
    assert b.tolist()[0] == 1 and b.tolist()[2] == 2
    assert np.isnan(hit[0]).all() and np.isnan(hit[2]).all()
    assert gaze_bins.object_name(1) == "cue" and gaze_bins.object_name(2) == "hint"


def test_cue_edge_splits_the_disc():
    # gaze 5 px inside the cue's left edge (x = 660): rays further left see the maze
    bins = rc.cast_bins([665.0], [540.0], [0.0], [0.0], [0.0], cue_on=[True])[0]
    assert (bins == 1).any()
    assert ((bins >= 3203) & (bins < 4483)).any()


def test_invalid_samples_give_zero():
    gx = np.array([-1.0, 1921.0, 960.0, np.nan, 960.0, 960.0, 960.0])
    gy = np.array([540.0, 540.0, 1081.0, 540.0, np.nan, 540.0, 540.0])
    x = np.array([0.0, 0.0, 0.0, 0.0, 0.0, np.nan, 0.0])
    z = np.zeros(7)
    yaw = np.zeros(7)
    ignore = np.array([False] * 6 + [True])
    bins = rc.cast_bins(gx, gy, x, z, yaw, ignore=ignore)
    assert bins.shape == (7, 28) and bins.dtype == np.int32
    assert (bins == 0).all()
    assert rc.distinct_bins(bins).shape == (7, 0)
    b, hit = rc.hit_points(gx, gy, x, z, yaw, ignore=ignore)
    assert (b == 0).all() and np.isnan(hit).all()
    # the same samples, valid, do hit something
    ok = rc.cast_bins([960.0], [540.0], [0.0], [0.0], [0.0])
    assert (ok > 0).all()


def test_rays_past_the_screen_edge_give_zero():
    # gaze 5 px from the left edge: rays with offset < -5 px are off screen
    bins = rc.cast_bins([5.0], [540.0], [0.0], [0.0], [0.0])[0]
    assert (bins == 0).any() and (bins > 0).any()
    assert bins[0] > 0  # central ray on screen


# --- rays, distinct bins, files --------------------------------------------------------------


@pytest.mark.parametrize(
    "radius, expected", [(20, 28), (0, 1), (5, math.ceil(math.pi * 25 * 220 / 1e4))]
)
def test_ray_count(radius, expected):
    offs = rc.ray_offsets(radius, 220)
    assert offs.shape == (expected, 2)
    assert np.all(np.hypot(offs[:, 0], offs[:, 1]) <= radius + 1e-9)
    assert offs[0].tolist() == [0.0, 0.0]
    assert len({tuple(np.round(o, 6)) for o in offs}) == expected
    assert rc.cast_bins([960.0], [540.0], [0.0], [0.0], [0.0], radius_px=radius).shape == (
        1,
        expected,
    )


def test_ray_count_28_by_formula():
    assert math.ceil(math.pi * 20**2 * 220 / 1e4) == 28 == len(rc.ray_offsets())


def test_distinct_bins_against_python_sets():
    rng = np.random.default_rng(1)
    bins = rng.integers(0, 6, size=(50, 9)).astype(np.int32) * rng.integers(
        1, 3, size=(50, 9)
    ).astype(np.int32)
    d = rc.distinct_bins(bins)
    want = [sorted(set(r.tolist()) - {0}) for r in bins]
    width = max(len(w) for w in want)
    assert d.shape == (50, width)
    for row, w in zip(d, want, strict=True):
        assert row.tolist() == w + [0] * (width - len(w))


def test_cast_distinct_matches_cast_bins_in_chunks():
    rng = np.random.default_rng(2)
    n = 2000
    gx, gy = rng.uniform(-50, 1970, n), rng.uniform(-50, 1130, n)
    x, z, yaw = rng.uniform(-12, 12, n), rng.uniform(-12, -8.5, n), rng.uniform(0, 360, n)
    cue = rng.random(n) < 0.2
    want = rc.distinct_bins(rc.cast_bins(gx, gy, x, z, yaw, chunk=333, cue_on=cue))
    got = rc.cast_distinct(gx, gy, x, z, yaw, chunk=333, cue_on=cue)
    np.testing.assert_array_equal(got, want)
    assert got.max() <= 5122


def test_write_bindata_round_trip(tmp_path):
    times = np.array([0.0, 0.001, 0.002])
    d = np.array([[3583, 3584, 0], [0, 0, 0], [1, 0, 0]], dtype=np.int32)
    path = tmp_path / "sub" / "binData.hdf"
    outputs.write_bindata(path, times, d)
    with h5py.File(path, "r") as f:
        values = f["values"][()]
    np.testing.assert_array_equal(
        values, [[0.0, 3583, 3584, 0], [0.001, 0, 0, 0], [0.002, 1, 0, 0]]
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["binData.hdf"]  # no temp left
    outputs.write_bindata(path, times[:1], d[:1, :1])  # overwrite in place
    with h5py.File(path, "r") as f:
        assert f["values"].shape == (1, 2)


def test_write_unityfile_eyelink(tmp_path):
    path = tmp_path / "unityfile_eyelink.csv"
    table = {
        "time": [0.0, 0.001, 0.002],
        "gx": [960.0, np.nan, 960.0],
        "gy": [540.0, np.nan, 1080.0],
        "x": [0.0, 0.0, 1.0],
        "z": [0.0, 0.0, 2.0],
        "yaw": [0.0, 0.0, 0.0],
    }
    outputs.write_unityfile_eyelink(path, table)
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == list(outputs.CSV_COLUMNS)
    rows = [r.split(",") for r in lines[1:]]
    assert len(rows) == 3 and all(len(r) == 11 for r in rows)
    assert rows[0][0] == "SAMPLE" and rows[0][2] == "wall"
    assert float(rows[0][10]) == pytest.approx(12.5)
    assert rows[1][2] == "none" and rows[1][3] == "" and rows[1][8:] == ["", "", ""]
    assert rows[2][2] == "floor" and float(rows[2][10]) == pytest.approx(
        2.0 + EYE / math.tan(math.radians(30)), abs=1e-4
    )


@pytest.mark.parametrize(
    "b, name",
    [
        (0, "none"),
        (3, "floor"),
        (1602, "floor"),
        (1603, "ceiling"),
        (3202, "ceiling"),
        (3203, "wall"),
    ]
    + [
        (4482, "wall"),
        (4483, "pillar_green"),
        (4643, "pillar_blue"),
        (4803, "pillar_red"),
        (5122, "pillar_yellow"),
    ],
)
def test_object_names(b, name):
    assert gaze_bins.object_name(b) == name
