"""The mask track on the site: quadmask predictors ranked with bootstrap intervals.

    void leaderboard --results results/removal --masks results/masks --out site/

Reads a results directory written by ``void evaluate --task masks`` (the same long table as
the removal track, with the mask metrics of ``evaluate.masks.metrics``), computes each
method's mean and interval per metric, region and family with the removal board's bootstrap
and rank rule (``leaderboard.stats``), and renders one HTML section plus ``masks.csv``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from evaluate.masks.metrics import METRICS
from evaluate.results import COLUMNS, RESULTS_PARQUET, SUMMARY_JSON
from leaderboard.inputs import InputError
from leaderboard.stats import mean_ci, ranks_with_ties, rng_for
from void.deps import require

MASKS_CSV = "masks.csv"
ALL = "all"
SORT_KEY = ("iou", "affected")
LONG_COLUMNS = ("method", "metric", "region", "family", "mean", "ci_low", "ci_high", "n", "rank", "higher_is_better")
LABELS = {
    ("iou", "remove"): "IoU remove", ("iou", "overlap"): "IoU overlap", ("iou", "affected"): "IoU affected",
    ("iou", "changed"): "IoU changed", ("precision", "changed"): "precision", ("recall", "changed"): "recall",
    ("boundary_f", "changed"): "boundary F", ("precontact_recall", "changed"): "pre-contact recall",
    ("precontact_precision", "changed"): "pre-contact precision", ("stability", "all"): "stability",
}  # fmt: skip


def load(results_dir: str | Path):
    """The long table of a mask-track results directory, checked."""
    pd = require("pandas")
    results_dir = Path(results_dir)
    path = results_dir / RESULTS_PARQUET
    if not path.is_file():
        raise InputError(f"{results_dir}: no {RESULTS_PARQUET}; write it with `void evaluate --task masks --out {results_dir}`")
    summary_path = results_dir / SUMMARY_JSON
    if summary_path.is_file():
        task = json.loads(summary_path.read_text(encoding="utf-8")).get("task")
        if task != "masks":
            raise InputError(f"{summary_path}: these are {task or 'removal'} results, not the mask track's (`void evaluate --task masks`)")
    df = pd.read_parquet(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing columns {', '.join(missing)}")
    unknown = sorted(set(df["metric"]) - set(METRICS))
    if unknown:
        raise InputError(f"{path}: not mask-track metrics: {', '.join(unknown)}")
    return df


def score(df, *, resamples: int, confidence: float, seed: int):
    """method x metric x region x family: mean, interval, defined count and rank."""
    pd = require("pandas")
    rows = []
    families = [ALL] + sorted(set(df["family"]))
    for family in families:
        sub = df if family == ALL else df[df["family"] == family]
        wide = sub.assign(key=sub["metric"] + "/" + sub["region"]).pivot(index=["method", "sample_id"], columns="key", values="value")
        keys = [(m, r) for m, spec in METRICS.items() for r in spec.regions if f"{m}/{r}" in wide.columns]
        methods = sorted(set(sub["method"]))
        stats = {}
        for method in methods:
            values = wide.loc[method][[f"{m}/{r}" for m, r in keys]].to_numpy(dtype=np.float64)
            # keyed like evaluate's summary.json, so both show the same interval at the same seed
            stats[method] = mean_ci(values, resamples=resamples, confidence=confidence, rng=rng_for(seed, method, family))
        for j, (metric, region) in enumerate(keys):
            mean = np.array([stats[m][0][j] for m in methods])
            low = np.array([stats[m][1][j] for m in methods])
            high = np.array([stats[m][2][j] for m in methods])
            hib = METRICS[metric].higher_is_better
            ranks = ranks_with_ties(mean, low, high, higher_is_better=hib)
            for i, method in enumerate(methods):
                rows.append((method, metric, region, family, mean[i], low[i], high[i], int(stats[method][3][j]), ranks[i], hib))
    return pd.DataFrame.from_records(rows, columns=list(LONG_COLUMNS))


def _cell(row) -> str:
    if row is None or not np.isfinite(row["mean"]):
        return '<td class="na">n/a</td>'
    rank = "" if not np.isfinite(row["rank"]) else str(int(row["rank"]))
    badge = f'<span class="rank{" r1" if rank == "1" else ""}" title="rank">{rank}</span>' if rank else ""
    ci = f' <span class="ci">[{row["ci_low"]:.3f}, {row["ci_high"]:.3f}]</span>' if np.isfinite(row["ci_low"]) else ""
    return f'<td title="n = {int(row["n"])}">{row["mean"]:.3f}{ci}{badge}</td>'


def _lookup(long):
    return {(r.method, r.metric, r.region, r.family): r._asdict() for r in long.itertuples(index=False)}


def _order(long) -> list[str]:
    head = long[(long["metric"] == SORT_KEY[0]) & (long["region"] == SORT_KEY[1]) & (long["family"] == ALL)]
    means = dict(zip(head["method"], head["mean"]))
    return sorted(set(long["method"]), key=lambda m: (-(means.get(m) if np.isfinite(means.get(m, np.nan)) else -np.inf), m))


def section(long, *, confidence: float, source: str) -> str:
    """The HTML of the mask-track section: the main table and IoU affected per family."""
    e = lambda t: html.escape(str(t), quote=True)  # noqa: E731
    cells = _lookup(long)
    methods = _order(long)
    keys = [k for k in LABELS if ((long["metric"] == k[0]) & (long["region"] == k[1])).any()]
    head = "".join(f'<th{" class=sorted" if k == SORT_KEY else ""}>{e(LABELS[k])}</th>' for k in keys)
    body = "".join(
        f'<tr><td class="method">{e(m)}</td>' + "".join(_cell(cells.get((m, *k, ALL))) for k in keys) + "</tr>" for m in methods
    )
    families = sorted(set(long["family"]) - {ALL})
    fam_head = "".join(f"<th>{e(f)}</th>" for f in families)
    fam_body = "".join(
        f'<tr><td class="method">{e(m)}</td>' + "".join(_cell(cells.get((m, *SORT_KEY, f))) for f in families) + "</tr>" for m in methods
    )
    descriptions = "".join(f"<li><b>{e(name)}</b>: {e(spec.description)}</li>" for name, spec in METRICS.items())
    return (
        '<h2 id="mask-track">Mask track</h2>'
        f'<p class="meta">results: {e(source)}</p>'
        "<p>How well each method predicts VOID's quadmask (0 remove, 63 overlap, 127 affected) from the video and the "
        "object's mask, scored against the exact masks. Sorted by <b>IoU affected</b>. Cells: mean "
        f"<span class='ci'>[{confidence:.0%} bootstrap interval over clips]</span> and rank (same rule as above). "
        "<i>changed</i> = overlap and affected together.</p>"
        f'<div class="scroll"><table><tr><th class="method">method</th>{head}</tr>{body}</table></div>'
        f'<h3>IoU affected by scenario family</h3><div class="scroll"><table><tr><th class="method">method</th>{fam_head}</tr>{fam_body}</table></div>'
        f"<ul class=\"meta\">{descriptions}</ul>"
    )


def csv(long) -> str:
    return long.to_csv(index=False, float_format="%.6g")
