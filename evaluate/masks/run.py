"""``void masks predict | baseline | command``: write predicted quadmasks for every clip.

    void masks predict --input my_clips --out void_ready          # VOID's layout, for void infer
    void masks predict --input data/test --out preds --layout pred  # scored by evaluate --task masks
    void masks baseline dilated --input data/test --out preds
    void masks command --name sam-track --input data/test --out preds --cmd "python m.py {frames} {masks} {out}"

Every run writes ``OUT/<method>/run.json`` (prediction layout) or ``OUT/masks_run.json``
(VOID's layout) with per-clip wall times; a clip whose output exists is skipped unless
``--overwrite``, so a killed run resumes.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from evaluate.masks import baselines, predictor
from evaluate.masks.config import MaskBaselineConfig, MaskCommandConfig, MaskPredictConfig
from evaluate.masks.task import MaskInput, MaskTaskError, check_prediction_array, iter_mask_inputs, write_prediction, write_void_sequence
from void import __version__, atomic, formats
from void.errors import ConfigError

VOID_RUN_JSON = "masks_run.json"  # beside the sequences of VOID's layout (a file: `void infer` skips it)
WORK_DIR = ".work"

# (frames, object) -> (quadmask, extra record fields)
Producer = Callable[[MaskInput, np.ndarray, np.ndarray, float], tuple[np.ndarray, dict[str, Any]]]


def _read_json(path: Path) -> dict[str, Any]:
    """A previous run record, or {} when there is none or it cannot be read (it is rewritten)."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _run(config, method: str, produce: Producer, *, layout: str = "pred", prompt: str = "") -> int:
    from tqdm.auto import tqdm

    out = Path(config.out)
    inputs = iter_mask_inputs(config.input, config.samples or None)
    if layout == "void":
        missing = [i.sample_id for i in inputs if not (i.prompt or prompt)]
        if missing:
            raise ConfigError(
                f"VOID's layout needs a prompt (the scene after removal) and {config.input} has none for "
                f"{', '.join(missing[:5])}: pass --prompt \"...\""
            )
        run_path = out / VOID_RUN_JSON
        done_path = lambda i: out / i.sample_id / formats.VOID_PROMPT  # written last  # noqa: E731
    else:
        run_path = formats.run_json_path(out, method)
        done_path = lambda i: formats.prediction_path(out, method, i.sample_id)  # noqa: E731
    previous = _read_json(run_path)
    records: dict[str, dict[str, Any]] = dict(previous.get("samples") or {})
    todo = [i for i in inputs if config.overwrite or not done_path(i).is_file()]
    bar = tqdm(todo, desc=method, unit="clip", disable=not config.progress, dynamic_ncols=True)
    if len(todo) < len(inputs):
        bar.write(f"{len(inputs) - len(todo)} of {len(inputs)} clips already in {out}; skipping them (--overwrite redoes them)")
    for inp in bar:
        t0 = time.perf_counter()
        frames, obj, fps = inp.load()
        mask, extra = produce(inp, frames, obj, fps)
        check_prediction_array(mask, obj.shape, f"{method} on {inp.sample_id}")
        if layout == "void":
            write_void_sequence(out, inp, frames, mask, fps, inp.prompt or prompt)
        else:
            write_prediction(out, method, inp.sample_id, mask, fps)
        records[inp.sample_id] = {"frames": int(obj.shape[0]), "wall_time_s": time.perf_counter() - t0, **extra}
        wall = sum(r["wall_time_s"] for r in records.values())
        n_frames = sum(r["frames"] for r in records.values())
        atomic.write_json(
            run_path,
            {
                "method": method,
                "task": "masks",
                "config": asdict(config),
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "void_bench_version": __version__,
                "num_samples": len(records),
                "num_frames": n_frames,
                "wall_time_s": wall,
                "seconds_per_frame": wall / n_frames if n_frames else None,
                "samples": {k: records[k] for k in sorted(records)},
            },
        )
    where = out if layout == "void" else out / method
    print(f"{method}: {len(inputs)} clips in {where}")
    return 0


def predict(config: MaskPredictConfig) -> int:
    params = predictor.PredictorParams(change_threshold=config.change_threshold, contact_px=config.contact_px)

    def produce(inp, frames, obj, fps):
        pred = predictor.predict(frames, obj, params)
        return pred.mask, pred.info

    return _run(config, config.method, produce, layout=config.layout, prompt=config.prompt)


def run_mask_baseline(config: MaskBaselineConfig) -> int:
    if config.layout == "bench":
        return _baseline_submission(config)

    def produce(inp, frames, obj, fps):
        if config.name == "object-only":
            return baselines.object_only(obj), {}
        if config.name == "dilated":
            return baselines.dilated(obj, config.dilate_px), {}
        if inp.sample is None:
            raise MaskTaskError(f"oracle copies each clip's exact {formats.MASK}, which only our dataset directories have; {inp.sample_id} has none")
        return inp.sample.load_mask(strict=True), {}

    return _run(config, config.method, produce)


BASELINE_PARAMETERS = {
    "object-only": lambda c: {"affected": "none: the object's mask only, as 0"},
    "dilated": lambda c: {"dilate_px": c.dilate_px},
    "oracle": lambda c: {"copies": "the exact quadmask (the ceiling; not a predictor)"},
}


def _baseline_submission(config: MaskBaselineConfig) -> int:
    """A baseline laid out as a mask submission: one prediction run per subset, then the card."""
    import platform
    from dataclasses import replace

    from void import bench_format

    bench = bench_format.Bench(config.input)
    out = Path(config.out)
    wall, frames = 0.0, 0
    for subset in bench.subsets:
        # the subset is the "method" folder of the prediction layout: OUT/<subset>/<sample_id>.mp4
        run_mask_baseline(replace(config, input=str(bench.root / subset), method=subset, layout="pred"))
        run = _read_json(formats.run_json_path(out, subset))
        wall += float(run.get("wall_time_s") or 0.0)
        frames += int(run.get("num_frames") or 0)
    card = {
        "name": config.method,
        "version": __version__,
        "link": f"void-bench {__version__}, docs/mask-track.md (baseline {config.name})",
        "parameters": {"baseline": config.name, **BASELINE_PARAMETERS[config.name](config)},
        "hardware": f"{platform.machine()} {platform.system()}, CPU only",
        "runtime": f"{wall / frames:.4f} s per frame ({frames} frames)" if frames else "n/a",
        "mask_input": "object-mask",
    }
    atomic.write_json(out / "method.json", card)
    print(f"{config.method}: mask submission for {bench.version} in {out} (score it with `void bench score --task masks`)")
    return 0


def run_mask_command(config: MaskCommandConfig) -> int:
    from evaluate.baselines.command import run_command

    out = Path(config.out)

    def produce(inp, frames, obj, fps):
        run = run_command(
            config.cmd,
            sample_id=inp.sample_id,
            frames=frames,
            fill=obj,
            fps=fps,
            work=out / config.method / WORK_DIR / inp.sample_id,
            timeout_s=config.timeout_s,
            keep_work=config.keep_work,
        )
        # Channel 0, as VOID's loader reads a mask; values are checked by the caller.
        mask = np.ascontiguousarray(run.frames[..., 0])
        check_prediction_array(mask, obj.shape, f"the output of --cmd for {inp.sample_id} ({config.cmd})")
        return mask, {"command_wall_time_s": run.wall_time_s, "peak_memory_mb": run.peak_memory_mb}

    result = _run(config, config.method, produce)
    work = out / config.method / WORK_DIR
    if work.is_dir() and not any(work.iterdir()):
        work.rmdir()
    return result
