"""The static site: one ``index.html`` that opens from disk with no server and no network.

CSS is inline and figures are embedded as base64 PNG data URIs; the only links are the
relative ones to ``leaderboard.csv`` and ``leaderboard.md`` written beside it. Every string
that comes from the inputs (method names, notes, reasons) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

from leaderboard.tables import (
    ALL,
    RANK_RULE,
    Board,
    Column,
    fmt_cell,
    fmt_number,
    fmt_score,
    metric_sort_key,
    rank_of,
    region_sort_key,
    score_column,
)
from void import __version__

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1400px;
padding:0 1rem;color:#1d2330;line-height:1.45}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d8dde6;padding-bottom:.2rem}
.meta{color:#5a6475;font-size:.9rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.86rem;margin:.6rem 0}
th,td{border:1px solid #d8dde6;padding:.3rem .5rem;text-align:right;white-space:nowrap;vertical-align:top}
th{background:#f1f4f8}th.group{text-align:center;background:#e4e9f1}
td.method,th.method,td.text{text-align:left}
td.sorted,th.sorted{background:#fff7df}
.ci{color:#5a6475;font-size:.78rem}
.rank{display:inline-block;min-width:1.4em;border-radius:.6em;background:#e4e9f1;color:#1d2330;
font-size:.72rem;text-align:center;margin-left:.3rem}
.rank.r1{background:#1f6feb;color:#fff}
td.na{color:#9aa3b2}td.unavailable{color:#9a3412;font-style:italic}
.note{background:#f8fafc;border-left:3px solid #94a3b8;padding:.4rem .8rem;margin:.5rem 0;font-size:.9rem}
.problem{border-left-color:#dc2626}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #e5e7eb}
figcaption{color:#5a6475;font-size:.85rem}
"""


@dataclass
class Figure:
    name: str  # file stem, also the img id
    caption: str
    png: bytes


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _score_td(b: Board, method: str, column: Column, family: str = ALL, *, sorted_col: bool = False) -> str:
    cls = ["sorted"] if sorted_col else []
    if column.kind == "unavailable":
        return f'<td class="unavailable" title="{_e(column.note)}">unavailable</td>'
    if column.kind != "score":
        text = fmt_cell(b, method, column, family)
        cls += ["na"] if text == "n/a" else []
        return f'<td class="{" ".join(cls)}">{_e(text)}</td>'
    row = b.cell(method, column, family)
    text = fmt_score(row, column, interval=False)
    if text == "n/a":
        return f'<td class="{" ".join(cls + ["na"])}">n/a</td>'
    interval = fmt_score(row, column)[len(text):].strip()
    rank = rank_of(b, method, column, family)
    badge = f'<span class="rank{" r1" if rank == "1" else ""}" title="rank">{_e(rank)}</span>'
    n = f' title="n = {int(row["n"])}"'
    return f'<td class="{" ".join(cls)}"{n}>{_e(text)} <span class="ci">{_e(interval)}</span>{badge}</td>'


def _board_table(b: Board) -> str:
    groups: list[tuple[str, int]] = []
    for column in b.columns:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    head1 = '<th rowspan="2">Rank</th><th rowspan="2" class="method">Method</th>' + "".join(
        f'<th class="group" colspan="{n}">{_e(g)}</th>' for g, n in groups
    )
    head2 = "".join(
        f'<th class="{"sorted" if c is b.sort_column else ""}" title="{_e(c.note or c.key)}">{_e(c.label)}</th>'
        for c in b.columns
    )
    rows = []
    for method in b.methods:
        tds = "".join(_score_td(b, method, c, sorted_col=c is b.sort_column) for c in b.columns)
        rows.append(f'<tr><td>{_e(rank_of(b, method))}</td><td class="method">{_e(method)}</td>{tds}</tr>')
    return (
        f'<div class="scroll"><table id="board"><thead><tr>{head1}</tr><tr>{head2}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div>'
    )


def _family_table(b: Board) -> str:
    columns = b.score_columns()
    if not b.families or not columns:
        return '<p class="meta">The results name no scenario families.</p>'
    head = '<th class="method">Family</th><th class="method">Method</th><th>Samples</th>' + "".join(
        f"<th>{_e(c.label)}</th>" for c in columns
    )
    rows = []
    for family in b.families:
        for method in b.methods:
            n = max((int(r["n"]) for r in (b.cell(method, c, family) for c in columns) if r), default=0)
            if n == 0:
                continue
            tds = "".join(_score_td(b, method, c, family) for c in columns)
            rows.append(f'<tr><td class="text">{_e(family)}</td><td class="method">{_e(method)}</td><td>{n}</td>{tds}</tr>')
    return f'<div class="scroll"><table id="families"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _metrics_table(b: Board, long, descriptions: dict[str, str]) -> str:
    """Every metric and region (transposed: one row per metric/region, one column per method)."""
    keys = sorted({(m, r) for m, r in zip(long["metric"], long["region"])},
                  key=lambda k: (metric_sort_key(k[0]), region_sort_key(k[1])))
    by_key = {(c.metric, c.region): c for c in b.columns if c.kind == "score"}
    head = '<th class="method">Metric</th><th class="method">Region</th>' + "".join(
        f'<th>{_e(m)}</th>' for m in b.methods
    )
    rows = []
    for metric, region in keys:
        column = by_key.get((metric, region))
        if column is None:
            column = score_column(long, metric, region)
        arrow = "↑" if column.higher_is_better else "↓"
        desc = descriptions.get(metric, "")
        tds = "".join(_score_td(b, method, column) for method in b.methods)
        rows.append(
            f'<tr><td class="text" title="{_e(desc)}">{_e(metric)} {arrow}</td><td class="text">{_e(region)}</td>{tds}</tr>'
        )
    return f'<div class="scroll"><table id="metrics"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _human_table(b: Board, study) -> str:
    pref = study.preference
    cols = [c for c in b.columns if c.metric.startswith("human_")]
    head = '<th class="method">Method</th><th>Judgments</th><th>Wins</th><th>Losses</th><th>Ties</th>' + "".join(
        f"<th>{_e(c.label)}</th>" for c in cols
    )
    rows = []
    # Board order first, then the methods only the study has (gold trials, say).
    position = {m: i for i, m in enumerate(b.methods)}
    records = sorted(pref.to_dict("records"), key=lambda r: (position.get(str(r["method"]), len(position)), str(r["method"])))
    for rec in records:
        method = str(rec["method"])
        counts = "".join(f"<td>{fmt_number(rec[k], 0)}</td>" for k in ("judgments", "wins", "losses", "ties"))
        tds = "".join(_score_td(b, method, c) for c in cols)
        rows.append(f'<tr><td class="method">{_e(method)}</td>{counts}{tds}</tr>')
    facts = _flatten(study.analysis)
    facts_html = ""
    if facts:
        items = "".join(f"<tr><td class='text'>{_e(k)}</td><td class='text'>{_e(v)}</td></tr>" for k, v in facts)
        facts_html = f"<details><summary>Study analysis ({_e(study.path)})</summary><table id='analysis'>{items}</table></details>"
    return (
        f'<div class="scroll"><table id="human"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        + facts_html
    )


def _flatten(data, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Scalar facts of analysis.json, two levels deep (its full schema is the study's)."""
    out: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 2:
            out += _flatten(value, name + ".", depth + 1)
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out.append((name, f"{value:.4g}" if isinstance(value, float) else str(value)))
        elif isinstance(value, list) and len(value) <= 12 and all(isinstance(v, (str, int, float)) for v in value):
            out.append((name, ", ".join(map(str, value))))
    return out


def _runtime_table(b: Board) -> str:
    head = '<th class="method">Method</th><th>Samples</th><th>Wall time (s)</th><th>s/frame</th><th>Peak memory (MB)</th>'
    rows = []
    for method in b.methods:
        rt = b.runtime.get(method, {})
        cells = [fmt_number(rt.get("wall_time_s"), 1), fmt_number(rt.get("seconds_per_frame"), 3),
                 fmt_number(rt.get("peak_memory_mb"), 0)]
        tds = "".join(f'<td class="{"na" if c == "n/a" else ""}">{_e(c)}</td>' for c in cells)
        rows.append(f'<tr><td class="method">{_e(method)}</td><td>{b.n_samples.get(method, 0)}</td>{tds}</tr>')
    return f'<table id="runtime"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _figure(fig: Figure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (
        f'<figure><img id="fig-{_e(fig.name)}" alt="{_e(fig.caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(fig.caption)}</figcaption></figure>"
    )


def render(
    b: Board,
    long,
    *,
    title: str,
    confidence: float,
    figures: list[Figure],
    results,
    study=None,
    notes: list[str] = (),
    created: str = "",
    sections: list[str] = (),
) -> str:
    """The page; ``sections`` are further HTML sections (the mask track) put before the footer."""
    summary = results.summary
    meta = [f"{len(b.methods)} methods", f"{len(results.table['sample_id'].unique())} samples"]
    if summary.get("data"):
        meta.append(f"data: {summary['data']}")
    if summary.get("pred"):
        meta.append(f"predictions: {summary['pred']}")
    meta.append(f"results: {results.path}")
    if created:
        meta.append(f"scored {created}")
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{" · ".join(_e(m) for m in meta)}</p>',
        f"<p>Sorted by <b>{_e(b.sort_column.label)}</b>, the counterfactual-physics score unless chosen otherwise. "
        f"Cells: mean <span class='ci'>[{confidence:.0%} bootstrap interval over samples]</span> and rank.</p>",
        _board_table(b),
        f'<p class="note">{_e(RANK_RULE.format(level=confidence))}</p>',
    ]
    for column in b.columns:
        if column.kind == "unavailable":
            parts.append(f'<p class="note">{_e(column.label)} - unavailable: {_e(column.note)}</p>')
    parts += [f'<p class="note">{_e(n)}</p>' for n in notes]
    for method, problems in sorted(results.problems.items()):
        for problem in problems:
            parts.append(f'<p class="note problem">{_e(method)}: {_e(problem)}</p>')
    if figures:
        parts.append("<h2>Figures</h2>")
        parts += [_figure(f) for f in figures]
    parts += ["<h2>By scenario family</h2>", _family_table(b)]
    parts += ["<h2>All metrics and regions</h2>", _metrics_table(b, long, results.descriptions)]
    if study is not None:
        parts += ["<h2>Human preference</h2>", _human_table(b, study)]
    parts += ["<h2>Runtime and memory</h2>", _runtime_table(b)]
    parts += list(sections)
    parts.append(
        '<p class="meta">Tables as data: <a href="leaderboard.csv">leaderboard.csv</a> · '
        f'<a href="leaderboard.md">leaderboard.md</a> · built by void-bench {_e(__version__)}</p>'
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
