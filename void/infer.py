"""``void infer``: remove objects (and their interactions) from videos with a trained model.

Reads our dataset dirs and VOID's inference layout (:func:`void.formats.iter_inputs`), fits
every video to the model's working size (keep aspect and pad, or stretch; masks are reduced
conservatively so thin objects survive), runs :class:`void.pipeline.VoidPipeline` (pass 1,
optionally pass 2) and writes the prediction layout::

    PRED/<method>/<sample>.mp4          same size, length and frame rate as the input
    PRED/<method>/<sample>_tuple.mp4    input | mask | output
    PRED/<method>/run.json              method, config, model, wall time, s/frame, peak memory

Samples whose output exists are skipped (a killed run resumes) unless ``--overwrite``.
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


def load_inputs(inp: formats.InputSample) -> tuple[np.ndarray, np.ndarray, float]:
    """Frames, quadmask (exact values required) and fps of one input, checked against each other."""
    frames, fps = video.read_video_fps(inp.video_path)
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


def run_sample(pipe, config: InferConfig, inp: formats.InputSample, device, steps: int) -> dict[str, Any]:
    """Infer one sample and write its prediction (+ tuple); returns its timing record."""
    import torch

    frames, mask, fps = load_inputs(inp)
    work_h, work_w = _working_hw(config, pipe)
    fit = Fit.make(frames.shape[1], frames.shape[2], work_h, work_w, config.fit)
    clip = video.to_tensor(fit.video(frames)).unsqueeze(0)
    clip_mask = torch.from_numpy(fit.mask(mask)).unsqueeze(0)
    generator = torch.Generator(device=device).manual_seed(sample_seed(config.seed, inp.sample_id))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    result = pipe(
        clip.to(device),
        clip_mask,
        inp.prompt,
        num_inference_steps=steps,
        pass2=config.pass2,
        pass2_steps=config.pass2_steps,
        guidance_scale=config.guidance_scale,
        pass2_guidance_scale=config.pass2_guidance_scale,
        generator=generator,
        window_frames=config.window_frames,
        window_overlap=config.window_overlap,
        flow_method=config.flow,
        noise_upscale=config.noise_upscale,
    )
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    wall = time.perf_counter() - start
    output = fit.restore(video.from_tensor(result.videos[0]))
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

    inputs = formats.iter_inputs(config.input, config.samples or None)
    device, dtype = _device_dtype(config)
    load_start = time.perf_counter()
    pipe = VoidPipeline.from_pretrained(config.model, device=device, dtype=dtype, pass2_model=config.pass2_model)
    load_s = time.perf_counter() - load_start
    pipe.set_progress_bar_config(disable=not config.progress, leave=False)
    steps = config.steps or int(pipe.info.get("inference_steps") or 50)
    method = config.method_name
    previous = formats.read_run_json(config.out, method)
    records: dict[str, Any] = dict(previous.get("samples", {})) if not config.overwrite else {}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    done = skipped = 0
    bar = tqdm(inputs, desc=f"infer {method}", unit="video", disable=not config.progress)
    for inp in bar:
        if formats.prediction_path(config.out, method, inp.sample_id).is_file() and not config.overwrite:
            skipped += 1
            continue
        bar.set_postfix_str(inp.sample_id)
        records[inp.sample_id] = run_sample(pipe, config, inp, device, steps)
        done += 1
        _write_run_json(config, pipe, device, dtype, steps, records, load_s)
    if done == 0:
        _write_run_json(config, pipe, device, dtype, steps, records, load_s)
    print(
        f"void infer: {done} written, {skipped} skipped (already done) -> {Path(config.out) / method}",
        file=sys.stderr,
    )
    return 0


def _write_run_json(config, pipe, device, dtype, steps, records, load_s) -> None:
    import torch

    frames = sum(r["frames"] for r in records.values())
    wall = sum(r["wall_time_s"] for r in records.values())
    data = {
        "method": config.method_name,
        "config": dataclasses.asdict(config),
        "model": str(pipe.info.get("path", config.model)),
        "model_info": pipe.info,
        "passes": 2 if config.pass2 else 1,
        "steps": steps,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "dtype": str(dtype).replace("torch.", ""),
        "torch": torch.__version__,
        "model_load_s": round(load_s, 3),
        "wall_time_s": round(wall, 3),  # the prediction-layout keys evaluate reads
        "frames": frames,
        "seconds_per_frame": round(wall / frames, 5) if frames else None,
        **_peak_memory(device),
        "samples": records,
    }
    formats.write_run_json(config.out, config.method_name, data)
