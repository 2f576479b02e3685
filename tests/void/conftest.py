"""Fixtures of the model, pipeline and ``void infer`` tests: tiny real models written to disk.

Tests opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``: the tiny models are
all overhead, and two OpenMP threads on a shared 2-core machine spin against each other.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TINY = dict(num_layers=2, num_attention_heads=2, attention_head_dim=16, time_embed_dim=32, text_embed_dim=32)

# A CogVideoX-Fun InP transformer shaped like VOID's (rotary, 3D patches, 3 x VAE channels
# in), shrunk; written by diffusers' own class so its names and config are the real ones.
VOID_TINY_TRANSFORMER = dict(
    num_attention_heads=2,
    attention_head_dim=16,
    out_channels=4,
    time_embed_dim=32,
    text_embed_dim=32,
    num_layers=1,
    sample_width=16,
    sample_height=16,
    sample_frames=17,
    patch_size=2,
    patch_size_t=2,
    max_text_seq_length=8,
    use_rotary_positional_embeddings=True,
    patch_bias=False,
)


@pytest.fixture
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny pixel-latent model dir (working size 8 frames x 32x48) via VoidPipeline.save_pretrained."""
    import torch

    from void.model import VoidTransformer
    from void.model.io import make_scheduler
    from void.pipeline import VoidPipeline

    torch.manual_seed(0)
    model = VoidTransformer(sample_size=(8, 32, 48), **TINY)
    root = tmp_path_factory.mktemp("models") / "tiny"
    VoidPipeline(model, make_scheduler()).save_pretrained(root, info={"inference_steps": 2, "train_steps": 0})
    return root


def write_void_layout(root: Path, seed: int = 0) -> Path:
    """VOID's on-disk layout, tiny and random: a CogVideoX-Fun base dir (transformer config and
    weights with the base model's 33 input channels, VAE, scheduler) and two VOID checkpoints
    (48-channel analogues: noisy | mask | video latents) beside it."""
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXTransformer3DModel
    from safetensors.torch import save_file

    from void.model.latents import TINY_VAE_CONFIG

    torch.manual_seed(seed)
    base = root / "CogVideoX-Fun-V1.5-5b-InP"
    latent_ch = TINY_VAE_CONFIG["latent_channels"]
    CogVideoXTransformer3DModel(in_channels=2 * latent_ch + 1, **VOID_TINY_TRANSFORMER).save_pretrained(base / "transformer")
    cfg_path = base / "transformer" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["add_noise_in_inpaint_model"] = True  # a key of CogVideoX-Fun's class, not diffusers'
    cfg_path.write_text(json.dumps(cfg))
    AutoencoderKLCogVideoX(**TINY_VAE_CONFIG).save_pretrained(base / "vae")
    # CogVideoX-Fun ships a CogVideoXDDIMScheduler config (with snr_shift_scale); VOID's
    # pass 1 samples it with diffusers' plain DDIMScheduler, as we do.
    CogVideoXDDIMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, prediction_type="v_prediction",
        rescale_betas_zero_snr=True, timestep_spacing="trailing", clip_sample=False, snr_shift_scale=1.0,
    ).save_pretrained(base / "scheduler")
    for name in ("void_pass1.safetensors", "void_pass2.safetensors"):
        model = CogVideoXTransformer3DModel(in_channels=3 * latent_ch, **VOID_TINY_TRANSFORMER)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(root / name))
    return root


@pytest.fixture(scope="session")
def void_layout(tmp_path_factory) -> Path:
    return write_void_layout(tmp_path_factory.mktemp("void_release"))
