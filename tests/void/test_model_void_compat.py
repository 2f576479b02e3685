"""VOID's released layout: a tiny random checkpoint written by diffusers' own CogVideoX classes
loads into VoidTransformer and computes what VOID's transformer computes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel
from diffusers.models.embeddings import get_3d_rotary_pos_embed
from safetensors.torch import load_file

from void import quadmask
from void.errors import ConfigError
from void.model import void_compat
from void.pipeline import VoidPipeline

pytestmark = pytest.mark.usefixtures("one_thread")


def test_layout_is_found_from_root_base_or_checkpoint(void_layout):
    base = void_layout / void_compat.BASE_DIR_NAME
    for path in (void_layout, base, void_layout / "void_pass1.safetensors"):
        layout = void_compat.find_void_layout(path)
        assert layout is not None and layout.base == base
        assert layout.pass1 == void_layout / "void_pass1.safetensors"
        assert layout.pass2 == void_layout / "void_pass2.safetensors"
    assert void_compat.find_void_layout(void_layout / "nothing") is None


def _void_reference(base, ckpt):
    """VOID's pass-1 transformer: diffusers' class with the checkpoint loaded as VOID does."""
    cfg = json.loads((base / "transformer" / "config.json").read_text())
    cfg.pop("add_noise_in_inpaint_model")
    cfg = {k: v for k, v in cfg.items() if not k.startswith("_")}
    cfg["in_channels"] = 3 * 4  # use_vae_mask: 3 x latent channels (4 in the tiny VAE)
    ref = CogVideoXTransformer3DModel(**cfg)
    ref.load_state_dict(load_file(str(ckpt)))
    return ref.eval()


def test_converted_transformer_matches_void_forward(void_layout):
    layout = void_compat.find_void_layout(void_layout)
    ours = void_compat.load_void_transformer(layout.base, layout.pass1, 1)
    ref = _void_reference(layout.base, layout.pass1)
    assert ours.in_channels == 12 and ours.config.vae_mask_style == "void-trimask"
    g = torch.Generator().manual_seed(0)
    b, t, c, h, w = 1, 4, 4, 8, 12
    noisy, video_lat, mask_lat = (torch.randn(b, t, c, h, w, generator=g) for _ in range(3))
    text = torch.randn(b, 8, 32, generator=g)
    # rotary positions as VOID's inpaint pipeline computes them (3D patches: "slice" grid)
    p, pt = 2, 2
    base_h, base_w = 16 // p, 16 // p
    rope = get_3d_rotary_pos_embed(16, None, (h // p, w // p), (t + pt - 1) // pt, grid_type="slice", max_size=(base_h, base_w))
    with torch.no_grad():
        expected = ref(
            hidden_states=torch.cat([noisy, mask_lat, video_lat], dim=2),  # VOID: noisy | mask | video
            encoder_hidden_states=text,
            timestep=torch.tensor([321]),
            image_rotary_emb=rope,
            return_dict=False,
        )[0]
        got = ours(noisy, video_lat, mask_lat, torch.tensor([321]), encoder_hidden_states=text)
    assert torch.allclose(got, expected, atol=1e-5)


def test_mask_goes_to_the_vae_as_void_feeds_it(void_layout):
    layout = void_compat.find_void_layout(void_layout)
    ours = void_compat.load_void_transformer(layout.base, layout.pass1, 1)
    ours2 = void_compat.load_void_transformer(layout.base, layout.pass2, 2)
    rng = np.random.default_rng(0)
    mask = rng.choice(np.array(quadmask.VALUES, np.uint8), size=(1, 5, 32, 32))
    # VOID: invert, scale to [0,1], threshold (trimask in pass 1, binary in pass 2), feed 1 - m.
    inv = (255 - mask.astype(np.float32)) / 255
    trimask = np.where(inv > 0.75, 1.0, np.where(inv >= 0.25, 127 / 255, 0.0))
    binary = np.where(inv > 0.5, 1.0, 0.0)
    vae = AutoencoderKLCogVideoX.from_pretrained(str(layout.base / "vae"))
    for model, cond in ((ours, trimask), (ours2, binary)):
        image = torch.from_numpy(1 - cond).float()[:, None].expand(-1, 3, -1, -1, -1)  # b c t h w
        with torch.no_grad():
            expected = vae.encode(image).latent_dist.mode() * vae.config.scaling_factor
        got = model.encode_mask(torch.from_numpy(mask), vae=vae)
        assert torch.allclose(got, expected.permute(0, 2, 1, 3, 4), atol=1e-5)


def test_void_layout_runs_both_passes(void_layout):
    pipe = VoidPipeline.from_pretrained(void_layout)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.transformer_2 is not None
    assert pipe.transformer.config.cond_noise_std > 0  # add_noise_in_inpaint_model
    assert pipe.scheduler.config.prediction_type == "v_prediction"
    assert pipe.vae is not None and not hasattr(pipe.transformer, "vae")  # one VAE, the pipeline's
    g = torch.Generator().manual_seed(0)
    video = torch.rand(1, 11, 3, 32, 32, generator=g) * 2 - 1
    mask = np.full((1, 11, 32, 32), 255, np.uint8)
    mask[:, :, 8:20, 8:20] = 0
    out = pipe(video, mask, "a table", num_inference_steps=2, pass2=True, generator=torch.Generator().manual_seed(0))
    assert out.videos.shape == video.shape and torch.isfinite(out.videos).all()


def test_base_model_without_void_weights_is_refused(void_layout, tmp_path):
    shutil.copytree(void_layout / void_compat.BASE_DIR_NAME, tmp_path / void_compat.BASE_DIR_NAME)
    layout = void_compat.find_void_layout(tmp_path)
    assert layout.pass1 is None
    with pytest.raises(ConfigError, match="base model"):
        void_compat.load_void(layout)


def test_void_infer_with_void_weights_on_disk(void_layout, toy_dataset, tmp_path):
    from void import formats, video
    from void.app.cli import main

    pred = tmp_path / "pred"
    argv = ["infer", "--model", str(void_layout), "--input", str(toy_dataset), "--out", str(pred), "--pass2",
            "--steps", "1", "--height", "32", "--width", "32", "--window-frames", "13", "--samples", "toy_0000",
            "--no-progress", "--no-tuples"]
    assert main(argv) == 0
    info = video.video_info(formats.prediction_path(pred, "void-pass2", "toy_0000"))
    assert (info.width, info.height, info.num_frames) == (32, 32, 8)
    run = formats.read_run_json(pred, "void-pass2")
    assert run["model_info"]["format"] == "void-released"
    assert run["model_info"]["pass2_checkpoint"].endswith("void_pass2.safetensors")
