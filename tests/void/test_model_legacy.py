"""Runs saved before the VAE became a pipeline component (model format 1) still load.

The fixture writes such a run by hand, as the code of that time did: ``RUN/model/`` with
``transformer/config.json`` carrying ``vae_config`` / ``vae_path`` / ``text_encoder_path``,
the VAE's weights inside the transformer's file under ``vae.*``, ``scheduler/`` and a
format-1 ``void_model.json``, and no ``model_index.json``. (Checked once by hand as well: a run
saved by the format-1 code itself loads with outputs bit-identical to what that code computed.)
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from void import quadmask
from void.model import VoidTransformer
from void.model import io as model_io
from void.model import latents as lat
from void.pipeline import VoidPipeline

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = dict(num_layers=2, num_attention_heads=2, attention_head_dim=16, time_embed_dim=32, text_embed_dim=32)


def _old_config(latent: str, **extra) -> dict:
    """A transformer config.json exactly as format 1 wrote it (every key, in its order)."""
    cfg = {
        "_class_name": "VoidTransformer", "_diffusers_version": "0.42.1", "activation_fn": "gelu-approximate",
        "attention_bias": True, "attention_head_dim": 16, "cond_noise_std": 0.0, "dropout": 0.0,
        "flip_sin_to_cos": True, "freq_shift": 0, "latent": latent, "mask_encoding": "quad",
        "max_text_seq_length": 8, "norm_elementwise_affine": True, "norm_eps": 1e-05, "num_attention_heads": 2,
        "num_layers": 2, "patch_bias": True, "patch_frames": 1, "patch_pixels": 4, "patch_size": 2,
        "patch_size_t": None, "rope_base_size": None, "sample_size": [9, 32, 32] if latent == "vae" else [8, 32, 32],
        "spatial_interpolation_scale": 1.875, "temporal_interpolation_scale": 1.0, "text_embed_dim": 32,
        "text_encoder_path": None, "time_embed_dim": 32, "timestep_activation_fn": "silu",
        "use_rotary_positional_embeddings": True, "use_text": False, "vae_config": None,
        "vae_mask_style": "encoding", "vae_path": None,
    }
    cfg.update(extra)
    return cfg


def write_old_run(run, latent: str = "vae", text_encoder_path: str | None = "/models/CogVideoX-Fun"):
    """``RUN/model`` in format 1; returns (transformer weights, VAE weights) that were written."""
    torch.manual_seed(0)
    model_dir = run / "model"
    (model_dir / "transformer").mkdir(parents=True)
    if latent == "vae":
        vae = lat.build_vae(lat.TINY_VAE_CONFIG)
        vae_config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in lat.TINY_VAE_CONFIG.items()}
        cfg = _old_config("vae", vae_config=vae_config, text_encoder_path=text_encoder_path)
        kwargs = dict(latent="vae", sample_size=(9, 32, 32), **lat.vae_transformer_kwargs(lat.TINY_VAE_CONFIG))
        vae_state = {k: v.clone() for k, v in vae.state_dict().items()}
    else:
        cfg = _old_config("pixel")
        kwargs = dict(sample_size=(8, 32, 32))
        vae_state = {}
    own = {k: v.clone() for k, v in VoidTransformer(**kwargs, **TINY).state_dict().items()}
    weights = {**own, **{f"vae.{k}": v for k, v in vae_state.items()}}
    save_file({k: v.contiguous() for k, v in weights.items()}, str(model_dir / "transformer" / "diffusion_pytorch_model.safetensors"))
    (model_dir / "transformer" / "config.json").write_text(json.dumps(cfg, indent=2))
    model_io.make_scheduler().save_pretrained(model_dir / "scheduler")
    info = {"format": "void-bench-model", "format_version": 1, "mask_encoding": "quad", "latent": latent,
            "sample_size": cfg["sample_size"], "use_text": False, "has_pass2_model": False, "train_steps": 3}
    (model_dir / "void_model.json").write_text(json.dumps(info))
    return own, vae_state


def _clip(frames, seed=0):
    g = torch.Generator().manual_seed(seed)
    video = torch.rand(1, frames, 3, 32, 32, generator=g) * 2 - 1
    mask = np.random.default_rng(seed).choice(np.array(quadmask.VALUES, np.uint8), size=(1, frames, 32, 32))
    return video, mask


def test_old_vae_run_loads_with_the_vae_split_off_as_a_component(tmp_path):
    own, vae_state = write_old_run(tmp_path / "run")
    loaded = model_io.load_model_dir(tmp_path / "run")
    got = loaded.transformer.state_dict()
    assert set(got) == set(own)  # no vae.* inside the transformer any more
    assert all(torch.equal(got[k], own[k]) for k in own)
    assert all(torch.equal(loaded.vae.state_dict()[k], v) for k, v in vae_state.items())
    assert loaded.transformer.latent_channels == 4 and loaded.transformer.spatial_compression == 4
    assert loaded.text_encoder == "/models/CogVideoX-Fun"  # the old config's path, now the pipeline's
    assert not any(p.requires_grad for p in loaded.vae.parameters())


def test_old_vae_run_samples_and_resaves_in_the_new_layout(tmp_path):
    write_old_run(tmp_path / "run")
    pipe = VoidPipeline.from_pretrained(tmp_path / "run")
    pipe.set_progress_bar_config(disable=True)
    assert pipe.vae is not None and pipe.text_encoder_path == "/models/CogVideoX-Fun"
    video, mask = _clip(9)
    out = pipe(video, mask, num_inference_steps=2, generator=torch.Generator().manual_seed(0)).videos
    assert out.shape == video.shape and torch.isfinite(out).all()

    pipe.save_pretrained(tmp_path / "new")
    index = json.loads((tmp_path / "new" / model_io.MODEL_INDEX_JSON).read_text())
    assert index["vae"][1] == "AutoencoderKLCogVideoX" and index["text_encoder"]["path"] == "/models/CogVideoX-Fun"
    meta = model_io.read_model_info(tmp_path / "new")
    assert meta["format_version"] == model_io.MODEL_FORMAT_VERSION == 2 and meta["train_steps"] == 3
    cfg = json.loads((tmp_path / "new" / "transformer" / "config.json").read_text())
    assert "vae_config" not in cfg and "text_encoder_path" not in cfg
    again = VoidPipeline.from_pretrained(tmp_path / "new")
    again.set_progress_bar_config(disable=True)
    out2 = again(video, mask, num_inference_steps=2, generator=torch.Generator().manual_seed(0)).videos
    assert torch.equal(out, out2)  # same transformer, same VAE, same result


def test_old_transformer_folder_loads_alone(tmp_path):
    own, _ = write_old_run(tmp_path / "run")
    model = VoidTransformer.from_pretrained(tmp_path / "run" / "model" / "transformer")
    assert set(model.state_dict()) == set(own)


def test_old_pixel_run_loads_without_a_vae(tmp_path):
    own, _ = write_old_run(tmp_path / "run", latent="pixel")
    pipe = VoidPipeline.from_pretrained(tmp_path / "run")
    pipe.set_progress_bar_config(disable=True)
    assert pipe.vae is None and pipe.text_encoder_path is None
    assert all(torch.equal(pipe.transformer.state_dict()[k], v) for k, v in own.items())
    video, mask = _clip(8)
    assert pipe(video, mask, num_inference_steps=1).videos.shape == video.shape


def test_old_run_with_wrong_weights_names_the_folder(tmp_path):
    from void.errors import ConfigError

    write_old_run(tmp_path / "run")
    cfg_path = tmp_path / "run" / "model" / "transformer" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["num_layers"] = 3  # the file has 2 layers' weights
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match="transformer: the weights do not fit"):
        model_io.load_model_dir(tmp_path / "run")
