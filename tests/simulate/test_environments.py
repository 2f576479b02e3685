"""Environments: sets around a family's action that never touch it, props in view, cameras free."""

import math

import numpy as np
import pytest

from simulate import environments, families, sampling
from simulate.config import SimulateConfig
from simulate.physics import simulate
from simulate.scene import SET_ROLES, SceneSpec, camera_at, project


def family_scene(family: str, seed: int, size=(96, 64), frames=12) -> SceneSpec:
    config = SimulateConfig(out="/tmp/unused-void-env", resolution=size, frames=frames, fps=12)
    for attempt in range(20):
        try:
            return families.get(family).sample_scene(np.random.default_rng([seed, attempt]), config)
        except Exception:  # a Reject: draw again, as the pipeline does
            continue
    raise AssertionError("no scene")


def _vertical_extent(o):
    return o.position[2] - sampling.rest_height(o), o.position[2] + sampling.top_height(o)


def _box_clear_of(box, o) -> bool:
    """A static box and an object (as an upright cylinder about its footprint) do not overlap."""
    lo, hi = _vertical_extent(o)
    if hi < box.position[2] - box.size[2] or lo > box.position[2] + box.size[2]:
        return True
    yaw = 2 * math.atan2(box.orientation[2], box.orientation[3])
    d = np.subtract(o.position[:2], box.position[:2])
    local = np.array([math.cos(-yaw) * d[0] - math.sin(-yaw) * d[1], math.sin(-yaw) * d[0] + math.cos(-yaw) * d[1]])
    nearest = np.clip(local, -np.asarray(box.size[:2]), np.asarray(box.size[:2]))
    return float(np.linalg.norm(local - nearest)) > sampling.footprint_radius(o)


CASES = [("collision", "room", 1), ("support", "tabletop", 2), ("domino", "outdoor", 3), ("carry", "room", 4),
         ("occlusion", "tabletop", 5), ("collision", "outdoor", 6)]


@pytest.mark.parametrize("family,kind,seed", CASES)
def test_set_keeps_clear_of_the_action_and_the_camera(family, kind, seed):
    base = family_scene(family, seed)
    scene = environments.dress(base, np.random.default_rng(seed), kind)
    n = len(base.objects)
    assert [o.__dict__ for o in scene.objects[:n]] == [o.__dict__ for o in base.objects]  # untouched
    added = scene.objects[n:]
    assert added and all(o.role in SET_ROLES for o in added)
    ids = [o.id for o in scene.objects]
    assert len(set(ids)) == len(ids)
    info = scene.extras["environment"]
    assert info["environment"] in environments.ENVIRONMENTS
    setting = environments.setting_of(scene)
    # 1. nothing added overlaps the action disc or another added object
    boxes = [o for o in added if o.role == "fixture" and o.shape == "box"]
    movers = [o for o in scene.objects if o.role not in ("fixture",) and not o.kinematic]
    for b in boxes:
        for o in movers:
            assert _box_clear_of(b, o), (b.name, o.name)
    props = [o for o in added if o.role == "clutter"]
    for i, a in enumerate(props):
        assert np.linalg.norm(np.subtract(a.position[:2], setting.center)) > setting.radius
        for b in props[i + 1:]:
            gap = np.linalg.norm(np.subtract(a.position[:2], b.position[:2]))
            assert gap > sampling.footprint_radius(a) + sampling.footprint_radius(b)
    # 2. props are in the picture at the middle frame
    T = scene.num_frames
    for o in props:
        x, y, z = project(np.asarray([o.position]), scene.camera, T // 2, T, scene.width, scene.height)[0]
        assert z > 0 and 0 <= x <= scene.width and 0 <= y <= scene.height, o.name
    # 3. no wall stands between the camera and the action, and the camera is in no box
    for t in range(T):
        eye, target, _, _ = camera_at(scene.camera, t, T)
        for b in boxes:
            for s in np.linspace(0.0, 1.0, 25):
                p = eye + s * (target - eye)
                yaw = 2 * math.atan2(b.orientation[2], b.orientation[3])
                d = p - np.asarray(b.position)
                local = [math.cos(-yaw) * d[0] - math.sin(-yaw) * d[1], math.sin(-yaw) * d[0] + math.cos(-yaw) * d[1], d[2]]
                inside = all(abs(v) < h for v, h in zip(local, b.size))
                assert not inside, (b.name, t, s)


def test_dress_is_reproducible_and_kind_is_checked():
    base = family_scene("collision", 11)
    a = environments.dress(base, np.random.default_rng(3))
    b = environments.dress(base, np.random.default_rng(3))
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != environments.dress(base, np.random.default_rng(4)).to_dict()
    with pytest.raises(ValueError, match="unknown environment"):
        environments.dress(base, np.random.default_rng(3), "cave")


def test_clutter_counts_within_range_and_the_shot_is_filmed():
    counts = []
    for seed in range(4):
        base = family_scene("support", 20 + seed)
        scene = environments.dress(base, np.random.default_rng(seed), "room")
        counts.append(scene.extras["environment"]["clutter"])
        cam = scene.camera
        assert cam.frame_s == pytest.approx(1 / scene.fps)
        assert 20 <= (12.0 / math.tan(math.radians(cam.fov_deg) / 2)) <= 85  # lens in mm
    assert max(counts) <= environments.CLUTTER_RANGE[1]
    assert max(counts) >= environments.CLUTTER_RANGE[0]


@pytest.mark.parametrize("family,kind,seed", [("occlusion", "room", 7), ("support", "tabletop", 8)])
def test_props_rest_without_interpenetration(family, kind, seed):
    """Real physics: props the action does not reach lie still from the first frame (an
    overlapping pair would be pushed apart, a prop in a wall shot out of it)."""
    scene = environments.dress(family_scene(family, seed), np.random.default_rng(seed), kind, occluder_p=0.0)
    result = simulate(scene)
    touched = set()
    for a, b in result.contact_frames:
        touched |= {a, b}
    for k, o in enumerate(scene.objects):
        if o.role != "clutter" or o.id in touched:
            continue
        drift = np.linalg.norm(result.poses[:, k, :3] - result.poses[0, k, :3], axis=1).max()
        start = np.linalg.norm(result.poses[0, k, :3] - np.asarray(o.position))
        assert drift < 0.01 and start < 0.01, (o.name, drift, start)


def test_sets_restrict_the_draw():
    base = family_scene("domino", 30)
    drawn = {environments.dress(base, np.random.default_rng(s), kinds=["outdoor"]).extras["environment"]["environment"]
             for s in range(4)}
    assert drawn == {"outdoor"}
