"""The wider contact band of rooms and tabletops in Cycles.

Indoors, walls, a window and shadowless fill lights send light at a surface from every side;
an object blocks part of it well beyond the 0.5 band of the plain look, and a target that
keeps the full view's pixels there shows a seam where the re-rendered region ends. The
renderer therefore takes the band from the set (``CyclesRenderer.band_for``). With Blender: a
real room sample of the ``collision`` family, drawn as ``void simulate --look footage --sets
room`` draws it, rendered with the set's band and with the plain look's, against a full
three-pass render of the counterfactual with the same seed: the wider band leaves out far
less of the change at the pixels it keeps (how much brighter the counterfactual is there,
next to the mask and overall), which stay bit-identical in input and target.
"""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np
import pytest

from simulate import groundtruth
from simulate.config import SimulateConfig
from simulate.generate import plan
from simulate.pipeline import draw_scene
from simulate.scene import CameraSpec, FloorSpec, LightSpec, SceneSpec
from void import deps, quadmask

RING = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13))  # kept pixels within 6 px of a marked one
blender = pytest.mark.skipif(not (deps.available("bpy") and deps.available("OpenEXR")), reason="bpy/OpenEXR not installed")


def bare_scene(environment: str | None) -> SceneSpec:
    scene = SceneSpec(family="test", seed=1, objects=[], removed_ids=[],
                      camera=CameraSpec(position=[4.0, -4.0, 3.0], look_at=[0.0, 0.0, 0.0], fov_deg=40.0),
                      light=LightSpec(sun_direction=[0.5, -0.3, -0.8]), floor=FloorSpec(color=[0.5] * 3, color2=[0.3] * 3), width=32, height=32)
    if environment is not None:
        scene.extras["environment"] = {"environment": environment}
    return scene


@blender
def test_the_band_comes_from_the_set_unless_one_is_given():
    from simulate.render.cycles import CyclesRenderer

    by_set, fixed = CyclesRenderer(spp=1), CyclesRenderer(spp=1, contact_band=0.75)
    assert CyclesRenderer.INDOOR_CONTACT_BAND > CyclesRenderer.CONTACT_BAND
    for env in ("room", "tabletop"):
        assert by_set.band_for(bare_scene(env)) == CyclesRenderer.INDOOR_CONTACT_BAND
    for env in ("outdoor", None):
        assert by_set.band_for(bare_scene(env)) == CyclesRenderer.CONTACT_BAND
    assert {fixed.band_for(bare_scene(env)) for env in ("room", "outdoor", None)} == {0.75}
    assert by_set.settings()["contact_band"] == "by set" and fixed.settings()["contact_band"] == 0.75


@blender
def test_a_room_keeps_far_less_of_the_change_with_its_band(tmp_path):
    from simulate.render.cycles import CyclesRenderer

    config = SimulateConfig(out=str(tmp_path / "ds"), num_samples=1, seed=0, families="collision",
                            resolution=(160, 96), frames=8, renderer="cycles", spp=8, progress=False,
                            look="footage", sets="room")
    draw = draw_scene(next(iter(plan(config))), Counter())
    scene, pf, pr = draw.scene, draw.full.poses, draw.removed.poses
    assert scene.extras["environment"]["environment"] == "room"

    room = CyclesRenderer(spp=8, threads=1)
    ref = room.render_three_full_passes(scene, pf, pr)
    left_out = {}  # how much brighter the counterfactual is at kept pixels: next to the mask, overall
    for band in (None, CyclesRenderer.CONTACT_BAND):
        renderer = room if band is None else CyclesRenderer(spp=8, threads=1, contact_band=band)
        views = renderer.render_views(scene, pf, pr)
        assert views.info["contact_band"] == (CyclesRenderer.INDOOR_CONTACT_BAND if band is None else band)
        mask = groundtruth.build_quadmask(views, scene.removed_ids)
        keep = mask == quadmask.KEEP
        assert np.array_equal(views.full.rgb[keep], views.removed.rgb[keep])  # 255: bit-identical
        # the change left out next to the marked region, where it would show as a seam
        ring = np.stack([cv2.dilate((~k).astype(np.uint8), RING) > 0 for k in keep]) & keep
        brighter = ref.removed.rgb.astype(np.float32).mean(-1) - views.removed.rgb.astype(np.float32).mean(-1)
        left_out[band] = (float(brighter[ring].mean()), float(brighter[keep].mean()), int(ring.sum()))
    wide, narrow = left_out[None], left_out[CyclesRenderer.CONTACT_BAND]
    (wide, wide_all, _), (narrow, narrow_all, _) = left_out[None], left_out[CyclesRenderer.CONTACT_BAND]
    assert narrow > 0.5, left_out  # the plain band leaves a room's blocked light unmarked next to the mask
    assert wide < 0.75 * narrow and wide_all < narrow_all, left_out
