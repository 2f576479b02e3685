"""``void baseline NAME``: run a baseline over a dataset dir or VOID's inference layout.

    void baseline opencv-inpaint --input data/test --out preds
    void baseline clean-plate --input sample/ --out preds          # VOID's layout works too
    void baseline command --name propainter --input data/test --out preds --cmd "..."

Writes the prediction layout (``void.formats``): ``PRED/<method>/<sample_id>.mp4``, the
``_tuple.mp4`` preview (input | mask | output) and ``run.json`` with wall time, seconds per
frame and peak memory, overall and per sample. A sample whose output exists is skipped
(``--overwrite`` redoes it) and ``run.json`` is rewritten after every sample, so a killed
run resumes where it stopped and its timings still cover every sample.
"""

from __future__ import annotations

import resource
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from evaluate.baselines import classic, registry
from evaluate.config import BaselineConfig
from void import __version__, formats, quadmask, video
from void.errors import ConfigError

DEFAULT_FPS = 12.0
WORK_DIR = ".work"  # hidden: not a prediction, not a method folder


@dataclass
class Job:
    """What a registered baseline's ``run(job)`` gets for one input sample."""

    config: BaselineConfig
    inp: formats.InputSample
    frames: np.ndarray  # (T, H, W, 3) uint8
    mask: np.ndarray  # (T, H, W) quadmask
    fill: np.ndarray  # (T, H, W) bool: the pixels to fill (--mask, --dilate-px)
    fps: float
    work: Path  # a private folder for files the method needs (hidden from scoring)


def _process_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _load_input(inp: formats.InputSample, max_frames: int) -> tuple[np.ndarray, np.ndarray, float]:
    frames, fps = video.read_video_fps(inp.video_path)
    mask = video.read_mask(inp.mask_path, strict=True)
    if mask.shape != frames.shape[:3]:
        raise formats.FormatError(
            f"{inp.mask_path}: mask is {mask.shape[0]} frames of {mask.shape[2]}x{mask.shape[1]}, but "
            f"{inp.video_path} is {frames.shape[0]} frames of {frames.shape[2]}x{frames.shape[1]}"
        )
    if max_frames:
        frames, mask = frames[:max_frames], mask[:max_frames]
    if not fps and inp.sample is not None:
        fps = float(inp.sample.metadata().get("fps") or 0.0)
    return frames, mask, fps or DEFAULT_FPS


def _tuple_frames(frames: np.ndarray, mask: np.ndarray, output: np.ndarray) -> np.ndarray:
    return np.concatenate([frames, quadmask.colorize(mask), output], axis=2)


def process_sample(config: BaselineConfig, inp: formats.InputSample, pred_root: Path) -> dict[str, Any]:
    """Run the baseline on one input and write its prediction; returns the run record."""
    t0 = time.perf_counter()
    frames, mask, fps = _load_input(inp, config.max_frames)
    fill = classic.fill_mask(mask, config.mask, config.dilate_px)
    if config.name not in registry.BASELINES:  # pragma: no cover - BaselineConfig validates the name
        raise ConfigError(f"unknown baseline {config.name!r}")
    job = Job(config, inp, frames, mask, fill, fps, pred_root / config.method / WORK_DIR / inp.sample_id)
    result = registry.load(config.name)(job)
    output, record = result if isinstance(result, tuple) else (result, {})
    video.write_video(formats.prediction_path(pred_root, config.method, inp.sample_id), output, fps)
    wall = time.perf_counter() - t0
    if config.write_tuple:
        video.write_video(formats.tuple_path(pred_root, config.method, inp.sample_id), _tuple_frames(frames, mask, output), fps)
    record = {
        "frames": int(frames.shape[0]),
        "height": int(frames.shape[1]),
        "width": int(frames.shape[2]),
        "fps": fps,
        "wall_time_s": wall,
        "peak_memory_mb": _process_peak_mb(),
        **record,
    }
    return record


def _run_json(config: BaselineConfig, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    wall = sum(r["wall_time_s"] for r in records.values())
    frames = sum(r["frames"] for r in records.values())
    peaks = [r["peak_memory_mb"] for r in records.values() if r.get("peak_memory_mb") is not None]
    return {
        "method": config.method,
        "baseline": config.name,
        "config": asdict(config),
        "input": str(config.input),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "void_bench_version": __version__,
        "num_samples": len(records),
        "num_frames": frames,
        "wall_time_s": wall,
        "seconds_per_frame": wall / frames if frames else None,
        "peak_memory_mb": max(peaks) if peaks else None,
        "peak_memory_source": (
            "peak RSS of the command's process tree (wait4)" if config.name == "command" else "peak RSS of the baseline process (ru_maxrss)"
        ),
        "samples": {k: records[k] for k in sorted(records)},
    }


def run_baseline(config: BaselineConfig) -> int:
    from tqdm.auto import tqdm

    pred_root = Path(config.out)
    inputs = formats.iter_inputs(config.input, config.samples or None)
    if config.name == "oracle-hidden":
        lacking = [i.sample_id for i in inputs if i.sample is None or not i.sample.video_path("hidden").is_file()]
        if lacking:
            raise ConfigError(
                f"oracle-hidden copies each sample's {formats.RGB_HIDDEN}, which only our dataset directories have; "
                f"{config.input} has none for: {', '.join(lacking[:5])}{' ...' if len(lacking) > 5 else ''}"
            )

    previous = formats.read_run_json(pred_root, config.method)
    if previous.get("baseline") not in (None, config.name):
        raise ConfigError(
            f"{formats.run_json_path(pred_root, config.method)}: this folder holds {previous['baseline']} predictions; "
            f"choose another --name for {config.name}"
        )
    records: dict[str, dict[str, Any]] = dict(previous.get("samples") or {})
    todo = [
        i for i in inputs if config.overwrite or not formats.prediction_path(pred_root, config.method, i.sample_id).is_file()
    ]
    done = len(inputs) - len(todo)
    bar = tqdm(todo, desc=config.method, unit="video", disable=not config.progress, dynamic_ncols=True)
    if done:
        bar.write(f"{done} of {len(inputs)} samples already in {pred_root / config.method}; skipping them (--overwrite redoes them)")
    for inp in bar:
        records[inp.sample_id] = process_sample(config, inp, pred_root)
        formats.write_run_json(pred_root, config.method, _run_json(config, records))
    work = pred_root / config.method / WORK_DIR
    if work.is_dir() and not any(work.iterdir()):
        work.rmdir()
    wanted = {i.sample_id for i in inputs}
    summary = _run_json(config, {k: v for k, v in records.items() if k in wanted})
    spf = summary["seconds_per_frame"]
    print(
        f"{config.method}: {len(inputs)} samples in {pred_root / config.method}"
        + (f", {spf:.4f} s/frame, peak {summary['peak_memory_mb']:.0f} MB" if spf is not None and summary["peak_memory_mb"] else "")
    )
    return 0
