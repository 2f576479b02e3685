"""The footage look's practical lights in Cycles: window, room lamps, tabletop key.

Without Blender: which sets get which lights, placed from the set's own walls, varied per
sample from their own random stream, and the scene spec untouched. With Blender: a room
sample really has them (shadowless, as Blender reports) and stays exact at 255.
"""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest

from simulate.pipeline import draw_scene
from simulate.render import cycles_lights
from void import deps

blender = pytest.mark.skipif(not (deps.available("bpy") and deps.available("OpenEXR")), reason="bpy/OpenEXR not installed")


def _draw(make_config, tmp_path, sets, family="collision", seed=5, **kw):
    from simulate.generate import plan

    config = make_config(tmp_path / "x", look="footage", sets=sets, families=[family], num_samples=1, seed=seed,
                         frames=8, **kw)
    return draw_scene(plan(config)[0], Counter())


def test_rooms_get_window_lamps_and_overhead_outdoors_nothing(make_config, tmp_path):
    room = _draw(make_config, tmp_path, ["room"]).scene
    before = copy.deepcopy(room.to_dict())
    lights = cycles_lights.footage_lights(room, 3.0)
    assert room.to_dict() == before  # nothing added to the spec: raster and metadata unchanged
    roles = [light["role"] for light in lights]
    assert roles.count("window") == 1 and 1 <= roles.count("practical") <= 2 and roles.count("overhead") == 1
    assert all(light["power_w"] > 0 for light in lights)
    # the window light sits in the opening the walls leave, just outside, facing in
    win = cycles_lights.window(room)
    light = lights[roles.index("window")]
    assert light["size_m"][0] == pytest.approx(win["width"])
    action = np.asarray(room.camera.look_at)
    assert np.dot(np.asarray(light["direction"])[:2], (action - np.asarray(light["position"]))[:2]) > 0
    walls = [o for o in room.objects if o.name == "wall"]
    assert any(np.allclose(o.position[:2], win["centre"][:2]) for o in walls)  # above it: the lintel
    assert cycles_lights.footage_lights(room, 3.0) == lights  # a function of the sample seed
    other = _draw(make_config, tmp_path, ["room"], seed=6).scene
    assert cycles_lights.footage_lights(other, 3.0) != lights
    outdoor = _draw(make_config, tmp_path, ["outdoor"]).scene
    assert cycles_lights.footage_lights(outdoor, 3.0) == []


def test_plain_look_has_no_practicals(make_config, tmp_path):
    from simulate.generate import plan

    config = make_config(tmp_path / "p", families=["collision"], num_samples=1, frames=8)
    scene = draw_scene(plan(config)[0], Counter()).scene
    assert cycles_lights.footage_lights(scene, 3.0) == []


def test_tabletop_gets_a_soft_key_aimed_at_the_action(make_config, tmp_path):
    scene = _draw(make_config, tmp_path, ["tabletop"], family="support").scene
    assert scene.extras["environment"]["environment"] == "tabletop"
    lights = cycles_lights.footage_lights(scene, 3.0)
    (key,) = [light for light in lights if light["role"] == "key"]
    to_action = np.asarray(scene.camera.look_at) - np.asarray(key["position"])
    assert np.allclose(np.asarray(key["direction"]), to_action / np.linalg.norm(to_action))
    assert key["position"][2] > scene.camera.look_at[2]


@blender
@pytest.mark.blender
def test_room_sample_has_shadowless_practicals_and_stays_exact(make_config, tmp_path):
    from simulate import groundtruth
    from simulate.render.cycles import CyclesRenderer

    draw = _draw(make_config, tmp_path, ["room"], resolution=(48, 32))
    views = CyclesRenderer(spp=2).render_views(draw.scene, draw.full.poses, draw.removed.poses)
    fills = views.info["fill_lights"]
    assert {f["type"] for f in fills} == {"AREA", "POINT"}
    assert len(fills) == len(cycles_lights.footage_lights(draw.scene, 3.0))
    assert not any(f["use_shadow"] for f in fills)
    mask = groundtruth.build_quadmask(views, draw.scene.removed_ids)
    keep = mask == 255
    assert keep.mean() > 0.3
    assert np.array_equal(views.full.rgb[keep], views.removed.rgb[keep])
