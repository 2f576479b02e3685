"""The generated dataset: every family, metadata, reproducibility from metadata, VOID's loader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pybullet")
pytest.importorskip("moderngl")

from simulate import families, groundtruth  # noqa: E402
from simulate.config import FAMILIES  # noqa: E402
from simulate.generate import TEST_BIT, sample_seed  # noqa: E402
from simulate.pipeline import renderer_for  # noqa: E402
from simulate.scene import SceneSpec  # noqa: E402
from void import formats, quadmask, video  # noqa: E402


def _samples(root: Path) -> list[formats.SampleRef]:
    return list(formats.Dataset(root))


def test_dataset_lists_one_complete_sample_per_family(tiny_dataset):
    ds = formats.Dataset(tiny_dataset)
    header = ds.header
    assert header["counts"]["complete"] == len(FAMILIES) and header["counts"]["failed"] == 0
    assert header["family_counts"] == {f: 1 for f in FAMILIES}
    assert "top bit" in header["seed_rule"] and header["split"] == "train"
    assert [s["family"] for s in header["samples"]] == list(FAMILIES)
    assert len(ds.manifest) == len(FAMILIES)
    for entry, ref in zip(ds.manifest, ds):
        assert entry["type"] == "video_mask_tuple"
        assert entry["file_path"] == f"{tiny_dataset.name}/{ref.sample_id}"
        assert formats.is_complete(ref.root)
        assert not ref.metadata()["seed"] & TEST_BIT


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_yields_a_valid_non_degenerate_sample(tiny_dataset, family):
    ref = next(r for r in _samples(tiny_dataset) if r.family() == family)
    meta = ref.metadata()
    mask = ref.load_mask(strict=True)
    stats = meta["mask_stats"]
    assert stats["fractions"]["remove"] + stats["fractions"]["overlap"] > 0
    assert 0 < stats["edited_fraction"] < 0.8
    assert sum(stats["fractions"].values()) == pytest.approx(1.0)
    np.testing.assert_allclose(
        [stats["fractions"][quadmask.NAMES[v]] for v in quadmask.VALUES],
        [(mask == v).mean() for v in quadmask.VALUES],
    )
    if family == "occlusion":
        assert meta["touched_ids"] == [] and meta["affected_ids"] == []
        assert meta["first_contact_frame"] is None
        assert not (mask == 63).any()
    elif not families.get(family).INTERACTION:  # optics: nothing moves differently, the light does
        assert meta["affected_ids"] == [] and meta["optics"]["effect"]
        assert (mask == 127).any()
    else:
        assert meta["touched_ids"] and meta["affected_ids"]
        assert meta["first_contact_frame"] is not None
        assert (mask == 127).any()
    for key in ("generator", "seed", "scene", "removed_ids", "camera", "lights", "renderer", "caption", "timings_cpu_s"):
        assert key in meta, key
    assert set(meta["timings_cpu_s"]) >= {"physics_s", "render_s", "mask_s", "encode_s"}
    traj = ref.trajectories()
    T, N = meta["num_frames"], len(meta["scene"]["objects"])
    assert traj["full"].shape == traj["removed"].shape == (T, N, 7)
    assert traj["object_ids"].tolist() == [o["id"] for o in meta["scene"]["objects"]]
    gone = np.isin(traj["object_ids"], meta["removed_ids"])
    assert np.isnan(traj["removed"][:, gone]).all() and np.isfinite(traj["removed"][:, ~gone]).all()
    # objects the removal does not affect move bit-identically in the two runs
    untouched = ~gone & ~np.isin(traj["object_ids"], meta["affected_ids"])
    np.testing.assert_array_equal(traj["full"][:, untouched], traj["removed"][:, untouched])


def test_sample_is_reproducible_from_its_metadata(tiny_dataset, make_config):
    """Re-render from the stored scene spec and trajectories: same mask and same exact RGB.

    This is also the lossless round trip: the mask and lossless RGB files decode to exactly
    what the renderer produces in memory.
    """
    renderer = renderer_for(make_config("unused"))
    for ref in _samples(tiny_dataset)[:2]:
        meta = ref.metadata()
        scene = SceneSpec.from_dict(meta["scene"])
        traj = ref.trajectories()
        views = renderer.render_views(scene, traj["full"], traj["removed"])
        mask = groundtruth.build_quadmask(views, scene.removed_ids)
        np.testing.assert_array_equal(video.read_mask(ref.mask_path, strict=True), mask)
        for name in ("full", "removed", "hidden"):
            np.testing.assert_array_equal(ref.load_video(name, lossless=True), getattr(views, name).rgb)
        keep = mask == 255
        np.testing.assert_array_equal(views.full.rgb[keep], views.removed.rgb[keep])


def _read_rgb_like_mediapy(path: Path) -> np.ndarray:
    """Decode through ffmpeg to RGB24 frames, as VOID's loader (mediapy) does."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(reader)
    w, h = meta["size"]
    frames = [np.frombuffer(buf, np.uint8).reshape(h, w, 3) for buf in reader]
    return np.stack(frames)


def _void_quantize(m: np.ndarray) -> np.ndarray:
    # VOID's quadmask-mode rules (videox_fun/data/dataset_image_video.py), applied in its order
    m = np.where(m <= 31, 0, m)
    m = np.where(np.logical_and(m > 31, m <= 95), 63, m)
    m = np.where(np.logical_and(m > 95, m <= 191), 127, m)
    return np.where(m > 191, 255, m)


def test_voids_training_loader_rules_read_our_samples(tiny_dataset):
    parent = tiny_dataset.parent
    manifest = json.loads((tiny_dataset / formats.MANIFEST).read_text())
    for entry in manifest:
        sample_dir = parent / entry["file_path"]  # VOID joins file_path to its working directory
        assert entry["type"] == "video_mask_tuple" and entry["text"].strip()
        inp = _read_rgb_like_mediapy(sample_dir / "rgb_full.mp4")
        tgt = _read_rgb_like_mediapy(sample_dir / "rgb_removed.mp4")
        mask_rgb = _read_rgb_like_mediapy(sample_dir / "mask.mp4")
        assert inp.shape == tgt.shape == mask_rgb.shape
        loaded = _void_quantize(255 - mask_rgb[..., :1])  # invert, take channel 0, threshold
        ours = video.read_mask(sample_dir / "mask.mp4", strict=True)
        np.testing.assert_array_equal(loaded[..., 0], _void_quantize(255 - ours))
        # h264 stays close to the exact RGB
        exact = video.read_video(sample_dir / formats.LOSSLESS["full"])
        assert np.abs(inp.astype(int) - exact).mean() < 6


def test_captions_describe_the_scene_after_removal(tiny_dataset):
    for ref in _samples(tiny_dataset):
        meta = ref.metadata()
        text = meta["caption"]
        objects = meta["scene"]["objects"]
        kept = [o for o in objects if o["id"] not in meta["removed_ids"]]
        # a kept person is one sentence, not a list of body parts; fixtures (a mirror, still
        # water) are said by the optics sentences
        kept_names = {o["name"] for o in kept if not o.get("part_of") and o.get("role") != "fixture"}
        for person in meta["scene"].get("people", []):
            if not set(person["part_ids"]) & set(meta["removed_ids"]):
                assert person["description"] in text.lower() or person["description"].capitalize() in text, text
        for o in objects:
            if o["id"] in meta["removed_ids"] and o["name"] not in kept_names:
                assert o["name"] not in text, (o["name"], text)
        assert text.startswith("A ") and text.endswith(".")
        # every kept object is named, alone or in a counted group ("two red dominoes")
        for name in kept_names:
            assert name in text or name.rsplit(" ", 1)[0] in text, (name, text)


def test_split_seed_ranges_are_disjoint():
    train = {sample_seed(0, "train", i) for i in range(500)}
    test = {sample_seed(0, "test", i) for i in range(500)}
    assert not train & test
    assert all(s < TEST_BIT for s in train) and all(s >= TEST_BIT for s in test)
    assert sample_seed(0, "train", 3) == sample_seed(0, "train", 3) != sample_seed(1, "train", 3)


def test_void_check_accepts_the_generated_dataset(tiny_dataset):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "void.app.cli", "check", str(tiny_dataset)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
