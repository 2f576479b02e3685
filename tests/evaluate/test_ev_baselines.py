"""Baselines on the toy dataset, on VOID's BigBen sample, and on hand-built inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ev_support import baseline, moving_square_video, write_void_seq

from evaluate.baselines import classic
from evaluate.config import BaselineConfig
from evaluate.metrics.fidelity import psnr
from void import formats, quadmask, video
from void.errors import ConfigError


def test_fill_mask_covers_the_object_and_dilates():
    mask = np.full((1, 9, 9), 255, np.uint8)
    mask[0, 4, 4] = 0
    mask[0, 4, 5] = 63
    mask[0, 0, 0] = 127
    assert classic.fill_mask(mask).sum() == 2
    assert classic.fill_mask(mask, "edit").sum() == 3
    grown = classic.fill_mask(mask, dilate_px=1)  # a disc of radius 1: the 4-neighbours
    assert grown[0, 4, 3:7].all() and grown[0, 3, 4:6].all() and grown[0, 5, 4:6].all() and grown.sum() == 8


def test_clean_plate_takes_the_median_of_the_nearest_unmasked_frames():
    values = np.array([10, 20, 90, 40, 50], np.uint8)  # frame 2's 90 is the object
    frames = np.repeat(values[:, None, None, None], 3, axis=3) * np.ones((5, 2, 2, 3), np.uint8)
    fill = np.zeros((5, 2, 2), bool)
    fill[2, 0, 0] = True
    assert classic.clean_plate(frames, fill, neighbors=2)[2, 0, 0, 0] == 30  # frames 1 and 3
    # three neighbours: frames 1, 3 and then 0 (ties go to the earlier frame): median 20
    assert classic.clean_plate(frames, fill, neighbors=3)[2, 0, 0, 0] == 20
    fill[1, 0, 0] = fill[3, 0, 0] = True
    out = classic.clean_plate(frames, fill, neighbors=1)
    assert out[1, 0, 0, 0] == 10 and out[3, 0, 0, 0] == 50  # the nearest unmasked frames
    assert out[2, 0, 0, 0] == 10  # frames 0 and 4 are equally near: the earlier wins
    assert classic.clean_plate(frames, fill, neighbors=2)[1, 0, 0, 0] == 30  # frames 0 and 4
    assert (out[:, 1, 1] == frames[:, 1, 1]).all()  # unmasked pixels untouched


def test_clean_plate_restores_a_static_background_exactly_and_inpaints_the_rest():
    vid, mask, bg = moving_square_video(frames=12, size=24)
    fill = classic.fill_mask(mask)
    out = classic.clean_plate(vid, fill)
    assert np.array_equal(out, np.repeat(bg[None], 12, 0))  # every pixel is visible somewhere
    always = np.zeros_like(fill)
    always[:, 0:3, 0:3] = True  # never visible: spatial fallback, and no red left there
    out = classic.clean_plate(vid, fill | always)
    assert not (out[:, 0:3, 0:3, 0] == 230).any()


def test_toy_baselines_write_the_prediction_layout(toy_dataset, tmp_path):
    pred = tmp_path / "pred"
    ds = formats.Dataset(toy_dataset)
    for name in ("identity", "opencv-inpaint", "clean-plate", "oracle-hidden"):
        folder = baseline(name, toy_dataset, pred, write_tuple=name == "identity")
        run = json.loads((folder / formats.RUN_JSON).read_text())
        assert run["baseline"] == name and run["num_samples"] == 2 and run["num_frames"] == 16
        assert run["wall_time_s"] > 0 and run["peak_memory_mb"] > 10 and run["seconds_per_frame"] > 0
        assert set(formats.list_predictions(pred, name)) == set(ds.sample_ids())
    ref = ds.sample("toy_0000")
    full, hidden, mask = ref.load_video("full"), ref.load_video("hidden"), ref.load_mask()
    tup = video.read_video(formats.tuple_path(pred, "identity", "toy_0000"))
    assert tup.shape == (8, 32, 96, 3)
    ident = video.read_video(formats.prediction_path(pred, "identity", "toy_0000"))
    assert psnr(ident, full) > 28  # the input, through h264
    inpainted = video.read_video(formats.prediction_path(pred, "opencv-inpaint", "toy_0000"))
    obj = quadmask.region(mask, "removed")
    assert inpainted[obj][:, 0].mean() < full[obj][:, 0].mean() - 60  # the red object is gone
    keep = ~classic.fill_mask(mask, dilate_px=5)
    assert psnr(inpainted, ident, keep) > 35  # ... and nothing else changed
    oracle = video.read_video(formats.prediction_path(pred, "oracle-hidden", "toy_0000"))
    assert psnr(oracle, hidden, obj) > psnr(oracle, full, obj) + 10  # it is the hidden render


def test_existing_outputs_are_skipped_unless_overwrite(toy_dataset, tmp_path):
    pred = tmp_path / "pred"
    out = baseline("identity", toy_dataset, pred, write_tuple=False) / "toy_0000.mp4"
    stamp = out.stat().st_mtime_ns
    baseline("identity", toy_dataset, pred, write_tuple=False)
    assert out.stat().st_mtime_ns == stamp
    run = json.loads((out.parent / formats.RUN_JSON).read_text())
    assert set(run["samples"]) == {"toy_0000", "toy_0001"}  # earlier records are kept
    baseline("identity", toy_dataset, pred, write_tuple=False, overwrite=True)
    assert out.stat().st_mtime_ns != stamp
    with pytest.raises(ConfigError, match="holds identity predictions"):
        baseline("clean-plate", toy_dataset, pred, method="identity")


def test_opencv_inpaint_on_void_bigben(void_samples, tmp_path):
    folder = baseline("opencv-inpaint", void_samples, tmp_path / "pred", samples=["BigBen"], max_frames=3, write_tuple=False)
    out = video.read_video(folder / "BigBen.mp4")
    assert out.shape == (3, 360, 544, 3)
    src = video.read_video(void_samples / "BigBen" / formats.VOID_INPUT)[:3]
    mask = video.read_mask(void_samples / "BigBen" / "trimask_quadmask.mp4")[:3]
    keep = ~classic.fill_mask(mask, dilate_px=6)
    assert psnr(out, src, keep) > 35
    assert psnr(out, src, quadmask.region(mask, "removed")) < 30  # the object region was filled
    assert json.loads((folder / formats.RUN_JSON).read_text())["samples"]["BigBen"]["frames"] == 3


def test_oracle_hidden_needs_our_dataset(void_samples, tmp_path):
    with pytest.raises(ConfigError, match="oracle-hidden.*rgb_hidden.*BigBen"):
        baseline("oracle-hidden", void_samples, tmp_path / "pred")


def test_bad_void_inputs_name_the_file(tmp_path):
    vid, mask, _ = moving_square_video(frames=6, size=16)
    root = tmp_path / "in"
    seq = write_void_seq(root, "short_mask", vid, mask[:4])
    with pytest.raises(formats.FormatError, match=r"quadmask_0\.mp4.*4 frames.*input_video\.mp4.*6 frames"):
        baseline("identity", root, tmp_path / "pred")
    # a mask video with values other than the four (a lossy grey video, say)
    bad = np.repeat(np.where(mask == 0, 100, 255).astype(np.uint8)[..., None], 3, axis=3)
    video.write_video(seq / "quadmask_0.mp4", bad[:6], 12.0)
    with pytest.raises(quadmask.QuadmaskError, match=r"quadmask_0\.mp4.*outside the quadmask"):
        baseline("identity", root, tmp_path / "pred")


def test_config_errors_name_the_flag():
    with pytest.raises(ConfigError, match="--name"):
        BaselineConfig(name="command", input="x", out="y", cmd="run {out}")
    with pytest.raises(ConfigError, match="--cmd"):
        BaselineConfig(name="command", input="x", out="y", method="m")
    with pytest.raises(ConfigError, match=r"\{bogus\}"):
        BaselineConfig(name="command", input="x", out="y", method="m", cmd="run {out} {bogus}")
    with pytest.raises(ConfigError, match=r"must contain \{out\}"):
        BaselineConfig(name="command", input="x", out="y", method="m", cmd="run {frames}")
    with pytest.raises(ConfigError, match="--cmd is only used"):
        BaselineConfig(name="identity", input="x", out="y", cmd="run {out}")
    with pytest.raises(ConfigError, match="unknown baseline"):
        BaselineConfig(name="nope", input="x", out="y")
    with pytest.raises(ConfigError, match="--dilate-px"):
        BaselineConfig(name="identity", input="x", out="y", dilate_px=-1)


def test_every_registered_baseline_loads_and_is_a_cli_choice():
    from evaluate.baselines import registry
    from evaluate.config import BASELINES

    assert BASELINES == tuple(registry.BASELINES)
    assert all(callable(registry.load(name)) for name in registry.BASELINES)
