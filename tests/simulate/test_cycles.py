"""The Blender Cycles renderer, through the real bpy: a sphere rolls into a box and is removed.

A tiny scene (32x32, 4 frames, 4 spp) rendered once per module. Checks: ids where
``scene.project`` puts the objects; the renderer contract (equal signature and ids ->
bit-identical RGB, so 255 pixels are identical in input and target); change detection
against an independent analytic model of the sphere, its soft sun shadow and its contact
band (every changed pixel is explained, nothing else changed, the umbra is found);
reproducibility; agreement with the fast rasterizer's quadmask up to boundary pixels.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulate import meshes
from simulate.render import blender_regions as regions
from simulate.render import borders
from simulate.scene import CameraSpec, FloorSpec, LightSpec, ObjectSpec, SceneSpec, camera_at, look_at_matrix, project
from void import deps

REPO = Path(__file__).resolve().parents[2]

SPHERE, BOX, DUCK = 1, 2, 3
RADIUS = 0.35
BOX_HALF = 0.3
DUCK_SCALE = 0.3
UPRIGHT = [math.sin(math.pi / 4), 0.0, 0.0, math.cos(math.pi / 4)]  # the duck is modelled y-up


def make_scene(size: int = 32, frames: int = 4) -> tuple[SceneSpec, np.ndarray, np.ndarray]:
    if not deps.available("pybullet_data"):
        pytest.skip("pybullet_data not installed (the duck mesh comes from it)")
    objects = [
        ObjectSpec(id=SPHERE, name="red rubber sphere", shape="sphere", size=[RADIUS], color=[0.7, 0.06, 0.05],
                   position=[-0.9, -0.4, RADIUS], material="rubber", roughness=0.6, role="removed"),
        ObjectSpec(id=BOX, name="blue plastic box", shape="box", size=[BOX_HALF] * 3, color=[0.06, 0.16, 0.7],
                   position=[0.5, 0.2, BOX_HALF], roughness=0.4, role="target"),
        # An OBJ from pybullet_data, turned upright as the samplers do: checks import axes.
        ObjectSpec(id=DUCK, name="yellow duck", shape="mesh", mesh="duck.obj", size=[DUCK_SCALE],
                   mesh_offset=meshes.mesh_centering("duck.obj", DUCK_SCALE), color=[0.85, 0.7, 0.06],
                   position=[-0.7, 1.0, 0.2], orientation=UPRIGHT, material="wood"),
    ]
    scene = SceneSpec(
        family="test", seed=7, objects=objects, removed_ids=[SPHERE],
        camera=CameraSpec(position=[3.4, -3.4, 2.7], look_at=[0.0, 0.0, 0.2], fov_deg=42.0),
        light=LightSpec(sun_direction=[0.75, -0.25, -0.6], softness_deg=3.0, ambient=0.35),
        floor=FloorSpec(color=[0.55, 0.55, 0.5], color2=[0.3, 0.3, 0.28], tile_m=0.5),
        num_frames=frames, width=size, height=size,
    )
    T = frames
    full = np.zeros((T, 3, 7))
    full[..., 6] = 1.0
    full[:, 2] = [*objects[2].position, *UPRIGHT]
    for t in range(T):
        s = t / (T - 1)
        full[t, 0, :3] = [-0.9 + 1.0 * s, -0.4 + 0.3 * s, RADIUS]  # rolls towards the box
        full[t, 1, :3] = [0.5 + 0.25 * max(0.0, s - 0.5), 0.2, BOX_HALF]  # pushed after contact
    removed = full.copy()
    removed[:, 0] = np.nan
    removed[:, 1, :3] = [0.5, 0.2, BOX_HALF]  # without the sphere the box never moves
    return scene, full, removed


# --------------------------------------------------------------- without Blender


def test_missing_bpy_names_the_extra(monkeypatch):
    from simulate.render.cycles import CyclesRenderer

    monkeypatch.setitem(sys.modules, "bpy", None)  # import bpy now fails as if not installed
    with pytest.raises(deps.MissingDependency, match=r"void-bench\[blender\]"):
        CyclesRenderer()


def test_worker_environment_leaves_out_the_callers_own_variables_and_their_order():
    """Blender lays data out by address: the worker's environment block must not depend on
    who calls (pytest, a terminal, a Ray task) or on the order the variables came in."""
    import os

    from simulate.render.cycles_process import REPO_ROOT, worker_env

    base = {"PATH": "/usr/bin:/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "XDG_CACHE_HOME": "/c", "VOID_X": "1"}
    caller = {"RAY_JOB_ID": "01000000", "PYTEST_CURRENT_TEST": "t.py::x (call)", "COLUMNS": "120", "_": "/bin/x",
              "PYTHONHASHSEED": "7", "OMP_NUM_THREADS": "2", **dict(reversed(list(base.items())))}
    a, b = worker_env(base), worker_env(caller)
    assert a == b and list(a) == list(b) == sorted(a)
    assert {"PATH", "HOME", "LANG", "XDG_CACHE_HOME", "VOID_X"} <= set(a)
    assert a["PYTHONHASHSEED"] == "0" and a["OMP_NUM_THREADS"] == "1"
    assert a["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT)]
    assert worker_env({**base, "PYTHONPATH": "/extra"})["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), "/extra"]


def test_change_regions_contain_object_and_shadow():
    scene, full, removed = make_scene(size=64)
    moved = regions.moved_objects(full, removed, 1e-6)
    # A pixel that holds a point of the object has its centre within 0.71 px of it: margin 1.
    bounds = regions.change_regions(scene, full, removed, moved, margin_px=1)
    assert moved[:, 1].tolist() == [False, False, True, True] and not moved[:, 2].any()
    assert [bool(r) for r in bounds.overlap_rects] == [False, False, True, True]
    d = np.asarray(scene.light.sun_direction) / np.linalg.norm(scene.light.sun_direction)
    for t in range(scene.num_frames):
        inside = bounds.removed[t]
        # sphere surface and its sun shadow on the floor, from first principles
        pts = full[t, 0, :3] + RADIUS * _unit_sphere(400)
        shadow = pts - (pts[:, 2] / d[2])[:, None] * d
        for p in (pts, shadow):
            px = project(p, scene.camera, t, scene.num_frames, 64, 64)
            xy = px[:, :2].astype(int)
            ok = (xy >= 0).all(1) & (xy < 64).all(1)
            assert inside[xy[ok, 1], xy[ok, 0]].all()
        assert bounds.union[t][inside].all() and bounds.union[t][bounds.moved[t]].all()
        covered = borders.rects_mask(bounds.union_rects[t], 64, 64)
        assert covered[bounds.union[t]].all()
        # hidden is rendered only where it can differ from both full and removed
        overlap = bounds.removed[t] & bounds.moved[t]
        covered_h = borders.rects_mask(bounds.overlap_rects[t], 64, 64)
        assert covered_h[overlap].all() and covered_h.sum() < covered.sum()
        assert 0 < inside.mean() < 0.3  # a bound, but not the whole image


def test_contact_band_grows_the_proximity_bound_not_the_rendered_one():
    """The band only matters to the analytic proximity: it widens ``near`` (the grown
    sphere, no shadow) and leaves the signature's bounds (objects and shadows) alone."""
    scene, full, removed = make_scene(size=64)
    moved = regions.moved_objects(full, removed, 1e-6)
    plain = regions.change_regions(scene, full, removed, moved, margin_px=1)
    banded = regions.change_regions(scene, full, removed, moved, margin_px=1, band=0.5)
    assert not plain.near.any()
    assert np.array_equal(plain.union, banded.union) and plain.union_rects == banded.union_rects
    pad = regions.contact_band_m(scene.objects[0], 0.5)
    for t in range(scene.num_frames):
        pts = full[t, 0, :3] + (RADIUS + pad) * _unit_sphere(400)
        xy = project(pts, scene.camera, t, scene.num_frames, 64, 64)[:, :2].astype(int)
        ok = (xy >= 0).all(1) & (xy < 64).all(1)
        assert banded.near[t][xy[ok, 1], xy[ok, 0]].all()
        assert banded.near[t].any() and not banded.near[t].all()


def test_convex_hull_fill_matches_polygon():
    rng = np.random.default_rng(3)
    pts = rng.uniform(5, 35, size=(30, 2))
    hull = regions.convex_hull(pts)
    grown = np.zeros((40, 40), bool)
    regions.fill_hull(grown, hull, 0.75)  # half a pixel diagonal: every point's pixel is in
    assert grown[pts[:, 1].astype(int), pts[:, 0].astype(int)].all()
    mask = np.zeros((40, 40), bool)
    regions.fill_hull(mask, hull, 0.0)
    assert not (mask & ~grown).any()
    centres = np.stack(np.nonzero(mask)[::-1], 1) + 0.5
    assert (centres.min(0) >= hull.min(0) - 1e-9).all() and (centres.max(0) <= hull.max(0) + 1e-9).all()
    area = 0.5 * abs(np.dot(hull[:, 0], np.roll(hull[:, 1], -1)) - np.dot(hull[:, 1], np.roll(hull[:, 0], -1)))
    assert abs(mask.sum() - area) < 0.15 * area


def test_convex_hull_vertices_with_many_inner_points():
    from scipy.spatial import ConvexHull

    rng = np.random.default_rng(5)
    for k in range(200):
        n = int(rng.integers(17, 300))  # above the size where inner points are dropped first
        pts = rng.normal(size=(n, 2)) * rng.uniform(1, 300) + rng.uniform(-100, 100, 2)
        if k % 4 == 0:
            pts = np.round(rng.normal(size=(n, 2)) * 6)  # a grid: duplicates and collinear edge points
        hull = regions.convex_hull(pts)
        ref = pts[ConvexHull(pts).vertices]  # counter-clockwise, collinear points left out
        assert sorted(map(tuple, hull)) == sorted(map(tuple, ref))
        turn = np.cross(np.roll(hull, -1, 0) - hull, np.roll(hull, -2, 0) - np.roll(hull, -1, 0))
        assert (turn > 0).all()  # counter-clockwise, as fill_hull expects


def test_mask_rects_cover_and_merge():
    rng = np.random.default_rng(0)
    for _ in range(50):
        m = np.zeros((40, 56), bool)
        for _ in range(rng.integers(1, 4)):
            y, x = rng.integers(0, 40), rng.integers(0, 56)
            m[y : y + rng.integers(1, 12), x : x + rng.integers(1, 12)] = True
        m &= rng.random(m.shape) < 0.8
        rects = borders.mask_rects(m, pad_px=1)
        assert not (m & ~borders.rects_mask(rects, 56, 40)).any()
    two = borders.merge_rects([(0, 0, 10, 10), (10, 0, 20, 10)])
    assert two == [(0, 0, 20, 10)]  # touching: one render is cheaper
    apart = borders.merge_rects([(0, 0, 40, 40), (200, 200, 240, 240)], overhead_px=100)
    assert len(apart) == 2


def _screen_shift(scene, obj, a, b, t):
    """Largest on-screen move of the object's bounding-box corners between poses a and b."""
    box = regions.box_corners(*regions.local_bounds(obj))
    pa, pb = (project(regions.quat_rotate(q[3:], box) + q[:3], scene.camera, t, scene.num_frames, scene.width,
                      scene.height)[:, :2] for q in (a, b))
    return float(np.abs(pa - pb).max())


def test_hold_still_holds_objects_at_rest_within_a_screen_tolerance():
    scene, full, _ = make_scene(size=64, frames=12)
    poses = np.repeat(full[:1], 12, axis=0)
    rng = np.random.default_rng(2)
    poses[:, 2, :3] += rng.normal(scale=1e-7, size=(12, 3))  # the duck at rest, float dust
    poses[:, 1, 0] += 1e-4 * np.arange(12)  # the box creeps, about a thousandth of a pixel a frame
    poses[6:, 0, 0] += 0.3  # the sphere jumps at frame 6
    poses[9:, 0] = np.nan  # and leaves at frame 9
    poses[:, 2, 3:] *= -1  # q and -q: the same rotation
    held = regions.hold_still(scene, poses, 0.01)
    assert (held[:, 2] == held[0, 2]).all()  # the duck: one pose throughout
    assert (held[:6, 0] == poses[0, 0]).all() and (held[6:9, 0] == poses[6, 0]).all()
    assert np.isnan(held[9:, 0]).all()
    # The box is held while it stays within 0.01 px of where it settled, then moves on.
    anchors = [0] + [t for t in range(1, 12) if (held[t, 1] != held[t - 1, 1]).any()]
    assert 1 < len(anchors) < 12
    for t in range(12):
        a = max(k for k in anchors if k <= t)
        assert (held[t, 1] == poses[a, 1]).all()
        assert _screen_shift(scene, scene.objects[1], poses[a, 1], poses[t, 1], t) <= 0.01
        if t in anchors[1:]:  # a new stretch begins only when the last one is left behind
            assert _screen_shift(scene, scene.objects[1], held[t - 1, 1], poses[t, 1], t) > 0.01
    exact = regions.hold_still(scene, poses, 0.0)  # 0: only exact repeats are held
    assert np.array_equal(exact[:, 1], poses[:, 1]) and not np.array_equal(exact[:, 2], held[:, 2])


def test_same_state_as_compares_camera_and_shown_objects():
    scene, full, _ = make_scene(size=32, frames=6)
    poses = np.repeat(full[:1], 6, axis=0)
    poses[3:, 0, 0] += 0.2  # the sphere moves at frame 3 and is still again
    poses[5, 0] = np.nan
    assert regions.same_state_as(scene, poses, []).tolist() == [0, 0, 0, 3, 3, 5]
    assert regions.same_state_as(scene, poses, [0]).tolist() == [0] * 6  # the sphere not shown
    scene.camera.motion, scene.camera.motion_amount = "pan", 10.0
    assert regions.same_state_as(scene, poses, [0]).tolist() == list(range(6))


@pytest.mark.parametrize("shape,size", [("sphere", [0.3]), ("cylinder", [0.2, 0.7]), ("box", [0.3, 0.1, 0.2])])
def test_region_points_enclose_the_grown_object_tighter_than_its_box(shape, size):
    """change_regions projects these points for an object grown by its contact band: their
    hull must hold every point within ``pad`` of the surface (a sphere's or cylinder's
    polyhedron, not its box, so the signature pass renders less)."""
    from scipy.spatial import ConvexHull

    obj = ObjectSpec(id=1, name="x", shape=shape, size=size, color=[0.5, 0.5, 0.5], position=[0.0, 0.0, 0.0])
    pad = 0.1
    hull = ConvexHull(regions.local_bound_points(obj, pad))
    rng = np.random.default_rng(1)
    u = rng.normal(size=(20000, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    if shape == "sphere":
        surface = size[0] * u
    elif shape == "cylinder":
        r, h = size[0], size[1]
        phi = rng.uniform(0, 2 * np.pi, len(u))
        z = rng.uniform(-h / 2, h / 2, len(u))
        cap = rng.random(len(u)) < 0.3  # points on the caps as well as the side
        rad = np.where(cap, r * np.sqrt(rng.random(len(u))), r)
        z = np.where(cap, np.sign(z) * h / 2, z)
        surface = np.stack([rad * np.cos(phi), rad * np.sin(phi), z], axis=1)
    else:
        surface = rng.uniform(-1, 1, (len(u), 3)) * size
        k = rng.integers(0, 3, len(u))
        surface[np.arange(len(u)), k] = np.sign(surface[np.arange(len(u)), k]) * np.asarray(size)[k]
    grown = surface + pad * u  # the boundary of the object grown by pad lies in this set
    assert (grown @ hull.equations[:, :3].T + hull.equations[:, 3] <= 1e-9).all()
    lo, hi = regions.local_bounds(obj)
    box = np.prod(hi - lo + 2 * pad)
    if shape != "box":
        assert hull.volume < 0.9 * box


# ------------------------------------------------------------------ with Blender

blender = pytest.mark.skipif(not (deps.available("bpy") and deps.available("OpenEXR")), reason="bpy/OpenEXR not installed")


@pytest.fixture(scope="module")
def rendered():
    from simulate.render.cycles import CyclesRenderer

    scene, full, removed = make_scene()
    views = CyclesRenderer(spp=4).render_views(scene, full, removed)
    return scene, full, removed, views


@blender
@pytest.mark.blender
def test_ids_where_scene_projects_them(rendered):
    scene, full, removed, views = rendered
    T, W, H = scene.num_frames, scene.width, scene.height
    for t in range(T):
        for row, oid in ((0, SPHERE), (1, BOX), (2, DUCK)):
            x, y, _ = project(full[t, row : row + 1, :3], scene.camera, t, T, W, H)[0]
            assert views.full.ids[t, int(y), int(x)] == oid
        x, y, _ = project(removed[t, 1:2, :3], scene.camera, t, T, W, H)[0]
        assert views.removed.ids[t, int(y), int(x)] == BOX
    assert set(np.unique(views.full.ids)) == {0, SPHERE, BOX, DUCK}
    for v in (views.hidden, views.removed):
        assert SPHERE not in v.ids
    assert views.full.rgb.shape == (T, H, W, 3) and views.full.rgb.dtype == np.uint8
    assert views.full.ids.dtype == np.int32 and views.full.depth.shape == (T, H, W)
    # Depth is metres along the view axis: compare with the sphere centre's projection.
    t = 0
    x, y, z = project(full[t, 0:1, :3], scene.camera, t, T, W, H)[0]
    assert abs(views.full.depth[t, int(y), int(x)] - (z - RADIUS)) < 0.15


@blender
@pytest.mark.blender
def test_equal_signatures_mean_identical_rgb(rendered):
    from simulate import groundtruth

    scene, _, _, views = rendered
    pairs = [(views.full, views.hidden), (views.full, views.removed), (views.hidden, views.removed)]
    for a, b in pairs:
        same = ~groundtruth.differs(a, b)
        assert np.array_equal(a.rgb[same], b.rgb[same])
    mask = groundtruth.build_quadmask(views, scene.removed_ids)
    keep = mask == 255
    assert np.array_equal(views.full.rgb[keep], views.removed.rgb[keep])
    assert (mask == 0).any() and (mask == 127).any() and keep.mean() > 0.5
    # After contact the box moved: it is affected, and something changed where it was.
    assert (mask[3][views.full.ids[3] == BOX] != 255).any()
    info = views.info
    assert info["renderer"] == "cycles" and info["blender_version"].startswith("4.5")
    assert 0 < info["rerendered_fraction"]["removed"] < 0.5
    assert views.timings_s["total"] > views.timings_s["beauty_full"] > 0


@blender
@pytest.mark.blender
def test_changes_match_an_analytic_model(rendered):
    """Hidden vs full differ by the sphere alone: its pixels, its soft shadow, its contact band.

    Every changed pixel must be explained by that model (so no path-tracing noise entered
    the signature), and pixels deep in the sphere's umbra must be found.
    """
    from simulate import groundtruth

    scene, full, _, views = rendered
    T, W, H = scene.num_frames, scene.width, scene.height
    changed = groundtruth.differs(views.full, views.hidden)
    band = regions.contact_band_m(scene.objects[0], 0.5)
    half_cone = math.radians(scene.light.softness_deg) / 2
    to_sun = -np.asarray(scene.light.sun_direction) / np.linalg.norm(scene.light.sun_direction)
    for t in range(T):
        c = full[t, 0, :3]
        # the sphere's own pixels (dense surface samples, projected)
        sil = np.zeros((H, W), bool)
        px = project(c + RADIUS * _unit_sphere(3000), scene.camera, t, T, W, H)
        xy = np.floor(px[:, :2]).astype(int)
        ok = (xy >= 0).all(1) & (xy[:, 0] < W) & (xy[:, 1] < H)
        sil[xy[ok, 1], xy[ok, 0]] = True
        # floor points of every pixel centre; angle between the sun and the sphere from there
        P = _floor_points(scene, t)
        to_c = c - P
        dist = np.linalg.norm(to_c, axis=-1)
        angle = np.arccos(np.clip((to_c @ to_sun) / dist, -1, 1))
        radius_angle = np.arcsin(np.clip(RADIUS / dist, 0, 1))
        penumbra = angle <= radius_angle + half_cone
        umbra = angle <= radius_angle - half_cone - math.radians(4)
        contact = dist - RADIUS < band
        explained = _dilate(sil | penumbra | contact, 2)
        assert not (changed[t] & ~explained).any(), f"frame {t}: changes outside the model"
        deep = umbra & ~_dilate(sil, 1) & (views.hidden.ids[t] == 0)  # umbra on the floor
        assert changed[t][deep].all(), f"frame {t}: umbra pixels not marked"
        assert deep.any() or t == 0


@blender
@pytest.mark.blender
def test_reproducible(rendered):
    """Another worker process, with one thread instead of all cores: the same bits.

    (So a Ray run, one thread per task, writes what a process pool writes.)
    """
    from simulate.render.cycles import CyclesRenderer

    scene, full, removed, views = rendered
    again = CyclesRenderer(spp=4, threads=1).render_views(scene, full, removed)
    for name in ("full", "hidden", "removed"):
        a, b = getattr(views, name), getattr(again, name)
        assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.ids, b.ids)
        assert np.array_equal(a.signature, b.signature)


@blender
@pytest.mark.blender
def test_frames_showing_the_same_scene_share_renders(monkeypatch):
    """Frames with the same camera and poses are rendered once, in every pass, and the result
    is bit for bit what rendering every frame gives; an animated seed keeps beauty apart."""
    from simulate.render.cycles import CyclesRenderer

    scene, full, removed = make_scene()
    full[1] = full[0]  # the sphere waits a frame: full frames 0 and 1 show the same scene
    shared = CyclesRenderer(spp=4).render_views(scene, full, removed)
    info = shared.info
    # Without the sphere nothing moves; hidden shows the box pushed from frame 2 on.
    assert info["same_scene_as"] == {"full": [0, 0, 2, 3], "hidden": [0, 0, 2, 3], "removed": [0, 0, 0, 0]}
    assert info["renders"]["beauty_full"] == 3 and info["renders"]["beauty_removed"] == 1
    assert np.array_equal(shared.full.rgb[0], shared.full.rgb[1])

    monkeypatch.setattr(regions, "same_state_as", lambda scene, poses, rows: np.arange(len(poses)))
    every = CyclesRenderer(spp=4).render_views(scene, full, removed)
    assert every.info["renders"]["beauty_full"] == 4 and every.info["renders"]["beauty_removed"] == 4
    assert every.info["renders"]["signature"] > info["renders"]["signature"]
    for name in ("full", "hidden", "removed"):
        a, b = getattr(shared, name), getattr(every, name)
        for k in ("rgb", "ids", "signature", "depth"):
            assert np.array_equal(getattr(a, k), getattr(b, k)), (name, k)

    monkeypatch.undo()
    animated = CyclesRenderer(spp=4, animated_seed=True).render_views(scene, full, removed)
    assert not animated.info["beauty_shared_between_frames"] and animated.info["renders"]["beauty_full"] == 4
    assert not np.array_equal(animated.full.rgb[0], animated.full.rgb[1])  # new noise every frame
    assert np.array_equal(animated.full.signature, shared.full.signature)  # the signature still shares


@blender
@pytest.mark.blender
@pytest.mark.skipif(not deps.available("moderngl"), reason="moderngl not installed")
def test_agrees_with_the_fast_renderer(rendered):
    from simulate import groundtruth
    from simulate.render.raster import RasterRenderer

    scene, full, removed, views = rendered
    fast = RasterRenderer().render_views(scene, full, removed)
    m_fast = groundtruth.build_quadmask(fast, scene.removed_ids)
    m_cyc = groundtruth.build_quadmask(views, scene.removed_ids)
    for region in (lambda m: m != 255, lambda m: np.isin(m, (0, 63))):
        a, b = region(m_fast), region(m_cyc)
        for t in range(scene.num_frames):
            boundary = (_dilate(a[t], 2) & ~_erode(a[t], 2)) | (_dilate(b[t], 2) & ~_erode(b[t], 2))
            assert not ((a[t] ^ b[t]) & ~boundary).any(), f"frame {t}: masks disagree away from edges"
    for oid in (SPHERE, BOX, DUCK):  # same silhouettes up to edge pixels
        a, b = fast.full.ids == oid, views.full.ids == oid
        assert (a & b).sum() >= 0.7 * max(a.sum(), b.sum())
        for t in range(scene.num_frames):
            assert not ((a[t] ^ b[t]) & ~(_dilate(a[t], 1) & ~_erode(a[t], 1))).any()


@blender
@pytest.mark.blender
@pytest.mark.skipif(not deps.available("moderngl"), reason="moderngl not installed")
def test_wide_frame_keeps_the_vertical_fov():
    """fov is vertical for any aspect: ids must match the rasterizer's on a 48x24 frame too."""
    from simulate.render.cycles import CyclesRenderer
    from simulate.render.raster import RasterRenderer

    scene, full, removed = make_scene(size=24, frames=2)
    scene.width = 48
    scene.camera.motion, scene.camera.motion_amount = "zoom", 0.2  # fov changes per frame
    cyc = CyclesRenderer(spp=1).render_views(scene, full, removed)
    fast = RasterRenderer().render_views(scene, full, removed)
    assert cyc.full.ids.shape == (2, 24, 48)
    for oid in (SPHERE, BOX, DUCK):
        a, b = fast.full.ids == oid, cyc.full.ids == oid
        assert (a & b).sum() >= 0.6 * max(a.sum(), b.sum()) > 0


@blender
@pytest.mark.blender
def test_thread_limit_reaches_blenders_scheduler():
    """``threads`` = 1 caps the task scheduler bpy starts, not only Cycles' own arena."""
    code = (
        "import ctypes\n"
        "from simulate.render import blender_worker as w\n"
        "capped = w._limit_tbb(1)\n"
        "import bpy\n"
        "f = getattr(w._TBB_CONTROL[0], '_ZN3tbb6detail2r127global_control_active_valueEi')\n"
        "f.restype = ctypes.c_size_t\n"
        "print(int(capped), f(w.MAX_ALLOWED_PARALLELISM))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[-2:] == ["1", "1"]


@pytest.fixture
def scratch_root(tmp_path, monkeypatch):
    """A temporary folder in place of /dev/shm for the workers' EXR scratch directories."""
    from simulate.render import cycles_process

    root = tmp_path / "shm"
    root.mkdir()
    monkeypatch.setattr(cycles_process, "SCRATCH_ROOT", root)
    return root


@blender
@pytest.mark.blender
def test_gpu_request_without_gpu_is_a_clear_error(tmp_path, scratch_root):
    import shutil

    from simulate.render.cycles import CyclesError, CyclesRenderer

    if shutil.which("nvidia-smi"):
        pytest.skip("a GPU may be present")
    (tmp_path / "work").mkdir()
    scene, full, removed = make_scene(size=16, frames=2)
    with pytest.raises(CyclesError, match="no CUDA or OptiX"):
        CyclesRenderer(spp=1, device="gpu", workdir=tmp_path / "work").render_views(scene, full, removed)
    assert list((tmp_path / "work").glob("*/blender.log"))  # a failed worker leaves its log for the user
    assert list(scratch_root.iterdir()) == []  # and nothing in memory


@blender
@pytest.mark.blender
def test_worker_files_are_cleaned_up(tmp_path, scratch_root):
    from simulate.render.cycles import CyclesRenderer

    for d in ("gone", "kept"):
        (tmp_path / d).mkdir()
    scene, full, removed = make_scene(size=16, frames=2)
    CyclesRenderer(spp=1, workdir=tmp_path / "gone").render_views(scene, full, removed)
    assert list((tmp_path / "gone").iterdir()) == []
    CyclesRenderer(spp=1, workdir=tmp_path / "kept", keep_workdir=True).render_views(scene, full, removed)
    (job,) = (tmp_path / "kept").iterdir()
    assert (job / "job.json").is_file() and (job / "blender.log").is_file()
    assert not list(job.glob("*.exr"))  # they went to the scratch directory
    assert list(scratch_root.iterdir()) == []  # which is removed either way


# ------------------------------------------------------------------------ helpers


def _unit_sphere(n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _floor_points(scene: SceneSpec, t: int) -> np.ndarray:
    """Where each pixel centre's camera ray meets the floor z = 0, ``(H, W, 3)``."""
    W, H = scene.width, scene.height
    eye, target, up, fov = camera_at(scene.camera, t, scene.num_frames)
    cam_to_world = np.linalg.inv(look_at_matrix(eye, target, up))
    ys, xs = np.mgrid[0:H, 0:W]
    f = 1 / math.tan(math.radians(fov) / 2)
    d_cam = np.stack([((xs + 0.5) / W * 2 - 1) * W / H / f, (1 - (ys + 0.5) / H * 2) / f, -np.ones_like(xs, float)], -1)
    d = d_cam @ cam_to_world[:3, :3].T
    s = -eye[2] / np.where(d[..., 2] < -1e-9, d[..., 2], -1e-9)
    return eye + s[..., None] * d


def _dilate(m: np.ndarray, r: int) -> np.ndarray:
    out = m.copy()
    H, W = m.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out[max(0, dy) : H + min(0, dy), max(0, dx) : W + min(0, dx)] |= m[
                max(0, -dy) : H + min(0, -dy), max(0, -dx) : W + min(0, -dx)
            ]
    return out


def _erode(m: np.ndarray, r: int) -> np.ndarray:
    return ~_dilate(~m, r)
