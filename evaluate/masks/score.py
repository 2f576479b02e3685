"""``void evaluate --task masks``: score predicted quadmasks against the exact ones.

    void evaluate --task masks --data data/test --pred mask_preds --out results/masks

Reads ``PRED/<method>/<sample_id>.mp4`` quadmask videos, checks each (it must decode, have
the clip's frame count and size, and hold only 0/63/127/255: a lossy file is refused, not
rounded), scores it (``evaluate.masks.metrics``) and writes the removal track's results
layout (``evaluate.results``): per-(method, clip) parts that a rerun reuses, the long
table ``results.parquet``/``.csv`` (method, sample_id, family, metric, region, value,
higher_is_better), ``methods.csv`` and ``summary.json`` with per-method and per-family
means and 95% bootstrap intervals over clips.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluate import results
from evaluate.config import EvaluateConfig
from evaluate.masks import metrics
from evaluate.masks.task import MaskTaskError, first_contact, load_prediction
from void import deps, formats
from void.errors import ConfigError, VoidError
from void.executors import run_tasks

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 0
# The columns of the table printed at the end (metric/region keys of the summary).
HEADLINE = (
    ("iou_rm", "iou/remove"), ("iou_ov", "iou/overlap"), ("iou_aff", "iou/affected"), ("iou_chg", "iou/changed"),
    ("prec", "precision/changed"), ("recall", "recall/changed"), ("bound_f", "boundary_f/changed"),
    ("pre_rec", "precontact_recall/changed"), ("stable", "stability/all"),
)  # fmt: skip


class MaskScoringError(VoidError):
    """Predicted masks that cannot be scored (and ``--allow-missing`` was not given)."""


@dataclass(frozen=True)
class MaskJob:
    method: str
    pred_path: str
    fingerprint: dict


@dataclass(frozen=True)
class MaskScoreTask:
    sample_id: str
    family: str
    sample_dir: str
    strict: bool
    jobs: tuple[MaskJob, ...]


def score_clip(task: MaskScoreTask) -> dict[str, Any]:
    """Score every pending method on one clip (runs in a worker; returns data, writes nothing)."""
    ref = formats.SampleRef(Path(task.sample_dir), task.sample_id)
    try:
        truth = ref.load_mask(strict=task.strict)
    except VoidError as exc:
        return {"data_error": str(exc)}
    contact = first_contact(ref)
    parts, problems = [], []
    for job in task.jobs:
        t0 = time.perf_counter()
        try:
            pred = load_prediction(Path(job.pred_path), truth.shape)
        except MaskTaskError as exc:
            problems.append((job.method, job.pred_path, str(exc)))
            continue
        parts.append(
            {
                "method": job.method,
                "sample_id": task.sample_id,
                "family": task.family,
                "rows": metrics.score_mask(pred, truth, contact),
                "frames": int(pred.shape[0]),
                "first_contact_frame": contact,
                "seconds": time.perf_counter() - t0,
                "fingerprint": job.fingerprint,
            }
        )
    return {"parts": parts, "problems": problems}


def results_frame(parts: list[dict[str, Any]]):
    """The long table in the removal track's columns (``evaluate.results.COLUMNS``)."""
    pd = deps.require("pandas")
    records = [
        (p["method"], p["sample_id"], p["family"], m, r, float(v), metrics.METRICS[m].higher_is_better)
        for p in sorted(parts, key=lambda p: (p["method"], p["sample_id"]))
        for m, r, v in p["rows"]
    ]
    df = pd.DataFrame.from_records(records, columns=list(results.COLUMNS))
    return df.astype({"value": "float64", "higher_is_better": bool})


def _intervals(df, method: str, family: str | None) -> dict[str, dict[str, float | int | None]]:
    """metric/region -> mean, 95% bootstrap interval over clips, number of defined clips."""
    import numpy as np

    # The bootstrap has one home, the leaderboard's statistics (imported here, not at the
    # top: the leaderboard package itself reads evaluate's results contract).
    from leaderboard.stats import mean_ci, rng_for

    sub = df[df["method"] == method]
    if family is not None:
        sub = sub[sub["family"] == family]
    if not len(sub):
        return {}
    wide = sub.assign(key=sub["metric"] + "/" + sub["region"]).pivot(index="sample_id", columns="key", values="value")
    keys = [f"{m}/{r}" for m, spec in metrics.METRICS.items() for r in spec.regions if f"{m}/{r}" in wide.columns]
    mean, low, high, count = mean_ci(
        wide[keys].to_numpy(dtype=np.float64), resamples=RESAMPLES, confidence=CONFIDENCE,
        rng=rng_for(SEED, method, family or "all"),
    )  # fmt: skip
    return {k: {"mean": results._clean(float(m)), "ci_low": results._clean(float(lo)), "ci_high": results._clean(float(hi)), "n": int(n)} for k, m, lo, hi, n in zip(keys, mean, low, high, count)}


def summarize(df, methods: list[str], runs: dict, problems: dict[str, list[str]], *, data: str, pred: str) -> dict[str, Any]:
    from datetime import datetime, timezone

    summary: dict[str, Any] = {
        "task": "masks",
        "suite": metrics.SUITE_VERSION,
        "metrics": {m: spec.as_json() for m, spec in metrics.METRICS.items()},
        "confidence": CONFIDENCE,
        "resamples": RESAMPLES,
        "methods": {},
        "unavailable": {},
        "data": data,
        "pred": pred,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    families = sorted(set(df["family"])) if len(df) else []
    for method in methods:
        overall = _intervals(df, method, None)
        sample_ids = sorted(set(df[df["method"] == method]["sample_id"]))
        summary["methods"][method] = {
            "n_samples": len(sample_ids),
            "means": {k: v["mean"] for k, v in overall.items()},
            "intervals": overall,
            "families": {f: _intervals(df, method, f) for f in families},
            **results.runtime(runs.get(method, {}), sample_ids),
            "problems": list(problems.get(method, [])),
        }
    return summary


def summary_table(summary: dict[str, Any]) -> str:
    header = ["method", "n"] + [h for h, _ in HEADLINE]
    body = []
    for method, s in summary["methods"].items():
        cells = [method, str(s["n_samples"])]
        for _, key in HEADLINE:
            iv = s["intervals"].get(key)
            if not iv or iv["mean"] is None:
                cells.append("-")
            elif key == "iou/affected" and iv["ci_low"] is not None:
                cells.append(f"{iv['mean']:.3f} [{iv['ci_low']:.3f}, {iv['ci_high']:.3f}]")
            else:
                cells.append(f"{iv['mean']:.3f}")
        body.append(cells)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in [header] + body)


def _fingerprint(ref: formats.SampleRef, pred_path: Path) -> dict:
    return {"suite": metrics.SUITE_VERSION, "pred": results.file_stamp(pred_path), "truth": [results.file_stamp(ref.mask_path), results.file_stamp(ref.path(formats.METADATA))]}


def score_masks(config: EvaluateConfig) -> int:
    # The removal runner's selection rules (samples in manifest order, method folders).
    from evaluate.runner import _select_methods, _select_samples

    if config.resize:
        raise ConfigError("--resize does not apply to --task masks: a resized mask is no longer exact; write masks at the clip's size")
    pred_root, out = Path(config.pred), Path(config.out)
    ds = formats.Dataset(config.data)
    sample_ids = _select_samples(ds, config.samples)
    refs = {sid: ds.sample(sid) for sid in sample_ids}
    methods = _select_methods(pred_root, config.methods)

    # 1. finished parts are reused; the rest become one task per clip
    parts: dict[tuple[str, str], dict] = {}
    pending: dict[str, list[MaskJob]] = {sid: [] for sid in sample_ids}
    for method in methods:
        for sid in sample_ids:
            path = formats.prediction_path(pred_root, method, sid)
            fp = _fingerprint(refs[sid], path)
            done = None if config.rescore else results.read_part(out, method, sid, fp)
            if done is not None:
                parts[(method, sid)] = done
            else:
                pending[sid].append(MaskJob(method, str(path), fp))
    tasks = [
        MaskScoreTask(sid, refs[sid].family() if refs[sid].path(formats.METADATA).is_file() else "unknown", str(refs[sid].root), bool(ds.header), tuple(jobs))
        for sid, jobs in pending.items()
        if jobs
    ]
    if parts:
        print(f"resuming: {len(parts)} (method, clip) scores already in {out / results.PARTS_DIR}", file=sys.stderr)

    # 2. score
    problems: dict[str, list[str]] = {m: [] for m in methods}
    data_errors, crashes = [], []
    workers = max(1, min(config.num_workers, len(tasks))) if config.executor == "local" else config.num_workers
    for res in run_tasks(score_clip, tasks, executor=config.executor, workers=workers, ray_address=config.ray_address, desc="scoring masks", unit="clip", progress=config.progress):
        if not res.ok:
            crashes.append(f"clip {res.task.sample_id}:\n{res.error}")
        elif "data_error" in res.value:
            data_errors.append(res.value["data_error"])
        else:
            for part in res.value["parts"]:
                results.write_part(out, part)
                parts[(part["method"], part["sample_id"])] = results.read_part(out, part["method"], part["sample_id"])
            for method, _path, message in res.value["problems"]:
                problems[method].append(message)
    if crashes:
        raise RuntimeError("mask scoring crashed (a bug; finished parts are kept):\n" + "\n".join(crashes))
    if data_errors:
        raise formats.FormatError("ground truth that cannot be used:\n" + "\n".join(f"  {e}" for e in sorted(set(data_errors))))
    if any(problems.values()) and not config.allow_missing:
        listing = "\n".join(f"  {m}: {p}" for m, probs in problems.items() for p in sorted(probs))
        raise MaskScoringError(
            f"predicted masks under {pred_root} that cannot be scored:\n{listing}\n"
            "fix them, or pass --allow-missing to score the rest and record these in summary.json"
        )

    # 3. tables and summary
    df = results_frame([parts[k] for k in sorted(parts)])
    runs = {m: formats.read_run_json(pred_root, m) for m in methods}
    summary = summarize(df, methods, runs, problems, data=str(config.data), pred=str(config.pred))
    results.write_results(out, df, summary)
    print(summary_table(summary))
    print(f"mask-track results written to {out} (iou_aff: mean [{CONFIDENCE:.0%} bootstrap interval over clips])", file=sys.stderr)
    return 0
