"""Cycles on the side-effect families, checked against the raster renderer's exact masks of
the same scenes: a lamp's shadow, light bent by glass, and a person walking past.

Each test draws one valid tiny sample (64x64) through the real pipeline, renders a few of its
frames in Cycles (4 spp) and checks the quadmask contract (255 bit-identical in full and
removed) and that the effect is marked where it is and not far beyond it. The person has the
draw's own limb proportions: their parts must land on the same pixels in both renderers.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("pybullet")
pytest.importorskip("moderngl")

from simulate import groundtruth  # noqa: E402
from void import deps  # noqa: E402

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(not (deps.available("bpy") and deps.available("OpenEXR")), reason="bpy/OpenEXR not installed"),
]
FRAMES = 6


def _cycles(draw, frames: int = FRAMES, **kw):
    from simulate.render.cycles import CyclesRenderer

    scene = copy.deepcopy(draw.scene)
    scene.num_frames = frames
    views = CyclesRenderer(spp=4, **kw).render_views(scene, draw.full.poses[:frames], draw.removed.poses[:frames])
    mask = groundtruth.build_quadmask(views, scene.removed_ids)
    keep = mask == 255
    assert keep.any()
    np.testing.assert_array_equal(views.full.rgb[keep], views.removed.rgb[keep])
    return scene, views, mask


def test_cycles_lamp_shadow_is_the_blockers_own_not_its_bounding_spheres(valid_sample, make_config, tmp_path):
    """A spotlight's pool with the removed object standing in it: the pixels whose lamp light
    Cycles' signature says changes (off the object) cover the raster renderer's exact
    shadow-mapped region and are not much larger (the lamp's 3 cm sphere adds a penumbra, a
    mesh its convex hull); with the blocker's bounding sphere they were several times larger."""
    from simulate.render.blender_signature import LAMP

    draw, raster, _ = valid_sample(make_config, tmp_path, "light", "variant", "blocker")
    scene, views, mask = _cycles(draw)
    gone = scene.removed_ids[0]
    lamp_changed = (views.full.signature[..., LAMP] != views.removed.signature[..., LAMP]) & (views.full.ids != gone)
    raster_changed = (raster.full.signature[:FRAMES, ..., 4] != raster.removed.signature[:FRAMES, ..., 4])
    raster_changed &= raster.full.ids[:FRAMES] != gone
    assert raster_changed.sum() >= 20
    assert (raster_changed & ~lamp_changed).sum() <= 0.03 * raster_changed.sum()
    assert lamp_changed.sum() <= 2.0 * raster_changed.sum()
    assert np.isin(mask[lamp_changed], (63, 127)).all()  # ... and it is in the mask


def _sideways_sun(scene, ball_xyz: np.ndarray, elevation_deg: float) -> None:
    """Sunlight from the camera's side at ``elevation_deg``, so the glass's shadow falls across
    the picture; at about 35 degrees a glass ball (n = 1.45, focal length 1.6 radii from its
    centre) focuses the sun on the floor it stands on."""
    from simulate.scene import camera_at

    eye = np.asarray(camera_at(scene.camera, 0, scene.num_frames)[0])
    ahead = (ball_xyz - eye)[:2]
    side = np.array([ahead[1], -ahead[0]]) / np.linalg.norm(ahead)
    e = np.radians(elevation_deg)
    scene.light.sun_direction = [float(side[0] * np.cos(e)), float(side[1] * np.cos(e)), float(-np.sin(e))]
    scene.light.softness_deg = 0.5


@pytest.mark.parametrize("opaque", [False, True])
def test_light_a_glass_ball_bends_onto_the_floor_is_127_and_goes_when_it_is_opaque(valid_sample, make_config,
                                                                                   tmp_path, opaque):
    """Shadow caustics: the same frames rendered with ``caustics`` on and off. Where the ball
    focuses the sun the floor is much brighter with them on, and all of it is 127 (inside the
    glass's shadow, which the change regions and signature hold); made opaque, the ball bends
    no light: the two renders agree there (no caster, nothing switched on)."""
    from simulate.render.cycles import CyclesRenderer

    draw, _, _ = valid_sample(make_config, tmp_path, "glass", "variant", "clear",
                              where=lambda s: s.objects[0].shape == "sphere" and s.extras["optics"]["glass_object_id"] == 1)
    scene = copy.deepcopy(draw.scene)
    T = 2
    scene.num_frames, scene.width, scene.height = T, 96, 96
    _sideways_sun(scene, draw.full.poses[0, 0, :3], 35.0)
    if opaque:
        scene.objects[0].transmission = 0.0
    pf, pr = draw.full.poses[:T], draw.removed.poses[:T]
    on = CyclesRenderer(spp=16).render_views(scene, pf, pr)
    off = CyclesRenderer(spp=16, caustics=False).render_views(scene, pf, pr)
    mask = groundtruth.build_quadmask(on, scene.removed_ids)
    keep = mask == 255
    np.testing.assert_array_equal(on.full.rgb[keep], on.removed.rgb[keep])
    gain = on.full.rgb.astype(int).sum(-1) - off.full.rgb.astype(int).sum(-1)
    bent = (gain > 60) & ~np.isin(on.full.ids, scene.removed_ids)
    if opaque:
        assert not bent.any()
    else:
        assert bent.sum() >= 5
        assert np.isin(mask[bent], (63, 127)).all()


# ------------------------------------------------------------------------------ human


@pytest.fixture(scope="module")
def walk_past_in_both(make_config, valid_sample, tmp_path_factory):
    from simulate.render.cycles import CyclesRenderer

    draw, raster, raster_mask = valid_sample(make_config, tmp_path_factory.mktemp("walk"), "human", "mode", "walk_past",
                                             frames=8)
    scene = copy.deepcopy(draw.scene)
    scene.num_frames = FRAMES
    views = CyclesRenderer(spp=4).render_views(scene, draw.full.poses[:FRAMES], draw.removed.poses[:FRAMES])
    return scene, raster, raster_mask[:FRAMES], views, groundtruth.build_quadmask(views, scene.removed_ids)


def test_walk_past_in_cycles_marks_the_person_and_their_shadow_only(walk_past_in_both):
    scene, raster, raster_mask, views, mask = walk_past_in_both
    assert scene.extras["interaction"] is False
    keep = mask == 255
    np.testing.assert_array_equal(views.full.rgb[keep], views.removed.rgb[keep])
    person = np.isin(views.full.ids, scene.removed_ids)
    assert (mask[person] != 255).all() and (mask == 0).any()
    # the shadow: where the raster renderer marks it (127 on floor and objects), Cycles does too
    shadow = (raster_mask == 127) & ~person
    assert shadow.sum() >= 10
    assert np.isin(mask[shadow], (63, 127)).mean() > 0.95
    # ... and there the input is darker than the target (it is the person's shadow)
    full, removed = views.full.rgb[shadow].astype(int).sum(-1), views.removed.rgb[shadow].astype(int).sum(-1)
    assert (full < removed).mean() > 0.8
    # 127 stays near what changes: within a few pixels (Cycles' soft penumbra, its one-pixel
    # ring around every change) of the raster renderer's non-255 pixels, or on an object the
    # physics moved by a hair between the runs (the parked rig's world differs in rounding)
    from scipy import ndimage

    moved = views.info["moved_object_ids"]
    near = np.stack([
        ndimage.binary_dilation((raster_mask[t] != 255) | np.isin(views.full.ids[t], moved)
                                | np.isin(views.removed.ids[t], moved), iterations=4)
        for t in range(FRAMES)
    ])
    assert not ((mask == 127) & ~near).any()


def test_a_person_with_their_own_proportions_covers_the_same_pixels_in_both_renderers(walk_past_in_both):
    scene, raster, _, views, _ = walk_past_in_both
    factors = scene.people[0].proportions
    assert factors and any(abs(f - 1.0) > 0.01 for f in factors.values())  # a body unlike the rig's
    ours = np.isin(views.full.ids, scene.removed_ids)
    theirs = np.isin(raster.full.ids[:FRAMES], scene.removed_ids)
    assert theirs.sum() >= 20
    iou = (ours & theirs).sum() / (ours | theirs).sum()
    assert iou > 0.8, f"the person's pixels agree only {iou:.2f} between the renderers"
    # part by part: every link the raster shows, Cycles shows about as large
    for part in {o.id for o in scene.objects if o.part_of}:
        r, c = (raster.full.ids[:FRAMES] == part).sum(), (views.full.ids == part).sum()
        if r >= 12:
            assert 0.5 * r <= c <= 2.0 * r, f"part {part}: {c} pixels in Cycles, {r} in the raster"
