"""The training objective: v-prediction MSE, weighted up inside the quadmask's edit region.

Shared by the DeepSpeed loop and the plain-PyTorch loop of the throughput benchmark so both
measure the same step.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from void import quadmask

NOISE_SALT = 0x401CE


def step_seed(seed: int, step: int, rank: int) -> int:
    """A 63-bit seed for the noise and timesteps of one (seed, step, rank)."""
    state = np.random.SeedSequence([seed, step, rank, NOISE_SALT]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def step_generator(seed: int, step: int, rank: int) -> torch.Generator:
    # A CPU generator: the same draws on every device, so a CUDA run and a CPU run of one
    # seed see the same noise.
    return torch.Generator().manual_seed(step_seed(seed, step, rank))


def edit_weight(mask: torch.Tensor, latent_shape: torch.Size, weight: float) -> torch.Tensor:
    """Per-latent-position loss weight ``(B, T', 1, h, w)``: 1 outside, ``weight`` inside.

    The edit region is every pixel that is not "keep" (remove, overlap, affected), taken from
    the true quadmask whatever the model is conditioned on, so mask-encoding ablations differ
    only in what the model is told. Pooling by area to the latent grid gives boundary
    latents a fractional weight.
    """
    edit = (mask != quadmask.KEEP).float().unsqueeze(1)  # (B, 1, T, H, W)
    frac = F.interpolate(edit, size=(latent_shape[1], latent_shape[3], latent_shape[4]), mode="area")
    return (1.0 + (weight - 1.0) * frac).permute(0, 2, 1, 3, 4)  # (B, T', 1, h, w)


def noised_condition(video: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """The condition video as the model sees it: with Gaussian noise when the model's config
    asks for it (VOID's inpaint models saw noised references), leaving pixels at exactly -1
    untouched - the same rule ``VoidPipeline`` applies at sampling time."""
    if std <= 0:
        return video
    noise = torch.randn(video.shape, generator=generator).to(video.device, video.dtype)
    return torch.where(video == -1, video, video + noise * std)


def training_loss(
    module: torch.nn.Module,
    forward: Callable[..., torch.Tensor],
    scheduler,
    batch: dict,
    generator: torch.Generator,
    *,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    mask_loss_weight: float = 1.0,
    vae=None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """One batch's loss. ``module`` (the transformer) encodes video and mask into its latents,
    through ``vae`` - the pipeline's frozen VAE component - when it works in VAE latents;
    ``forward`` runs the denoiser (the DeepSpeed engine, or the module itself in a plain loop)."""
    video_in = batch["input"].to(device)
    target = batch["target"].to(device)
    mask = batch["mask"].to(device)
    with torch.no_grad():
        # A VAE target is a draw from its posterior (its mode for the condition), as VOID does.
        sample = module.config.latent == "vae"
        lat_target = module.encode_video(target, vae=vae, sample=sample, generator=generator).float()
        lat_cond = module.encode_video(noised_condition(video_in, module.config.cond_noise_std, generator), vae=vae)
        mask_lat = module.encode_mask(mask, vae=vae)
    bsz = lat_target.shape[0]
    noise = torch.randn(lat_target.shape, generator=generator).to(device)
    timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (bsz,), generator=generator).to(device)
    noisy = scheduler.add_noise(lat_target, noise, timesteps)
    velocity = scheduler.get_velocity(lat_target, noise, timesteps)
    # No text encoder in training yet: the model uses its learned null embedding.
    pred = forward(noisy.to(dtype), lat_cond.to(dtype), mask_lat.to(dtype), timesteps)
    err = (pred.float() - velocity) ** 2
    weight = edit_weight(mask, lat_target.shape, mask_loss_weight).expand_as(err)
    loss = (weight * err).sum() / weight.sum()
    with torch.no_grad():
        inside = edit_weight(mask, lat_target.shape, 2.0).expand_as(err) - 1.0  # edit fraction
        edit_n = inside.sum().clamp_min(1e-8)
        keep_n = (1 - inside).sum().clamp_min(1e-8)
        stats = {
            "loss_edit": float((inside * err).sum() / edit_n),
            "loss_keep": float(((1 - inside) * err).sum() / keep_n),
        }
    return loss, stats
