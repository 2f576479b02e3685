"""The model's latent spaces: exact pixel-unshuffle, or diffusers' CogVideoX VAE.

Layout everywhere: videos ``(B, T, C, H, W)`` float in [-1, 1]; latents ``(B, T', C', h, w)``.

``pixel``: space-to-depth by ``p`` (and optionally time-to-depth by ``pt``). Exact and
parameter-free, so a tiny model trains without a VAE; latent channels are ``C * pt * p * p``.

``vae``: ``AutoencoderKLCogVideoX`` (causal 3D VAE). ``T`` frames become ``(T - 1) // r + 1``
latent frames (``r`` = temporal compression, 4 for CogVideoX), so a valid clip has
``T = r * (L - 1) + 1`` frames. Latents are scaled by the VAE's ``scaling_factor`` as the
CogVideoX pipelines do.
"""

from __future__ import annotations

import math
from typing import Any

import torch

# A small AutoencoderKLCogVideoX for tests and smoke runs: 3 blocks -> 4x space, 4x time.
TINY_VAE_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["CogVideoXDownBlock3D"] * 3,
    "up_block_types": ["CogVideoXUpBlock3D"] * 3,
    "block_out_channels": [16, 32, 32],
    "latent_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 8,
    "temporal_compression_ratio": 4,
    "sample_height": 32,
    "sample_width": 32,
    "scaling_factor": 0.7,
}


# --------------------------------------------------------------------------- pixel space


def pixel_unshuffle(video: torch.Tensor, p: int, pt: int = 1) -> torch.Tensor:
    """``(B, T, C, H, W)`` -> ``(B, T/pt, C*pt*p*p, H/p, W/p)``; channel order ``(C, pt, p, p)``.

    For ``pt == 1`` this is ``torch.nn.functional.pixel_unshuffle`` applied per frame.
    """
    b, t, c, h, w = video.shape
    if h % p or w % p or t % pt:
        raise ValueError(
            f"pixel latent needs frames divisible by {pt} and height/width by {p}; got T={t}, H={h}, W={w}"
        )
    x = video.reshape(b, t // pt, pt, c, h // p, p, w // p, p)
    x = x.permute(0, 1, 3, 2, 5, 7, 4, 6)  # b, t', c, pt, p, p, h', w'
    return x.reshape(b, t // pt, c * pt * p * p, h // p, w // p)


def pixel_shuffle(latents: torch.Tensor, p: int, pt: int = 1) -> torch.Tensor:
    """Exact inverse of :func:`pixel_unshuffle`."""
    b, tl, cl, hl, wl = latents.shape
    c = cl // (pt * p * p)
    if c * pt * p * p != cl:
        raise ValueError(f"latent channels {cl} are not a multiple of pt*p*p = {pt * p * p}")
    x = latents.reshape(b, tl, c, pt, p, p, hl, wl)
    x = x.permute(0, 1, 3, 2, 6, 4, 7, 5)  # b, t', pt, c, h', p, w', p
    return x.reshape(b, tl * pt, c, hl * p, wl * p)


# --------------------------------------------------------------------------- VAE


def build_vae(config: dict[str, Any] | None = None, path: str | None = None):
    """An ``AutoencoderKLCogVideoX`` from a local weights dir, or randomly initialised from a config."""
    from diffusers import AutoencoderKLCogVideoX

    if path:
        from pathlib import Path

        from void.errors import ConfigError

        root = Path(path)
        sub = "vae" if (root / "vae" / "config.json").is_file() else None
        if not (root / "config.json").is_file() and sub is None:
            raise ConfigError(f"{root}: no AutoencoderKLCogVideoX here (expected config.json or vae/config.json)")
        vae = AutoencoderKLCogVideoX.from_pretrained(str(root), subfolder=sub, local_files_only=True)
    else:
        vae = AutoencoderKLCogVideoX(**(config or TINY_VAE_CONFIG))
    vae.requires_grad_(False)
    vae.eval()
    return vae


def vae_public_config(vae) -> dict[str, Any]:
    """The VAE's constructor arguments (JSON-able), to rebuild it without its source path."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(vae.config).items() if not k.startswith("_")}


def vae_transformer_kwargs(vae_config: dict[str, Any]) -> dict[str, int]:
    """What a VAE-latent ``VoidTransformer`` must know about its VAE: channel count and the
    compression factors (``vae_latent_channels``, ``vae_temporal_compression``,
    ``vae_spatial_compression``). The VAE itself is the pipeline's component."""
    temporal, spatial = vae_factors(vae_config)
    return {
        "vae_latent_channels": int(vae_config["latent_channels"]),
        "vae_temporal_compression": temporal,
        "vae_spatial_compression": spatial,
    }


def vae_factors(vae_config: dict[str, Any]) -> tuple[int, int]:
    """(temporal, spatial) compression of a CogVideoX VAE config."""
    spatial = 2 ** (len(vae_config["block_out_channels"]) - 1)
    return int(vae_config.get("temporal_compression_ratio", 4)), spatial


def vae_latent_frames(num_frames: int, temporal: int) -> int:
    return (num_frames - 1) // temporal + 1


def vae_valid_frames(num_frames: int, temporal: int, multiple: int = 1) -> int:
    """The smallest valid clip length >= ``num_frames``: ``temporal*(L-1)+1`` with ``L % multiple == 0``."""
    latent = max(1, math.ceil((num_frames - 1) / temporal) + 1)
    latent = math.ceil(latent / multiple) * multiple
    return temporal * (latent - 1) + 1


def vae_encode(vae, video: torch.Tensor, *, sample: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(B, T, C, H, W)`` -> scaled latents ``(B, L, C', h, w)``. ``sample`` draws from the
    posterior (for training targets); otherwise its mode (for conditioning), as VOID does."""
    temporal, _ = vae_factors(vae.config)
    t = video.shape[1]
    if (t - 1) % temporal:
        raise ValueError(f"the VAE needs {temporal}*k+1 frames, got {t}")
    x = video.permute(0, 2, 1, 3, 4).to(dtype=vae.dtype)  # b c t h w
    with torch.no_grad():
        dist = vae.encode(x).latent_dist
        z = dist.sample(generator) if sample else dist.mode()
    return (z * vae.config.scaling_factor).permute(0, 2, 1, 3, 4)


def vae_decode(vae, latents: torch.Tensor) -> torch.Tensor:
    """Scaled latents ``(B, L, C', h, w)`` -> ``(B, temporal*(L-1)+1, 3, H, W)``.

    The CogVideoX decoder works in chunks of two latent frames and only an odd count puts the
    first latent frame (which encodes one frame, not ``temporal``) first on its own; for an even
    count we decode a duplicate of frame 0 in front and drop the frames it produced.
    """
    temporal, _ = vae_factors(vae.config)
    z = latents.to(dtype=vae.dtype) / vae.config.scaling_factor
    n = z.shape[1]
    lead = 0
    if n % 2 == 0:
        z = torch.cat([z[:, :1], z], dim=1)
        lead = temporal
    with torch.no_grad():
        frames = vae.decode(z.permute(0, 2, 1, 3, 4)).sample  # b c t h w
    frames = frames.permute(0, 2, 1, 3, 4)[:, lead:]
    want = temporal * (n - 1) + 1
    if frames.shape[1] < want:
        raise RuntimeError(f"VAE decoded {frames.shape[1]} frames from {n} latents, expected {want}")
    return frames[:, :want]


def _single_frame_upsamplers_double_time(vae):
    """While active, the VAE's time-compressing upsamplers double a one-frame chunk in time (as
    VOID's VAE does for every chunk after the first); diffusers' own rule treats a lone frame as
    the clip's first and only upsamples it in space."""
    import contextlib
    import types

    from diffusers.models.upsampling import CogVideoXUpsample3D

    def forward(self, inputs):
        if inputs.shape[2] == 1:
            inputs = torch.nn.functional.interpolate(inputs, scale_factor=2.0)  # T, H and W
            b, c, t, h, w = inputs.shape
            x = self.conv(inputs.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))
            return x.reshape(b, t, *x.shape[1:]).permute(0, 2, 1, 3, 4)
        return type(self).forward(self, inputs)

    @contextlib.contextmanager
    def patched():
        mods = [m for m in vae.modules() if isinstance(m, CogVideoXUpsample3D) and m.compress_time]
        for m in mods:
            m.forward = types.MethodType(forward, m)
        try:
            yield
        finally:
            for m in mods:
                del m.forward

    return patched()


def vae_decode_first_apart(vae, latents: torch.Tensor) -> torch.Tensor:
    """Decode as VOID's VAE does: latent frame 0 on its own (one output frame), then the rest in
    chunks of two with the causal convolution cache carried over; a last lone latent frame still
    yields ``temporal`` frames. ``(B, L, C', h, w)`` -> ``(B, temporal*(L-1)+1, 3, H, W)``.
    With VAE tiling on, diffusers' tiled decode is used instead (it has no first-frame split)."""
    if getattr(vae, "use_tiling", False):
        return vae_decode(vae, latents)
    z = (latents.to(dtype=vae.dtype) / vae.config.scaling_factor).permute(0, 2, 1, 3, 4)
    n = z.shape[2]
    chunks = [(0, 1)] + [(s, min(s + 2, n)) for s in range(1, n, 2)]
    cache, out = None, []
    with torch.no_grad():
        for s, e in chunks:
            x = z[:, :, s:e]
            if vae.post_quant_conv is not None:
                x = vae.post_quant_conv(x)
            if s > 0 and e - s == 1:
                with _single_frame_upsamplers_double_time(vae):
                    x, cache = vae.decoder(x, conv_cache=cache)
            else:
                x, cache = vae.decoder(x, conv_cache=cache)
            out.append(x)
    return torch.cat(out, dim=2).permute(0, 2, 1, 3, 4)
