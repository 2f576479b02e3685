"""The leaderboard's figures, drawn with matplotlib (Agg, no display) and returned as PNG bytes.

- per-region PSNR: one bar per method in each region, error bars = the bootstrap interval;
- per-family counterfactual win rate, the same way;
- automatic metric vs human preference: one panel per headline metric, both intervals
  drawn, Spearman's rank correlation in the title (only with study data).
"""

from __future__ import annotations

import io

import numpy as np

from leaderboard.tables import ALL, METRIC_LABELS, Board, Column, region_sort_key
from void.deps import require

DPI = 110


def _pyplot():
    matplotlib = require("matplotlib")
    matplotlib.use("Agg", force=True)  # no display here; never pick an interactive backend
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _errors(mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    # matplotlib wants distances from the bar top; a missing interval draws no whisker.
    below = np.where(np.isfinite(low), mean - low, 0.0)
    above = np.where(np.isfinite(high), high - mean, 0.0)
    return np.vstack([np.clip(below, 0, None), np.clip(above, 0, None)])


def _grouped_bars(groups: list[str], methods: list[str], lookup, *, ylabel: str, title: str, scale: float = 1.0) -> bytes:
    """Bars of ``lookup(group, method) -> row`` (mean, ci_low, ci_high): groups on x."""
    plt = _pyplot()
    width = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(groups) * max(len(methods), 2) * 0.45 + 2), 3.8))
    colors = plt.get_cmap("tab10" if len(methods) <= 10 else "tab20")
    x = np.arange(len(groups))
    for i, method in enumerate(methods):
        rows = [lookup(g, method) or {} for g in groups]
        mean = np.array([r.get("mean", np.nan) for r in rows], dtype=float) * scale
        low = np.array([r.get("ci_low", np.nan) for r in rows], dtype=float) * scale
        high = np.array([r.get("ci_high", np.nan) for r in rows], dtype=float) * scale
        shown = np.where(np.isfinite(mean), mean, 0.0)
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, shown, width, yerr=_errors(shown, low, high),
               capsize=2, label=method, color=colors(i % colors.N), error_kw={"elinewidth": 0.8})
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=min(len(methods), 5), loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    return _png(fig)


def psnr_regions(b: Board, long, *, confidence: float) -> bytes | None:
    regions = sorted(set(long.loc[long["metric"] == "psnr", "region"]), key=region_sort_key)
    if not regions:
        return None
    return _grouped_bars(
        regions, b.methods, lambda region, method: b.cells.get((method, "psnr", region, ALL)),
        ylabel="PSNR (dB), higher is better", title=f"PSNR by region (mean, {confidence:.0%} interval)",
    )


def family_scores(b: Board, column: Column, *, confidence: float) -> bytes | None:
    if not b.families or column.kind != "score":
        return None
    scale = 100.0 if column.percent else 1.0
    unit = " (%)" if column.percent else ""
    return _grouped_bars(
        b.families, b.methods, lambda family, method: b.cells.get((method, column.metric, column.region, family)),
        ylabel=column.label + unit, title=f"{column.label} by scenario family (mean, {confidence:.0%} interval)",
        scale=scale,
    )


def preference_scatter(b: Board, human_metric: str, columns: list[Column]) -> bytes | None:
    """Automatic metrics (x) against a human preference score (y), one panel per metric."""
    spearmanr = require("scipy.stats").spearmanr
    plt = _pyplot()
    columns = [c for c in columns if c.kind == "score"][:3]
    if not columns:
        return None
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.8), squeeze=False)
    human_scale = 100.0 if human_metric in ("human_win_rate", "human_best_rate") else 1.0
    for ax, column in zip(axes[0], columns):
        scale = 100.0 if column.percent else 1.0
        pts = []
        for method in b.methods:
            auto = b.cells.get((method, column.metric, column.region, ALL))
            human = b.cells.get((method, human_metric, ALL, ALL))
            if auto and human and np.isfinite(auto["mean"]) and np.isfinite(human["mean"]):
                pts.append((method, auto, human))
        for method, auto, human in pts:
            x, y = auto["mean"] * scale, human["mean"] * human_scale
            xerr = _errors(np.array([x]), np.array([auto["ci_low"] * scale]), np.array([auto["ci_high"] * scale]))
            yerr = _errors(np.array([y]), np.array([human["ci_low"] * human_scale]), np.array([human["ci_high"] * human_scale]))
            ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="o", capsize=2, elinewidth=0.8)
            ax.annotate(method, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        title = column.label
        if len(pts) >= 3:
            rho = spearmanr([p[1]["mean"] for p in pts], [p[2]["mean"] for p in pts]).statistic
            if np.isfinite(rho):
                title += f"  (Spearman rho = {rho:.2f}, n = {len(pts)})"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(column.label + (" (%)" if column.percent else ""))
        ax.set_ylabel(METRIC_LABELS.get(human_metric, human_metric) + (" (%)" if human_scale == 100 else ""))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)
