"""Build the leaderboard site from a results directory (and optionally a study directory).

    void leaderboard --results results/run1 --study results/study --out site/

Writes ``SITE/index.html`` (self-contained: inline CSS, figures as data URIs),
``SITE/leaderboard.csv`` (method x metric x region x family: mean, interval, n, rank),
``SITE/leaderboard.md`` (the main table) and ``SITE/figures/*.png``. Every file is written
atomically and ``index.html`` last, so a site that has one is complete.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from leaderboard import inputs, plots, site, tables
from leaderboard.config import LeaderboardConfig
from void import atomic
from void.deps import require

INDEX_HTML = "index.html"
LEADERBOARD_CSV = "leaderboard.csv"
LEADERBOARD_MD = "leaderboard.md"
FIGURES_DIR = "figures"
FIGURE_NAMES = ("psnr_regions", "families", "preference")


@dataclass
class BuildReport:
    index: Path
    csv: Path
    markdown: Path
    methods: list[str]
    timings_s: dict[str, float] = field(default_factory=dict)  # load, bootstrap, plots, html (, gallery)


def _figures(b: tables.Board, long, human, confidence: float) -> list[site.Figure]:
    figures = []
    png = plots.psnr_regions(b, long, confidence=confidence)
    if png:
        figures.append(site.Figure("psnr_regions", "PSNR per region and method, with bootstrap intervals", png))
    headline = next((c for c in b.score_columns()), None)
    if headline is not None:
        png = plots.family_scores(b, headline, confidence=confidence)
        if png:
            figures.append(site.Figure("families", f"{headline.label} per scenario family and method", png))
    if human is not None and len(human):
        # The first human score the study has (win rate, else best-of-n, else Bradley-Terry).
        metric = next(m for m, *_ in tables.HUMAN_METRICS if m in set(human["metric"]))
        auto = [c for c in b.score_columns() if c.metric in ("cf_win", "cf_margin")]
        auto += [c for c in b.score_columns() if c.metric == "psnr"][:1]
        png = plots.preference_scatter(b, metric, auto or b.score_columns())
        if png:
            label = tables.METRIC_LABELS[metric]
            figures.append(site.Figure("preference", f"Automatic metrics against {label} (human study)", png))
    return figures


def build(config: LeaderboardConfig) -> BuildReport:
    """Score, rank, plot and write the site; returns the written paths and a timing split."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    merged = None
    if config.bundles:  # bundles from many machines become one results folder under the site
        from leaderboard import bundles

        merged = bundles.merge(config.bundles, Path(config.out))
    results = inputs.load_results(merged.results if merged else config.results)
    if merged:
        results.notes[:0] = merged.notes
    study = inputs.load_study(config.study) if config.study else None
    timings["load"] = time.perf_counter() - start

    start = time.perf_counter()
    long = tables.score(results, resamples=config.resamples, confidence=config.confidence, seed=config.seed)
    human = tables.human_rows(study) if study is not None else None
    b = tables.board(long, results, sort=config.sort, human=human)
    timings["bootstrap"] = time.perf_counter() - start

    notes = list(results.notes) + list(b.notes)
    if study is not None:
        only_study = sorted(set(study.preference["method"]) - set(b.methods))
        missing = sorted(set(b.methods) - set(study.preference["method"]))
        if only_study:
            notes.append(f"in the study but not in the results: {', '.join(only_study)}")
        if missing:
            notes.append(f"not in the study (no human scores): {', '.join(missing)}")

    start = time.perf_counter()
    figures = _figures(b, long, human, config.confidence)
    timings["plots"] = time.perf_counter() - start

    start = time.perf_counter()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    combined = long if human is None or not len(human) else require("pandas").concat([long, human], ignore_index=True)
    csv_path = out / LEADERBOARD_CSV
    _write(csv_path, _long_csv(combined))
    md_path = out / LEADERBOARD_MD
    _write(md_path, tables.markdown(b, title=config.title, confidence=config.confidence, notes=notes))
    for fig in figures:
        _write(out / FIGURES_DIR / f"{fig.name}.png", fig.png)
    for stale in set(FIGURE_NAMES) - {f.name for f in figures}:  # from an earlier build of this site
        (out / FIGURES_DIR / f"{stale}.png").unlink(missing_ok=True)
    sections = []
    mask_dirs = [d for d in (config.masks, merged.masks if merged else None) if d]  # --masks, mask bundles
    if mask_dirs:
        from leaderboard import masks

        frames = [masks.load(d) for d in mask_dirs]
        both = set(frames[0]["method"]) & set(frames[-1]["method"]) if len(frames) > 1 else set()
        if both:
            raise inputs.InputError(f"mask method(s) {', '.join(sorted(both))} are both in --masks {config.masks} and in a mask bundle; give each its own name")
        mask_df = require("pandas").concat(frames, ignore_index=True)
        mask_long = masks.score(mask_df, resamples=config.resamples, confidence=config.confidence, seed=config.seed)
        _write(out / masks.MASKS_CSV, masks.csv(mask_long))
        source = ", ".join([str(config.masks)] * bool(config.masks) + [b.path.name for b in (merged.mask_bundles if merged else [])])
        sections.append(masks.section(mask_long, confidence=config.confidence, source=source))
    created = str(results.summary.get("created") or "")
    page = site.render(
        b, long, title=config.title, confidence=config.confidence, figures=figures, results=results,
        study=study, notes=notes, created=created, sections=sections,
    )
    timings["html"] = time.perf_counter() - start
    if merged:  # the gallery before index.html, which is written last
        from leaderboard import gallery

        start = time.perf_counter()
        gallery.write(out, merged, config.bench, results.table, title=config.title)
        page = gallery.link(page)
        timings["gallery"] = time.perf_counter() - start
    index = out / INDEX_HTML
    _write(index, page)

    if not config.quiet:
        print(f"leaderboard: {len(b.methods)} methods, sorted by {b.sort_column.label}; wrote {out}/")
        print(f"  open {index.resolve().as_uri()}")
    return BuildReport(index=index, csv=csv_path, markdown=md_path, methods=list(b.methods), timings_s=timings)


def _write(path: Path, data: str | bytes) -> None:
    """Atomic write; the file gets the permissions the user's umask allows (``void.atomic``)."""
    if isinstance(data, bytes):
        atomic.write_bytes(path, data)
    else:
        atomic.write_text(path, data)


def _long_csv(long) -> str:
    metric_pos = {m: i for i, m in enumerate(sorted(set(long["metric"]), key=tables.metric_sort_key))}
    region_pos = {r: i for i, r in enumerate(sorted(set(long["region"]), key=tables.region_sort_key))}
    ordered = long.assign(
        _m=long["metric"].map(metric_pos),
        _r=long["region"].map(region_pos),
        _f=(long["family"] != tables.ALL),
    ).sort_values(["_m", "_r", "_f", "family", "rank", "method"], na_position="last")
    ordered = ordered.loc[:, list(tables.LONG_COLUMNS)]
    ordered["rank"] = ordered["rank"].astype("Int64")
    return ordered.to_csv(index=False, float_format="%.6g")
