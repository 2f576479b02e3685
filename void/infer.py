"""``void infer``: remove objects (and their interactions) from videos with a trained model.

Reads our dataset dirs and VOID's inference layout (:func:`void.formats.iter_inputs`), fits
every video to the model's working size (keep aspect and pad, or stretch; masks are reduced
conservatively so thin objects survive), runs :class:`void.pipeline.VoidPipeline` (pass 1,
optionally pass 2) and writes the prediction layout::

    PRED/<method>/<sample>.mp4          same size, length and frame rate as the input
    PRED/<method>/<sample>_tuple.mp4    input | mask | output
    PRED/<method>/run.json              method, config, model, wall time, s/frame, peak memory

Samples whose output exists are skipped (a killed run resumes) unless ``--overwrite``. A sample
that cannot be read is reported and skipped; the others still run and the command exits 1.
``--void-parity`` runs VOID's own recipe (:mod:`void.model.void_parity`, docs/void-parity.md).
"""

from __future__ import annotations

import dataclasses
import math
import resource
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from void import formats, quadmask, video
from void.config import InferConfig
from void.errors import VoidError
from void.formats import FormatError


@dataclass(frozen=True)
class Fit:
    """Where a ``(height, width)`` frame sits inside the working frame, and how to undo it."""

    height: int
    width: int
    work_h: int
    work_w: int
    new_h: int
    new_w: int
    top: int
    left: int

    @classmethod
    def make(cls, height: int, width: int, work_h: int, work_w: int, mode: str = "pad") -> "Fit":
        if mode == "stretch":
            return cls(height, width, work_h, work_w, work_h, work_w, 0, 0)
        scale = min(work_h / height, work_w / width)
        new_h = min(work_h, max(1, round(height * scale)))
        new_w = min(work_w, max(1, round(width * scale)))
        return cls(height, width, work_h, work_w, new_h, new_w, (work_h - new_h) // 2, (work_w - new_w) // 2)

    def _pad(self, arr: np.ndarray, value: int | None) -> np.ndarray:
        pads = [(0, 0), (self.top, self.work_h - self.new_h - self.top), (self.left, self.work_w - self.new_w - self.left)]
        pads += [(0, 0)] * (arr.ndim - 3)
        if value is None:
            return np.pad(arr, pads, mode="edge")
        return np.pad(arr, pads, mode="constant", constant_values=value)

    def video(self, frames: np.ndarray) -> np.ndarray:
        """``(T, H, W, 3)`` uint8 -> working size."""
        import cv2

        shrink = self.new_h < self.height or self.new_w < self.width
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out = np.stack([cv2.resize(f, (self.new_w, self.new_h), interpolation=interp) for f in frames])
        return self._pad(out, None)

    def mask(self, mask: np.ndarray) -> np.ndarray:
        """``(T, H, W)`` quadmask -> working size. A minimum filter over each output pixel's
        footprint first, so the most "edit" class wins (0 < 63 < 127 < 255) and small objects
        are not lost; padding is "keep"."""
        import cv2

        ky = max(1, math.ceil(self.height / self.new_h))
        kx = max(1, math.ceil(self.width / self.new_w))
        kernel = np.ones((ky, kx), np.uint8)
        out = []
        for m in mask:
            if ky > 1 or kx > 1:
                m = cv2.erode(m, kernel, borderType=cv2.BORDER_REPLICATE)
            out.append(cv2.resize(m, (self.new_w, self.new_h), interpolation=cv2.INTER_NEAREST))
        return self._pad(np.stack(out), quadmask.KEEP)

    def restore(self, frames: np.ndarray) -> np.ndarray:
        """Working-size ``(T, h, w, 3)`` uint8 -> the original size."""
        import cv2

        crop = frames[:, self.top : self.top + self.new_h, self.left : self.left + self.new_w]
        return np.stack([cv2.resize(f, (self.width, self.height), interpolation=cv2.INTER_LINEAR) for f in crop])


def sample_seed(seed: int, sample_id: str) -> int:
    """The sampling seed of one sample: the same whatever order or subset a run processes."""
    return int(np.random.SeedSequence([seed, zlib.crc32(sample_id.encode())]).generate_state(1)[0])


def _device_dtype(config: InferConfig):
    import torch

    device = config.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        from void.errors import ConfigError

        raise ConfigError("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
    name = config.dtype if config.dtype != "auto" else ("bfloat16" if device == "cuda" else "float32")
    return torch.device(device), getattr(torch, name)


def _working_hw(config: InferConfig, pipe) -> tuple[int, int]:
    _, h, w = pipe.working_size
    h, w = config.height or h, config.width or w
    m = pipe.transformer.spatial_multiple
    return math.ceil(h / m) * m, math.ceil(w / m) * m


def mask_from_folder(folder: str | Path, sample_id: str) -> Path:
    """``FOLDER/<sample_id>.mp4``: a quadmask made by another tool (e.g. a mask-prediction method)."""
    path = Path(folder) / f"{sample_id}.mp4"
    if not path.is_file():
        raise FormatError(f"{path}: no mask for sample {sample_id!r} in --masks {folder}")
    return path


def load_inputs(inp: formats.InputSample, masks: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Frames, quadmask and fps of one input, checked against each other. The sample's own mask
    must hold exactly the four values; one from ``masks`` (predicted, often lossy) is quantized
    with VOID's thresholds."""
    if not masks and inp.mask_path is None:
        raise FormatError(
            f"{inp.video_path.parent}: no quadmask video found (expected one of "
            f"{', '.join(formats.VOID_MASK_PATTERNS)}); give masks for such sequences with --masks FOLDER "
            f"(FOLDER/{inp.sample_id}.mp4)"
        )
    frames, fps = video.read_video_fps(inp.video_path)
    if masks:
        inp = dataclasses.replace(inp, mask_path=mask_from_folder(masks, inp.sample_id))
        mask = video.read_mask(inp.mask_path, strict=False)
    else:
        mask = video.read_mask(inp.mask_path, strict=True)
    if len(frames) != len(mask):
        raise FormatError(
            f"{inp.mask_path}: mask has {len(mask)} frames but the video {inp.video_path} has {len(frames)}"
        )
    if frames.shape[1:3] != mask.shape[1:3]:
        raise FormatError(
            f"{inp.mask_path}: mask is {mask.shape[2]}x{mask.shape[1]} but the video {inp.video_path} is "
            f"{frames.shape[2]}x{frames.shape[1]}"
        )
    return frames, mask, fps or 12.0


def tuple_frames(frames: np.ndarray, mask: np.ndarray, output: np.ndarray) -> np.ndarray:
    """input | false-colour mask | output, side by side."""
    return np.concatenate([frames, quadmask.colorize(mask), output], axis=2)


def _peak_memory(device) -> dict[str, Any]:
    import torch

    if device.type == "cuda":
        peak = int(torch.cuda.max_memory_allocated(device))
        return {"peak_memory_mb": round(peak / 2**20, 1), "peak_memory_kind": "torch.cuda.max_memory_allocated"}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss *= 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return {"peak_memory_mb": round(rss / 2**20, 1), "peak_memory_kind": "ru_maxrss (whole process)"}


def _prepare(config: InferConfig, pipe, frames: np.ndarray, mask: np.ndarray):
    """(fit, clip, clip_mask) at the working size: ours (fit, conservative mask) or VOID's."""
    import torch

    work_h, work_w = _working_hw(config, pipe)
    if config.void_parity:
        from void.model import void_parity as vp

        fit = Fit.make(frames.shape[1], frames.shape[2], work_h, work_w, "stretch")
        clip, clip_mask, _ = vp.pad_clip(vp.prepare_video(frames, work_h, work_w), vp.prepare_mask(mask, work_h, work_w))
        return fit, clip, clip_mask
    fit = Fit.make(frames.shape[1], frames.shape[2], work_h, work_w, config.fit)
    return fit, video.to_tensor(fit.video(frames)).unsqueeze(0), torch.from_numpy(fit.mask(mask)).unsqueeze(0)


def sampling_kwargs(config: InferConfig, pipe, steps: int) -> dict[str, Any]:
    """The pipeline's sampling options: the config's, or VOID's recipe under ``--void-parity``."""
    kw: dict[str, Any] = dict(
        num_inference_steps=steps, pass2=config.pass2, pass2_steps=config.pass2_steps,
        guidance_scale=config.guidance_scale, pass2_guidance_scale=config.pass2_guidance_scale,
        window_frames=config.window_frames, window_overlap=config.window_overlap,
        flow_method=config.flow, noise_upscale=config.noise_upscale,
    )
    if config.void_parity:
        from void.model import void_compat
        from void.model import void_parity as vp

        p = vp.VOID_PROFILE
        kw.update(
            num_inference_steps=config.steps or p.steps, pass2_steps=config.pass2_steps or p.pass2_steps,
            guidance_scale=p.guidance_scale, pass2_guidance_scale=p.pass2_guidance_scale,
            pass2_negative_prompt=p.negative_prompt, window_frames=p.window_frames,
            window_overlap=p.window_overlap_latents, window_layout="start", pass2_noise="gwf",
            noise_upscale=config.noise_warp_scale or vp.NOISE_WARP_SCALE, first_frame_apart=True,
            pass2_scheduler=void_compat.pass2_scheduler(pipe.info.get("base")),
        )
    return kw


def run_sample(pipe, config: InferConfig, inp: formats.InputSample, device, steps: int) -> dict[str, Any]:
    """Infer one sample and write its prediction (+ tuple); returns its timing record."""
    import torch

    frames, mask, fps = load_inputs(inp, config.masks)
    fit, clip, clip_mask = _prepare(config, pipe, frames, mask)
    work_h, work_w = fit.work_h, fit.work_w
    generator = torch.Generator(device=device).manual_seed(sample_seed(config.seed, inp.sample_id))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    result = pipe(clip.to(device), clip_mask, inp.prompt, generator=generator, **sampling_kwargs(config, pipe, steps))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    wall = time.perf_counter() - start
    output = fit.restore(video.from_tensor(result.videos[0][: len(frames)]))
    if config.composite:
        keep = (mask == quadmask.KEEP)[..., None]
        output = np.where(keep, frames, output)
    method = config.method_name
    if config.tuples:
        video.write_video(formats.tuple_path(config.out, method, inp.sample_id), tuple_frames(frames, mask, output), fps)
    # The prediction is written last: its presence marks the sample done for a resumed run.
    video.write_video(formats.prediction_path(config.out, method, inp.sample_id), output, fps)
    return {
        "frames": int(len(frames)),
        "height": int(frames.shape[1]),
        "width": int(frames.shape[2]),
        "working_size": [int(clip.shape[1]), work_h, work_w],
        "mask": str(inp.mask_path if not config.masks else mask_from_folder(config.masks, inp.sample_id)),
        "wall_time_s": round(wall, 4),
        "seconds_per_frame": round(wall / len(frames), 5),
        **{k: round(v, 4) for k, v in (result.timings or {}).items()},
        "seed": sample_seed(config.seed, inp.sample_id),
    }


def infer(config: InferConfig) -> int:
    """Entry point of ``void infer`` (see the module docstring)."""
    import torch
    from tqdm.auto import tqdm

    from void.pipeline import VoidPipeline

    # A VOID sequence may come without a mask of its own when --masks supplies them; without
    # --masks, that sequence fails on its own (load_inputs) and the others still run.
    inputs = formats.iter_inputs(config.input, config.samples or None, allow_missing_masks=True)
    if config.masks and not Path(config.masks).is_dir():
        raise FormatError(f"--masks {config.masks}: not a folder (expected FOLDER/<sample_id>.mp4)")
    device, dtype = _device_dtype(config)
    load_start = time.perf_counter()
    offloaded = config.offload != "none" or config.fp8_weights
    pipe = VoidPipeline.from_pretrained(
        config.model or None, device="cpu" if offloaded else device, dtype=dtype, pass2_model=config.pass2_model,
        base=config.base, pass1=config.pass1, load_pass2=config.pass2,
    )
    pipe.configure_memory(
        device, offload=config.offload, weights="fp8" if config.fp8_weights else "auto", compute_dtype=dtype,
        vae_tiling=config.vae_tiling, vae_slicing=config.vae_slicing,
    )
    load_s = time.perf_counter() - load_start
    pipe.set_progress_bar_config(disable=not config.progress, leave=False)
    steps = config.steps or int(pipe.info.get("inference_steps") or 50)
    method = config.method_name
    previous = formats.read_run_json(config.out, method)
    records: dict[str, Any] = dict(previous.get("samples", {})) if not config.overwrite else {}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    done = skipped = 0
    failures: dict[str, str] = {}
    bar = tqdm(inputs, desc=f"infer {method}", unit="video", disable=not config.progress)
    for inp in bar:
        if formats.prediction_path(config.out, method, inp.sample_id).is_file() and not config.overwrite:
            skipped += 1
            continue
        bar.set_postfix_str(inp.sample_id)
        try:
            records[inp.sample_id] = run_sample(pipe, config, inp, device, steps)
        except VoidError as exc:  # unreadable or inconsistent input: report it, go on with the rest
            if len(inputs) == 1:
                raise  # one sample: its error is the command's
            failures[inp.sample_id] = str(exc)
            continue
        done += 1
        _write_run_json(config, pipe, device, dtype, steps, records, load_s, failures)
    if done == 0 or failures:
        _write_run_json(config, pipe, device, dtype, steps, records, load_s, failures)
    print(
        f"void infer: {done} written, {skipped} skipped (already done), {len(failures)} failed -> {Path(config.out) / method}",
        file=sys.stderr,
    )
    for sample_id, reason in failures.items():
        print(f"  failed {sample_id}: {reason}", file=sys.stderr)
    return 1 if failures else 0


def method_card(config: InferConfig, pipe, steps: int) -> dict[str, Any]:
    """What a leaderboard shows about this method: which weights, which recipe, which settings."""
    info = pipe.info
    released = info.get("format") == "void-released"
    kw = sampling_kwargs(config, pipe, steps)
    card: dict[str, Any] = {
        "name": "VOID" if released else config.method_name,
        "description": (
            "VOID (Netflix, arXiv 2604.02296): released weights run by void-bench"
            + (" with VOID's own inference recipe (--void-parity)" if config.void_parity else " with void-bench's defaults")
            if released else "a void-bench model trained with `void train`"
        ),
        "weights": {
            "base": info.get("base"), "pass1": info.get("pass1_checkpoint"),
            "pass2": info.get("pass2_checkpoint") if config.pass2 else None,
        } if released else {"model": str(info.get("path", config.model))},
        "recipe": "void-parity" if config.void_parity else "void-bench",
        "passes": 2 if config.pass2 else 1,
        "steps": [kw["num_inference_steps"]] + ([kw["pass2_steps"] or kw["num_inference_steps"]] if config.pass2 else []),
        "guidance": [kw["guidance_scale"]] + ([kw["pass2_guidance_scale"] if kw["pass2_guidance_scale"] is not None
                                               else kw["guidance_scale"]] if config.pass2 else []),
        "pass2_noise": kw.get("pass2_noise", "flow") if config.pass2 else None,
        "working_size": list(_working_hw(config, pipe)),
        "memory": {"offload": config.offload, "fp8_weights": config.fp8_weights, "vae_tiling": config.vae_tiling},
    }
    if released:
        card.update(paper="https://arxiv.org/abs/2604.02296", code="https://github.com/Netflix/void-model",
                    license="see the VOID model card (weights) and Apache-2.0 (code)")
    return card


def _write_run_json(config, pipe, device, dtype, steps, records, load_s, failures=None) -> None:
    import torch

    frames = sum(r["frames"] for r in records.values())
    wall = sum(r["wall_time_s"] for r in records.values())
    data = {
        "method": config.method_name,
        "config": dataclasses.asdict(config),
        "model": str(pipe.info.get("path", config.model)),
        "model_info": pipe.info,
        "passes": 2 if config.pass2 else 1,
        "steps": sampling_kwargs(config, pipe, steps)["num_inference_steps"],
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "dtype": str(dtype).replace("torch.", ""),
        "torch": torch.__version__,
        "model_load_s": round(load_s, 3),
        "wall_time_s": round(wall, 3),  # the prediction-layout keys evaluate reads
        "frames": frames,
        "num_frames": frames,
        "num_samples": len(records),
        "card": method_card(config, pipe, steps),
        "failures": dict(failures or {}),
        "seconds_per_frame": round(wall / frames, 5) if frames else None,
        **_peak_memory(device),
        "samples": records,
    }
    formats.write_run_json(config.out, config.method_name, data)
