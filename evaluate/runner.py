"""``void evaluate``: score every method under a predictions directory against ground truth.

    void evaluate --data data/test --pred preds --out results/run1
    void evaluate --data data/test --pred preds --out results/run1 --methods ours,clean-plate
    void evaluate ... --executor ray --ray-address auto        # on a Ray cluster

Steps: (1) read the dataset's samples and their sizes; (2) reuse finished scores, check
every other prediction (missing, unreadable, wrong length, wrong size) and stop with a
listing unless ``--allow-missing``; (3) score the rest - one task per sample, so its ground
truth is decoded once, in a process pool or on Ray - writing each (method, sample) part as
soon as it is back; (4) assemble the tables and the summary; (5) print a per-method table.

Scoring is deterministic: the same inputs give the same numbers whichever executor, worker
count or chunking ran them. On a Ray cluster the workers read DATA and PRED by the paths
given here, so both must be on storage every node mounts at the same place; results are
written by this process only.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evaluate import inputs, results
from evaluate.config import EvaluateConfig
from evaluate.metrics import lpips as lpips_metric
from evaluate.metrics.registry import SUITE_VERSION, score_video
from void import formats, video
from void.errors import VoidError
from void.executors import run_tasks


class EvaluationError(VoidError):
    """Predictions that cannot be scored (and ``--allow-missing`` was not given)."""


@dataclass(frozen=True)
class MethodJob:
    method: str
    pred_path: str
    fingerprint: dict


@dataclass(frozen=True)
class ScoreTask:
    """One sample and the methods still to score on it: its ground truth is decoded once."""

    sample_id: str
    family: str
    sample_dir: str
    expected: inputs.Shape
    jobs: tuple[MethodJob, ...]
    resize: bool
    lpips: bool
    strict_mask: bool = True
    single_thread: bool = False


def score_sample(task: ScoreTask) -> dict[str, Any]:
    """Score every pending method on one sample. Runs in a worker: returns data, never
    touches RESULTS (the driver writes the parts, so Ray workers need no shared output).

    Input problems come back as values rather than raised, so the executor does not retry
    what a retry cannot fix: ``{"data_error": msg}`` for broken ground truth, else
    ``{"parts": [...], "problems": [(method, path, msg), ...]}``.
    """
    if task.single_thread:
        import cv2

        # One OpenCV thread per worker: the pool already uses every core, and oversubscribed
        # threads only add switching.
        cv2.setNumThreads(1)
        video.set_decode_threads(1)
    ref = formats.SampleRef(Path(task.sample_dir), task.sample_id)
    try:
        removed, hidden, mask = inputs.load_ground_truth(ref, task.expected, strict_mask=task.strict_mask)
    except VoidError as exc:
        return {"data_error": str(exc)}
    parts, problems = [], []
    for job in task.jobs:
        t0 = time.perf_counter()
        try:
            pred = inputs.load_prediction(Path(job.pred_path), task.expected, resize=task.resize)
        except VoidError as exc:
            problems.append((job.method, job.pred_path, str(exc).split(": ", 1)[-1]))
            continue
        parts.append(
            {
                "method": job.method,
                "sample_id": task.sample_id,
                "family": task.family,
                "rows": score_video(pred, removed, hidden, mask, lpips=task.lpips),
                "frames": int(pred.shape[0]),
                "has_hidden": hidden is not None,
                "seconds": time.perf_counter() - t0,
                "fingerprint": job.fingerprint,
            }
        )
    return {"parts": parts, "problems": problems}


def _select_samples(ds: formats.Dataset, wanted: list[str]) -> list[str]:
    ids = ds.sample_ids()
    if not ids:
        raise formats.FormatError(f"{ds.root}: the dataset lists no samples")
    if wanted:
        unknown = sorted(set(wanted) - set(ids))
        if unknown:
            raise EvaluationError(f"--samples: not in {ds.root}: {', '.join(unknown)}")
        ids = [s for s in ids if s in set(wanted)]
    return ids


def _select_methods(pred_root: Path, wanted: list[str]) -> list[str]:
    found = formats.list_methods(pred_root)
    if wanted:
        unknown = [m for m in wanted if m not in found]
        if unknown:
            raise EvaluationError(
                f"--methods: no method folder {', '.join(unknown)} under {pred_root} (a method folder holds "
                f"<sample_id>.mp4 predictions; found: {', '.join(found) or 'none'})"
            )
        return list(dict.fromkeys(wanted))
    if not found:
        raise EvaluationError(f"{pred_root}: no method folders (expected {pred_root}/<method>/<sample_id>.mp4)")
    return found


def _fingerprint(ref: formats.SampleRef, pred_path: Path, config: EvaluateConfig, lpips: bool) -> dict:
    return {
        "suite": SUITE_VERSION,
        "lpips": lpips,
        "resize": config.resize,
        "pred": results.file_stamp(pred_path),
        "truth": [results.file_stamp(p) for p in (ref.video_path("removed"), ref.video_path("hidden"), ref.mask_path)],
    }


@dataclass
class Plan:
    """One ``void evaluate`` run between its checks and its tables: what is left to score."""

    config: EvaluateConfig
    ds: formats.Dataset
    sample_ids: list[str]
    methods: list[str]
    unavailable: dict[str, str]
    parts: dict[tuple[str, str], dict]
    problems: dict[str, list[inputs.Problem]]
    tasks: list[ScoreTask]
    data_errors: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)


def plan(config: EvaluateConfig, *, checked: bool = False) -> Plan:
    """Steps 1-2: samples, finished parts, checked predictions, the tasks still to run.

    ``checked``: the caller has already checked every prediction (``void bench score``
    does, with the submission's own messages), so they are not decoded a second time.
    """
    pred_root, out = Path(config.pred), Path(config.out)

    # 1. samples, their sizes and families
    ds = formats.Dataset(config.data)
    sample_ids = _select_samples(ds, config.samples)
    refs = {sid: ds.sample(sid) for sid in sample_ids}
    expected = {sid: inputs.ground_truth_shape(ref) for sid, ref in refs.items()}
    families = {sid: inputs.family(ref) for sid, ref in refs.items()}
    methods = _select_methods(pred_root, config.methods)

    lpips_ok, lpips_reason = lpips_metric.status() if config.lpips else (False, "disabled with --no-lpips")
    unavailable = {} if lpips_ok else {"lpips": lpips_reason}

    # 2. finished scores are reused; every other prediction is checked before hours of scoring
    parts: dict[tuple[str, str], dict] = {}
    pending: dict[tuple[str, str], MethodJob] = {}
    for method in methods:
        for sid in sample_ids:
            pred_path = formats.prediction_path(pred_root, method, sid)
            fp = _fingerprint(refs[sid], pred_path, config, lpips_ok)
            done = None if config.rescore else results.read_part(out, method, sid, fp)
            if done is not None:
                parts[(method, sid)] = done
            else:
                pending[(method, sid)] = MethodJob(method, str(pred_path), fp)
    if checked:
        problems: dict[str, list[inputs.Problem]] = {m: [] for m in methods}
    else:
        problems = inputs.check_predictions(
            pred_root, methods, expected, list(pending), resize=config.resize, workers=config.num_workers
        )
    if any(problems.values()) and not config.allow_missing:
        raise EvaluationError(
            f"predictions under {pred_root} that cannot be scored:\n{inputs.format_listing(problems)}\n"
            "fix them, or pass --allow-missing to score the rest and record these in summary.json"
        )
    for probs in problems.values():
        for p in probs:
            pending.pop((p.method, p.sample_id), None)
    if parts:
        print(f"resuming: {len(parts)} of {len(parts) + len(pending)} (method, sample) scores already in {out / results.PARTS_DIR}", file=sys.stderr)
    tasks = [
        ScoreTask(
            sid, families[sid], str(refs[sid].root), expected[sid],
            tuple(pending[(m, sid)] for m in methods if (m, sid) in pending),
            # our datasets store masks losslessly: any stray value is a broken file; VOID's
            # own layout may hold lossy masks, which are quantized with VOID's thresholds
            config.resize, lpips_ok, strict_mask=bool(ds.header),
        )
        for sid in sample_ids
        if any((m, sid) in pending for m in methods)
    ]
    return Plan(config, ds, sample_ids, methods, unavailable, parts, problems, tasks)


def run(plans: list[Plan], *, executor: str = "local", workers: int = 1, ray_address: str | None = None, progress: bool = True) -> None:
    """Step 3 for several plans in one pool (``void bench score`` runs its subsets together):
    each part is written to its plan's results as soon as it is back."""
    jobs = [(p, t) for p in plans for t in p.tasks]
    # longest first: the pool's last task is then a short one, so no core idles at the end
    jobs.sort(key=lambda j: -j[1].expected.num_frames * j[1].expected.height * j[1].expected.width * len(j[1].jobs))
    if executor == "local":
        workers = max(1, min(workers, len(jobs)))
    tasks = [replace(t, single_thread=workers > 1) for _, t in jobs]
    for res in run_tasks(
        score_sample,
        tasks,
        executor=executor,
        workers=workers,
        ray_address=ray_address,
        desc="scoring",
        unit="sample",
        progress=progress,
    ):
        p = jobs[res.index][0]
        out = Path(p.config.out)
        if not res.ok:
            p.crashes.append(f"sample {res.task.sample_id}:\n{res.error}")
            continue
        if "data_error" in res.value:
            p.data_errors.append(res.value["data_error"])
            continue
        for part in res.value["parts"]:
            results.write_part(out, part)
            p.parts[(part["method"], part["sample_id"])] = results.read_part(out, part["method"], part["sample_id"])
        for method, path, message in res.value["problems"]:
            p.problems[method].append(inputs.Problem(method, res.task.sample_id, path, message))


def finish(p: Plan, *, quiet: bool = False) -> dict:
    """Steps 4-5: the tables and summary of one plan; returns the summary."""
    config, pred_root, out = p.config, Path(p.config.pred), Path(p.config.out)
    if p.crashes:
        raise RuntimeError("scoring crashed (a bug; finished parts are kept):\n" + "\n".join(p.crashes))
    if p.data_errors:
        raise formats.FormatError("ground truth that cannot be used:\n" + "\n".join(f"  {e}" for e in sorted(set(p.data_errors))))
    if any(p.problems.values()) and not config.allow_missing:
        raise EvaluationError(
            f"predictions under {pred_root} that cannot be scored:\n{inputs.format_listing(p.problems)}\n"
            "finished scores are kept; fix these or pass --allow-missing"
        )

    # 4. tables and summary from the parts of this selection
    unavailable = dict(p.unavailable)
    chosen = [p.parts[k] for k in sorted(p.parts)]
    if chosen and not any(c.get("has_hidden", True) for c in chosen):
        unavailable["cf_margin"] = unavailable["cf_win"] = f"{p.ds.root} has no {formats.RGB_HIDDEN}: the counterfactual score needs it"
    df = results.results_frame(chosen)
    runs = {m: formats.read_run_json(pred_root, m) for m in p.methods}
    summary = results.summarize(
        df,
        p.methods,
        runs,
        {m: [str(x) for x in probs] for m, probs in p.problems.items()},
        unavailable,
        data=str(config.data),
        pred=str(config.pred),
    )
    results.write_results(out, df, summary)

    # 5. the per-method table
    if not quiet:
        print(results.summary_table(summary))
        for name, reason in unavailable.items():
            print(f"{name} not computed: {reason}", file=sys.stderr)
        print(f"results written to {out}", file=sys.stderr)
    return summary


def score(config: EvaluateConfig) -> int:
    if config.task == "masks":
        from evaluate.masks.score import score_masks

        return score_masks(config)
    p = plan(config)
    run([p], executor=config.executor, workers=config.num_workers, ray_address=config.ray_address, progress=config.progress)
    finish(p)
    return 0
