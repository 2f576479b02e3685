"""``void infer``: VOID's inference layout and our datasets in, the prediction layout out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from void import formats, quadmask, video
from void.app.cli import main
from void.config import InferConfig
from void.errors import ConfigError, VoidError
from void.infer import Fit, infer

pytestmark = pytest.mark.usefixtures("one_thread")


def _config(model, inp, out, **kw) -> InferConfig:
    kw.setdefault("progress", False)
    return InferConfig(model=str(model), input=str(inp), out=str(out), **kw)


def test_bigben_pass2_keeps_size_and_length_and_resumes(tiny_model_dir, void_samples, tmp_path):
    pred = tmp_path / "pred"
    cfg = _config(tiny_model_dir, void_samples / "BigBen", pred, pass2=True)
    assert infer(cfg) == 0
    out = formats.prediction_path(pred, "void-pass2", "BigBen")
    info = video.video_info(out)
    src = video.video_info(void_samples / "BigBen" / "input_video.mp4")
    assert (info.width, info.height, info.num_frames) == (src.width, src.height, src.num_frames) == (544, 360, 50)
    assert info.fps == src.fps
    tup = video.video_info(formats.tuple_path(pred, "void-pass2", "BigBen"))
    assert (tup.width, tup.num_frames) == (3 * 544, 50)
    run = formats.read_run_json(pred, "void-pass2")
    assert run["method"] == "void-pass2" and run["passes"] == 2 and run["steps"] == 2  # model's inference_steps
    assert run["config"]["model"] == str(tiny_model_dir)
    assert run["peak_memory_mb"] > 0 and run["wall_time_s"] > 0
    assert run["samples"]["BigBen"]["frames"] == 50
    assert run["samples"]["BigBen"]["working_size"][1:] == [32, 48]
    assert run["seconds_per_frame"] == pytest.approx(run["wall_time_s"] / 50, rel=1e-3, abs=1e-4)  # both rounded

    before = out.stat().st_mtime_ns
    assert infer(cfg) == 0  # resumed: nothing to do
    assert out.stat().st_mtime_ns == before
    assert "BigBen" in formats.read_run_json(pred, "void-pass2")["samples"]


def test_same_seed_same_prediction(tiny_model_dir, toy_dataset, tmp_path):
    for name in ("a", "b"):
        infer(_config(tiny_model_dir, toy_dataset, tmp_path / name, samples=["toy_0001"], tuples=False))
    a = video.read_video(formats.prediction_path(tmp_path / "a", "void", "toy_0001"))
    b = video.read_video(formats.prediction_path(tmp_path / "b", "void", "toy_0001"))
    assert np.array_equal(a, b)


def test_cli_on_toy_dataset_with_composite(tiny_model_dir, toy_dataset, tmp_path, capsys):
    pred = tmp_path / "pred"
    argv = ["infer", "--model", str(tiny_model_dir), "--input", str(toy_dataset), "--out", str(pred),
            "--steps", "1", "--method", "tiny-quad", "--composite", "--no-progress"]
    assert main(argv) == 0
    preds = formats.list_predictions(pred, "tiny-quad")
    assert sorted(preds) == ["toy_0000", "toy_0001"]
    ref = formats.Dataset(toy_dataset).sample("toy_0000")
    out = video.read_video(preds["toy_0000"])
    full = ref.load_video("full")
    assert out.shape == full.shape == (8, 32, 32, 3)
    keep = ref.load_mask() == quadmask.KEEP
    # pasted back where nothing changes (h264 of the written file: close, not exact)
    assert np.abs(out[keep].astype(int) - full[keep].astype(int)).mean() < 6
    assert "2 written" in capsys.readouterr().err


def _void_seq(root, name="seq", frames=8, mask_frames=None, mask_value=None, prompt=True):
    seq = root / name
    seq.mkdir(parents=True)
    rng = np.random.default_rng(0)
    video.write_video(seq / "input_video.mp4", rng.integers(0, 255, (frames, 32, 32, 3), dtype=np.uint8), 12)
    mask = np.full((mask_frames or frames, 32, 32), 255, np.uint8)
    mask[:, 8:16, 8:16] = 0
    if mask_value is None:
        video.write_mask(seq / "quadmask_0.mp4", mask, 12)
    else:  # a mask VOID's tools would never write: exact but wrong values
        mask[:, 20:24, 20:24] = mask_value
        video.write_video(seq / "quadmask_0.mp4", np.repeat(mask[..., None], 3, axis=-1), 12, codec="lossless")
    if prompt:
        (seq / "prompt.json").write_text(json.dumps({"bg": "a table"}))
    return seq


@pytest.mark.parametrize(
    "kind, match",
    [
        ("bad_values", "quadmask_0.mp4: mask values outside"),
        ("no_prompt", "prompt.json: missing prompt"),
        ("lengths", "quadmask_0.mp4: mask has 6 frames but the video"),
    ],
)
def test_clear_errors_name_the_file(tiny_model_dir, tmp_path, capsys, kind, match):
    kw = {"bad_values": dict(mask_value=100), "no_prompt": dict(prompt=False), "lengths": dict(mask_frames=6)}[kind]
    seq = _void_seq(tmp_path / "in", **kw)
    with pytest.raises(VoidError, match=match):
        infer(_config(tiny_model_dir, seq, tmp_path / "pred"))
    assert main(["infer", "--model", str(tiny_model_dir), "--input", str(seq), "--out", str(tmp_path / "p2"), "--no-progress"]) == 2
    assert match in capsys.readouterr().err


def test_missing_model_dir_is_a_clear_error(tmp_path, capsys):
    seq = _void_seq(tmp_path / "in")
    with pytest.raises(VoidError, match="model directory not found"):
        infer(_config(tmp_path / "no_model", seq, tmp_path / "pred"))
    empty = tmp_path / "empty_run"
    empty.mkdir()
    assert main(["infer", "--model", str(empty), "--input", str(seq), "--out", str(tmp_path / "p")]) == 2
    assert "no model here" in capsys.readouterr().err


def test_config_validation():
    with pytest.raises(ConfigError, match="--model"):
        InferConfig(model="", input="x", out="y")
    with pytest.raises(ConfigError, match="--steps"):
        InferConfig(model="m", input="x", out="y", steps=0)
    assert InferConfig(model="m", input="x", out="y", pass2_model="p").method_name == "void-pass2"


def test_cli_requires_model_input_and_out(capsys):
    assert main(["infer", "--input", "x", "--out", "y"]) == 2  # no --model, --base or --pass1
    assert "--model" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["infer", "--model", "m", "--out", "y"])
    assert exc.value.code == 2
    assert "--input" in capsys.readouterr().err


def test_fit_keeps_thin_objects_and_restores_size():
    mask = np.full((1, 360, 544), quadmask.KEEP, np.uint8)
    mask[:, 100:300, 270:272] = quadmask.REMOVE  # a 2-pixel pole: nearest-neighbour would drop it
    mask[:, 10:20, 10:20] = quadmask.AFFECTED
    fit = Fit.make(360, 544, 32, 48)
    small = fit.mask(mask)
    assert small.shape == (1, 32, 48)
    assert (small == quadmask.REMOVE).any() and (small == quadmask.AFFECTED).any()
    assert set(np.unique(small)) <= set(quadmask.VALUES)
    yy, xx = np.mgrid[0:360, 0:544]
    smooth = np.stack([(xx / 544 * 255), (yy / 360 * 255), np.full_like(xx, 128.0)], -1).astype(np.uint8)[None]
    back = fit.restore(fit.video(smooth))
    assert back.shape == smooth.shape
    assert np.abs(back.astype(int) - smooth.astype(int)).mean() < 3
    tall = Fit.make(100, 50, 32, 48)  # a portrait video is padded left and right
    assert (tall.new_h, tall.new_w, tall.left) == (32, 16, 16)
    assert tall.mask(np.zeros((1, 100, 50), np.uint8))[0, 0, 0] == quadmask.KEEP


def test_a_corrupt_sequence_is_listed_and_the_others_still_run(tiny_model_dir, tmp_path, capsys):
    root = tmp_path / "in"
    _void_seq(root, "good")
    bad = _void_seq(root, "bad")
    (bad / "input_video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    pred = tmp_path / "pred"
    assert infer(_config(tiny_model_dir, root, pred, steps=1)) == 1
    assert formats.prediction_path(pred, "void", "good").is_file()
    assert not formats.prediction_path(pred, "void", "bad").exists()
    run = formats.read_run_json(pred, "void")
    assert list(run["failures"]) == ["bad"] and "input_video.mp4" in run["failures"]["bad"]
    assert list(run["samples"]) == ["good"]
    err = capsys.readouterr().err
    assert "1 written" in err and "1 failed" in err and "failed bad:" in err
    argv = ["infer", "--model", str(tiny_model_dir), "--input", str(root), "--out", str(pred), "--no-progress"]
    assert main(argv) == 1  # the good one is done (skipped), the bad one still fails


def test_masks_folder_replaces_each_sequences_quadmask(tiny_model_dir, tmp_path):
    root = tmp_path / "in"
    _void_seq(root, "seq", frames=5)
    masks = tmp_path / "masks"
    masks.mkdir()
    predicted = np.full((5, 32, 32), 255, np.uint8)
    predicted[:, 4:20, 4:20] = 120  # a predicted mask: not exactly a quadmask value
    video.write_video(masks / "seq.mp4", np.repeat(predicted[..., None], 3, -1), 12, codec="lossless")
    pred = tmp_path / "pred"
    assert infer(_config(tiny_model_dir, root / "seq", pred, steps=1, masks=str(masks))) == 0
    run = formats.read_run_json(pred, "void")
    assert run["samples"]["seq"]["mask"] == str(masks / "seq.mp4")
    # with a sequence's own mask that value is refused; from --masks it is quantized (120 -> 127)
    from void.infer import load_inputs

    _, mask, _ = load_inputs(formats.iter_inputs(root / "seq")[0], masks)
    assert set(np.unique(mask)) == {127, 255}
    # size and length must match the video, and a missing file is named
    video.write_mask(masks / "seq.mp4", np.full((4, 32, 32), 255, np.uint8), 12)
    with pytest.raises(VoidError, match=r"masks/seq.mp4: mask has 4 frames but the video"):
        infer(_config(tiny_model_dir, root / "seq", tmp_path / "p2", steps=1, masks=str(masks)))
    video.write_mask(masks / "seq.mp4", np.full((5, 16, 32), 255, np.uint8), 12)
    with pytest.raises(VoidError, match=r"masks/seq.mp4: mask is 32x16 but the video"):
        infer(_config(tiny_model_dir, root / "seq", tmp_path / "p3", steps=1, masks=str(masks)))
    (masks / "seq.mp4").unlink()
    with pytest.raises(VoidError, match=r"masks/seq.mp4: no mask for sample 'seq'"):
        infer(_config(tiny_model_dir, root / "seq", tmp_path / "p4", steps=1, masks=str(masks)))
    with pytest.raises(VoidError, match="not a folder"):
        infer(_config(tiny_model_dir, root / "seq", tmp_path / "p5", masks=str(tmp_path / "nope")))


def test_masks_folder_serves_sequences_without_a_mask_of_their_own(tiny_model_dir, tmp_path, capsys):
    root = tmp_path / "in"
    _void_seq(root, "has_mask", frames=5)
    (_void_seq(root, "no_mask", frames=5) / "quadmask_0.mp4").unlink()
    # without --masks: the maskless sequence fails with a clear line, the other is written
    pred = tmp_path / "pred"
    assert infer(_config(tiny_model_dir, root, pred, steps=1, tuples=False)) == 1
    assert formats.prediction_path(pred, "void", "has_mask").is_file()
    assert not formats.prediction_path(pred, "void", "no_mask").exists()
    err = capsys.readouterr().err
    assert "no_mask: no quadmask video found" in err and "--masks FOLDER" in err
    with pytest.raises(VoidError, match=r"no_mask: no quadmask video found .*--masks FOLDER \(FOLDER/no_mask.mp4\)"):
        infer(_config(tiny_model_dir, root / "no_mask", tmp_path / "one", steps=1))
    # other readers still refuse a VOID sequence without its mask
    with pytest.raises(VoidError, match="no quadmask video found"):
        formats.iter_inputs(root)
    # with --masks both run, each from FOLDER/<sample_id>.mp4
    masks = tmp_path / "masks"
    masks.mkdir()
    given = np.full((5, 32, 32), 255, np.uint8)
    given[:, 4:12, 4:12] = 0
    for name in ("has_mask", "no_mask"):
        video.write_mask(masks / f"{name}.mp4", given, 12)
    pred2 = tmp_path / "pred2"
    assert infer(_config(tiny_model_dir, root, pred2, steps=1, tuples=False, masks=str(masks))) == 0
    run = formats.read_run_json(pred2, "void")
    assert run["samples"]["no_mask"]["mask"] == str(masks / "no_mask.mp4")
    assert video.video_info(formats.prediction_path(pred2, "void", "no_mask")).num_frames == 5
