"""Depth of field and motion blur in Cycles' footage look, with the mask contract intact.

A tiny scene (48x40, 4 frames, 2 spp): a sphere rolls fast into a box and is removed, seen
through a long lens. Without Blender: the lens rule (who gets a lens, its own random
stream, the blur radius, the grown change maps and their signature codes). With Blender:
the camera really has depth of field and motion blur in the footage look and not in the
plain look, the blurred beauty differs from a sharp one, 255 pixels stay bit-identical, and
every pixel where a full three-pass render (VOID's recipe, same seed) shows the removal
within blur reach of a change lies inside the grown (non-255) region, where the target
equals that render.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulate import camerawork, groundtruth
from simulate.render import blender_regions as regions
from simulate.render import cycles_lens
from simulate.scene import CameraSpec, FloorSpec, LightSpec, ObjectSpec, SceneSpec
from void import deps

SPHERE, BOX = 1, 2
RADIUS, HALF = 0.3, 0.25
blender = pytest.mark.skipif(not (deps.available("bpy") and deps.available("OpenEXR")), reason="bpy/OpenEXR not installed")


def make_scene(footage: bool = True, frames: int = 4, fov_deg: float = 20.0, speed: float = 1.2):
    objects = [
        ObjectSpec(id=SPHERE, name="red sphere", shape="sphere", size=[RADIUS], color=[0.7, 0.06, 0.05],
                   position=[-0.9, -0.3, RADIUS], material="rubber", roughness=0.6, role="removed"),
        ObjectSpec(id=BOX, name="blue box", shape="box", size=[HALF] * 3, color=[0.06, 0.16, 0.7],
                   position=[0.45, 0.1, HALF], roughness=0.4, role="target"),
    ]
    scene = SceneSpec(
        family="test", seed=11, objects=objects, removed_ids=[SPHERE],
        camera=CameraSpec(position=[5.0, -5.0, 3.0], look_at=[0.0, 0.0, 0.3], fov_deg=fov_deg, frame_s=1 / 12),
        light=LightSpec(sun_direction=[0.6, -0.3, -0.75], softness_deg=3.0, ambient=0.35),
        floor=FloorSpec(color=[0.55, 0.55, 0.5], color2=[0.3, 0.3, 0.28], tile_m=0.4),
        num_frames=frames, width=48, height=40,
    )
    if footage:
        scene.extras["environment"] = {"environment": "test"}
    full = np.zeros((frames, 2, 7))
    full[..., 6] = 1.0
    for t in range(frames):
        s = t / (frames - 1)
        full[t, 0, :3] = [-0.9 + speed * s, -0.3 + 0.25 * s, RADIUS]
        full[t, 1, :3] = [0.45 + 0.3 * max(0.0, s - 0.5), 0.1, HALF]
    removed = full.copy()
    removed[:, 0] = np.nan
    removed[:, 1, :3] = [0.45, 0.1, HALF]
    return scene, full, removed


# --------------------------------------------------------------- without Blender


def test_only_the_footage_look_gets_a_lens_from_its_own_stream():
    plain, _, _ = make_scene(footage=False)
    scene, _, _ = make_scene()
    assert cycles_lens.lens_for(plain) is None
    lens = cycles_lens.lens_for(scene)
    assert cycles_lens.FSTOP_RANGE[0] <= lens["fstop"] <= cycles_lens.FSTOP_RANGE[1]
    assert lens["focal_mm"] == pytest.approx(camerawork.focal_from_fov(20.0))
    assert lens["shutter_s"] == pytest.approx(0.5 / 12)
    assert cycles_lens.lens_for(scene) == lens  # a function of the sample seed
    other = make_scene()[0]
    other.seed = 12
    assert cycles_lens.lens_for(other)["fstop"] != lens["fstop"]
    # the focus follows the action: the look-at point's distance along the view axis
    assert cycles_lens.focus_m(scene, 0) == pytest.approx(np.linalg.norm([5.0, -5.0, 2.7]))


def test_blur_radius_grows_with_motion_and_aperture():
    scene, full, removed = make_scene()
    moved = regions.moved_objects(full, removed, 1e-6)
    lens = cycles_lens.lens_for(scene)
    fast = cycles_lens.frame_radii(scene, full, removed, moved, lens)
    slow_scene, slow_full, slow_removed = make_scene(speed=0.1)
    slow = cycles_lens.frame_radii(slow_scene, slow_full, slow_removed, regions.moved_objects(slow_full, slow_removed, 1e-6),
                                   lens)
    wide = cycles_lens.frame_radii(scene, full, removed, moved, {**lens, "fstop": 0.05})
    assert fast.shape == (4,) and (fast >= 1).all()
    assert (fast >= slow).all() and (fast > slow).any()
    assert (wide >= fast).all() and (wide > fast).any()
    nothing = cycles_lens.frame_radii(scene, full, full, np.zeros_like(moved), lens)
    assert (nothing >= 1).all()  # the removed sphere still changes every frame


def test_ring_codes_make_exactly_the_grown_regions_differ():
    rng = np.random.default_rng(0)
    d_rf = rng.random((2, 24, 24)) < 0.02
    d_hr = rng.random((2, 24, 24)) < 0.02
    d_hf = (d_rf ^ d_hr) | (d_rf & d_hr & (rng.random((2, 24, 24)) < 0.5))  # consistent with the other two
    radii = np.array([2, 3])
    g = [cycles_lens.grow(m, radii) for m in (d_rf, d_hf, d_hr)]
    assert (g[0] >= d_rf).all() and g[0].sum() > d_rf.sum()
    assert not (g[1] & ~(g[0] | g[2])).any()
    codes = cycles_lens.ring_codes(*g)
    assert np.array_equal(codes["removed"] != codes["full"], g[0])
    assert np.array_equal(codes["hidden"] != codes["removed"], g[2])
    assert not ((codes["hidden"] == codes["full"]) & g[1]).any()


def test_blurred_frames_share_renders_only_with_the_same_neighbours():
    same = np.array([0, 0, 0, 3, 3, 3, 3])
    assert cycles_lens.beauty_same(same).tolist() == [0, 0, 2, 3, 4, 4, 4]
    q = np.array([0.0, 0.0, 0.0, 1.0])
    a = np.concatenate([[0, 0, 0], q])
    b = np.concatenate([[1, 0, 0], [0.0, 0.0, np.sin(0.5), np.cos(0.5)]])
    mid = cycles_lens.interpolate_pose(a, b, 0.25)
    assert mid[:3].tolist() == [0.25, 0, 0] and np.linalg.norm(mid[3:]) == pytest.approx(1.0)
    assert np.array_equal(cycles_lens.interpolate_pose(a, np.full(7, np.nan), 0.25), a)


# ------------------------------------------------------------------ with Blender


@pytest.fixture(scope="module")
def renders():
    from simulate.render.cycles import CyclesRenderer

    scene, full, removed = make_scene()
    r = CyclesRenderer(spp=2)
    views = r.render_views(scene, full, removed)
    ref = r.render_three_full_passes(scene, *_held(scene, r, full, removed))  # VOID's recipe, same seed
    sharp = CyclesRenderer(spp=2, lens_blur=False).render_views(scene, full, removed)
    plain_scene, _, _ = make_scene(footage=False)
    plain = CyclesRenderer(spp=2).render_views(plain_scene, full, removed)
    return scene, views, ref, sharp, plain


@blender
@pytest.mark.blender
def test_camera_has_depth_of_field_and_motion_blur_in_footage_look_only(renders):
    scene, views, _, sharp, plain = renders
    said = views.info["blender_lens"]
    assert said["use_dof"] and said["use_motion_blur"]
    assert said["aperture_fstop"] == pytest.approx(cycles_lens.lens_for(scene)["fstop"], rel=1e-5)
    assert said["motion_blur_shutter"] == 0.5 and said["motion_blur_position"] == "CENTER"
    assert views.info["lens"]["blur_radius_px"] and min(views.info["lens"]["blur_radius_px"]) >= 1
    for other in (plain, sharp):
        assert other.info["lens"] is None
        assert not other.info["blender_lens"]["use_dof"] and not other.info["blender_lens"]["use_motion_blur"]
    # the blur is really rendered: through a pinhole with a closed shutter the scene looks different
    assert (views.full.rgb != sharp.full.rgb).any(-1).mean() > 0.05
    # the sharp passes are the same (ids from the sharp signature where the sphere is)
    gone = np.isin(views.full.ids, [SPHERE])
    assert np.array_equal(gone, np.isin(sharp.full.ids, [SPHERE]))


@blender
@pytest.mark.blender
def test_255_pixels_bit_identical_with_blur(renders):
    scene, views, _, sharp, _ = renders
    mask = groundtruth.build_quadmask(views, scene.removed_ids)
    keep = mask == 255
    assert np.array_equal(views.full.rgb[keep], views.removed.rgb[keep])
    for a, b in ((views.full, views.hidden), (views.full, views.removed), (views.hidden, views.removed)):
        same = ~groundtruth.differs(a, b)
        assert np.array_equal(a.rgb[same], b.rgb[same])
    sharp_mask = groundtruth.build_quadmask(sharp, scene.removed_ids)
    # the ring grown for blur is marked 127; the removed object's own pixels are the sharp ones
    # (0, or 63 where the moved box's blur reaches them)
    assert np.array_equal(np.isin(mask, [0, 63]), np.isin(sharp_mask, [0, 63]))
    assert ((mask == 127) & (sharp_mask == 255)).any()
    assert not ((mask == 255) & (sharp_mask != 255)).any()


@blender
@pytest.mark.blender
def test_grown_region_covers_every_pixel_blur_changes(renders):
    """Against VOID's recipe (three full renders, same seed, same lens): the target equals it
    wherever the mask is not 255; blur carries the removal beyond its sharp footprint and
    all of that lies in the grown region; what is left uncovered is indirect light that the
    signature never sees, with or without blur (see simulate.render.cycles), and blur adds
    none of it."""
    from scipy import ndimage

    scene, views, ref, sharp, _ = renders
    sharp_ref = renders_sharp_reference(scene)
    mask = groundtruth.build_quadmask(views, scene.removed_ids)
    sharp_mask = groundtruth.build_quadmask(sharp, scene.removed_ids)
    assert np.array_equal(ref.full.rgb, views.full.rgb)
    differs = (ref.full.rgb != ref.removed.rgb).any(-1)
    radii = views.info["lens"]["blur_radius_px"]
    carried = 0
    for t in range(scene.num_frames):
        inside = mask[t] != 255
        assert np.array_equal(views.removed.rgb[t][inside], ref.removed.rgb[t][inside])
        near = ndimage.distance_transform_edt(sharp_mask[t] == 255) <= radii[t]
        assert not (differs[t] & near & ~inside).any(), f"frame {t}"
        carried += int((differs[t] & inside & (sharp_mask[t] == 255)).sum())
    assert carried > 0  # blur did carry the removal beyond its sharp footprint
    uncovered = differs & (mask == 255)
    uncovered_sharp = (sharp_ref.full.rgb != sharp_ref.removed.rgb).any(-1) & (sharp_mask == 255)
    assert uncovered.sum() <= uncovered_sharp.sum()


def renders_sharp_reference(scene):
    from simulate.render.cycles import CyclesRenderer

    _, full, removed = make_scene()
    r = CyclesRenderer(spp=2, lens_blur=False)
    pf, pr = _held(scene, r, full, removed)
    return r.render_three_full_passes(scene, pf, pr)


def _held(scene, r, full, removed):
    """The poses as the renderer holds and snaps them (so a reference renders the same)."""
    moved = regions.moved_objects(full, removed, r.pose_tol)
    both = np.isfinite(full).all(-1) & np.isfinite(removed).all(-1)
    pf, pr = regions.hold_still(scene, full, r.hold_px), regions.hold_still(scene, removed, r.hold_px)
    return pf, np.where((both & ~moved)[..., None], pf, pr)


# ------------------------------------------------------------------ the denoiser


def test_footage_look_is_denoised_by_default_in_cycles_only(tmp_path):
    import argparse

    from simulate.config import SimulateConfig
    from void.cliutil import add_arguments, build_config

    def parse_config(cls, argv):
        parser = argparse.ArgumentParser()
        add_arguments(parser, cls)
        return build_config(cls, parser.parse_args(argv))

    def config(**kw):
        return SimulateConfig(out=str(tmp_path / "d"), **kw)

    assert config(renderer="cycles", look="footage").denoiser is True
    assert config(renderer="cycles", look="footage", denoiser=False).denoiser is False
    assert config(renderer="cycles").denoiser is False
    assert config(look="footage").denoiser is False  # the raster renderer's config is as it was
    assert config(renderer="cycles", denoiser=True).denoiser is True
    args = ["--out", str(tmp_path / "d"), "--renderer", "cycles", "--look", "footage"]
    assert parse_config(SimulateConfig, args).denoiser is True
    assert parse_config(SimulateConfig, args + ["--no-denoiser"]).denoiser is False


@blender
@pytest.mark.blender
def test_255_pixels_bit_identical_with_blur_and_denoiser():
    from simulate.render.cycles import CyclesRenderer

    scene, full, removed = make_scene()
    views = CyclesRenderer(spp=2, denoiser=True).render_views(scene, full, removed)
    assert views.info["denoiser"] == "openimagedenoise" and views.info["lens"] is not None
    mask = groundtruth.build_quadmask(views, scene.removed_ids)
    keep = mask == 255
    assert keep.mean() > 0.3 and (mask == 127).any()
    assert np.array_equal(views.full.rgb[keep], views.removed.rgb[keep])
    for a, b in ((views.full, views.hidden), (views.hidden, views.removed)):
        same = ~groundtruth.differs(a, b)
        assert np.array_equal(a.rgb[same], b.rgb[same])


# ------------------------------------------------------------------------- a zoom


@blender
@pytest.mark.blender
def test_a_zoom_is_blurred_within_the_shutter():
    """A zoom changes the focal length during the shutter, and Cycles blurs it: radially,
    nothing at the centre of the picture and most at its edges. Nothing else moves, so the
    middle frame of a zoom differs from a locked-off shot through the same lens (its
    focal length at that frame, same seed, same aperture and focus) only by that blur."""
    from simulate.render.cycles import CyclesRenderer
    from simulate.scene import camera_at

    zoom, full, removed = make_scene(frames=3, fov_deg=40.0, speed=0.0)
    full[:, 1, :3] = removed[:, 1, :3] = [0.45, 0.1, HALF]  # the box stays put too
    zoom.width, zoom.height = 64, 48
    zoom.camera.motion, zoom.camera.motion_amount = "zoom", 0.6
    locked, _, _ = make_scene(frames=3, fov_deg=float(camera_at(zoom.camera, 1, 3)[3]), speed=0.0)
    locked.width, locked.height = 64, 48
    r = CyclesRenderer(spp=2)
    a = r.render_views(zoom, full, removed).full.rgb[1].astype(np.float64)
    b = r.render_views(locked, full, removed).full.rgb[1].astype(np.float64)
    diff = np.abs(a - b).mean(-1)
    assert (diff > 0).mean() > 0.2
    y, x = np.mgrid[0:48, 0:64]
    radius = np.hypot((x + 0.5 - 32) / 32, (y + 0.5 - 24) / 24)
    assert diff[radius > 0.7].mean() > 2 * diff[radius < 0.25].mean()
