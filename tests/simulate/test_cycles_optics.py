"""Cycles on the side-effect families, checked against the raster renderer's exact masks of
the same scenes: a lamp's shadow, light bent by glass, and a person walking past.

Each test draws one valid tiny sample (64x64) through the real pipeline, renders a few of its
frames in Cycles (4 spp) and checks the quadmask contract (255 bit-identical in full and
removed) and that the effect is marked where it is and not far beyond it.
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
