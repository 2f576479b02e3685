"""The ``human`` family: the rig plays its clip exactly, a carried object depends on the person,
and the quadmask keeps 255 pixels identical and marks the person's shadow."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("pybullet")

from simulate import captions, groundtruth, humanoid, meshes, physics  # noqa: E402
from simulate.families import human  # noqa: E402
from simulate.pipeline import SampleTask, draw_rng, draw_scene, renderer_for  # noqa: E402
from simulate.scene import CameraSpec, FloorSpec, LightSpec, PersonSpec, SceneSpec  # noqa: E402

GARMENTS = {g: ("red", [0.7, 0.1, 0.1]) for g in human.GARMENTS}
ROUGH = {g: 0.8 for g in human.GARMENTS}


def _person_scene(clip: str, **person) -> SceneSpec:
    p = PersonSpec(index=0, clip=clip, **person)
    parts = humanoid.parts(p, 1, GARMENTS, ROUGH)
    return SceneSpec(
        family="human", seed=0, objects=parts, removed_ids=[o.id for o in parts],
        camera=CameraSpec([4.0, 0.0, 1.0], [0.0, 0.0, 0.8]), light=LightSpec([0.0, 0.0, -1.0]),
        floor=FloorSpec([0.5] * 3, [0.4] * 3), people=[p],
    )


def _same_rotation(a, b) -> float:
    return min(np.abs(a - b).max(), np.abs(a + b).max())


@pytest.mark.parametrize("clip", ["walk", "kick"])
def test_played_joint_angles_match_the_clip_file(clip):
    """Joint states read back from pybullet equal the clip's own numbers, read here straight
    from the JSON (w-first quaternions; knees and elbows as angles)."""
    rows = np.asarray(json.loads((meshes.data_dir() / f"data/motions/humanoid3d_{clip}.txt").read_text())["Frames"])
    times = np.r_[0.0, np.cumsum(rows[:-1, 0])]
    picks = [0, 3, len(rows) // 2, len(rows) - 2]
    scene = _person_scene(clip, scale=1.05, heading_rad=0.7)
    _, joints, _ = physics.play_person(scene, 0, times[picks])
    for k, row in zip(picks, rows[picks]):
        played = joints[picks.index(k)]
        col = 8
        for (name, _, dof), value in zip(humanoid.JOINTS, played):
            want = np.r_[row[col + 1:col + 4], row[col]] if dof == 4 else row[col:col + 1]
            if dof == 4:  # a few stored quaternions are off unit length; a rotation is the unit one
                want = want / np.linalg.norm(want)
            assert len(value) == dof
            gap = _same_rotation(value, want) if dof == 4 else np.abs(value - want).max()
            assert gap < 1e-5, f"{clip} frame {k} joint {name}: played {value}, clip {want}"
            col += dof
        assert col == humanoid.FRAME_WIDTH


def test_root_follows_the_clip_scaled_and_turned():
    scene = _person_scene("walk", scale=1.1, heading_rad=np.pi / 2, position=[0.5, -0.2])
    clip = humanoid.load_clip("walk")
    links, _, _ = physics.play_person(scene, 0, [0.0, clip.times_s[10]])
    root0, root1 = links[0, 0, :3], links[1, 0, :3]  # link 0: the rig's root
    assert np.allclose(root0[:2], [0.5, -0.2], atol=1e-6)
    assert root0[2] == pytest.approx(clip.frames[0, 2] * 1.1, abs=1e-6)
    # the clip walks along its +x; turned by 90 degrees that is world +y
    step = clip.frames[10, 1:4] - clip.frames[0, 1:4]
    assert np.allclose(root1[:2] - root0[:2], [step[2] * 1.1, step[0] * 1.1], atol=1e-6)


def _draw(mode: str, config):
    for seed in range(40):
        try:
            return human.sample_scene(draw_rng(seed, 0), config, mode=mode)
        except human.Reject:
            continue
    raise AssertionError(f"no {mode} scene in 40 seeds")


def test_carried_object_moves_with_the_person_and_falls_without(make_config, tmp_path):
    scene = _draw("carry", make_config(tmp_path, families=["human"], frames=16))
    person = scene.people[0]
    k = scene.index_of(person.carried_id)
    full = physics.simulate(scene)
    removed = physics.simulate(scene, exclude_ids=scene.removed_ids)
    held = int(person.release_s * scene.fps)
    # held: carried along at hand height (the hand moves it, it does not fall)
    start, carried = full.poses[0, k, :3], full.poses[: held + 1, k, :3]
    assert np.linalg.norm(carried[-1, :2] - start[:2]) > 0.05
    assert carried[:, 2].min() > 0.5 * start[2]
    assert full.touched_by(scene.removed_ids) == {person.carried_id}
    # without the person it drops at once from where it was held and stays near that spot
    alone = removed.poses[:, k, :3]
    assert alone[0, 2] == pytest.approx(start[2])
    assert alone[3, 2] < start[2] - 0.05
    assert alone[-1, 2] < 0.3
    assert np.all(np.isnan(removed.poses[:, scene.index_of(person.part_ids[0])]))
    # the action says what the person did; the caption (after removal) never mentions them
    carried = scene.object(person.carried_id).name
    assert captions.action(scene, full.poses).startswith("A person in a ")
    text = captions.caption(scene, removed.poses)
    assert "person" not in text and f"{carried} falls to the floor" in text.lower()


@pytest.fixture(scope="module")
def rendered(make_config, tmp_path_factory):
    pytest.importorskip("moderngl")
    tmp = tmp_path_factory.mktemp("human")
    config = make_config(tmp / "unused", families=["human"], resolution=(64, 64), frames=8)
    draw = draw_scene(SampleTask(str(tmp), "x", 0, 5, "human", config), Counter())
    views = renderer_for(config).render_views(draw.scene, draw.full.poses, draw.removed.poses)
    return draw, views, groundtruth.build_quadmask(views, draw.scene.removed_ids)


def test_keep_pixels_are_bit_identical(rendered):
    _, views, mask = rendered
    keep = mask == 255
    assert keep.mean() > 0.5
    np.testing.assert_array_equal(views.full.rgb[keep], views.removed.rgb[keep])


def test_the_persons_shadow_is_marked_affected(rendered):
    draw, views, mask = rendered
    parts = np.asarray(draw.scene.removed_ids)
    # floor (id 0) in all three renders that the input shades differently from the target
    # while hidden (same physics, the person not drawn, shadow included) equals the target:
    # the person's own shadow. It is darker in the input and marked 127.
    floor = (views.full.ids == 0) & (views.removed.ids == 0) & (views.hidden.ids == 0)
    differs = np.any(views.full.rgb != views.removed.rgb, axis=-1)
    shadow = floor & differs & np.all(views.hidden.rgb == views.removed.rgb, axis=-1)
    assert shadow.sum() >= 10
    assert (mask[shadow] == 127).all()
    darker = views.full.rgb[shadow].astype(int).sum(-1) < views.removed.rgb[shadow].astype(int).sum(-1)
    assert darker.all()
    assert np.isin(views.full.ids, parts).any() and (mask == 0).any()


def test_scene_and_physics_are_reproducible(make_config, tmp_path):
    config = make_config(tmp_path, families=["human"], frames=8)
    a = human.sample_scene(draw_rng(3, 1), config)
    b = human.sample_scene(draw_rng(3, 1), config)
    assert a.to_dict() == b.to_dict()
    assert SceneSpec.from_dict(json.loads(json.dumps(a.to_dict()))).to_dict() == a.to_dict()
    np.testing.assert_array_equal(physics.simulate(a).poses, physics.simulate(b).poses)
    meta = a.extras["person"]
    assert len(meta["root_path"]) == len(meta["clip_frames"]) == config.frames


def test_a_bystander_is_kept_and_plays_the_same_in_both_runs(make_config, tmp_path):
    config = make_config(tmp_path, families=["human"], frames=8)
    for seed in range(40):
        try:
            scene = human.sample_scene(draw_rng(seed, 0), config)
        except human.Reject:
            continue
        if len(scene.people) == 2:
            break
    else:
        raise AssertionError("no scene with a bystander in 40 seeds")
    actor, bystander = scene.people
    assert set(actor.part_ids) == set(scene.removed_ids) and not set(bystander.part_ids) & set(scene.removed_ids)
    rows = [scene.index_of(i) for i in bystander.part_ids]
    full = physics.simulate(scene)
    removed = physics.simulate(scene, exclude_ids=scene.removed_ids)
    assert np.isfinite(removed.poses[:, rows]).all()
    np.testing.assert_array_equal(full.poses[:, rows], removed.poses[:, rows])
    assert np.ptp(full.poses[:, rows, :3], axis=0).max() > 0.02  # they do move: they dance
    text = captions.caption(scene, removed.poses)
    assert text.endswith(f"{bystander.description[2:]} dances in the background.") and "person's" not in text
