"""Statistics of the preference study, as pure functions over plain data.

* win rates and "selected as best" rates with Wilson 95% intervals (statsmodels);
* Bradley-Terry strengths: pairwise votes through choix's ``ilsr_pairwise_dense``; best-of-n
  picks through the Luce choice model (:func:`luce_top1`), whose strengths are the same
  Bradley-Terry strengths but which uses a pick among N as it is, without breaking it into
  pairs ("the winner beats each loser" is a biased estimator for top-1 data);
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


def luce_top1(members: np.ndarray, set_counts: np.ndarray, wins: np.ndarray, initial: np.ndarray | None = None,
              tol: float = 1e-10, max_iter: int = 20_000) -> np.ndarray:
    """Log-strengths (mean 0) of the Luce choice model from aggregated best-of-n picks.

    ``members[s, i]``: item i is in choice set s; ``set_counts[s]``: times set s was shown;
    ``wins[i]``: times i was picked. Hunter's (2004) MM update on these counts, written here
    because choix's top-1 fitters loop in Python over every pick, which makes a
    participant bootstrap take minutes; the test checks it against ``choix.ilsr_top1``.
    Every pair also gets ``BT_REGULARIZATION`` virtual picks each way, so a method that is
    never picked stays finite.
    """
    n = members.shape[1]
    pairs = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=int).reshape(-1, 2)
    prior = np.zeros((len(pairs), n), bool)
    prior[np.arange(len(pairs)), pairs[:, 0]] = True
    prior[np.arange(len(pairs)), pairs[:, 1]] = True
    a = np.vstack([members.astype(float), prior])
    c = np.concatenate([np.asarray(set_counts, float), np.full(len(pairs), 2 * BT_REGULARIZATION)])
    w = np.asarray(wins, float) + BT_REGULARIZATION * (n - 1)
    gamma = np.exp(initial - np.max(initial)) if initial is not None else np.ones(n)
    for _ in range(max_iter):
        new = w / (a.T @ (c / (a @ gamma)))
        new /= new.sum()
        done = np.max(np.abs(np.log(new) - np.log(gamma / gamma.sum()))) < tol
        gamma = new
        if done:
            break
    theta = np.log(gamma)
    return theta - theta.mean()


def _top1_counts(n_items: int, groups: Sequence[Sequence[tuple[int, tuple[int, ...]]]]):
    """Per participant: pick counts (k, n) and shown-set counts (k, S); the sets (S, n)."""
    sets: dict[tuple[int, ...], int] = {}
    for choices in groups:
        for w, losers in choices:
            sets.setdefault(tuple(sorted((w, *losers))), len(sets))
    members = np.zeros((len(sets), n_items), bool)
    for key, s in sets.items():
        members[s, list(key)] = True
    wins = np.zeros((len(groups), n_items))
    counts = np.zeros((len(groups), len(sets)))
    for p, choices in enumerate(groups):
        for w, losers in choices:
            wins[p, w] += 1
            counts[p, sets[tuple(sorted((w, *losers)))]] += 1
    return members, wins, counts


def bt_fit(n_items: int, choices_by_participant: Sequence[Sequence[tuple[int, tuple[int, ...]]]], pairwise: bool) -> np.ndarray:
    if pairwise:
        wins = np.zeros((n_items, n_items))
        for choices in choices_by_participant:
            for w, losers in choices:
                wins[w, losers[0]] += 1
        return bt_pairwise(wins)
    members, wins, counts = _top1_counts(n_items, choices_by_participant)
    return luce_top1(members, counts.sum(0), wins.sum(0))


def bt_bootstrap(
    n_items: int,
    choices_by_participant: Sequence[Sequence[tuple[int, tuple[int, ...]]]],
    pairwise: bool,
    resamples: int,
    seed: int,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Point estimate and percentile interval, resampling participants with replacement.

    Returns (params, low, high, failed fits). Each participant's answers are reduced to
    counts first, so a resample is a weighted sum of those counts and one small fit.
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
    else:
        members, wins, counts = _top1_counts(n_items, choices_by_participant)
    draws, failed = [], 0
    for _ in range(resamples):
        weight = np.bincount(rng.integers(0, k, size=k), minlength=k).astype(float)
        try:
            if pairwise:
                draws.append(bt_pairwise(np.tensordot(weight, per, axes=1)))
            else:
                draws.append(luce_top1(members, weight @ counts, weight @ wins, initial=params))
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


def krippendorff_bootstrap(labels_by_unit: dict[Any, dict[Any, Any]], resamples: int, seed: int) -> dict[str, Any]:
    """Alpha with a percentile 95% interval from resampling the comparisons (units) with
    replacement (Hayes & Krippendorff 2007 resample units too). Draws where alpha is
    undefined (a resample without variation) are left out and counted."""
    point = krippendorff_nominal(labels_by_unit)
    if point["alpha"] is None or resamples <= 0:
        return {**point, "ci_low": None, "ci_high": None, "bootstrap_resamples": 0}
    units = [r for r in labels_by_unit.values() if len(r) >= 2]
    rng = np.random.default_rng(seed)
    draws, undefined = [], 0
    for _ in range(resamples):
        pick = rng.integers(0, len(units), len(units))
        a = krippendorff_nominal({k: units[i] for k, i in enumerate(pick)})["alpha"]
        if a is None:
            undefined += 1
        else:
            draws.append(a)
    lo, hi = (np.percentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan))
    return {**point, "ci_low": float(lo), "ci_high": float(hi), "bootstrap_resamples": resamples,
            "bootstrap_over": "comparisons", "bootstrap_undefined": undefined}


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


def exact_power(win_rate: float, n: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Power of the exact two-sided binomial test against 0.5 (scipy's ``binomtest``
    rejects k when 2 * P(K <= k) <= alpha, and symmetrically above) for each ``n``."""
    from scipy.stats import binom

    n = np.asarray(n)
    k = binom.ppf(alpha / 2, n, 0.5)
    c = np.where(binom.cdf(k, n, 0.5) <= alpha / 2, k, k - 1)  # largest k rejected below
    return binom.cdf(c, n, win_rate) + binom.sf(n - c - 1, n, win_rate)


def judgments_needed_exact(win_rate: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Smallest n at which the exact binomial test reaches ``power``. Its discreteness makes
    it more conservative than the normal approximation (a few to ~15% more judgments)."""
    guess = judgments_needed(win_rate, alpha, power)
    n = np.arange(1, 3 * guess + 20)
    return int(n[np.argmax(exact_power(win_rate, n, alpha) >= power)])


def power_table(win_rates: Sequence[float], alpha: float, power: float) -> list[dict[str, float]]:
    from statsmodels.stats.proportion import proportion_effectsize

    return [
        {"win_rate": float(p), "effect_size_h": float(abs(proportion_effectsize(p, 0.5))),
         "judgments_needed": judgments_needed(p, alpha, power),
         "judgments_needed_exact": judgments_needed_exact(p, alpha, power)}
        for p in win_rates
    ]
