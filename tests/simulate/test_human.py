"""The ``human`` family: the rig plays its clip exactly, a carried object depends on the person,
and the quadmask keeps 255 pixels identical and marks the person's shadow."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("pybullet")

from simulate import captions, groundtruth, humanoid, meshes, physics, validation  # noqa: E402
from simulate.families import human  # noqa: E402
from simulate.pipeline import SampleTask, draw_rng, draw_scene, renderer_for  # noqa: E402
from simulate.scene import CameraSpec, FloorSpec, LightSpec, PersonSpec, SceneSpec  # noqa: E402

GARMENTS = {g: ("red", [0.7, 0.1, 0.1]) for g in human.GARMENTS}
ROUGH = {g: 0.8 for g in human.GARMENTS}
ODD = {"thigh": 1.08, "shin": 0.92, "upper_arm": 1.1, "forearm": 0.9, "torso": 1.05}


@pytest.fixture(autouse=True, scope="module")
def _cache(tmp_path_factory):
    """Rescaled rigs go to a fresh cache folder, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(humanoid.CACHE_ENV, str(tmp_path_factory.mktemp("rigs")))
        yield


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


@pytest.mark.parametrize("clip,proportions", [("walk", {}), ("kick", {}), ("walk", ODD), ("kick", ODD)])
def test_played_joint_angles_match_the_clip_file(clip, proportions):
    """Joint states read back from pybullet equal the clip's own numbers, read here straight
    from the JSON (w-first quaternions; knees and elbows as angles), at the rig's own limb
    proportions and at others."""
    rows = np.asarray(json.loads((meshes.data_dir() / f"data/motions/humanoid3d_{clip}.txt").read_text())["Frames"])
    times = np.r_[0.0, np.cumsum(rows[:-1, 0])]
    picks = [0, 3, len(rows) // 2, len(rows) - 2]
    scene = _person_scene(clip, scale=1.05, heading_rad=0.7, proportions=proportions)
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


def _bone(links, a: int, b: int) -> float:
    return float(np.linalg.norm(links[0, a, :3] - links[0, b, :3]))


def _lowest_sole(scene, poses) -> np.ndarray:
    """Per time, the lowest corner of either foot box (m above the floor)."""
    corners = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)], float)
    out = []
    for o in scene.objects:
        if o.shape == "box" and o.part_of["link"] in humanoid.FEET.values():
            P = poses[o.id]
            out.append([min(humanoid.rotate(P[t, 3:], c * o.size)[2] for c in corners) + P[t, 2] for t in range(len(P))])
    return np.min(out, axis=0)


def test_limb_proportions_stretch_the_segments_and_keep_the_feet_on_the_floor():
    times = np.linspace(0.0, humanoid.load_clip("walk").duration_s, 40)
    plain = _person_scene("walk", scale=1.0)
    odd = _person_scene("walk", scale=1.0, proportions=ODD)
    links0, _, poses0 = physics.play_person(plain, 0, times)
    links1, _, poses1 = physics.play_person(odd, 0, times)
    # link frames sit at the joints: hip (3) -> knee (4) -> ankle (5), shoulder (6) -> elbow (7) -> wrist (8)
    for (a, b), seg in (((3, 4), "thigh"), ((4, 5), "shin"), ((6, 7), "upper_arm"), ((7, 8), "forearm"), ((1, 2), "torso")):
        assert _bone(links1, a, b) == pytest.approx(_bone(links0, a, b) * ODD[seg], rel=1e-5), seg
    # the shapes drawn follow: a shin capsule is shorter by its factor
    shin0 = next(o for o in plain.objects if o.shape == "cylinder" and o.part_of["link"] == 4)
    shin1 = next(o for o in odd.objects if o.shape == "cylinder" and o.part_of["link"] == 4)
    assert shin1.size[1] == pytest.approx(shin0.size[1] * ODD["shin"])
    # the pelvis is lowered by the shorter leg, so the soles touch the floor as at the rig's own
    # proportions: same lowest point over the clip, within a few millimetres
    sole0, sole1 = _lowest_sole(plain, poses0), _lowest_sole(odd, poses1)
    assert abs(sole0.min()) < 0.01 and abs(sole1.min() - sole0.min()) < 0.005
    assert np.abs(sole1 - sole0).max() < 0.02
    assert links1[0, 0, 2] == pytest.approx(links0[0, 0, 2] * humanoid.leg_factor(ODD), abs=1e-6)


def test_rescaled_rig_is_cached_by_its_factors_and_pybullet_data_is_untouched():
    original = (meshes.data_dir() / humanoid.URDF).read_bytes()
    assert humanoid.urdf_path({}) == meshes.data_dir() / humanoid.URDF
    assert humanoid.urdf_path({"thigh": 1.0}) == meshes.data_dir() / humanoid.URDF
    path = humanoid.urdf_path(ODD)
    assert path.parent == humanoid.cache_dir() and "thigh1.0800" in path.name
    assert humanoid.urdf_path(dict(reversed(list(ODD.items())))) == path
    assert humanoid.urdf_path({**ODD, "shin": 0.93}) != path
    text = path.read_bytes()
    assert b'length="1.140800"' in text and b'length="1.296000"' in text  # shin 1.24 x 0.92, thigh 1.2 x 1.08
    assert (meshes.data_dir() / humanoid.URDF).read_bytes() == original
    with pytest.raises(humanoid.ClipError, match="knee"):
        humanoid.urdf_path({"knee": 1.1})
    with pytest.raises(humanoid.ClipError, match="outside"):
        humanoid.urdf_path({"thigh": 1.5})


def _draw(mode: str, config):
    """The first ``mode`` draw without a bystander (their caption sentence names a person)."""
    for seed in range(40):
        try:
            scene = human.sample_scene(draw_rng(seed, 0), config, mode=mode)
        except human.Reject:
            continue
        if len(scene.people) == 1:
            return scene
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
    for seed in range(3, 40):  # the first seed whose first draw is not rejected
        try:
            a = human.sample_scene(draw_rng(seed, 1), config)
            break
        except human.Reject:
            continue
    b = human.sample_scene(draw_rng(seed, 1), config)
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


@pytest.fixture(scope="module")
def walk_past(make_config, tmp_path_factory):
    """The first walk_past draw that passes the pipeline's physics and render checks."""
    pytest.importorskip("moderngl")
    config = make_config(tmp_path_factory.mktemp("walk") / "unused", families=["human"], resolution=(64, 64), frames=8)
    renderer = renderer_for(config)
    for seed in range(40):
        try:
            scene = human.sample_scene(draw_rng(seed, 0), config, mode="walk_past")
        except human.Reject:
            continue
        full = physics.simulate(scene)
        removed = physics.simulate(scene, exclude_ids=scene.removed_ids)
        if validation.check_physics(scene, full, removed, human.INTERACTION):
            continue
        views = renderer.render_views(scene, full.poses, removed.poses)
        mask = groundtruth.build_quadmask(views, scene.removed_ids)
        check = lambda s, v, m: human.check_render(s, v, m, full.poses)  # noqa: E731
        if validation.check_render(scene, views, mask, human.INTERACTION, check) is None:
            return scene, full, removed, views, mask
    raise AssertionError("no valid walk_past scene in 40 seeds")


def test_walking_past_moves_nothing_and_marks_only_the_shadow(walk_past):
    scene, full, removed, views, mask = walk_past
    assert scene.extras["mode"] == "walk_past" and scene.extras["interaction"] is False
    assert "walks past" in scene.extras["action"] and "walks past" in captions.action(scene, full.poses)
    assert scene.extras["person"]["proportions"] == scene.people[0].proportions
    assert set(scene.people[0].proportions) == set(humanoid.SEGMENTS)
    # nothing is touched and no kept object moves, in either run (the runs agree to rounding:
    # the parked rig is still in the removed run's world)
    assert full.touched_by(scene.removed_ids) == set()
    kept = ~scene.removed_mask()
    np.testing.assert_allclose(full.poses[:, kept], removed.poses[:, kept], rtol=0, atol=1e-9)
    assert validation.affected_ids(scene, full, removed, exact=False) == []
    for run in (full, removed):
        disp, rot = validation.motion(run.poses[:, kept])
        # (settling onto the floor, the same in both runs, is about a millimetre)
        assert disp.max() < validation.POSITION_TOL_M and rot.max() < validation.ANGLE_TOL_DEG
    # 255 pixels are bit-identical; the person is 0; every other pixel the input shades
    # differently is the shadow, and it is 127 -- and 127 is nothing but that shadow
    keep = mask == 255
    np.testing.assert_array_equal(views.full.rgb[keep], views.removed.rgb[keep])
    person = np.isin(views.full.ids, scene.removed_ids)
    assert (mask[person] != 255).all() and (mask == 0).any()
    shaded = np.any(views.full.rgb != views.removed.rgb, axis=-1) & ~person
    assert shaded.sum() >= 10 and (mask[shaded] == 127).all()
    assert (mask == 127).sum() == (shaded & (mask == 127)).sum()
    darker = views.full.rgb[shaded].astype(int).sum(-1) < views.removed.rgb[shaded].astype(int).sum(-1)
    assert darker.all()


def test_walk_past_draws_are_rejected_on_contact_or_without_a_shadow(walk_past):
    scene, full, _, views, mask = walk_past
    # the shadow wiped from the mask: nothing left to learn from the draw
    assert human.check_render(scene, views, np.where(mask == 127, 255, mask).astype(mask.dtype), full.poses) == "no_shadow"
    assert human.check_render(scene, views, mask, full.poses) is None
    # the object moved under a foot at mid-walk: the person touches it, which a walk-past may not
    moved = SceneSpec.from_dict(json.loads(json.dumps(scene.to_dict())))
    target = next(o for o in moved.objects if o.role == "target")
    foot = next(o for o in moved.objects if o.part_of and o.part_of["link"] == humanoid.FEET["right"] and o.shape == "box")
    k = moved.num_frames // 2
    spot = full.poses[k, moved.index_of(foot.id), :2]
    target.position = [float(spot[0]), float(spot[1]), target.position[2]]
    a = physics.simulate(moved)
    b = physics.simulate(moved, exclude_ids=moved.removed_ids)
    assert a.touched_by(moved.removed_ids)
    assert validation.check_physics(moved, a, b, human.INTERACTION) == "contact"
