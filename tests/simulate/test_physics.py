"""Physics sanity: analytic free fall, support removal, projectile removal, bit-identity."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pybullet")

from simulate.physics import keyframe_pose, simulate, substeps_per_frame  # noqa: E402
from simulate.scene import CameraSpec, FloorSpec, Keyframe, LightSpec, ObjectSpec, SceneSpec  # noqa: E402

G = 9.81


def make_scene(objects, frames=24, fps=12, removed=()):
    return SceneSpec(
        family="test", seed=0, objects=objects, removed_ids=list(removed),
        camera=CameraSpec([3.0, 0.0, 1.5], [0.0, 0.0, 0.1]), light=LightSpec([-0.3, -0.2, -0.9]),
        floor=FloorSpec([0.5, 0.5, 0.5], [0.6, 0.6, 0.6]), fps=fps, num_frames=frames, width=32, height=32,
    )


def box(oid, half, pos, **kw):
    return ObjectSpec(id=oid, name=f"box {oid}", shape="box", size=list(half), color=[0.5, 0.5, 0.5], position=list(pos), **kw)


def ball(oid, r, pos, **kw):
    return ObjectSpec(id=oid, name=f"ball {oid}", shape="sphere", size=[r], color=[0.5, 0.5, 0.5], position=list(pos), **kw)


def test_free_fall_matches_half_g_t_squared():
    scene = make_scene([ball(1, 0.05, [0, 0, 5.0])], frames=12)
    res = simulate(scene)
    t = np.arange(12) / scene.fps
    z = res.poses[:, 0, 2]
    # semi-implicit Euler lags the exact curve by g*dt*t/2: bound the error by it, no more
    dt = 1.0 / (scene.fps * substeps_per_frame(scene))
    err = np.abs(z - (5.0 - 0.5 * G * t**2))
    assert np.all(err <= 0.5 * G * dt * t + 1e-9)
    assert err[-1] > 0  # the comparison is not vacuous
    np.testing.assert_allclose(res.poses[:, 0, :2], 0.0, atol=1e-12)


def test_removed_support_makes_the_top_object_fall():
    support = box(1, [0.1, 0.1, 0.1], [0, 0, 0.1001])
    top = box(2, [0.05, 0.05, 0.05], [0, 0, 0.2 + 0.0502])
    scene = make_scene([support, top], frames=12, removed=[1])
    full = simulate(scene)
    cf = simulate(scene, exclude_ids=[1])
    # with the support the top box stays where it is
    assert np.abs(full.poses[:, 1, 2] - top.position[2]).max() < 2e-3
    # without it, it falls to the floor, following free fall until it lands
    assert abs(cf.poses[-1, 1, 2] - 0.05) < 3e-3
    t1 = 1 / scene.fps  # after one frame it is still in the air
    assert cf.poses[1, 1, 2] == pytest.approx(top.position[2] - 0.5 * G * t1**2, abs=0.5 * G * t1 / 240 + 1e-6)
    assert np.isnan(cf.poses[:, 0]).all()
    assert full.touched_by([1]) == {2} and full.first_contact([1]) == 1


def test_removed_projectile_leaves_the_target_at_rest():
    target = box(1, [0.08, 0.08, 0.08], [0, 0, 0.0801], mass_kg=0.5)
    projectile = ball(2, 0.06, [-0.6, 0, 0.0601], mass_kg=2.0, velocity=[4.0, 0, 0], restitution=0.2)
    scene = make_scene([target, projectile], frames=18, removed=[2])
    full = simulate(scene)
    cf = simulate(scene, exclude_ids=[2])
    assert np.linalg.norm(full.poses[-1, 0, :2]) > 0.1  # knocked away
    # never moves (beyond settling into the 0.1 mm placement gap)
    assert np.abs(cf.poses[:, 0] - cf.poses[0, 0]).max() < 5e-4
    hit = full.first_contact([2])
    assert hit is not None and 1 <= hit <= 4  # ~0.46 m at ~4 m/s: about 0.12 s
    assert full.touched_by([2]) == {1}


def test_untouched_objects_evolve_bit_identically():
    objects = [
        box(1, [0.08, 0.08, 0.08], [0, 0, 0.0801]),
        ball(2, 0.06, [-0.6, 0, 0.0601], velocity=[4.0, 0, 0]),
        # far away: a stack, a rolling ball, a sliding box and a spinning cylinder
        box(3, [0.1, 0.1, 0.1], [0, 1.5, 0.1001]),
        ball(4, 0.08, [0, 1.5, 0.2802]),
        ball(5, 0.07, [-1.5, -1.0, 0.0701], velocity=[0, -0.6, 0], angular_velocity=[8.0, 0, 0]),
        box(6, [0.05, 0.05, 0.05], [-1.0, -1.0, 0.0501], velocity=[0.8, 0.3, 0]),
        ObjectSpec(7, "cyl", "cylinder", [0.05, 0.2], [0.5] * 3, [-1.2, 1.0, 0.1001], angular_velocity=[0, 0, 6.0]),
    ]
    scene = make_scene(objects, frames=24, removed=[2])
    full = simulate(scene)
    cf = simulate(scene, exclude_ids=[2])
    assert not np.array_equal(full.poses[:, 0], cf.poses[:, 0])  # the target is affected
    assert full.touched_by([2]) == {1} and set(full.contact_frames) == {(1, 2), (3, 4)}
    for k in range(2, 7):
        assert np.array_equal(full.poses[:, k], cf.poses[:, k]), f"object {objects[k].id} differs"
    moving = np.abs(full.poses[-1, 4:7, :2] - full.poses[0, 4:7, :2]).max()
    assert moving > 0.05  # untouched does not mean static


def test_simulation_is_deterministic():
    objects = [box(1, [0.08, 0.08, 0.08], [0, 0, 0.0801]), ball(2, 0.06, [-0.6, 0, 0.0601], velocity=[4.0, 0, 0])]
    scene = make_scene(objects, frames=12)
    assert np.array_equal(simulate(scene).poses, simulate(scene).poses)


def test_kinematic_actor_follows_keyframes_and_carries():
    keys = [Keyframe(0.0, [0, 0, 0.3]), Keyframe(0.4, [0, 0, 0.3]), Keyframe(1.6, [0.4, 0, 0.45])]
    tray = box(1, [0.15, 0.15, 0.015], [0, 0, 0.3], keyframes=keys, friction=1.0, role="actor")
    held = box(2, [0.04, 0.04, 0.04], [0, 0, 0.3 + 0.015 + 0.0402], friction=0.9, restitution=0.0)
    scene = make_scene([tray, held], frames=24, removed=[1])
    full = simulate(scene)
    for f in range(scene.num_frames):
        p, q = keyframe_pose(keys, f / scene.fps)
        np.testing.assert_allclose(full.poses[f, 0, :3], p, atol=1e-9)
    # the held box rides along (friction), and falls without the tray
    np.testing.assert_allclose(full.poses[-1, 1, :2], [0.4, 0.0], atol=0.03)
    assert full.poses[-1, 1, 2] > 0.45
    cf = simulate(scene, exclude_ids=[1])
    assert abs(cf.poses[-1, 1, 2] - 0.04) < 3e-3


def test_unknown_exclude_id_is_an_error():
    with pytest.raises(ValueError, match="not in the scene"):
        simulate(make_scene([ball(1, 0.05, [0, 0, 0.05])], frames=2), exclude_ids=[9])
