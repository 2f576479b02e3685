"""The footage look end to end: sets, clutter, camera work and camera response, still exact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simulate import camerawork, environments, groundtruth
from simulate.config import FAMILIES
from simulate.pipeline import renderer_for
from simulate.scene import SET_ROLES, SceneSpec
from void import deps, formats, video
from void.check import run_checks


@pytest.fixture(scope="module")
def footage_dataset(tmp_path_factory, make_config):
    from simulate.generate import generate

    out = tmp_path_factory.mktemp("look") / "footage"
    assert generate(make_config(out, look="footage", resolution=(96, 64), frames=16)) == 0
    return out


def _refs(root):
    header = json.loads((root / formats.HEADER).read_text())
    return [formats.SampleRef(root / s["sample_id"], s["sample_id"]) for s in header["samples"]]


def test_every_family_is_dressed_and_void_check_passes(footage_dataset):
    refs = _refs(footage_dataset)
    assert len(refs) == len(FAMILIES)
    report = run_checks(footage_dataset)
    assert report.checked == len(FAMILIES) and not report.problems, report.problems
    kinds = set()
    for ref in refs:
        meta = ref.metadata()
        env = meta["scene"]["extras"]["environment"]
        kinds.add(env["environment"])
        roles = [o["role"] for o in meta["scene"]["objects"]]
        assert sum(r in SET_ROLES for r in roles) >= 3
        assert not any(w in meta["caption"] for w in ("wall", "skirting", "table leg", "passer-by"))
        assert meta["camera"]["frame_s"] == pytest.approx(1 / 12)
    assert kinds <= set(environments.ENVIRONMENTS)


def test_255_pixels_are_bit_identical_and_the_sample_rebuilds(footage_dataset, make_config):
    renderer = renderer_for(make_config("unused"))
    for ref in _refs(footage_dataset):
        mask = video.read_mask(ref.mask_path, strict=True)
        full = ref.load_video("full", lossless=True)
        removed = ref.load_video("removed", lossless=True)
        keep = mask == 255
        assert keep.mean() > 0.3
        np.testing.assert_array_equal(full[keep], removed[keep])
        # the stored spec and trajectories give the same mask and pixels (camera response included)
        meta = ref.metadata()
        scene = SceneSpec.from_dict(meta["scene"])
        traj = ref.trajectories()
        views = renderer.render_views(scene, traj["full"], traj["removed"])
        np.testing.assert_array_equal(groundtruth.build_quadmask(views, scene.removed_ids), mask)
        cam = scene.camera
        developed = camerawork.develop([views.full.rgb, views.removed.rgb, views.hidden.rgb], seed=scene.seed,
                                       exposure_ev=cam.exposure_ev, vignette=cam.vignette, grain=cam.grain)
        np.testing.assert_array_equal(developed[0], full)
        np.testing.assert_array_equal(developed[1], removed)


def test_same_dataset_with_two_workers(footage_dataset, make_config, tmp_path):
    from simulate.generate import generate

    out = tmp_path / "two"
    assert generate(make_config(out, look="footage", resolution=(96, 64), frames=16, num_samples=2, workers=2)) == 0
    for ref, mine in zip(_refs(footage_dataset)[:2], _refs(out)):
        assert ref.sample_id == mine.sample_id
        for name in ("full", "removed"):
            np.testing.assert_array_equal(ref.load_video(name, lossless=True), mine.load_video(name, lossless=True))
        np.testing.assert_array_equal(video.read_mask(ref.mask_path, strict=True), video.read_mask(mine.mask_path, strict=True))


blender = pytest.mark.skipif(not (deps.available("bpy") and deps.available("OpenEXR")), reason="bpy/OpenEXR not installed")


@blender
@pytest.mark.blender
def test_cycles_footage_sample_is_exact(make_config, tmp_path):
    """Procedural materials, the physical sky and the set in Cycles: still exact at 255."""
    from simulate.generate import generate

    out = tmp_path / "cycles"
    config = make_config(out, renderer="cycles", look="footage", resolution=(48, 32), frames=4, spp=2,
                         num_samples=1, families=["collision"])
    assert generate(config) == 0
    report = run_checks(out)
    assert report.checked == 1 and not report.problems, report.problems
    (ref,) = _refs(out)
    meta = ref.metadata()
    assert meta["renderer"]["renderer"] == "cycles"
    assert any(o["texture"] for o in meta["scene"]["objects"])
    mask = video.read_mask(ref.mask_path, strict=True)
    keep = mask == 255
    np.testing.assert_array_equal(ref.load_video("full", lossless=True)[keep], ref.load_video("removed", lossless=True)[keep])
