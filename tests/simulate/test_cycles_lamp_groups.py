"""Cycles takes the removed objects' own light out of the full render (a light group) instead of
re-rendering every pixel it reaches.

Each test renders one small light-family sample twice, with ``lamp_groups`` on and off, and
checks what must not change (the quadmask, 255 pixels bit-identical in full and removed), what
must (far fewer pixels re-rendered), and that the subtracted target agrees with a re-render
of the scene without the lamp: on average within a fraction of a level, against a lamp that
brightens those pixels by tens of levels.
"""

from __future__ import annotations

import copy
from collections import Counter

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


def _both(scene, pf, pr, **kw):
    from simulate.render.cycles import CyclesRenderer

    out = {}
    for groups in (True, False):
        views = CyclesRenderer(spp=8, lamp_groups=groups, **kw).render_views(scene, pf, pr)
        mask = groundtruth.build_quadmask(views, scene.removed_ids)
        keep = mask == 255
        assert keep.any()
        np.testing.assert_array_equal(views.full.rgb[keep], views.removed.rgb[keep])
        out[groups] = (views, mask)
    (on, mask_on), (off, mask_off) = out[True], out[False]
    np.testing.assert_array_equal(mask_on, mask_off)  # the mask does not depend on how the target is made
    # the input is rendered alike (two worker processes: the denoised floats may differ in the
    # last bit, a few pixels one level apart)
    assert np.abs(on.full.rgb.astype(int) - off.full.rgb).max() <= 1
    assert (on.full.rgb != off.full.rgb).any(-1).mean() < 0.001
    return on, off, mask_on


def _sample(valid_sample, make_config, tmp_path, variant):
    draw, _, _ = valid_sample(make_config, tmp_path, "light", "variant", variant)
    scene = copy.deepcopy(draw.scene)
    scene.num_frames = FRAMES
    return scene, draw.full.poses[:FRAMES], draw.removed.poses[:FRAMES]


def _agreement(on, off, mask):
    """Mean signed and absolute difference of the two targets (levels) where only the lamp's
    light changed, and the lamp's mean effect there."""
    where = (mask == 127) & (on.removed.rgb != on.full.rgb).any(-1)
    a, b = on.removed.rgb[where].astype(np.float64), off.removed.rgb[where].astype(np.float64)
    effect = (on.full.rgb[where].astype(np.float64) - b).mean()
    return (a - b).mean(), np.abs(a - b).mean(), effect, int(where.sum())


@pytest.mark.parametrize("variant", ["carried", "lamp"])
def test_a_removed_lamps_light_is_subtracted_and_agrees_with_a_rerender(valid_sample, make_config, tmp_path, variant):
    scene, pf, pr = _sample(valid_sample, make_config, tmp_path, variant)
    on, off, mask = _both(scene, pf, pr)
    assert on.info["lamp_groups"] and not off.info["lamp_groups"]
    assert on.info["light_subtracted_fraction"] > 0.2
    assert off.info["light_subtracted_fraction"] == 0.0
    assert on.info["rerendered_fraction"]["removed"] < 0.5 * off.info["rerendered_fraction"]["removed"]
    signed, absolute, effect, n = _agreement(on, off, mask)
    assert n > 1000 and effect > 10.0
    assert abs(signed) < 1.0  # 8 spp, no denoiser: the per-pixel noise is a few levels
    assert absolute < 6.0


def test_with_the_denoiser_the_subtraction_is_denoised_like_the_beauty(valid_sample, make_config, tmp_path):
    scene, pf, pr = _sample(valid_sample, make_config, tmp_path, "carried")
    on, off, mask = _both(scene, pf, pr, denoiser=True)
    assert on.info["light_subtracted_fraction"] > 0.2
    signed, absolute, effect, n = _agreement(on, off, mask)
    assert effect > 10.0
    # An undenoised subtraction next to denoised renders would be a few levels off per pixel.
    assert abs(signed) < 0.3 and absolute < 1.5


def test_a_blocker_gives_no_light_and_renders_as_before(valid_sample, make_config, tmp_path):
    scene, pf, pr = _sample(valid_sample, make_config, tmp_path, "blocker")
    on, off, _ = _both(scene, pf, pr)
    assert not on.info["lamp_groups"] and on.info["light_subtracted_fraction"] == 0.0
    np.testing.assert_array_equal(on.removed.rgb, off.removed.rgb)
    np.testing.assert_array_equal(on.hidden.rgb, off.hidden.rgb)


def test_the_footage_look_blurs_only_the_rerendered_changes(tmp_path):
    """A moving camera with depth of field and motion blur: the blur rings of the lamp's light
    are subtracted too, those of the ball's own pixels, shadow and contact band re-rendered."""
    from simulate.config import SimulateConfig
    from simulate.generate import plan
    from simulate.pipeline import draw_scene

    config = SimulateConfig(out=str(tmp_path / "ds"), num_samples=1, seed=0, families="light", resolution=(96, 64),
                            frames=4, renderer="cycles", spp=4, progress=False, look="footage")
    draw = draw_scene(next(iter(plan(config))), Counter())
    assert draw.scene.extras["variant"] == "carried" and draw.scene.camera.motion != "static"
    on, off, mask = _both(draw.scene, draw.full.poses, draw.removed.poses)
    assert on.info["lens"] is not None
    assert on.info["light_subtracted_fraction"] > 0.1
    assert on.info["rerendered_fraction"]["removed"] < off.info["rerendered_fraction"]["removed"]
    # the lamp's light leaves the target as it does in a re-render
    m = mask == 127
    drop_on = (on.full.rgb[m].astype(np.float64) - on.removed.rgb[m]).mean()
    drop_off = (off.full.rgb[m].astype(np.float64) - off.removed.rgb[m]).mean()
    assert drop_off > 2.0
    assert abs(drop_on - drop_off) < 0.15 * drop_off
