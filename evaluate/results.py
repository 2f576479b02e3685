"""The results directory: per-(method, sample) parts while scoring, the final tables after.

Layout (the results contract; the leaderboard and quickstart read it)::

    RESULTS/
      parts/<method>/<sample_id>.json   one finished (method, sample), written atomically
      results.parquet, results.csv      long table: method, sample_id, family, metric,
                                        region, value, higher_is_better
      summary.json                      metric directions, per-method means, runtime, problems
      methods.csv                       method, n_samples, wall_time_s, seconds_per_frame,
                                        peak_memory_mb

A part stores a fingerprint of what it was computed from (the prediction and ground-truth
files, the metric suite version, the options that change numbers); a rerun skips every part
whose fingerprint still matches, so an interrupted evaluation resumes where it stopped and a
regenerated prediction is scored again.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from void import atomic, deps
from evaluate.metrics.registry import METRICS

PARTS_DIR = "parts"
RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
SUMMARY_JSON = "summary.json"
METHODS_CSV = "methods.csv"
COLUMNS = ("method", "sample_id", "family", "metric", "region", "value", "higher_is_better")
METHOD_COLUMNS = ("method", "n_samples", "wall_time_s", "seconds_per_frame", "peak_memory_mb")


def file_stamp(path: Path) -> list[int] | None:
    """Size and modification time: cheap, and changes whenever a file is rewritten."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def part_path(out: Path, method: str, sample_id: str) -> Path:
    return Path(out) / PARTS_DIR / method / f"{sample_id}.json"


def write_part(out: Path, part: dict[str, Any]) -> None:
    rows = [[m, r, None if _nan(v) else v] for m, r, v in part["rows"]]
    atomic.write_json(part_path(out, part["method"], part["sample_id"]), {**part, "rows": rows})


def read_part(out: Path, method: str, sample_id: str, fingerprint: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """A finished part, or ``None`` when absent, unreadable or computed from other inputs."""
    path = part_path(out, method, sample_id)
    try:
        part = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if fingerprint is not None and part.get("fingerprint") != fingerprint:
        return None
    part["rows"] = [(m, r, math.nan if v is None else float(v)) for m, r, v in part["rows"]]
    return part


def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _clean(v: Any) -> Any:
    """JSON has no NaN: undefined means are written as null."""
    return None if _nan(v) else v


# --------------------------------------------------------------------------- tables


def results_frame(parts: list[dict[str, Any]]):
    """The long table, in a fixed order (method, sample, then the suite's row order)."""
    pd = deps.require("pandas")
    records = []
    for part in sorted(parts, key=lambda p: (p["method"], p["sample_id"])):
        for metric, region, value in part["rows"]:
            records.append(
                (part["method"], part["sample_id"], part["family"], metric, region, float(value), METRICS[metric].higher_is_better)
            )
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    return df.astype(
        {"method": str, "sample_id": str, "family": str, "metric": str, "region": str, "value": "float64", "higher_is_better": bool}
    )


def runtime(run: dict[str, Any], sample_ids: list[str]) -> dict[str, float | None]:
    """Wall time, seconds per frame and peak memory from a method's ``run.json``.

    When ``run.json`` records per-sample times (``samples: {id: {wall_time_s, frames}}``), the
    totals cover exactly the scored samples; otherwise the run's own totals are used.
    """

    def num(d: dict, key: str) -> float | None:
        v = d.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None

    per = run.get("samples") if isinstance(run.get("samples"), dict) else {}
    recs = [per[s] for s in sample_ids if isinstance(per.get(s), dict) and num(per[s], "wall_time_s") is not None]
    if recs and len(recs) == len(sample_ids):
        wall = sum(num(r, "wall_time_s") for r in recs)
        frames = sum(num(r, "frames") or 0 for r in recs)
        spf = wall / frames if frames else None
    else:
        wall = num(run, "wall_time_s")
        spf = num(run, "seconds_per_frame")
        frames = num(run, "num_frames")
        if spf is None and wall is not None and frames:
            spf = wall / frames
    return {"wall_time_s": wall, "seconds_per_frame": spf, "peak_memory_mb": num(run, "peak_memory_mb")}


def summarize(
    df,
    methods: list[str],
    runs: dict[str, dict[str, Any]],
    problems: dict[str, list[str]],
    unavailable: dict[str, str],
    *,
    data: str,
    pred: str,
) -> dict[str, Any]:
    present = [m for m in METRICS if m in set(df["metric"])] if len(df) else []
    summary: dict[str, Any] = {
        "metrics": {m: METRICS[m].as_json() for m in present},
        "methods": {},
        "unavailable": dict(unavailable),
        "data": data,
        "pred": pred,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    for method in methods:
        sub = df[df["method"] == method]
        sample_ids = sorted(set(sub["sample_id"]))
        means = {}
        for metric in present:
            for region in METRICS[metric].regions:
                vals = sub[(sub["metric"] == metric) & (sub["region"] == region)]["value"]
                if len(vals):
                    means[f"{metric}/{region}"] = _clean(float(vals.mean(skipna=True)))
        wins = sub[sub["metric"] == "cf_win"]["value"]
        entry = {
            "n_samples": len(sample_ids),
            "means": means,
            "cf_win_rate": _clean(float(wins.mean(skipna=True))) if len(wins) else None,
            **runtime(runs.get(method, {}), sample_ids),
            "problems": list(problems.get(method, [])),
        }
        summary["methods"][method] = entry
    return summary


def methods_frame(summary: dict[str, Any]):
    pd = deps.require("pandas")
    rows = [{"method": m, **{k: s[k] for k in METHOD_COLUMNS[1:]}} for m, s in summary["methods"].items()]
    return pd.DataFrame(rows, columns=list(METHOD_COLUMNS))


def write_results(out: Path, df, summary: dict[str, Any]) -> None:
    """Write the final tables atomically (a reader never sees half a table)."""
    out = Path(out)
    with atomic.atomic_path(out / RESULTS_PARQUET) as tmp:
        df.to_parquet(tmp, index=False)
    with atomic.atomic_path(out / RESULTS_CSV) as tmp:
        df.to_csv(tmp, index=False)
    with atomic.atomic_path(out / METHODS_CSV) as tmp:
        methods_frame(summary).to_csv(tmp, index=False)
    atomic.write_json(out / SUMMARY_JSON, summary)


def summary_table(summary: dict[str, Any]) -> str:
    """The per-method table printed at the end of a run."""
    cols = [
        ("n", lambda s: s["n_samples"], "{:d}"),
        ("psnr", lambda s: s["means"].get("psnr/all"), "{:.2f}"),
        ("psnr_removed", lambda s: s["means"].get("psnr/removed"), "{:.2f}"),
        ("psnr_affected", lambda s: s["means"].get("psnr/affected"), "{:.2f}"),
        ("psnr_keep", lambda s: s["means"].get("psnr/keep"), "{:.2f}"),
        ("ssim", lambda s: s["means"].get("ssim/all"), "{:.4f}"),
        ("lpips", lambda s: s["means"].get("lpips/all"), "{:.4f}"),
        ("warp_err", lambda s: s["means"].get("warp_error/all"), "{:.2f}"),
        ("cf_margin", lambda s: s["means"].get("cf_margin/all"), "{:+.3f}"),
        ("cf_win", lambda s: s["cf_win_rate"], "{:.2f}"),
        ("s/frame", lambda s: s["seconds_per_frame"], "{:.4f}"),
        ("problems", lambda s: len(s["problems"]), "{:d}"),
    ]
    if "lpips" not in summary["metrics"]:
        cols = [c for c in cols if c[0] != "lpips"]
    header = ["method"] + [c[0] for c in cols]
    body = []
    for method, s in summary["methods"].items():
        cells = [method]
        for _, get, fmt in cols:
            v = get(s)
            cells.append("-" if v is None else fmt.format(v))
        body.append(cells)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in [header] + body]
    return "\n".join(lines)
