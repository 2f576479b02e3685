"""The optics families in the raster renderer: the side effect is really in the mask.

For each family one valid sample is drawn (64x64, 12 frames) and rendered; then the optic
that makes the effect is switched off (the mirror made matte, the lamp switched off, the
glass made opaque) and the same sample rendered again. The 127 area the optic made goes,
so it came from the reflection, the light or the transmission and from nothing else; 255
pixels are bit-identical in full and removed both times.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("pybullet")
pytest.importorskip("moderngl")

from simulate import captions, families, groundtruth  # noqa: E402
from simulate.pipeline import renderer_for  # noqa: E402
from simulate.scene import SceneSpec  # noqa: E402


def _render(draw, scene: SceneSpec, make_config, tmp_path):
    renderer = renderer_for(make_config(tmp_path, resolution=(64, 64), frames=12))
    views = renderer.render_views(scene, draw.full.poses, draw.removed.poses)
    return views, groundtruth.build_quadmask(views, scene.removed_ids)


def _keep_is_identical(views, mask) -> None:
    keep = mask == 255
    assert keep.any()
    np.testing.assert_array_equal(views.full.rgb[keep], views.removed.rgb[keep])


@pytest.mark.parametrize("surface", ["mirror", "glossy"])
def test_reflection_is_127_and_goes_with_a_matte_mirror(valid_sample, make_config, tmp_path, surface):
    draw, views, mask = valid_sample(make_config, tmp_path, "reflection", "surface", surface)
    _keep_is_identical(views, mask)
    scene = draw.scene
    mirror = scene.mirrors[0]
    removed_id = scene.removed_ids[0]
    # the mirror pass: where the surface shows the removed object, the mask is 127 (or 63)
    shows_removed = views.full.signature[..., 3] == removed_id
    assert shows_removed.sum() > 0
    assert np.isin(mask[shows_removed], (63, 127)).all()
    on_surface = (views.full.ids == mirror.object_id) & (views.full.depth < 0.99 * scene.camera.far_m)
    with_mirror = int(((mask == 127) & on_surface).sum())
    matte = copy.deepcopy(scene)
    matte.mirrors = []
    views_m, mask_m = _render(draw, matte, make_config, tmp_path)
    _keep_is_identical(views_m, mask_m)
    without = int(((mask_m == 127) & on_surface).sum())
    # what stays on a matte surface is the removed object's own shadow
    assert without < with_mirror
    assert with_mirror - without >= int(shows_removed.sum()) // 2
    assert views_m.full.signature.shape[-1] == 3  # no mirror: the plain RGB signature
    assert "reflects" in captions.caption(scene, draw.removed.poses) or "mirrors" in captions.caption(scene, draw.removed.poses)


@pytest.mark.parametrize("variant", ["lamp", "blocker"])
def test_light_change_is_127_and_goes_with_the_lamp_off(valid_sample, make_config, tmp_path, variant):
    draw, views, mask = valid_sample(make_config, tmp_path, "light", "variant", variant)
    _keep_is_identical(views, mask)
    scene = draw.scene
    lit_changes = views.full.signature[..., 4] != views.removed.signature[..., 4]
    assert lit_changes.sum() > 0
    assert (mask[lit_changes] != 255).all()  # every pixel the lamp's reach changes is edited
    floor = (views.full.ids == 0) & (views.full.depth < 0.99 * scene.camera.far_m)
    with_lamp = int(((mask == 127) & floor).sum())
    dark = copy.deepcopy(scene)
    dark.lamps = []
    views_d, mask_d = _render(draw, dark, make_config, tmp_path)
    _keep_is_identical(views_d, mask_d)
    without = int(((mask_d == 127) & floor).sum())
    assert without < with_lamp  # what is left is the removed object's sun shadow
    # the floor pixels that only the lamp made 127 all lie in its reach (in full or removed)
    gained = (mask == 127) & (mask_d == 255) & floor
    reach = (views.full.signature[..., 4] == 1) | (views.removed.signature[..., 4] == 1)
    assert gained.sum() > 0 and reach[gained].all()
    if variant == "lamp":  # the bulb glows and lights the floor near it
        assert scene.object(scene.removed_ids[0]).emission > 0
        assert scene.lamps[0].attached_to == scene.removed_ids[0]
        lit = views.full.signature[..., 4] == 1
        assert views.full.rgb[lit & floor].mean() > views.removed.rgb[lit & floor].mean() + 5


def test_glass_shows_what_is_behind_it_and_casts_a_tinted_shadow(valid_sample, make_config, tmp_path):
    draw, views, mask = valid_sample(make_config, tmp_path, "glass", "variant", "tinted")
    _keep_is_identical(views, mask)
    scene = draw.scene
    glass_id = scene.removed_ids[0]
    glass = scene.object(glass_id)
    # what is seen through the glass lies inside its 0 region
    through = (views.full.ids == glass_id) & (views.hidden.ids > 0)
    assert through.any() and (mask[through] == 0).all()
    # ... and really is seen: recolouring the objects behind changes those pixels, unless the
    # glass is opaque
    recolor = copy.deepcopy(scene)
    for o in recolor.objects:
        if o.id != glass_id:
            o.color = [1.0 - c for c in o.color]
    views_r, _ = _render(draw, recolor, make_config, tmp_path)
    assert (views_r.full.rgb[through] != views.full.rgb[through]).any()
    opaque, opaque_recolor = copy.deepcopy(scene), copy.deepcopy(recolor)
    for s in (opaque, opaque_recolor):
        s.object(glass_id).transmission = 0.0
    views_o, mask_o = _render(draw, opaque, make_config, tmp_path)
    views_or, _ = _render(draw, opaque_recolor, make_config, tmp_path)
    np.testing.assert_array_equal(views_o.full.rgb[through], views_or.full.rgb[through])
    # the shadow on the floor is 127 and tinted like the glass; an opaque object's is darker
    floor = (views.full.ids == 0) & (views.full.depth < 0.99 * scene.camera.far_m)
    shadow = (mask == 127) & floor
    assert shadow.sum() > 0
    ratio = views.full.rgb[shadow].astype(float).mean(0) / views.removed.rgb[shadow].astype(float).mean(0)
    assert int(np.argmin(ratio)) == int(np.argmin(glass.color))  # the colour it lets through least
    assert (views_o.full.rgb[shadow].astype(int).sum() < views.full.rgb[shadow].astype(int).sum())
    _keep_is_identical(views_o, mask_o)


@pytest.mark.parametrize("family", ["reflection", "light", "glass"])
def test_metadata_says_what_made_the_effect(family, make_config):
    config = make_config("unused", families=[family])
    a = families.get(family).sample_scene(np.random.default_rng(3), config)
    b = SceneSpec.from_dict(a.to_dict())
    assert b.to_dict() == a.to_dict()
    assert a.extras["optics"]["effect"] in ("reflection", "light", "transmission")
    if family == "reflection":
        assert len(a.mirrors) == 1 and a.mirrors[0].kind == a.extras["surface"]
    elif family == "light":
        assert len(a.lamps) == 1 and a.light.sun_intensity <= 0.3
    else:
        assert 0 < a.object(a.removed_ids[0]).transmission < 1


# ------------------------------------------------------------------------------ Cycles

def _blender_ok() -> bool:
    from void import deps

    return deps.available("bpy") and deps.available("OpenEXR")


blender = pytest.mark.skipif(not _blender_ok(), reason="bpy/OpenEXR not installed")


@blender
@pytest.mark.blender
def test_cycles_lamp_light_ends_at_its_range(valid_sample, make_config, tmp_path):
    """Lit by the lamp alone (no sun, no sky light): floor points beyond the lamp's range get
    no direct light (black but for rare indirect bounces), points well inside it are lit. So
    the lamp's reach, which the signature's lamp channel marks, is all its direct light."""
    from simulate.render.cycles import CyclesRenderer
    from simulate.render.blender_signature import surface_points

    draw, _, _ = valid_sample(make_config, tmp_path, "light", "variant", "lamp")
    scene = copy.deepcopy(draw.scene)
    scene.num_frames = 1
    scene.light.sun_intensity, scene.light.ambient = 0.0, 0.0
    scene.lamps[0].power = 2.0
    views = CyclesRenderer(spp=4).render_three_full_passes(scene, draw.full.poses[:1], draw.removed.poses[:1])
    floor = (views.full.ids[0] == 0) & (views.full.depth[0] < scene.camera.far_m)
    pts = surface_points(scene, 0, views.full.depth[0], floor)
    pos, _ = scene.lamp_world(scene.lamps[0], draw.full.poses, 0)
    dist = np.linalg.norm(pts - pos, axis=1)
    rgb = views.full.rgb[0][floor].astype(int).sum(1)
    far, near = dist > scene.lamps[0].range_m * 1.02, dist < scene.lamps[0].range_m * 0.5
    assert far.any() and near.any()
    # beyond the range only the odd bounce of light from the lit area lands (indirect light,
    # which no signature sees far from a change: see simulate.render.cycles)
    assert (rgb[far] == 0).mean() > 0.98
    assert (rgb[near] > 0).mean() > 0.9


@blender
@pytest.mark.blender
@pytest.mark.parametrize("family,key,want", [("reflection", "surface", "mirror"), ("light", "variant", "lamp"),
                                             ("glass", "variant", "tinted")])
def test_cycles_optics_sample_keeps_255_identical_and_marks_the_effect(valid_sample, make_config, tmp_path, family, key, want):
    from simulate.render.cycles import CyclesRenderer

    draw, raster_views, raster_mask = valid_sample(make_config, tmp_path, family, key, want)
    scene = copy.deepcopy(draw.scene)
    T = 6
    scene.num_frames = T
    pf, pr = draw.full.poses[:T], draw.removed.poses[:T]
    views = CyclesRenderer(spp=4).render_views(scene, pf, pr)
    mask = groundtruth.build_quadmask(views, scene.removed_ids)
    _keep_is_identical(views, mask)
    effect = (mask == 127)
    if family == "reflection":  # the removed object's mirror image on the mirror is 127
        on_mirror = views.full.ids == scene.mirrors[0].object_id
        assert (effect & on_mirror).sum() > 0
        # ... and where the raster renderer shows it in the mirror, Cycles marks it too
        shows = raster_views.full.signature[:T, ..., 3] == scene.removed_ids[0]
        assert np.isin(mask[shows], (63, 127)).mean() > 0.9
    elif family == "light":  # the bulb's light on the floor around it is 127
        floor = (views.full.ids == 0) & (views.full.depth < 0.99 * scene.camera.far_m)
        assert (effect & floor).sum() > 0.5 * ((raster_mask[:T] == 127) & floor).sum()
    else:  # the tinted shadow is 127, and Cycles' shadow is tinted too
        floor = (views.full.ids == 0) & (views.full.depth < 0.99 * scene.camera.far_m)
        shadow = effect & floor & (raster_mask[:T] == 127)
        assert shadow.sum() > 0
        ratio = views.full.rgb[shadow].astype(float).mean(0) / np.maximum(views.removed.rgb[shadow].astype(float).mean(0), 1)
        glass = scene.object(scene.removed_ids[0])
        assert int(np.argmin(ratio)) == int(np.argmin(glass.color))  # the colour it lets through least


def test_raster_optics_render_the_same_whatever_came_before(valid_sample, make_config, tmp_path):
    """A fresh renderer (new programs, nothing set yet) and one that has just rendered other
    optics give the same bytes: a sample is identical whichever worker renders it."""
    from simulate.render.raster import RasterRenderer

    glass, _, _ = valid_sample(make_config, tmp_path, "glass", "variant", "tinted")
    light, _, _ = valid_sample(make_config, tmp_path, "light", "variant", "lamp")
    mirror, _, _ = valid_sample(make_config, tmp_path, "reflection", "surface", "mirror")
    renderer = RasterRenderer()
    try:
        first = {name: renderer.render_views(d.scene, d.full.poses, d.removed.poses)
                 for name, d in (("glass", glass), ("light", light), ("mirror", mirror))}
        for name, d in (("mirror", mirror), ("light", light), ("glass", glass)):
            again = renderer.render_views(d.scene, d.full.poses, d.removed.poses)
            for view in ("full", "hidden", "removed"):
                np.testing.assert_array_equal(getattr(again, view).rgb, getattr(first[name], view).rgb)
                np.testing.assert_array_equal(getattr(again, view).signature, getattr(first[name], view).signature)
    finally:
        renderer.close()
