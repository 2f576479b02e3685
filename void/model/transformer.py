"""VoidTransformer: a quadmask-conditioned CogVideoX-style video diffusion transformer.

Built from diffusers' CogVideoX parts (patch embedding, timestep embedding, ``CogVideoXBlock``,
adaptive output norm) under the same attribute names as ``CogVideoXTransformer3DModel``, so
its state dict reads and writes VOID's CogVideoX-Fun InP checkpoints (``void_compat``).

Input per token: ``concat(noisy | cond | mask)`` along channels, where ``cond`` is the latent
of the full input video (as VOID conditions) and ``mask`` the quadmask in the chosen encoding.
Output: the v-prediction for ``noisy``. The constructor is the config (``save_pretrained`` /
``from_pretrained`` round-trip); the latent space and mask encoding travel with it.

The transformer holds no VAE. A VAE-latent model records only what it needs to know of one
(latent channels and compression factors); the VAE is a component of the pipeline
(:class:`void.pipeline.VoidPipeline`), passed to :meth:`VoidTransformer.encode_video` and
friends, and saved in its own folder. Models saved before that split (the VAE inside, its
weights under ``vae.*``) load through :mod:`void.model.legacy`.
"""

from __future__ import annotations

import logging
import os
import numpy as np
import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import (
    CogVideoXPatchEmbed,
    TimestepEmbedding,
    Timesteps,
    get_3d_rotary_pos_embed,
)
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.normalization import AdaLayerNorm
from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXBlock
from torch import nn

from void import quadmask
from void.errors import ConfigError
from void.model import latents as lat

log = logging.getLogger(__name__)

LATENTS = ("pixel", "vae")
# How a mask becomes the VAE's 3-channel input: our encodings in [-1, 1], or VOID's own
# mapping (pass 1 "trimask": remove/overlap 0, affected ~0.5, keep 1; pass 2 "binary":
# edit 0, keep 1), in [0, 1] as VOID feeds it.
VAE_MASK_STYLES = ("encoding", "void-trimask", "void-binary")


def _grid_crop_region(src: tuple[int, int], tgt_w: int, tgt_h: int) -> tuple[tuple[int, int], tuple[int, int]]:
    # CogVideoX's crop of the rotary grid for sizes other than the base size. It lives in
    # diffusers' CogVideoX pipeline module, which imports transformers, hence this copy of the rule.
    h, w = src
    if h / w > tgt_h / tgt_w:
        rh, rw = tgt_h, int(round(tgt_h / h * w))
    else:
        rw, rh = tgt_w, int(round(tgt_w / w * h))
    top, left = int(round((tgt_h - rh) / 2.0)), int(round((tgt_w - rw) / 2.0))
    return (top, left), (top + rh, left + rw)


class VoidTransformer(ModelMixin, ConfigMixin):
    """See the module docstring. Tensors: video ``(B, T, 3, H, W)`` in [-1, 1], quadmask
    ``(B, T, H, W)`` uint8, latents ``(B, T', C, h, w)``.

    ``vae_latent_channels`` / ``vae_temporal_compression`` / ``vae_spatial_compression``
    describe the VAE a ``latent="vae"`` model works with (CogVideoX's by default;
    :func:`void.model.latents.vae_transformer_kwargs` reads them off a VAE config)."""

    _supports_gradient_checkpointing = True
    _no_split_modules = ["CogVideoXBlock", "CogVideoXPatchEmbed"]

    @register_to_config
    def __init__(
        self,
        latent: str = "pixel",
        patch_pixels: int = 4,
        patch_frames: int = 1,
        mask_encoding: str = "quad",
        sample_size: tuple[int, int, int] = (8, 32, 32),
        num_layers: int = 2,
        num_attention_heads: int = 2,
        attention_head_dim: int = 32,
        time_embed_dim: int = 128,
        text_embed_dim: int = 128,
        max_text_seq_length: int = 8,
        use_text: bool = False,
        patch_size: int = 2,
        patch_size_t: int | None = None,
        use_rotary_positional_embeddings: bool = True,
        rope_base_size: tuple[int, int] | None = None,
        dropout: float = 0.0,
        attention_bias: bool = True,
        activation_fn: str = "gelu-approximate",
        timestep_activation_fn: str = "silu",
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        norm_elementwise_affine: bool = True,
        norm_eps: float = 1e-5,
        spatial_interpolation_scale: float = 1.875,
        temporal_interpolation_scale: float = 1.0,
        patch_bias: bool = True,
        vae_latent_channels: int = 16,
        vae_temporal_compression: int = 4,
        vae_spatial_compression: int = 8,
        vae_mask_style: str = "encoding",
        cond_noise_std: float = 0.0,
    ):
        super().__init__()
        if latent not in LATENTS:
            raise ConfigError(f"latent: {latent!r} is not one of {LATENTS}")
        if mask_encoding not in quadmask.MASK_ENCODINGS:
            raise ConfigError(f"mask_encoding: {mask_encoding!r} is not one of {quadmask.MASK_ENCODINGS}")
        if vae_mask_style not in VAE_MASK_STYLES:
            raise ConfigError(f"vae_mask_style: {vae_mask_style!r} is not one of {VAE_MASK_STYLES}")
        inner_dim = num_attention_heads * attention_head_dim
        if use_rotary_positional_embeddings and attention_head_dim % 8:
            raise ConfigError(f"attention_head_dim: rotary embeddings need a multiple of 8, got {attention_head_dim}")

        # 0. Latent space: decides the channel counts of every token part.
        if latent == "vae":
            temporal, spatial = int(vae_temporal_compression), int(vae_spatial_compression)
            latent_channels = mask_channels = int(vae_latent_channels)
        else:
            temporal, spatial = patch_frames, patch_pixels
            latent_channels = 3 * patch_pixels * patch_pixels * patch_frames
            mask_channels = quadmask.encoding_channels(mask_encoding) * patch_pixels * patch_pixels * patch_frames
        self.temporal_compression, self.spatial_compression = temporal, spatial
        self.latent_channels, self.mask_channels = latent_channels, mask_channels
        self.in_channels = 2 * latent_channels + mask_channels

        frames, height, width = (int(v) for v in sample_size)
        if height % spatial or width % spatial:
            raise ConfigError(f"sample_size: height/width must be multiples of {spatial}, got {height}x{width}")
        self.sample_latent = (self.latent_frames(frames), height // spatial, width // spatial)
        base_h, base_w = rope_base_size or self.sample_latent[1:]

        # 1. Text: a learned null embedding stands in for prompts when no encoder is used.
        self.null_text = nn.Parameter(torch.randn(max_text_seq_length, text_embed_dim) * 0.02)

        # 2. Patch embedding (text projection + video patches), as CogVideoX.
        self.patch_embed = CogVideoXPatchEmbed(
            patch_size=patch_size,
            patch_size_t=patch_size_t,
            in_channels=self.in_channels,
            embed_dim=inner_dim,
            text_embed_dim=text_embed_dim,
            bias=patch_bias,
            sample_width=base_w,
            sample_height=base_h,
            sample_frames=(self.sample_latent[0] - 1) * 4 + 1,  # CogVideoX counts pre-VAE frames
            temporal_compression_ratio=4,
            max_text_seq_length=max_text_seq_length,
            spatial_interpolation_scale=spatial_interpolation_scale,
            temporal_interpolation_scale=temporal_interpolation_scale,
            use_positional_embeddings=not use_rotary_positional_embeddings,
            use_learned_positional_embeddings=False,
        )
        self.embedding_dropout = nn.Dropout(dropout)

        # 3. Timestep embedding.
        self.time_proj = Timesteps(inner_dim, flip_sin_to_cos, freq_shift)
        self.time_embedding = TimestepEmbedding(inner_dim, time_embed_dim, timestep_activation_fn)

        # 4. Transformer blocks (joint text/video attention, adaptive LayerNorm-Zero).
        self.transformer_blocks = nn.ModuleList(
            CogVideoXBlock(
                dim=inner_dim,
                num_attention_heads=num_attention_heads,
                attention_head_dim=attention_head_dim,
                time_embed_dim=time_embed_dim,
                dropout=dropout,
                activation_fn=activation_fn,
                attention_bias=attention_bias,
                norm_elementwise_affine=norm_elementwise_affine,
                norm_eps=norm_eps,
            )
            for _ in range(num_layers)
        )
        self.norm_final = nn.LayerNorm(inner_dim, norm_eps, norm_elementwise_affine)

        # 5. Output: adaptive norm and projection back to patches of latent channels.
        self.norm_out = AdaLayerNorm(
            embedding_dim=time_embed_dim,
            output_dim=2 * inner_dim,
            norm_elementwise_affine=norm_elementwise_affine,
            norm_eps=norm_eps,
            chunk_dim=1,
        )
        token_values = patch_size * patch_size * (patch_size_t or 1) * latent_channels
        self.proj_out = nn.Linear(inner_dim, token_values)
        if inner_dim < token_values:
            # Worth knowing for pixel latents: a token of (patch x 4x4 pixels) x 3 values passed
            # through a narrower width cannot even copy its input; keep regions come out blurred.
            log.warning(
                "VoidTransformer: each token carries %d latent values but the width is %d; consider "
                "patch_size=1 or more heads/head dim", token_values, inner_dim,
            )
        self.gradient_checkpointing = False
        self._rope_cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    @classmethod
    def from_pretrained(cls, *args, **kwargs) -> "VoidTransformer":
        """diffusers' loader; a folder saved the old way (VAE inside) is read by
        :func:`void.model.legacy.load_transformer`, which drops the VAE (load it with
        :func:`void.model.io.load_model_dir` to keep it as a component)."""
        from void.deps import available
        from void.model import legacy

        args = tuple(os.fspath(a) if isinstance(a, os.PathLike) else a for a in args)
        if args and isinstance(args[0], str) and not kwargs.get("subfolder") and legacy.is_legacy(args[0]):
            return legacy.load_transformer(args[0]).transformer
        if not available("accelerate"):  # diffusers warns at every load otherwise
            kwargs.setdefault("low_cpu_mem_usage", False)
        model = super().from_pretrained(*args, **kwargs)
        # safetensors hands back tensors at unaligned offsets of the file buffer, and CPU
        # kernels then take another (last-bit different) path; fresh copies make a reloaded
        # model compute exactly what the saved one did.
        with torch.no_grad():
            for tensor in list(model.parameters()) + list(model.buffers()):
                tensor.data = tensor.data.clone()
        return model

    # ----------------------------------------------------------------------- sizes

    def latent_frames(self, num_frames: int) -> int:
        if self.config.latent == "vae":
            return lat.vae_latent_frames(num_frames, self.temporal_compression)
        return num_frames // self.temporal_compression

    def valid_frames(self, num_frames: int) -> int:
        """The smallest clip length >= ``num_frames`` that this model encodes and samples."""
        pt = self.config.patch_size_t or 1
        if self.config.latent == "vae":
            return lat.vae_valid_frames(num_frames, self.temporal_compression, pt)
        step = self.temporal_compression * pt
        return -(-num_frames // step) * step

    @property
    def spatial_multiple(self) -> int:
        """Height and width must be multiples of this (latent compression x token patch)."""
        return self.spatial_compression * self.config.patch_size

    @property
    def working_size(self) -> tuple[int, int, int]:
        """(frames, height, width) in pixels that the model was configured for."""
        return tuple(int(v) for v in self.config.sample_size)

    # ----------------------------------------------------------------------- latents

    def _need_vae(self, vae, what: str):
        if vae is None:
            raise ConfigError(
                f"VoidTransformer.{what}: this model works in VAE latents ({self.latent_channels} channels) and "
                "needs the VAE: pass vae= (the pipeline's vae component)"
            )
        return vae

    def encode_video(
        self, video: torch.Tensor, *, vae=None, sample: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``(B, T, 3, H, W)`` in [-1, 1] -> latents ``(B, T', C, h, w)``; ``vae`` for ``latent="vae"``."""
        if self.config.latent == "pixel":
            return lat.pixel_unshuffle(video, self.config.patch_pixels, self.config.patch_frames)
        return lat.vae_encode(self._need_vae(vae, "encode_video"), video, sample=sample, generator=generator)

    def decode_latents(self, latents: torch.Tensor, *, vae=None, first_frame_apart: bool = False) -> torch.Tensor:
        """Inverse of :meth:`encode_video` (exact for ``pixel``). ``first_frame_apart``: decode
        latent frame 0 on its own, as VOID's VAE does (:func:`latents.vae_decode_first_apart`)."""
        if self.config.latent == "pixel":
            return lat.pixel_shuffle(latents, self.config.patch_pixels, self.config.patch_frames)
        vae = self._need_vae(vae, "decode_latents")
        if first_frame_apart:
            return lat.vae_decode_first_apart(vae, latents)
        return lat.vae_decode(vae, latents)

    def mask_channels_image(self, mask: torch.Tensor) -> torch.Tensor:
        """Quadmask ``(B, T, H, W)`` uint8 -> conditioning image ``(B, T, Cm, H, W)`` float."""
        arr = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
        style = self.config.vae_mask_style if self.config.latent == "vae" else "encoding"
        if style == "encoding":
            chans = quadmask.encode(arr, self.config.mask_encoding)  # (B, T, H, W, Cm) in [-1, 1]
        else:
            # VOID inverts, quantizes and thresholds the mask before its VAE; overlap (63)
            # lands with "remove" in pass 1, and everything not kept is one class in pass 2.
            if style == "void-trimask":
                lut = {quadmask.REMOVE: 0.0, quadmask.OVERLAP: 0.0, quadmask.AFFECTED: 128 / 255, quadmask.KEEP: 1.0}
            else:
                lut = {quadmask.REMOVE: 0.0, quadmask.OVERLAP: 0.0, quadmask.AFFECTED: 0.0, quadmask.KEEP: 1.0}
            table = np.zeros(256, np.float32)
            for value, x in lut.items():
                table[value] = x
            chans = table[quadmask.quantize(arr)][..., None]
        out = torch.from_numpy(np.ascontiguousarray(chans)).permute(0, 1, 4, 2, 3)
        device = mask.device if isinstance(mask, torch.Tensor) else self.device
        return out.to(device=device, dtype=self.dtype)

    def encode_mask(self, mask: torch.Tensor, *, vae=None) -> torch.Tensor:
        """Quadmask ``(B, T, H, W)`` uint8 -> mask latents ``(B, T', Cm, h, w)`` per ``mask_encoding``."""
        image = self.mask_channels_image(mask)
        if self.config.latent == "pixel":
            return lat.pixel_unshuffle(image, self.config.patch_pixels, self.config.patch_frames)
        vae = self._need_vae(vae, "encode_mask")
        if image.shape[2] != 3:  # the VAE takes RGB: binary encodings fill all three
            image = image.expand(-1, -1, 3, -1, -1)
        return lat.vae_encode(vae, image)

    def null_text_embedding(self, batch: int) -> torch.Tensor:
        """The learned stand-in for a prompt embedding, ``(B, L, D)``."""
        return self.null_text.unsqueeze(0).expand(batch, -1, -1)

    # ----------------------------------------------------------------------- forward

    def _rotary(self, frames: int, height: int, width: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        # Positions as the CogVideoX(-Fun) pipelines compute them, so converted VOID weights see
        # the embedding they were trained with.
        cfg = self.config
        key = (frames, height, width, str(device))
        if key not in self._rope_cache:
            p, pt = cfg.patch_size, cfg.patch_size_t
            gh, gw = height // p, width // p
            base_h, base_w = (cfg.rope_base_size or self.sample_latent[1:])
            base_h, base_w = base_h // p, base_w // p
            if pt is None:
                crops = _grid_crop_region((gh, gw), base_w, base_h)
                cos, sin = get_3d_rotary_pos_embed(cfg.attention_head_dim, crops, (gh, gw), frames, device=device)
            else:
                cos, sin = get_3d_rotary_pos_embed(
                    cfg.attention_head_dim, None, (gh, gw), -(-frames // pt),
                    grid_type="slice", max_size=(max(base_h, gh), max(base_w, gw)), device=device,
                )
            self._rope_cache = {key: (cos, sin)}  # one size at a time: training and sampling reuse it
        return self._rope_cache[key]

    def forward(
        self,
        noisy_latents: torch.Tensor,
        cond_latents: torch.Tensor,
        mask_latents: torch.Tensor,
        timestep: torch.Tensor | int | float,
        encoder_hidden_states: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """v-prediction ``(B, T', C, h, w)`` for ``noisy_latents`` given the condition."""
        b, frames, c, h, w = noisy_latents.shape
        if c != self.latent_channels or cond_latents.shape[2] != self.latent_channels or mask_latents.shape[2] != self.mask_channels:
            raise ValueError(
                f"channel mismatch: noisy {c}, cond {cond_latents.shape[2]}, mask {mask_latents.shape[2]}; "
                f"this model takes {self.latent_channels}, {self.latent_channels}, {self.mask_channels}"
            )
        p, pt = self.config.patch_size, self.config.patch_size_t
        if h % p or w % p or (pt and frames % pt):
            raise ValueError(f"latent size T'={frames}, h={h}, w={w} is not divisible by the patch ({pt or 1}, {p}, {p})")
        x = torch.cat([noisy_latents, cond_latents.to(noisy_latents.dtype), mask_latents.to(noisy_latents.dtype)], dim=2)
        if encoder_hidden_states is None:
            encoder_hidden_states = self.null_text_embedding(b)
        encoder_hidden_states = encoder_hidden_states.to(x.dtype)

        # 1. Timestep embedding (sinusoids are float32; cast for bf16 training).
        timestep = torch.as_tensor(timestep, device=x.device)
        if timestep.ndim == 0:
            timestep = timestep.expand(b)
        emb = self.time_embedding(self.time_proj(timestep).to(x.dtype))

        # 2. Patch embedding of text and video tokens.
        hidden = self.embedding_dropout(self.patch_embed(encoder_hidden_states, x))
        text_len = encoder_hidden_states.shape[1]
        text, hidden = hidden[:, :text_len], hidden[:, text_len:]
        rope = self._rotary(frames, h, w, x.device) if self.config.use_rotary_positional_embeddings else None

        # 3. Blocks.
        for block in self.transformer_blocks:
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                hidden, text = self._gradient_checkpointing_func(block, hidden, text, emb, rope)
            else:
                hidden, text = block(hidden_states=hidden, encoder_hidden_states=text, temb=emb, image_rotary_emb=rope)

        # 4. Output head.
        hidden = self.proj_out(self.norm_out(self.norm_final(hidden), temb=emb))

        # 5. Unpatchify to (B, T', C, h, w).
        if pt is None:
            out = hidden.reshape(b, frames, h // p, w // p, -1, p, p)
            return out.permute(0, 1, 4, 2, 5, 3, 6).flatten(5, 6).flatten(3, 4)
        out = hidden.reshape(b, frames // pt, h // p, w // p, -1, pt, p, p)
        return out.permute(0, 1, 5, 4, 2, 6, 3, 7).flatten(6, 7).flatten(4, 5).flatten(1, 2)
