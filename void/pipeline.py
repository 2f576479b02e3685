"""VoidPipeline: object-and-interaction removal by two-pass DDIM sampling (VOID's inference).

Pass 1 samples the counterfactual video from noise, conditioned on the input video's latents
and the quadmask. Pass 2 (optional) samples again, starting from Gaussian noise warped along
the optical flow of the pass-1 result (:mod:`void.warped_noise`), which makes the result
temporally coherent; it may use a separate pass-2 transformer, as VOID does.

Videos longer than the model's working length are sampled in overlapping temporal windows:
at every step each window predicts v for its frames and the predictions are blended with
linear ramps over the overlaps before one scheduler step over the whole video.

Tensors: video ``(B, T, 3, H, W)`` float in [-1, 1], quadmask ``(B, T, H, W)`` uint8, ``H`` and
``W`` multiples of :attr:`VoidTransformer.spatial_multiple`; any ``T`` (padded by mirroring
internally, cropped back).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from void import video as vio
from void import warped_noise
from void.errors import ConfigError
from void.model import io as model_io
from void.model import memory
from void.model.text import load_text_encoder

log = logging.getLogger(__name__)


@dataclass
class VoidPipelineOutput(BaseOutput):
    """``videos``: the result ``(B, T, 3, H, W)`` in [-1, 1] (pass 2's when it ran);
    ``pass1``: pass 1's result when pass 2 ran, else None; ``timings``: seconds spent in
    pass 1 and pass 2 (``pass2_s`` includes ``warp_s``, the flow and noise warping)."""

    videos: torch.Tensor
    pass1: torch.Tensor | None = None
    timings: dict[str, float] | None = None


def mirror_pad_index(num_frames: int, target: int) -> np.ndarray:
    """Frame indices that extend ``num_frames`` to ``target`` by bouncing back and forth."""
    if num_frames == 1:
        return np.zeros(target, np.int64)
    period = 2 * (num_frames - 1)
    i = np.arange(target) % period
    return np.where(i < num_frames, i, period - i)


WINDOW_LAYOUTS = ("end", "start")


def temporal_windows(length: int, window: int, overlap: int, multiple: int = 1, layout: str = "end") -> list[tuple[int, int]]:
    """``(start, end)`` latent-frame windows covering ``length``. ``end``: every window is full
    length, the last one moved back to end at ``length``; ``start`` (VOID's): windows step by
    ``window - overlap`` from 0 and the last one is cut short at ``length``."""
    if length <= window:
        return [(0, length)]
    stride = max(multiple, ((window - overlap) // multiple) * multiple)
    if layout == "start":
        out = []
        for s in range(0, length, stride):
            out.append((s, min(s + window, length)))
            if s + window >= length:
                break
        return out
    starts = list(range(0, length - window, stride)) + [length - window]
    return [(s, s + window) for s in starts]


def window_weights(start: int, end: int, length: int, overlap: int) -> torch.Tensor:
    """Blending weights ``(end - start,)``: linear ramps into and out of neighbouring windows."""
    n = end - start
    w = torch.ones(n)
    ramp = min(overlap, n // 2)
    if ramp > 0:
        up = torch.linspace(0, 1, ramp + 2)[1:-1]
        if start > 0:
            w[:ramp] = up
        if end < length:
            w[n - ramp :] = up.flip(0)
    return w


class _Clock:
    """Wall time between laps, waiting for queued GPU work first."""

    def __init__(self, device):
        self.device = torch.device(device)
        self.last = self._now()

    def _now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def lap(self) -> float:
        now = self._now()
        elapsed, self.last = now - self.last, now
        return elapsed


class VoidPipeline(DiffusionPipeline):
    """``VoidPipeline(transformer, scheduler, transformer_2=None, vae=None, text_encoder=None)``;
    call it with a video and its quadmask. See the module docstring.

    Components, diffusers-style, each saved in its own folder (:mod:`void.model.io`):
    ``transformer`` (and ``transformer_2`` for pass 2), ``scheduler``, ``vae`` (needed by a
    VAE-latent transformer, shared by both passes; None for pixel latents) and the text
    encoder, which is a location (``text_encoder``: a dir with ``text_encoder/`` and
    ``tokenizer/``, or a T5 dir; ``tokenizer`` when that lives elsewhere) loaded on first use."""

    model_cpu_offload_seq = "transformer->transformer_2->vae"
    _optional_components = ["transformer_2", "vae"]

    def __init__(self, transformer, scheduler, transformer_2=None, vae=None, text_encoder=None, tokenizer=None):
        super().__init__()
        for model in (transformer, transformer_2):
            if getattr(getattr(model, "config", None), "latent", None) == "vae" and vae is None:
                raise ConfigError(
                    "VoidPipeline: the transformer works in VAE latents; give the pipeline its vae component"
                )
        self.register_modules(transformer=transformer, scheduler=scheduler, transformer_2=transformer_2, vae=vae)
        self.text_encoder_path = str(text_encoder) if text_encoder else None
        self.tokenizer_path = str(tokenizer) if tokenizer else None
        self.info: dict[str, Any] = {}
        self._text_cache: dict[str, Any] = {}
        self.offload = "none"
        self.execution_device = torch.device("cpu")

    # ----------------------------------------------------------------------- storage

    def save_pretrained(self, save_directory: str | os.PathLike, info: dict[str, Any] | None = None, **kwargs: Any) -> Path:
        """One folder per component plus ``model_index.json`` and ``void_model.json``
        (:mod:`void.model.io`)."""
        _no_unknown("save_pretrained", kwargs)
        return model_io.save_model_dir(
            save_directory, self.transformer, self.scheduler, transformer_2=self.transformer_2, vae=self.vae,
            text_encoder=self.text_encoder_path, tokenizer=self.tokenizer_path,
            info={k: v for k, v in {**self.info, **(info or {})}.items() if k != "path"},  # not where it came from
        )

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike | None,
        *,
        device=None,
        dtype=None,
        pass2_model: str | None = None,
        base: str | os.PathLike | None = None,
        pass1: str | os.PathLike | None = None,
        load_pass2: bool = True,
        **kwargs: Any,
    ) -> "VoidPipeline":
        """Load a model dir, a training run dir, or VOID's released layout (``void_compat``).
        ``base``/``pass1`` name VOID's CogVideoX-Fun base dir and pass-1 weights explicitly;
        ``pass2_model`` the pass-2 transformer (our model dir or a VOID checkpoint). With
        ``load_pass2=False`` no pass-2 transformer is loaded (it is only needed for pass 2)."""
        from void.model import void_compat

        _no_unknown("from_pretrained", kwargs)
        layout = void_compat.explicit_layout(base, pass1, path) if (base or pass1) else void_compat.find_void_layout(path)
        if layout is not None:
            loaded = void_compat.load_void(layout, load_pass2=load_pass2 and not pass2_model)
        else:
            loaded = model_io.load_model_dir(path)
            if not load_pass2:
                loaded.transformer_2 = None
        if pass2_model and load_pass2:
            loaded.transformer_2 = void_compat.load_pass2_model(pass2_model, loaded)
        pipe = cls(
            loaded.transformer, loaded.scheduler, loaded.transformer_2, vae=loaded.vae,
            text_encoder=loaded.text_encoder, tokenizer=loaded.tokenizer,
        )
        pipe.info = dict(loaded.info)
        pipe.info.setdefault("path", str(loaded.path))
        for model in (pipe.transformer, pipe.transformer_2, pipe.vae):
            if model is not None:
                model.eval()
                # nn.Module.to: ModelMixin.to warns about fp32-pinned modules, of which we have none
                torch.nn.Module.to(model, device=device, dtype=dtype)
        if device is not None:
            pipe.execution_device = torch.device(device)
        return pipe

    def configure_memory(
        self,
        device,
        *,
        offload: str = "none",
        weights: str = "auto",
        compute_dtype: torch.dtype = torch.float32,
        vae_tiling: bool = False,
        vae_slicing: bool = False,
    ) -> None:
        """Weight storage, CPU offload and VAE tiling (:mod:`void.model.memory`). Call on a
        pipeline loaded on the CPU; ``device`` is where the work runs."""
        if offload not in memory.OFFLOAD_MODES:
            raise ValueError(f"offload must be one of {memory.OFFLOAD_MODES}, got {offload!r}")
        device = torch.device(device)
        self.execution_device, self.offload = device, offload
        for model in (self.transformer, self.transformer_2, self.vae):
            if model is None:
                continue
            if model is not self.vae:  # the VAE keeps its weights as they are (small, and precise)
                memory.store_weights(model, weights, compute_dtype)
            if offload == "sequential":
                memory.offload_sequential(model, device)
            elif offload == "none":
                torch.nn.Module.to(model, device)
        memory.enable_vae_tiling(self.vae, vae_tiling, vae_slicing)

    # ----------------------------------------------------------------------- helpers

    @property
    def working_size(self) -> tuple[int, int, int]:
        """(frames, height, width) the model was trained at: ``void_model.json`` or its config."""
        size = self.info.get("sample_size") or self.transformer.config.sample_size
        return tuple(int(v) for v in size)

    def _text_states(self, model, prompts: list[str], negative: str, guidance: float):
        """(cond, uncond-or-None) embeddings; the null embedding when no encoder is at hand."""
        cfg = model.config
        text = None
        device = self.execution_device if self.offload != "none" else model.device
        # The text encoder's location is the pipeline's (model_index.json "text_encoder").
        path = self.text_encoder_path or self.info.get("text_encoder")
        if cfg.use_text and path:
            key = str(path)
            if key not in self._text_cache:
                where = "cpu" if self.offload != "none" else device
                self._text_cache[key] = load_text_encoder(
                    key, cfg.max_text_seq_length, device=where, dtype=model.dtype, required=True,
                    tokenizer=self.tokenizer_path,
                )
                if self._text_cache[key] is not None and self.offload == "sequential":
                    memory.offload_sequential(self._text_cache[key].encoder, device)
            text = self._text_cache[key]
        if text is None:
            if cfg.use_text:
                log.warning("model expects prompts but no text encoder is available offline: using its null embedding")
            return model.null_text_embedding(len(prompts)).to(device), None
        with memory.resident(text.encoder, device, self.offload):
            cond = text.encode(prompts, device).to(device, model.dtype)
            uncond = text.encode([negative] * len(prompts), device).to(device, model.dtype) if guidance > 1.0 else None
        return cond, uncond

    def _predict(self, model, latents, cond, mask, t, text, uncond, guidance, window, overlap, layout="end", scheduler=None):
        """v-prediction for the whole latent video, window by window, blended. (Blending the
        predictions equals blending each window's scheduler step, as VOID does: a DDIM step is
        affine in the prediction and every window sees the same latents.)"""
        scheduler = scheduler or self.scheduler
        length = latents.shape[1]
        multiple = model.config.patch_size_t or 1
        total = torch.zeros_like(latents)
        weight = torch.zeros(1, length, 1, 1, 1, device=latents.device)
        for s, e in temporal_windows(length, window, overlap, multiple, layout):
            x = scheduler.scale_model_input(latents[:, s:e], t).to(model.dtype)
            c, m = cond[:, s:e], mask[:, s:e]
            if uncond is not None:  # classifier-free guidance: one batch, two prompts
                v = model(torch.cat([x, x]), torch.cat([c, c]), torch.cat([m, m]), t, encoder_hidden_states=torch.cat([uncond, text]))
                v_u, v_c = v.float().chunk(2)
                v = v_u + guidance * (v_c - v_u)
            else:
                v = model(x, c, m, t, encoder_hidden_states=text).float()
            w = window_weights(s, e, length, overlap).to(latents.device).view(1, -1, 1, 1, 1)
            total[:, s:e] += v * w
            weight[:, s:e] += w
        return total / weight

    def _sample(self, model, noise, cond, mask, text, uncond, *, steps, guidance, window, overlap, generator, desc,
                layout="end", scheduler=None):
        scheduler = scheduler or self.scheduler
        scheduler.set_timesteps(steps, device=noise.device)
        latents = noise * scheduler.init_noise_sigma
        with self.progress_bar(total=len(scheduler.timesteps)) as bar:
            bar.set_description(desc)
            for t in scheduler.timesteps:
                v = self._predict(model, latents, cond, mask, t, text, uncond, guidance, window, overlap, layout, scheduler)
                latents = scheduler.step(v, t, latents, eta=0.0, generator=generator).prev_sample
                bar.update()
        return latents

    def _condition(self, model, video, mask, generator):
        cond_video = video
        if model.config.cond_noise_std > 0:  # VOID's inpaint models saw noised references
            noise = randn_tensor(video.shape, generator=generator, device=video.device, dtype=video.dtype)
            cond_video = torch.where(video == -1, video, video + noise * model.config.cond_noise_std)
        device = self.execution_device if self.offload != "none" else model.device
        with torch.no_grad(), memory.resident(self.vae, device, self.offload):
            return (
                model.encode_video(cond_video.to(model.dtype), vae=self.vae).float(),
                model.encode_mask(mask, vae=self.vae).float(),
            )

    def _decode(self, model, latents, first_frame_apart: bool) -> torch.Tensor:
        device = self.execution_device if self.offload != "none" else model.device
        with memory.resident(self.vae, device, self.offload):
            out = model.decode_latents(latents, vae=self.vae, first_frame_apart=first_frame_apart)
        return out.float().clamp(-1, 1)

    # ----------------------------------------------------------------------- call

    @torch.no_grad()
    def __call__(
        self,
        video: torch.Tensor,
        mask: torch.Tensor | np.ndarray,
        prompt: str | list[str] | None = None,
        *,
        num_inference_steps: int = 50,
        pass2: bool = False,
        pass2_steps: int | None = None,
        guidance_scale: float = 1.0,
        pass2_guidance_scale: float | None = None,
        negative_prompt: str = "",
        pass2_negative_prompt: str | None = None,
        generator: torch.Generator | None = None,
        latents: torch.Tensor | None = None,
        window_frames: int | None = None,
        window_overlap: int | None = None,
        window_layout: str = "end",
        flow_method: str = "dis",
        noise_upscale: int = 4,
        pass2_noise: str = "flow",
        pass2_scheduler=None,
        first_frame_apart: bool = False,
    ) -> VoidPipelineOutput:
        """See the module docstring. The parity knobs (VOID's choices, ``--void-parity``):
        ``window_layout="start"``, ``pass2_noise="gwf"`` (Go-with-the-Flow in VOID's geometry;
        ``noise_upscale`` is then its warp scale), ``pass2_scheduler`` (VOID samples pass 2 with
        CogVideoXDDIMScheduler), ``first_frame_apart`` (VOID's VAE decodes latent frame 0 alone)."""
        model = self.transformer
        device = self.execution_device if self.offload != "none" else model.device
        # 1. Check inputs; pad time to a length the model encodes.
        video = video.to(device=device, dtype=torch.float32)
        mask = torch.as_tensor(np.asarray(mask.cpu() if isinstance(mask, torch.Tensor) else mask))
        b, frames, _, height, width = video.shape
        if mask.shape != (b, frames, height, width):
            raise ValueError(f"mask shape {tuple(mask.shape)} does not match video {(b, frames, height, width)}")
        if window_layout not in WINDOW_LAYOUTS:
            raise ValueError(f"window_layout must be one of {WINDOW_LAYOUTS}, got {window_layout!r}")
        if pass2_noise not in ("flow", "gwf"):
            raise ValueError(f"pass2_noise must be 'flow' or 'gwf', got {pass2_noise!r}")
        mult = model.spatial_multiple
        if height % mult or width % mult:
            raise ValueError(f"height and width must be multiples of {mult}, got {height}x{width}")
        padded = model.valid_frames(frames)
        idx = torch.from_numpy(mirror_pad_index(frames, padded))
        video, mask = video[:, idx], mask[:, idx].to(device)
        prompts = [prompt] * b if isinstance(prompt, str) or prompt is None else list(prompt)
        prompts = [p or "" for p in prompts]

        # 2. Window size in latent frames: the model's working length unless told otherwise.
        window = model.latent_frames(model.valid_frames(window_frames or self.working_size[0]))
        overlap = window_overlap if window_overlap is not None else max(window // 4, 1) if window > 1 else 0

        # 3. Pass 1: condition, noise, sample, decode.
        timings: dict[str, float] = {}
        clock = _Clock(device)
        common = dict(window=window, overlap=overlap, layout=window_layout, generator=generator)
        with memory.resident(model, device, self.offload):
            text, uncond = self._text_states(model, prompts, negative_prompt, guidance_scale)
            cond, mask_lat = self._condition(model, video, mask, generator)
            if latents is None:
                latents = randn_tensor(tuple(cond.shape), generator=generator, device=device, dtype=torch.float32)
            out = self._sample(model, latents.to(device, torch.float32), cond, mask_lat, text, uncond,
                               steps=num_inference_steps, guidance=guidance_scale, desc="pass 1", **common)
            result = self._decode(model, out, first_frame_apart)  # pixel latents stay float32
        timings["pass1_s"] = clock.lap()
        pass1 = None

        # 4. Pass 2: noise warped along the flow of the pass-1 result, sampled again.
        if pass2:
            model2 = self.transformer_2 or model
            if pass2_noise == "gwf":
                noise = self.gwf_noise(result, tuple(out.shape[1:]), generator, flow_method, noise_upscale)
            else:
                noise = self.warped_noise(result, tuple(out.shape[1:]), model2, generator, flow_method, noise_upscale)
            timings["warp_s"] = clock.lap()
            guidance2 = guidance_scale if pass2_guidance_scale is None else pass2_guidance_scale
            negative2 = negative_prompt if pass2_negative_prompt is None else pass2_negative_prompt
            with memory.resident(model2, device, self.offload):
                text2, uncond2 = text, uncond
                if model2 is not model or guidance2 != guidance_scale or negative2 != negative_prompt:
                    text2, uncond2 = self._text_states(model2, prompts, negative2, guidance2)
                if model2 is not model:  # its own condition encoders (VOID: same VAE, another mask style)
                    cond, mask_lat = self._condition(model2, video, mask, generator)
                out2 = self._sample(model2, noise.to(device), cond, mask_lat, text2, uncond2,
                                    steps=pass2_steps or num_inference_steps, guidance=guidance2, desc="pass 2",
                                    scheduler=pass2_scheduler, **common)
                pass1 = result[:, :frames].cpu()
                result = self._decode(model2, out2, first_frame_apart)
            timings["pass2_s"] = timings["warp_s"] + clock.lap()

        # 5. Back to the input's length.
        return VoidPipelineOutput(videos=result[:, :frames].cpu(), pass1=pass1, timings=timings)

    def _noise_seed(self, generator) -> int:
        seed_dev = generator.device if generator is not None else "cpu"
        return int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=seed_dev))

    def warped_noise(self, result, latent_shape, model, generator, flow_method="dis", upscale=4) -> torch.Tensor:
        """Initial latents ``(B, T', C, h, w)`` for pass 2 from the pass-1 videos ``result``."""
        noises = []
        for clip in result:
            frames = vio.from_tensor(clip)
            noise = warped_noise.warped_noise(
                frames, latent_shape, seed=self._noise_seed(generator), upscale=upscale, flow_method=flow_method,
                temporal=model.temporal_compression,
            )
            noises.append(torch.from_numpy(noise))
        return torch.stack(noises).to(result.device)

    def gwf_noise(self, result, latent_shape, generator, flow_method="dis", warp_scale=8) -> torch.Tensor:
        """Pass-2 latents the way VOID makes them (:func:`void.warped_noise.void_warped_noise`)."""
        noises = [
            torch.from_numpy(warped_noise.void_warped_noise(
                vio.from_tensor(clip), latent_shape, seed=self._noise_seed(generator),
                warp_scale=warp_scale, flow_method=flow_method,
            ))
            for clip in result
        ]
        return torch.stack(noises).to(result.device)


def _no_unknown(method: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"VoidPipeline.{method}() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
