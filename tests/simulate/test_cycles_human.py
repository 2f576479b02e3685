"""The ``human`` family in Cycles: a person with their own limb proportions walking past an
object, checked against the raster renderer's exact masks of the same sample.

The person's parts (rescaled by the draw's segment factors) must land on the same pixels in
both renderers, nothing but the person and their shadow may change, the shadow must be
marked, and 255 pixels stay bit-identical in full and removed.
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
