"""The leaderboard's tables: the long score table, the main board's columns, Markdown.

The long table (``leaderboard.csv``) has one row per method x metric x region x family
(``"all"`` = every sample), with the mean, its bootstrap interval, the number of samples
with a defined value and the tie-aware rank among methods (rule in ``stats.py``). Study
scores join it as metrics ``human_win_rate``, ``human_best_rate`` and ``human_bt_score``
(their intervals come from the study's analysis: Wilson for rates, a bootstrap over
participants for Bradley-Terry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from evaluate.metrics.registry import METRICS as REGISTERED
from leaderboard import stats
from leaderboard.config import DEFAULT_SORT
from leaderboard.inputs import REGIONS, Results, Study
from void.deps import require
from void.errors import ConfigError

ALL = "all"  # the family value of rows over every sample
LONG_COLUMNS = ("method", "metric", "region", "family", "mean", "ci_low", "ci_high", "n", "rank", "higher_is_better")

# Labels, groups and percent formatting come from the metric registry (each metric's specs),
# so a newly registered metric shows without an edit here. The counterfactual-physics score
# comes first, then the registered metrics in registry order; a metric the registry does
# not know (results of another suite version) follows them, never dropped.
FEATURED = ("cf_win", "cf_margin")
METRIC_ORDER = FEATURED + tuple(m for m in REGISTERED if m not in FEATURED)
OTHER_GROUP = "Other"
METRIC_LABELS = {
    **{name: spec.label or name for name, spec in REGISTERED.items()},
    "human_win_rate": "Human win rate",
    "human_best_rate": "Best-of-n rate",
    "human_bt_score": "Bradley-Terry",
}
METRIC_GROUPS = {name: spec.group for name, spec in REGISTERED.items()}
PERCENT_METRICS = tuple(name for name, spec in REGISTERED.items() if spec.percent) + ("human_win_rate", "human_best_rate")
# Region-wise metrics show these regions on the main board (all four are in the full table).
BOARD_REGIONS = ("affected", "removed", "all")
# Metrics with one value per sample show the first of these that exists.
SINGLE_REGION_PREFERENCE = ("affected", "all")
HUMAN_METRICS = (
    ("human_win_rate", "win_rate", "win_ci_low", "win_ci_high", "judgments"),
    ("human_best_rate", "best_rate", "best_ci_low", "best_ci_high", "best_shown"),
    ("human_bt_score", "bt_score", "bt_ci_low", "bt_ci_high", "judgments"),
)
RANK_RULE = (
    "Ranks tie where intervals overlap: a method's rank is 1 + the number of methods whose "
    "{level:.0%} interval lies entirely on the better side of its own (so every method that "
    "overlaps the leader shares rank 1, and tied methods share the better rank)."
)


def metric_sort_key(metric: str) -> tuple[int, str]:
    return (METRIC_ORDER.index(metric) if metric in METRIC_ORDER else len(METRIC_ORDER), metric)


def region_sort_key(region: str) -> tuple[int, str]:
    return (REGIONS.index(region) if region in REGIONS else len(REGIONS), region)


def score(results: Results, *, resamples: int, confidence: float, seed: int):
    """The long table of means, intervals and ranks for every method, key and family."""
    pd = require("pandas")
    df = results.table
    # Factorize in pandas/numpy: a Python loop over 10^5 rows costs seconds.
    metric_codes, metric_names = pd.factorize(df["metric"])
    region_codes, region_names = pd.factorize(df["region"])
    codes, uniques = pd.factorize(metric_codes.astype(np.int64) * len(region_names) + region_codes)
    unique_pairs = [(metric_names[u // len(region_names)], region_names[u % len(region_names)]) for u in uniques]
    order = sorted(range(len(unique_pairs)), key=lambda i: (metric_sort_key(unique_pairs[i][0]), region_sort_key(unique_pairs[i][1])))
    pairs = [unique_pairs[i] for i in order]
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    key_codes = position[codes]
    per_method = []  # (method, samples x keys matrix, family of each sample)
    for method, rows in df.assign(_key=key_codes).groupby("method", sort=True):
        sample_codes, samples = pd.factorize(rows["sample_id"], sort=True)
        matrix = np.full((len(samples), len(pairs)), np.nan)
        matrix[sample_codes, rows["_key"].to_numpy()] = rows["value"].to_numpy()
        # A sample's family is the same on all its rows; take the first one seen.
        first = np.unique(sample_codes, return_index=True)[1]
        per_method.append((method, matrix, rows["family"].to_numpy()[first]))
    families = sorted(set().union(*(set(f) for _, _, f in per_method)))
    parts = []
    for family in [ALL, *families]:
        # Resamples depend on (seed, family, sample count) only: methods scored on the same
        # samples share them (a paired bootstrap, drawn once per family), and adding a
        # method to the results leaves every other method's intervals unchanged.
        counts_cache: dict[int, np.ndarray | None] = {}
        for method, matrix, family_of in per_method:
            chosen = matrix if family == ALL else matrix[family_of == family]
            if len(chosen) == 0:
                continue  # this method has no sample of this family
            rng = stats.rng_for(seed, family, str(len(chosen)))
            if len(chosen) not in counts_cache:
                if len(counts_cache) >= 4:  # methods on many different sample sets: bound the memory
                    counts_cache.clear()
                counts_cache[len(chosen)] = stats.cached_counts(len(chosen), resamples, rng)
            mean, low, high, n = stats.mean_ci(
                chosen, resamples=resamples, confidence=confidence, rng=rng, counts=counts_cache[len(chosen)]
            )
            parts.append(
                pd.DataFrame(
                    {
                        "method": method,
                        "metric": [p[0] for p in pairs],
                        "region": [p[1] for p in pairs],
                        "family": family,
                        "mean": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "n": n.astype(np.int64),
                    }
                )
            )
    long = pd.concat(parts, ignore_index=True)
    long["higher_is_better"] = long["metric"].map(results.higher_is_better).astype(bool)
    return _rank(long)


def _rank(long):
    ranks = np.full(len(long), np.nan)
    mean, low, high = (long[c].to_numpy(dtype=np.float64) for c in ("mean", "ci_low", "ci_high"))
    hib = long["higher_is_better"].to_numpy(dtype=bool)
    for idx in long.groupby(["metric", "region", "family"], sort=False).indices.values():
        ranks[idx] = stats.ranks_with_ties(mean[idx], low[idx], high[idx], higher_is_better=bool(hib[idx[0]]))
    long["rank"] = ranks
    return long


def human_rows(study: Study):
    """The study's scores in the long table's shape (family and region ``all``)."""
    pd = require("pandas")
    pref = study.preference
    parts = []
    for metric, col, low, high, count in HUMAN_METRICS:
        if not np.isfinite(pref[col].to_numpy()).any():
            continue  # e.g. best-of-n columns of a pairwise-only study
        parts.append(
            pd.DataFrame(
                {
                    "method": pref["method"].astype(str),
                    "metric": metric,
                    "region": ALL,
                    "family": ALL,
                    "mean": pref[col],
                    "ci_low": pref[low],
                    "ci_high": pref[high],
                    "n": pref[count].fillna(0).astype(np.int64),
                    "higher_is_better": True,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(LONG_COLUMNS))
    return _rank(pd.concat(parts, ignore_index=True))


@dataclass
class Column:
    """One column of the main board."""

    key: str  # "metric/region" for scores, a runtime field name for cost columns
    label: str
    group: str
    kind: str  # "score", "unavailable", "runtime", "count"
    metric: str = ""
    region: str = ALL
    higher_is_better: bool = True
    percent: bool = False
    decimals: int = 3
    note: str = ""


@dataclass
class Board:
    """The main table: columns, methods in display order, and a cell lookup."""

    columns: list[Column]
    methods: list[str]
    sort_column: Column
    families: list[str]
    cells: dict = field(default_factory=dict)  # (method, metric, region, family) -> row dict
    runtime: dict = field(default_factory=dict)
    n_samples: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def cell(self, method: str, column: Column, family: str = ALL) -> dict | None:
        return self.cells.get((method, column.metric, column.region, family))

    def score_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "score" and not c.metric.startswith("human_")]


def _label(metric: str, region: str, region_wise: bool, hib: bool) -> str:
    name = METRIC_LABELS.get(metric, metric)
    arrow = "↑" if hib else "↓"
    return f"{name} {region} {arrow}" if region_wise else f"{name} {arrow}"


def _pick_region(present: list[str]) -> str:
    for region in SINGLE_REGION_PREFERENCE:
        if region in present:
            return region
    return sorted(present, key=region_sort_key)[0]


def _decimals(long, metric: str, region: str, percent: bool) -> int:
    # One precision per metric (not per region) so a metric's columns line up.
    sub = long[(long["metric"] == metric) & (long["family"] == ALL)]
    scale = 100.0 if percent else 1.0
    width = ((sub["ci_high"] - sub["ci_low"]) * scale).to_numpy()
    width = width[np.isfinite(width) & (width > 0)]
    if width.size:
        # Two significant digits of the typical interval width: more is noise, less hides ties.
        return int(np.clip(1 - math.floor(math.log10(float(np.median(width)))), 0, 4))
    values = np.abs(sub["mean"].to_numpy() * scale)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:
        return int(np.clip(2 - math.floor(math.log10(float(np.median(values)))), 0, 4))
    return 2


def score_column(long, metric: str, region: str, group: str = "Fidelity") -> Column:
    """A column for any metric/region of the long table (for tables beyond the main board)."""
    hib = bool(long.loc[long["metric"] == metric, "higher_is_better"].iloc[0])
    percent = metric in PERCENT_METRICS
    return Column(f"{metric}/{region}", _label(metric, region, True, hib), group, "score", metric=metric,
                  region=region, higher_is_better=hib, percent=percent, decimals=_decimals(long, metric, region, percent))


def resolve_sort(long, sort: str, unavailable: dict[str, str] | None = None) -> tuple[str, str]:
    metric, _, region = sort.partition("/")
    present = sorted(set(long.loc[long["metric"] == metric, "region"]), key=region_sort_key)
    if not present:
        if metric in (unavailable or {}):
            raise ConfigError(f"--sort {sort}: {metric} is unavailable in these results: {unavailable[metric]}")
        available = ", ".join(sorted(set(long["metric"]), key=metric_sort_key))
        raise ConfigError(f"--sort {sort}: no metric {metric!r} in the results (available: {available})")
    if region and region not in present:
        raise ConfigError(f"--sort {sort}: metric {metric} has no region {region!r} (regions: {', '.join(present)})")
    return metric, region or _pick_region(present)


def board(long, results: Results, *, sort: str, human=None) -> Board:
    """Choose the main board's columns and order the methods by the sort column's rank."""
    columns: list[Column] = []
    metrics = sorted(set(long["metric"]), key=metric_sort_key)
    for metric in (*METRIC_ORDER, *(m for m in metrics if m not in METRIC_ORDER)):
        present = sorted(set(long.loc[long["metric"] == metric, "region"]), key=region_sort_key)
        finite = np.isfinite(long.loc[long["metric"] == metric, "mean"].to_numpy()).any()
        if metric in results.unavailable and not finite:
            columns.append(
                Column(metric, METRIC_LABELS.get(metric, metric), METRIC_GROUPS.get(metric, OTHER_GROUP),
                       "unavailable", metric=metric, note=results.unavailable[metric])
            )
            continue
        if metric not in metrics:
            continue
        region_wise = len(present) > 1
        regions = [r for r in BOARD_REGIONS if r in present] if region_wise else [present[0]]
        for region in regions or [_pick_region(present)]:
            hib = results.higher_is_better[metric]
            percent = metric in PERCENT_METRICS
            columns.append(
                Column(f"{metric}/{region}", _label(metric, region, region_wise, hib), METRIC_GROUPS.get(metric, OTHER_GROUP),
                       "score", metric=metric, region=region, higher_is_better=hib, percent=percent,
                       decimals=_decimals(long, metric, region, percent))
            )
    for metric, info in sorted(results.unavailable.items(), key=lambda kv: metric_sort_key(kv[0])):
        if metric not in METRIC_ORDER and metric not in metrics:
            columns.append(Column(metric, METRIC_LABELS.get(metric, metric), OTHER_GROUP, "unavailable", metric=metric, note=info))
    if human is not None and len(human):
        for metric in sorted(set(human["metric"]), key=[m for m, *_ in HUMAN_METRICS].index):
            percent = metric in PERCENT_METRICS
            columns.append(
                Column(f"{metric}/{ALL}", METRIC_LABELS[metric], "Human preference", "score", metric=metric,
                       percent=percent, decimals=_decimals(human, metric, ALL, percent))
            )
    columns.append(Column("seconds_per_frame", "s/frame", "Cost", "runtime", decimals=3))
    columns.append(Column("peak_memory_mb", "Peak memory (MB)", "Cost", "runtime", decimals=0))
    columns.append(Column("n_samples", "Samples", "Cost", "count", decimals=0))

    combined = long if human is None or not len(human) else require("pandas").concat([long, human], ignore_index=True)
    notes = []
    if sort == DEFAULT_SORT and DEFAULT_SORT not in metrics:
        # e.g. real footage without a counterfactual: order by the next best evidence
        sort = next((m for m in ("cf_margin", "psnr", "ssim") if m in metrics), metrics[0])
        notes.append(f"no {DEFAULT_SORT} in the results (no counterfactual ground truth?): sorted by {sort}")
    metric, region = resolve_sort(combined, sort, results.unavailable)
    sort_column = next((c for c in columns if c.metric == metric and c.region == region), None)
    if sort_column is None:  # a region the board does not show (e.g. psnr/keep): sort by it anyway
        sort_column = score_column(combined, metric, region)
    cells = {
        (r.method, r.metric, r.region, r.family): r._asdict()
        for r in combined.itertuples(index=False)
    }
    methods = sorted(results.table["method"].unique().tolist())
    n_samples = results.table.groupby("method")["sample_id"].nunique().to_dict()

    def order(method: str):
        row = cells.get((method, metric, region, ALL)) or {}
        rank, mean = row.get("rank", np.nan), row.get("mean", np.nan)
        signed = -mean if sort_column.higher_is_better else mean
        return (
            rank if np.isfinite(rank) else np.inf,
            signed if np.isfinite(signed) else np.inf,
            method,
        )

    families = sorted(set(long["family"]) - {ALL})
    return Board(columns, sorted(methods, key=order), sort_column, families, cells, results.runtime, n_samples, notes)


def fmt_number(value, decimals: int, percent: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    value = value * 100 if percent else value
    return f"{value:.{decimals}f}"


def fmt_score(row: dict | None, column: Column, *, interval: bool = True) -> str:
    if row is None or row.get("n", 0) == 0 or not np.isfinite(row.get("mean", np.nan)):
        return "n/a"
    d, p = column.decimals, column.percent
    text = fmt_number(row["mean"], d, p) + ("%" if p else "")
    if interval and np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"]):
        text += f" [{fmt_number(row['ci_low'], d, p)}, {fmt_number(row['ci_high'], d, p)}]"
    return text


def fmt_cell(b: Board, method: str, column: Column, family: str = ALL) -> str:
    if column.kind == "unavailable":
        return "unavailable"
    if column.kind == "runtime":
        return fmt_number(b.runtime.get(method, {}).get(column.key), column.decimals)
    if column.kind == "count":
        return str(b.n_samples.get(method, 0))
    return fmt_score(b.cell(method, column, family), column)


def rank_of(b: Board, method: str, column: Column | None = None, family: str = ALL) -> str:
    row = b.cell(method, column or b.sort_column, family)
    rank = (row or {}).get("rank", np.nan)
    return str(int(rank)) if np.isfinite(rank) else "-"


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(b: Board, *, title: str, confidence: float, notes: list[str]) -> str:
    """The main board as a Markdown table (what the README quotes), with its footnotes."""
    header = ["Rank", "Method", *[c.label for c in b.columns]]
    lines = [
        # No heading: the README quotes this file under its own.
        f"**{_md_escape(title)}**: sorted by {b.sort_column.label} (rank in the first column). Cells: mean "
        f"[{confidence:.0%} bootstrap interval over samples].",
        "",
        "| " + " | ".join(_md_escape(h) for h in header) + " |",
        "|" + "|".join(["---:", ":---"] + ["---:"] * len(b.columns)) + "|",
    ]
    for method in b.methods:
        cells = [rank_of(b, method), method, *[fmt_cell(b, method, c) for c in b.columns]]
        lines.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    lines.append("")
    lines.append(RANK_RULE.format(level=confidence))
    for column in b.columns:
        if column.kind == "unavailable":
            lines.append(f"\n{column.label} - unavailable: {column.note}")
    for note in notes:
        lines.append(f"\n{note}")
    return "\n".join(lines) + "\n"
