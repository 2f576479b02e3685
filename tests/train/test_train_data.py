"""The training data loader: VOID's loader rules, augmentation consistency, determinism."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from train import data
from void import formats, quadmask, video
from void.errors import VoidError


def test_frame_indices_follow_voids_window_rule():
    # 20 frames, 4 a clip, stride 3: a window of (4-1)*3+1 = 10 frames, starts 0..10.
    starts = set()
    for seed in range(200):
        idx = data.frame_indices(20, 4, 3, np.random.default_rng(seed))
        assert list(np.diff(idx)) == [3, 3, 3]
        starts.add(int(idx[0]))
    assert starts == set(range(11))
    # Without an rng: the first window.
    assert list(data.frame_indices(20, 4, 3, None)) == [0, 3, 6, 9]
    # Video shorter than the window: VOID spreads the clip over the whole video.
    assert list(data.frame_indices(8, 4, 5, np.random.default_rng(0))) == [0, 2, 4, 7]
    with pytest.raises(ValueError, match="3 frames"):
        data.frame_indices(3, 4, 1, None)


def _coordinate_video(t=4, h=32, w=32):
    """Red = 8 x column, green = 8 x row; the mask is "remove" on the right half."""
    yy, xx = np.mgrid[0:h, 0:w]
    frame = np.stack([xx * 8, yy * 8, np.zeros_like(xx)], -1).astype(np.uint8)
    vid = np.repeat(frame[None], t, 0)
    mask = np.where(xx >= w // 2, quadmask.REMOVE, quadmask.KEEP).astype(np.uint8)
    return vid, vid.copy(), np.repeat(mask[None], t, 0)


@pytest.mark.parametrize("seed", range(6))
def test_flip_and_crop_are_applied_identically(seed):
    full, removed, mask = _coordinate_video()
    spec = data.ClipSpec(frames=4, stride=1, height=16, width=24, flip_prob=0.5, crop_min_scale=0.5)
    out_full, out_removed, out_mask = data.make_clip(full, removed, mask, spec, np.random.default_rng(seed))
    assert out_full.shape == (4, 16, 24, 3) and out_mask.shape == (4, 16, 24)
    np.testing.assert_array_equal(out_full, out_removed)
    assert set(np.unique(out_mask)) <= set(quadmask.VALUES)
    # The source column each output pixel came from (red/8) decides its mask class: the mask
    # was cut, flipped and resized like the video. Pixels next to the boundary may blend.
    src_col = out_full[..., 0].astype(float) / 8
    right = src_col >= 16.5
    left = src_col <= 14.5
    assert np.all(out_mask[right] == quadmask.REMOVE)
    assert np.all(out_mask[left] == quadmask.KEEP)
    # And the flip shows as decreasing columns.
    cols = src_col[0].mean(axis=0)
    flipped = cols[0] > cols[-1]
    rng = np.random.default_rng(seed)  # no frame-start draw: the video is one window long
    assert flipped == (float(rng.random()) < 0.5)


def test_eval_clip_is_centre_crop_without_flip():
    full, removed, mask = _coordinate_video(h=32, w=48)
    spec = data.ClipSpec(frames=4, stride=1, height=32, width=32, flip_prob=1.0, crop_min_scale=0.5)
    out_full, _, _ = data.make_clip(full, removed, mask, spec, None)
    np.testing.assert_array_equal(out_full, full[:, :, 8:40])


def test_mask_is_quantized_with_voids_thresholds(toy_dataset, tmp_path):
    root = tmp_path / "raw"
    shutil.copytree(toy_dataset, root)
    ref = formats.Dataset(root).sample("toy_0000")
    exact = ref.load_mask()
    # Off-grid values inside each bucket (<=31, <=95, <=191, else) written losslessly.
    raw = np.select([exact == 0, exact == 63, exact == 127], [20, 90, 150], 200).astype(np.uint8)
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    tmp = ref.mask_path.with_suffix(".raw.mp4")
    writer = imageio_ffmpeg.write_frames(
        str(tmp), (raw.shape[2], raw.shape[1]), pix_fmt_in="gray", pix_fmt_out="gray", codec="libx264",
        quality=None, macro_block_size=1, output_params=["-qp", "0", "-color_range", "pc"],
    )
    writer.send(None)
    for f in raw:
        writer.send(f.tobytes())
    writer.close()
    tmp.replace(ref.mask_path)
    assert set(np.unique(video.read_mask(ref.mask_path, strict=False))) <= set(quadmask.VALUES)
    ds = data.ClipDataset(root, data.ClipSpec(8, 1, 32, 32), augment=False)
    np.testing.assert_array_equal(ds.eval_clip(0)["mask"].numpy(), exact)


def test_clips_are_deterministic_given_seed_and_position(toy_dataset):
    spec = data.ClipSpec(frames=4, stride=2, height=16, width=16, flip_prob=0.5, crop_min_scale=0.6)
    a = data.ClipDataset(toy_dataset, spec, seed=3)
    b = data.ClipDataset(toy_dataset, spec, seed=3)
    c = data.ClipDataset(toy_dataset, spec, seed=4)
    for pos in (0, 1, 7, 123):
        x, y = a[pos], b[pos]
        for key in ("input", "target", "mask"):
            assert torch.equal(x[key], y[key])
    differs = [not torch.equal(a[p]["input"], c[p]["input"]) for p in range(8)]
    assert any(differs)
    clip = a[5]
    assert clip["input"].shape == (4, 3, 16, 16) and clip["input"].dtype == torch.float32
    assert clip["mask"].dtype == torch.uint8 and clip["input"].min() >= -1 and clip["input"].max() <= 1


def test_order_is_a_permutation_per_epoch():
    order = data.DataOrder(7, seed=1)
    for epoch in range(3):
        seen = sorted(order.sample_at(epoch * 7 + k) for k in range(7))
        assert seen == list(range(7))
    assert [order.sample_at(k) for k in range(7)] != [order.sample_at(7 + k) for k in range(7)]


def test_ranks_read_disjoint_slices_of_each_step():
    world, batch = 3, 2
    for step in range(4):
        got = [list(data.step_positions(step, batch, r, world)) for r in range(world)]
        flat = sorted(p for g in got for p in g)
        assert flat == list(range(step * world * batch, (step + 1) * world * batch))
    sampler = data.StepSampler(batch, 1, world, start_step=2, end_step=4)
    assert list(sampler) == list(data.step_positions(2, batch, 1, world)) + list(data.step_positions(3, batch, 1, world))
    assert len(sampler) == 4


def test_loader_batches_are_steps(toy_dataset):
    ds = data.ClipDataset(toy_dataset, data.ClipSpec(4, 1, 16, 16, 0.5, 0.8), seed=0)
    batches = list(data.train_loader(ds, 2, 0, 1, start_step=1, end_step=3))
    assert len(batches) == 2
    assert batches[0]["position"].tolist() == [2, 3]
    assert torch.equal(batches[1]["input"][0], ds[4]["input"])


def test_clear_errors(tmp_path, toy_dataset):
    (tmp_path / "empty").mkdir()
    formats.write_manifest(tmp_path / "empty", [])
    formats.write_header(tmp_path / "empty", {"samples": []})
    with pytest.raises(VoidError, match="no samples"):
        data.ClipDataset(tmp_path / "empty", data.ClipSpec(4, 1, 16, 16))
    with pytest.raises(VoidError, match="not a dataset directory|neither"):
        data.ClipDataset(tmp_path, data.ClipSpec(4, 1, 16, 16))
    broken = tmp_path / "broken"
    shutil.copytree(toy_dataset, broken)
    shutil.rmtree(broken / "toy_0001")
    with pytest.raises(VoidError, match="toy_0001"):
        data.ClipDataset(broken, data.ClipSpec(4, 1, 16, 16))
    too_long = data.ClipDataset(toy_dataset, data.ClipSpec(12, 1, 16, 16))
    with pytest.raises(VoidError, match="8 frames"):
        too_long[0]
