"""The local mask predictor: what it marks on a scene built to have each kind of consequence,
and the layouts `void masks predict` writes (VOID's, read back by our loaders)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evaluate.config import EvaluateConfig
from evaluate.masks import predictor
from evaluate.masks.config import MaskPredictConfig
from evaluate.masks.run import predict as predict_cmd
from evaluate.masks.score import score_masks
from evaluate.masks.task import OBJECT_MASK, VOID_QUADMASK
from void import formats, quadmask, video
from void.app.cli import main
from void.errors import ConfigError

T, S, K = 12, 48, 6  # frames, frame size, square size


def scene(pan_px: int = 0):
    """A red object slides right with its shadow attached below; it pushes a blue square once
    they touch (frame 5); a green square moves on its own far away. With ``pan_px`` the camera
    pans right that many pixels a frame. Returns the frames, the object track and boolean
    maps of the shadow, the blue square and the green square (in view coordinates)."""
    import cv2

    rng = np.random.default_rng(3)
    width = S + pan_px * T
    # a smooth texture (blurred noise, 90-200): surfaces look like this, not like per-pixel noise
    noise = cv2.GaussianBlur(rng.normal(size=(S, width, 3)).astype(np.float32), (0, 0), 2.0)
    bg = (90 + 110 * (noise - noise.min()) / (noise.max() - noise.min())).astype(np.uint8)
    frames = np.zeros((T, S, S, 3), np.uint8)
    obj, shadow, blue, green = (np.zeros((T, S, S), bool) for _ in range(4))
    for t in range(T):
        world = bg.copy()
        maps = [np.zeros((S, width), bool) for _ in range(4)]
        x = 2 + 3 * t
        bx = max(23, x + K)
        gx = 40 - 2 * t
        maps[1][10 + K : 10 + K + 3, x : x + K] = True
        maps[2][10 : 10 + K, bx : bx + K] = True
        maps[3][38 : 38 + 5, gx : gx + 5] = True
        maps[0][10 : 10 + K, x : x + K] = True
        world[maps[1]] = (world[maps[1]] * 0.5).astype(np.uint8)
        world[maps[2]] = (30, 60, 220)
        world[maps[3]] = (40, 200, 40)
        world[maps[0]] = (220, 30, 30)
        view = slice(t * pan_px, t * pan_px + S)
        frames[t] = world[:, view]
        for out, m in zip((obj, shadow, blue, green), maps):
            out[t] = m[:, view]
    return frames, obj, shadow, blue, green


def test_finds_shadow_and_pushed_object_but_not_unrelated_motion():
    frames, obj, shadow, blue, green = scene()
    pred = predictor.predict(frames, obj)
    affected = pred.mask == quadmask.AFFECTED
    assert np.array_equal(np.isin(pred.mask, (quadmask.REMOVE, quadmask.OVERLAP)), obj)
    assert affected[shadow].mean() > 0.9
    # blue starts moving at frame 5 (red's right edge reaches x=23); where it is and the
    # place it left are both consequences from then on, and nothing of it before
    rest = np.zeros_like(blue)
    rest[:, 10 : 10 + K, 23 : 23 + K] = True
    moved = (blue | rest)[5:] & ~obj[5:]
    assert affected[5:][moved].mean() > 0.8
    assert not affected[:4][blue[:4]].any()
    assert not affected[green].any()
    assert pred.info["camera_moves"] is False


def test_camera_motion_is_compensated():
    frames, obj, shadow, *_ = scene(pan_px=1)
    pred = predictor.predict(frames, obj)
    assert pred.info["camera_moves"] is True
    affected = pred.mask == quadmask.AFFECTED
    assert affected[shadow].mean() > 0.8
    # uncompensated, most of the textured view would count as changed
    still = predictor.predict(frames, obj, predictor.PredictorParams(camera_motion_px=1e9))
    assert (still.mask == quadmask.AFFECTED).mean() > 0.5
    static = predictor.predict(*scene()[:2])
    assert (pred.mask == quadmask.AFFECTED).mean() < 1.5 * (static.mask == quadmask.AFFECTED).mean()


def test_void_samples_become_a_layout_void_infer_reads(void_samples, tmp_path):
    out = tmp_path / "ready"
    assert main(["masks", "predict", "--input", str(void_samples), "--out", str(out), "--no-progress"]) == 0
    seqs = formats.iter_inputs(out)  # what `void infer` reads
    assert [s.sample_id for s in seqs] == ["BigBen"]
    src = void_samples / "BigBen"
    assert seqs[0].mask_path.name == VOID_QUADMASK
    assert seqs[0].prompt == json.loads((src / "prompt.json").read_text())["bg"]
    assert (out / "BigBen" / "input_video.mp4").read_bytes() == (src / "input_video.mp4").read_bytes()
    mask = video.read_mask(seqs[0].mask_path, strict=True)  # lossless: only the four values
    given = video.read_mask(formats.find_void_mask(src))
    assert mask.shape == given.shape
    # the object is what the input said
    assert np.array_equal(np.isin(mask, (0, 63)), np.isin(given, (0, 63)))
    # VOID's loader decodes the mask as RGB and takes channel 0: the exact values again
    assert np.array_equal(video.read_video(seqs[0].mask_path)[..., 0], mask)


def test_binary_object_mask_and_prompt(tmp_path):
    frames, obj, *_ = scene()
    seq = tmp_path / "clips" / "mine"
    seq.mkdir(parents=True)
    video.write_video(seq / formats.VOID_INPUT, frames, 12.0)
    video.write_video(seq / OBJECT_MASK, np.repeat((obj * 255).astype(np.uint8)[..., None], 3, -1), 12.0)
    with pytest.raises(ConfigError, match="needs a prompt.*mine.*--prompt"):
        predict_cmd(MaskPredictConfig(input=str(tmp_path / "clips"), out=str(tmp_path / "o"), progress=False))
    predict_cmd(MaskPredictConfig(input=str(tmp_path / "clips"), out=str(tmp_path / "o"), prompt="an empty table", progress=False))
    (got,) = formats.iter_inputs(tmp_path / "o")
    assert got.prompt == "an empty table"
    mask = video.read_mask(got.mask_path, strict=True)
    assert np.array_equal(np.isin(mask, (0, 63)), obj)


def test_local_beats_object_only_on_the_toy_set(toy_dataset, tmp_path):
    pred = tmp_path / "pred"
    predict_cmd(MaskPredictConfig(input=str(toy_dataset), out=str(pred), layout="pred", progress=False))
    assert sorted(formats.list_predictions(pred, "local")) == ["toy_0000", "toy_0001"]
    score_masks(EvaluateConfig(data=str(toy_dataset), pred=str(pred), out=str(tmp_path / "r"), task="masks", workers=1, progress=False))
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["methods"]["local"]["means"]["iou/affected"] > 0.5
