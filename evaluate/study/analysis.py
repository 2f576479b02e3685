"""``void study analyze``: preference scores with intervals from the votes of a study.

    void study analyze --db sqlite:///study.db --out results/study

Writes (atomically) into ``--out``:

* ``preference.csv`` - one row per studied method: judgments, wins, losses, ties, win_rate
  and its Wilson 95% interval, best_selected/best_shown/best_rate with its interval
  (best-of-n studies; empty for pairwise), bt_score with a 95% interval bootstrapped over
  participants (Bradley-Terry log-strength, mean 0);
* ``analysis.json`` - everything: counts, exclusions, head-to-head pairs, agreement, power;
* ``votes.csv`` - the raw votes (participant tokens are never exported).

Gold trials (a known-bad result against a known-good one) are attention checks: they never
enter the scores. Participants are excluded, with the reason printed, when their session is
incomplete, repeats a platform id, fails the gold trials or carries an answer-quality flag
(:mod:`quality`); ``--include-incomplete``, ``--include-duplicates``,
``--include-failed-gold`` and ``--include-flagged`` keep them.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evaluate.study.config import StudyAnalyzeConfig
from void import atomic, deps

PREFERENCE_COLUMNS = [
    "method", "judgments", "wins", "losses", "ties", "win_rate", "win_ci_low", "win_ci_high",
    "best_selected", "best_shown", "best_rate", "best_ci_low", "best_ci_high",
    "bt_score", "bt_ci_low", "bt_ci_high",
]


def _nan_to_none(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_nan_to_none(v) for v in x]
    return x


def method_table(study, main: list[dict], bt: dict[str, tuple[float, float, float]]) -> list[dict[str, Any]]:
    """The rows of preference.csv (schema in the module docstring)."""
    from evaluate.study import stats

    best_of_n = study.design == "best-of-n"
    rows = []
    for m in study.studied:
        wins = losses = ties = selected = shown = 0
        for v in main:
            if m not in v["shown"]:
                continue
            shown += 1
            others = len(v["shown"]) - 1
            if v["tie"]:
                ties += others
            elif v["choice"] == m:
                wins += others
                selected += 1
            else:
                losses += 1
        lo, hi = stats.wilson(wins, wins + losses)
        row = {
            "method": m, "judgments": wins + losses + ties, "wins": wins, "losses": losses, "ties": ties,
            "win_rate": wins / (wins + losses) if wins + losses else math.nan, "win_ci_low": lo, "win_ci_high": hi,
        }
        if best_of_n:
            blo, bhi = stats.wilson(selected, shown)
            row.update(best_selected=selected, best_shown=shown, best_rate=selected / shown if shown else math.nan,
                       best_ci_low=blo, best_ci_high=bhi)
        else:
            row.update(best_selected=None, best_shown=None, best_rate=math.nan, best_ci_low=math.nan, best_ci_high=math.nan)
        score, blo, bhi = bt.get(m, (math.nan, math.nan, math.nan))
        row.update(bt_score=score, bt_ci_low=blo, bt_ci_high=bhi)
        rows.append(row)
    return rows


def pair_table(study, main: list[dict], alpha: float) -> list[dict[str, Any]]:
    """Head-to-head counts for every pair of studied methods shown together."""
    from evaluate.study import stats

    counts: dict[tuple[str, str], list[int]] = {}
    for v in main:
        shown = sorted(v["shown"], key=study.studied.index)
        for i, a in enumerate(shown):
            for b in shown[i + 1:]:
                c = counts.setdefault((a, b), [0, 0, 0])
                if v["tie"]:
                    c[2] += 1
                elif v["choice"] == a:
                    c[0] += 1
                elif v["choice"] == b:
                    c[1] += 1
    out = []
    for (a, b), (wa, wb, t) in sorted(counts.items()):
        n = wa + wb
        rate = wa / n if n else math.nan
        lo, hi = stats.wilson(wa, n)
        out.append({
            "a": a, "b": b, "a_wins": wa, "b_wins": wb, "ties": t, "a_win_rate": rate, "ci_low": lo, "ci_high": hi,
            "p_value": stats.binom_p(wa, n),
            "judgments_needed": stats.judgments_needed(rate, alpha) if n and rate != 0.5 and 0 < rate < 1 else None,
        })
    return out


def bradley_terry(study, main: list[dict], resamples: int, seed: int) -> tuple[dict[str, tuple[float, float, float]], dict[str, Any]]:
    from evaluate.study import stats

    index = {m: i for i, m in enumerate(study.studied)}
    by_participant: dict[int, list] = {}
    for v in main:
        if v["tie"] or v["choice"] not in index:
            continue
        losers = tuple(index[m] for m in v["shown"] if m != v["choice"])
        by_participant.setdefault(v["participant"], []).append((index[v["choice"]], losers))
    groups = list(by_participant.values())
    if not groups:
        return {}, {"reason": "no decisive votes yet"}
    params, lo, hi, failed = stats.bt_bootstrap(len(index), groups, study.design == "pairwise", resamples, seed)
    scores = {m: (float(params[i]), float(lo[i]), float(hi[i])) for m, i in index.items()}
    info = {
        "model": "Bradley-Terry (ILSR, choix)" if study.design == "pairwise" else "Luce choice model (Bradley-Terry strengths; MM on pick counts)",
        "scale": "log-strength, mean 0; P(a beats b) = 1 / (1 + exp(s_b - s_a))",
        "regularization": stats.BT_REGULARIZATION, "bootstrap_resamples": resamples, "bootstrap_over": "participants",
        "bootstrap_failed": failed, "seed": seed, "participants": len(groups),
        "order": sorted(scores, key=lambda m: -scores[m][0]),
    }
    return scores, info


def agreement(main: list[dict], resamples: int, seed: int, raters_target: int) -> dict[str, Any]:
    from evaluate.study import stats

    labels: dict[int, dict[int, str]] = {}
    for v in main:
        labels.setdefault(v["item_id"], {})[v["participant"]] = "<tie>" if v["tie"] else v["choice"]
    return {"statistic": "Krippendorff's alpha (nominal), over comparisons judged by 2+ participants",
            "raters_target": raters_target, "units_at_target": sum(len(r) >= raters_target for r in labels.values()),
            **stats.krippendorff_bootstrap(labels, resamples, seed)}


def include_set(config: StudyAnalyzeConfig) -> set[str]:
    flags = {"incomplete": config.include_incomplete, "duplicate": config.include_duplicates,
             "failed-gold": config.include_failed_gold, "flagged": config.include_flagged}
    return {k for k, on in flags.items() if on}


def compute(study, votes: list[dict], participants: list[dict], config: StudyAnalyzeConfig) -> dict[str, Any]:
    """Everything analysis.json holds, from exported votes (pure: no I/O)."""
    from evaluate.study import stats

    from evaluate.study import quality

    threshold = study.gold_min_accuracy if config.gold_min_accuracy is None else config.gold_min_accuracy
    rules = quality.FlagRules(config.flag_min_answers, config.flag_position_p, config.flag_run_length, config.flag_fast_share)
    assessment = quality.assess(votes, participants, threshold, rules)
    dropped = quality.excluded(assessment, include_set(config))
    excluded = set(dropped)
    by_reason = {r: sum(r in why for why in dropped.values()) for r in quality.REASONS}
    main_all = [v for v in votes if v["kind"] == "main"]
    main = [v for v in main_all if v["participant"] not in excluded]
    bt, bt_info = bradley_terry(study, main, config.bootstrap, config.seed)
    ext = [p["external_id"] for p in participants if p["external_id"]]
    voters = {v["participant"] for v in votes}
    return _nan_to_none({
        "study": {"name": study.name, "design": study.design, "methods": study.studied, "samples": len(study.samples),
                  "trials_per_participant": study.trials_per_participant, "gold_trials": study.gold_trials,
                  "gold_bad": study.gold_bad, "gold_good": study.gold_good, "allow_tie": study.allow_tie},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "counts": {
            "participants": len(participants), "participants_with_votes": len(voters),
            "completed": sum(p["completed_at"] is not None for p in participants),
            "excluded": len(excluded), "included": len(voters - excluded),
            "votes": len(votes), "votes_gold": len(votes) - len(main_all),
            "votes_main": len(main_all), "votes_main_included": len(main),
            "ties_included": sum(v["tie"] for v in main),
            "external_ids_with_several_sessions": len(ext) - len(set(ext)),
        },
        "exclusions": {"gold_min_accuracy": threshold, "included_anyway": sorted(include_set(config)),
                       "by_reason": by_reason, "excluded": sorted(excluded),
                       "participants": assessment, "flag_rules": rules.__dict__},
        "methods": method_table(study, main, bt),
        "pairs": pair_table(study, main, config.alpha),
        "bradley_terry": bt_info,
        "agreement": agreement(main, config.bootstrap, config.seed, study.repeat_raters or 2),
        "power_analysis": {
            "test": "two-sided binomial test of a pairwise win rate against 0.5: judgments_needed by the normal "
                    "approximation on Cohen's h (statsmodels), judgments_needed_exact for scipy's exact test",
            "alpha": config.alpha, "power": config.power,
            "targets": stats.power_table(config.effect_win_rates, config.alpha, config.power),
        },
        "response_ms_median": _median([v["response_ms"] for v in main if v["response_ms"] is not None]),
    })


def _median(xs: list[int]) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    mid = len(xs) // 2
    return float(xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2)


def format_table(result: dict[str, Any]) -> str:
    def ci(v, lo, hi, pct=True):
        if v is None:
            return "-"
        f = (lambda x: f"{100 * x:.1f}%") if pct else (lambda x: f"{x:+.2f}")
        return f"{f(v)} [{f(lo)}, {f(hi)}]" if lo is not None else f(v)

    rows = sorted(result["methods"], key=lambda r: -(r["bt_score"] if r["bt_score"] is not None else -math.inf))
    head = ["method", "judgments", "win rate [95% CI]", "best rate [95% CI]", "BT score [95% CI]"]
    body = [[r["method"], str(r["judgments"]), ci(r["win_rate"], r["win_ci_low"], r["win_ci_high"]),
             ci(r["best_rate"], r["best_ci_low"], r["best_ci_high"]), ci(r["bt_score"], r["bt_ci_low"], r["bt_ci_high"], pct=False)]
            for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    c, a = result["counts"], result["agreement"]
    alpha = "n/a" if a["alpha"] is None else f"{a['alpha']:.3f}"
    if a["alpha"] is not None and a.get("ci_low") is not None:
        alpha += f" [{a['ci_low']:.3f}, {a['ci_high']:.3f}]"
    ex = result["exclusions"]
    why = ", ".join(f"{n} {r}" for r, n in ex["by_reason"].items() if n) or "none"
    kept = ", ".join(ex["included_anyway"])
    footer = [
        f"{c['included']} participants included, {c['excluded']} excluded ({why})" + (f"; kept on request: {kept}" if kept else ""),
        f"{c['votes_main_included']} judgments; Krippendorff's alpha {alpha} over {a['units']} comparisons "
        f"({a['units_at_target']} judged by {a['raters_target']}+ people)",
    ]
    for row in ex["participants"]:
        if row["participant"] in ex["excluded"]:
            detail = "; ".join(row["notes"] + row["flags"])
            footer.append(f"  excluded participant {row['participant']}: {', '.join(r for r in row['reasons'] if r not in ex['included_anyway'])} ({detail})")
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body), *footer])


def analyze(config: StudyAnalyzeConfig) -> int:
    """Read the votes of ``--db`` and write preference.csv, analysis.json and votes.csv."""
    for module in ("sqlalchemy", "alembic", "pandas", "scipy", "statsmodels", "choix", "krippendorff"):
        deps.require(module)
    import pandas as pd

    from evaluate.study.store import csv_text, open_store

    with open_store(config.db) as store:
        study = store.definition()
        votes = store.export_votes()
        participants = store.export_participants()
    result = compute(study, votes, participants, config)
    out = Path(config.out)
    table = pd.DataFrame(result["methods"], columns=PREFERENCE_COLUMNS)
    for col in ("best_selected", "best_shown"):
        table[col] = table[col].astype("Int64")
    from evaluate.study.store import neutralize

    for col in table.columns[table.dtypes == object]:
        table[col] = table[col].map(neutralize)
    with atomic.atomic_path(out / "preference.csv") as tmp:
        table.to_csv(tmp, index=False)
    atomic.write_json(out / "analysis.json", result)
    atomic.write_text(out / "votes.csv", csv_text(votes))
    if not config.quiet:
        print(format_table(result))
        print(f"wrote {out / 'preference.csv'}, {out / 'analysis.json'}, {out / 'votes.csv'}")
    return 0
