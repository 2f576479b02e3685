"""Bystanders in any family (``--bystanders P``, footage look): a kept dancer behind the action,
clear of it, framed, identical in both simulations, off by default."""

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from simulate import bystanders, environments
from simulate.config import ConfigError, SimulateConfig
from simulate.generate import plan
from simulate.physics import simulate
from simulate.pipeline import draw_rng, draw_scene, look_rng
from simulate.validation import _leaves_frame

FAMILIES = "collision,reflection,light,glass,domino,support,occlusion,carry"


def config(tmp_path, **kw):
    base = dict(out=str(tmp_path / "d"), num_samples=8, look="footage", resolution=(128, 72), frames=12,
                families=FAMILIES, sets=["room", "outdoor"])
    return SimulateConfig(**(base | kw))


def test_off_by_default_and_nothing_drawn(tmp_path):
    from simulate import families

    cfg = config(tmp_path)
    assert cfg.bystanders == 0.0
    for task in plan(cfg)[:4]:
        scene = families.get(task.family).sample_scene(draw_rng(task.seed, 0), cfg)
        rng = np.random.default_rng(5)
        plain = environments.dress(scene, look_rng(task.seed, 0), kinds=cfg.sets)
        off = environments.dress(scene, look_rng(task.seed, 0), kinds=cfg.sets, bystander_rng=rng)
        assert "bystander" not in plain.extras["environment"]
        assert [o.__dict__ for o in off.objects] == [o.__dict__ for o in plain.objects]
        assert off.camera == plain.camera and off.extras == plain.extras
        assert rng.random() == np.random.default_rng(5).random()  # its stream was not touched


def test_a_dancer_stands_behind_the_action_clear_of_it_and_in_the_picture(tmp_path):
    cfg = config(tmp_path, bystanders=1.0)
    placed = 0
    for task in plan(cfg):
        draw = draw_scene(task, Counter())
        scene = draw.scene
        info = scene.extras["environment"]["bystander"]
        if info is None:
            continue
        placed += 1
        person = scene.people[-1]
        assert person.clip == "dance_b" and info["description"] == person.description
        rows = [k for k, o in enumerate(scene.objects) if o.id in person.part_ids]
        assert rows and not set(person.part_ids) & set(scene.removed_ids)
        assert all(scene.objects[k].role == "distractor" for k in rows)
        # the same dance in both simulations, bit for bit: never part of the change
        assert np.array_equal(draw.full.poses[:, rows], draw.removed.poses[:, rows])
        # behind the action (farther from the camera than its centre) and in frame all along
        setting = environments.setting_of(scene)
        eye = np.asarray(scene.camera.position[:2])
        centre = np.asarray(scene.camera.look_at[:2])
        root = draw.full.poses[:, rows, :2].mean(1)
        assert (np.linalg.norm(root - eye, axis=1) > np.linalg.norm(centre - eye)).all()
        assert not _leaves_frame(scene, draw.full.poses, np.isin(np.arange(len(scene.objects)), rows))
        # the set was made around it: the dance stays inside the walls or before the backdrop
        env = scene.extras["environment"]
        along = np.array([environments._along(setting, p) for p in root])
        if env["environment"] == "room":
            assert (along[:, 0] > -env["back_m"] + 0.2).all()
            assert ((along[:, 1] > -env["right_m"] + 0.2) & (along[:, 1] < env["left_m"] - 0.2)).all()
        else:
            assert (along[:, 0] > -env["backdrop_m"] + 0.2).all()
    assert placed >= 5  # of 8 rooms and outdoor sets


def test_the_family_action_is_the_same_with_a_bystander(tmp_path):
    from simulate import families

    cfg = config(tmp_path, bystanders=1.0)
    task = plan(cfg)[0]
    scene = families.get(task.family).sample_scene(draw_rng(task.seed, 0), cfg)
    n = len(scene.objects)
    with_one = environments.dress(scene, look_rng(task.seed, 0), kinds=["room"], bystander_p=1.0,
                                  bystander_rng=bystanders.bystander_rng(task.seed, 0))
    assert with_one.extras["environment"]["bystander"] is not None
    assert [o.__dict__ for o in with_one.objects[:n]] == [o.__dict__ for o in scene.objects]
    again = environments.dress(scene, look_rng(task.seed, 0), kinds=["room"], bystander_p=1.0,
                               bystander_rng=bystanders.bystander_rng(task.seed, 0))
    assert [o.__dict__ for o in again.objects] == [o.__dict__ for o in with_one.objects]  # reproducible
    full = simulate(with_one)
    base = simulate(environments.dress(scene, look_rng(task.seed, 0), kinds=["room"]))
    # the family's own objects move as they do without the dancer, up to the solver's
    # order-dependent rounding (another set of bodies in the world; millimetres at most)
    assert np.allclose(full.poses[:, :n, :3], base.poses[:, :n, :3], atol=0.02, equal_nan=True)


def test_bad_values_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="--bystanders is a fraction"):
        config(tmp_path, bystanders=1.5)
    with pytest.raises(ConfigError, match="needs --look footage"):
        config(tmp_path, bystanders=0.5, look="plain")


def test_cli_dataset_with_bystanders_and_a_resume_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "ds"
    cmd = [sys.executable, "-m", "void", "simulate", "--out", str(out), "--num-samples", "2", "--look", "footage",
           "--families", "collision,light", "--sets", "room", "--resolution", "96x64", "--frames", "8",
           "--bystanders", "1", "--no-progress"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    header = json.loads((out / "dataset.json").read_text())
    assert header["config"]["bystanders"] == 1.0
    captions = [json.loads(p.read_text())["caption"] for p in sorted(out.glob("*/metadata.json"))]
    assert any("in the background" in c for c in captions), captions
    again = subprocess.run(cmd[:-3] + ["--bystanders", "0.5", "--no-progress"], capture_output=True, text=True)
    assert again.returncode != 0 and "bystanders" in again.stderr
