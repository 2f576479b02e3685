"""``void bench baselines``: the reference methods on a benchmark build, one results bundle each.

    void bench baselines --bench bench/v1 --out bundles/ --model runs/quad
    void bench baselines --bench bench/v1 --out bundles/ --skip void-quad
    void leaderboard --bundles bundles/*.zip --bench bench/v1 --out site/

Steps, per baseline (``config.BENCH_BASELINES``: the registered in-process baselines of
``void baseline`` and our quadmask model run by ``void infer``): (1) run it over every subset
of the build into a submission folder, ``OUT/submissions/<baseline>/<subset>/<clip>.mp4``,
through the stage's own entry function; (2) write its card, ``method.json``, with the
settings used and the runtime measured by that run; (3) score the submission with ``void
bench score`` into ``OUT/<baseline>.zip``. A baseline whose bundle exists is kept, and the
runs skip clips already written, so a killed run resumes with the same command.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from evaluate.config import OURS, BaselineConfig, BenchBaselinesConfig, BenchScoreConfig
from void import __version__, atomic, bench_format, formats

SUBMISSIONS = "submissions"
LINK = "void-bench docs/benchmark.md#baselines"
WHAT = {
    "identity": "the input unchanged: the floor every method must beat",
    "opencv-inpaint": "per-frame OpenCV Telea inpainting of the dilated object mask",
    "clean-plate": "temporal median of the nearest frames where a pixel is unmasked (static camera), Telea where never seen",
    "oracle-hidden": "not a method: the rgb_hidden render, the best any pixel-only removal could do",
    OURS: "our quadmask-conditioned video diffusion model (void infer), as trained",
}


def _hardware() -> str:
    return f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPU cores, no GPU used"


def _runtime(sub: Path, subsets: list[str]) -> tuple[str, dict[str, float]]:
    """Seconds per clip and per frame from the runs' own records (``run.json``)."""
    walls, frames = [], 0
    for subset in subsets:
        for rec in (formats.read_run_json(sub, subset).get("samples") or {}).values():
            walls.append(float(rec["wall_time_s"]))
            frames += int(rec.get("frames") or rec.get("num_frames") or 0)
    total = sum(walls)
    per_clip = total / len(walls) if walls else float("nan")
    per_frame = total / frames if frames else float("nan")
    text = f"{per_clip:.2f} s per clip ({per_frame * 1000:.1f} ms per frame) over {len(walls)} clips"
    return text, {"wall_s": round(total, 3), "s_per_clip": round(per_clip, 4), "s_per_frame": round(per_frame, 6)}


def _run_classic(name: str, bench: bench_format.Bench, sub: Path, config: BenchBaselinesConfig) -> dict[str, Any]:
    from evaluate.baselines import run_baseline

    settings = None
    for subset in bench.subsets:
        # the subset as the method folder: SUB/<subset>/<clip>.mp4 is the submission layout
        bc = BaselineConfig(name=name, input=str(bench.root / subset), out=str(sub), method=subset,
                            write_tuple=False, progress=config.progress)
        run_baseline(bc)
        settings = bc
    if name in ("identity", "oracle-hidden"):
        return {}
    keep = {"opencv-inpaint": ("mask", "dilate_px", "inpaint_radius"), "clean-plate": ("mask", "dilate_px", "neighbors", "inpaint_radius")}
    return {k: getattr(settings, k) for k in keep.get(name, ())}


def _run_ours(bench: bench_format.Bench, sub: Path, config: BenchBaselinesConfig) -> dict[str, Any]:
    from void.config import InferConfig
    from void.infer import infer

    for subset in bench.subsets:
        infer(InferConfig(input=str(bench.root / subset), out=str(sub), model=config.model, method=subset,
                          tuples=False, progress=config.progress))
    info = {}
    model_json = next((p for p in (Path(config.model) / "void_model.json", Path(config.model) / "model" / "void_model.json") if p.is_file()), None)
    if model_json is not None:
        meta = json.loads(model_json.read_text(encoding="utf-8"))
        info = {k: meta[k] for k in ("mask_encoding", "sample_size", "num_parameters", "train_steps", "inference_steps") if k in meta}
    return {"model": str(Path(config.model).resolve()), **info}


def _card(name: str, parameters: dict[str, Any], sub: Path, subsets: list[str]) -> dict[str, Any]:
    runtime, measured = _runtime(sub, subsets)
    return {
        "name": name,
        "version": __version__,
        "link": LINK,
        "description": WHAT[name],
        "parameters": {**parameters, "runtime_measured": measured},
        "hardware": _hardware(),
        "runtime": runtime,
        # the classic baselines fill the object's pixels (quadmask 0 and 63); ours reads all four values
        "mask_input": "quadmask" if name == OURS else "object-mask",
    }


def run_bench_baselines(config: BenchBaselinesConfig) -> int:
    from evaluate.submission import score_submission

    bench = bench_format.Bench(config.bench)
    bench.checksums()  # refuses an unfinished build before hours of work
    out = Path(config.out)
    made = []
    for name in config.baselines:
        bundle = out / f"{name}.zip"
        if bundle.is_file() and not config.overwrite:
            print(f"bench baselines: {bundle} exists; keeping it (--overwrite redoes it)", file=sys.stderr)
            made.append(bundle)
            continue
        t0 = time.perf_counter()
        sub = out / SUBMISSIONS / name
        # 1. the videos, by the stage's own entry function
        parameters = _run_ours(bench, sub, config) if name == OURS else _run_classic(name, bench, sub, config)
        # 2. the card
        atomic.write_json(sub / "method.json", _card(name, parameters, sub, bench.subsets))
        # 3. the bundle
        score_submission(BenchScoreConfig(bench=str(bench.root), pred=str(sub), out=str(bundle), workers=config.workers,
                                          previews=config.previews, progress=config.progress))
        made.append(bundle)
        print(f"bench baselines: {name} -> {bundle} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print("\n".join(str(b) for b in made))
    return 0
