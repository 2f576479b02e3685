"""Statistics of the preference study, as pure functions over plain data.

* win rates and "selected as best" rates with Wilson 95% intervals (statsmodels);
* Bradley-Terry strengths (choix): pairwise votes through ``ilsr_pairwise_dense``; best-of-n
  choices through ``ilsr_top1``, the Luce choice model, whose strengths are the same
  Bradley-Terry strengths but which uses a pick among N without breaking it into pairs
  (the "winner beats each loser" breaking is a biased estimator for top-1 data);
* intervals by bootstrapping over participants, so correlated answers of one person move
  together;
* Krippendorff's alpha (nominal) over comparisons judged by several participants;
* the number of judgments a two-sided binomial test against 0.5 needs (statsmodels power).

Ties ("both equally") count as judgments but neither as wins nor losses; the Bradley-Terry
fit leaves them out.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

# Pseudo-count ILSR adds between every pair: keeps a method that never wins finite
# (log-strength -inf otherwise) and is negligible once each pair has a few judgments.
BT_REGULARIZATION = 0.01


def wilson(successes: int, trials: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a proportion; (nan, nan) without trials."""
    if trials <= 0:
        return math.nan, math.nan
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(int(successes), int(trials), alpha=alpha, method="wilson")
    return float(lo), float(hi)


def binom_p(successes: int, trials: int) -> float:
    """Two-sided exact binomial test against 0.5 (scipy); nan without trials."""
    if trials <= 0:
        return math.nan
    from scipy.stats import binomtest

    return float(binomtest(int(successes), int(trials), 0.5).pvalue)


# --------------------------------------------------------------------------- Bradley-Terry


def bt_pairwise(wins: np.ndarray) -> np.ndarray:
    """Log-strengths (mean 0) from a matrix ``wins[i, j]`` = times i beat j."""
    import choix

    return np.asarray(choix.ilsr_pairwise_dense(np.asarray(wins, float), alpha=BT_REGULARIZATION), float)


def bt_top1(n_items: int, choices: Sequence[tuple[int, tuple[int, ...]]], initial: np.ndarray | None = None) -> np.ndarray:
    """Log-strengths (mean 0) of the Luce choice model from ``(winner, losers)`` picks."""
    import choix

    params = choix.ilsr_top1(n_items, list(choices), alpha=BT_REGULARIZATION, initial_params=initial)
    return np.asarray(params, float) - float(np.mean(params))


def bt_fit(n_items: int, choices_by_participant: Sequence[Sequence[tuple[int, tuple[int, ...]]]], pairwise: bool, initial=None) -> np.ndarray:
    if pairwise:
        wins = np.zeros((n_items, n_items))
        for choices in choices_by_participant:
            for w, losers in choices:
                wins[w, losers[0]] += 1
        return bt_pairwise(wins)
    flat = [c for choices in choices_by_participant for c in choices]
    return bt_top1(n_items, flat, initial)


def bt_bootstrap(
    n_items: int,
    choices_by_participant: Sequence[Sequence[tuple[int, tuple[int, ...]]]],
    pairwise: bool,
    resamples: int,
    seed: int,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Point estimate and percentile interval, resampling participants with replacement.

    Returns (params, low, high, failed fits). Pairwise data resample per-participant win
    matrices (a weighted sum, so a resample costs one small fit).
    """
    params = bt_fit(n_items, choices_by_participant, pairwise)
    if resamples <= 0 or len(choices_by_participant) < 2:
        nan = np.full(n_items, np.nan)
        return params, nan, nan.copy(), 0
    rng = np.random.default_rng(seed)
    k = len(choices_by_participant)
    if pairwise:
        per = np.zeros((k, n_items, n_items))
        for p, choices in enumerate(choices_by_participant):
            for w, losers in choices:
                per[p, w, losers[0]] += 1
    draws, failed = [], 0
    for _ in range(resamples):
        counts = np.bincount(rng.integers(0, k, size=k), minlength=k)
        try:
            if pairwise:
                draws.append(bt_pairwise(np.tensordot(counts, per, axes=1)))
            else:
                picked = [c for p in np.flatnonzero(counts) for c in choices_by_participant[p] for _ in range(counts[p])]
                draws.append(bt_top1(n_items, picked, initial=params))
        except RuntimeError:  # ILSR did not converge on a degenerate resample
            failed += 1
    tail = (1 - level) / 2 * 100
    arr = np.asarray(draws)
    return params, np.percentile(arr, tail, axis=0), np.percentile(arr, 100 - tail, axis=0), failed


# --------------------------------------------------------------------------- agreement


def krippendorff_nominal(labels_by_unit: dict[Any, dict[Any, Any]]) -> dict[str, Any]:
    """Krippendorff's alpha (nominal) over units judged by at least two raters.

    ``labels_by_unit[unit][rater] = label``. Returns alpha (None with a reason when it is
    undefined), and how many units and judgments it rests on.
    """
    units = {u: r for u, r in labels_by_unit.items() if len(r) >= 2}
    out: dict[str, Any] = {"units": len(units), "judgments": sum(len(r) for r in units.values())}
    if not units:
        return {**out, "alpha": None, "reason": "no comparison was judged by two or more participants"}
    raters = sorted({r for rs in units.values() for r in rs}, key=str)
    codes = {lab: i for i, lab in enumerate(sorted({lab for rs in units.values() for lab in rs.values()}, key=str))}
    if len(codes) < 2:
        return {**out, "alpha": None, "reason": "every judgment gave the same answer (no variation to measure)"}
    import krippendorff

    data = np.full((len(raters), len(units)), np.nan)
    rindex = {r: i for i, r in enumerate(raters)}
    for j, rs in enumerate(units.values()):
        for r, lab in rs.items():
            data[rindex[r], j] = codes[lab]
    alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    return {**out, "alpha": float(alpha), "reason": None}


# --------------------------------------------------------------------------- power


def judgments_needed(win_rate: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Judgments for a two-sided test against 0.5 to detect ``win_rate`` (normal approximation
    on Cohen's h, statsmodels ``NormalIndPower`` with ``ratio=0``: a one-sample test)."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(proportion_effectsize(win_rate, 0.5))
    return int(math.ceil(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=0)))


def power_at(win_rate: float, n: int, alpha: float = 0.05) -> float:
    """Power of the same test with ``n`` judgments (for the observed pairs)."""
    if n <= 0 or win_rate == 0.5:
        return math.nan
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(proportion_effectsize(win_rate, 0.5))
    return float(NormalIndPower().power(effect_size=h, nobs1=n, alpha=alpha, ratio=0))


def power_table(win_rates: Sequence[float], alpha: float, power: float) -> list[dict[str, float]]:
    from statsmodels.stats.proportion import proportion_effectsize

    return [
        {"win_rate": float(p), "effect_size_h": float(abs(proportion_effectsize(p, 0.5))),
         "judgments_needed": judgments_needed(p, alpha, power)}
        for p in win_rates
    ]
