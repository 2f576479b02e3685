"""Bootstrap intervals of means over samples, and ranks that tie where intervals overlap.

Interval: percentile bootstrap over *samples* (the unit a benchmark draws). Every column of
a (samples x metrics) matrix is resampled with the same draw, so one set of resample counts
serves all metrics of a method and the whole computation is two matrix products. A NaN
(an empty region, an undefined counterfactual) means "no value for this sample": the mean
of a resample is the mean of its defined values, so without NaNs this is exactly the
textbook percentile bootstrap of the mean (checked against ``scipy.stats.bootstrap``).

Rank rule (documented on the site as well): method A *beats* method B when A's interval
lies entirely on the better side of B's (higher_is_better decides which side); the rank of
a method is ``1 + the number of methods that beat it``. So every method whose interval
overlaps the leader's shares rank 1, tied methods share the better rank and the next
method skips the shared places (competition ranking: 1, 1, 3), and whenever A beats B, A's
rank is strictly better. Overlap is not transitive: with A beating C and B overlapping
both, the ranks are A 1, B 1, C 2, so a different rank means "beaten by more methods",
not necessarily "beaten by the one ranked above".
"""

from __future__ import annotations

import zlib

import numpy as np

# Bound on resamples x samples held in memory at once (float64: 8 bytes each).
_CHUNK_ELEMENTS = 4_000_000


def rng_for(seed: int, *keys: str) -> np.random.Generator:
    """A generator fixed by the seed and the names of what it resamples.

    Keying by name (not by position in a loop) keeps intervals unchanged when something
    else is added to or removed from the results.
    """
    return np.random.default_rng([int(seed), *(zlib.crc32(k.encode("utf-8")) for k in keys)])


def resample_counts(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples, n) how often each sample is drawn in each bootstrap resample.

    Drawing indices and counting them is the same multinomial as ``rng.multinomial`` and
    about three times faster for these sizes.
    """
    if resamples * n >= 2**31:
        raise ValueError(f"{resamples} x {n} resample counts do not fit one draw; use chunks")
    idx = rng.integers(0, n, size=(resamples, n), dtype=np.int32)
    idx += (np.arange(resamples, dtype=np.int32) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=resamples * n).reshape(resamples, n).astype(np.float64)


def cached_counts(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray | None:
    """Resample counts small enough to keep and reuse, else None (then draw in chunks)."""
    return resample_counts(n, resamples, rng) if resamples * n <= _CHUNK_ELEMENTS else None


def bootstrap_means(
    values: np.ndarray,
    *,
    resamples: int,
    rng: np.random.Generator | None = None,
    counts: np.ndarray | None = None,
) -> np.ndarray:
    """(resamples, k) bootstrap distribution of the column means of ``values`` (n, k).

    NaNs are skipped per column; a resample with no defined value in a column gives NaN.
    ``counts`` (resamples, n) reuses resample counts drawn before (a paired bootstrap of
    several methods scored on the same samples); otherwise they are drawn from ``rng``
    in chunks that bound the memory.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    n, k = values.shape
    defined = np.isfinite(values)
    filled = np.where(defined, values, 0.0)
    weights = defined.astype(np.float64)
    if counts is not None:
        if counts.shape != (resamples, n):
            raise ValueError(f"counts have shape {counts.shape}, expected {(resamples, n)}")
        with np.errstate(invalid="ignore", divide="ignore"):
            return (counts @ filled) / (counts @ weights)
    rng = rng if rng is not None else np.random.default_rng(0)
    out = np.empty((resamples, k))
    step = max(1, _CHUNK_ELEMENTS // max(n, 1))
    for start in range(0, resamples, step):
        b = min(step, resamples - start)
        chunk = resample_counts(n, b, rng)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + b] = (chunk @ filled) / (chunk @ weights)
    return out


def mean_ci(
    values: np.ndarray,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``values`` (n, k): mean, interval low, interval high, defined count.

    Columns with no defined value get NaN for all three statistics and a count of 0; a
    column with a single value gets a zero-width interval at that value.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    defined = np.isfinite(values)
    count = defined.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.where(defined, values, 0.0).sum(axis=0) / count, np.nan)
    low = np.full(values.shape[1], np.nan)
    high = np.full(values.shape[1], np.nan)
    if values.shape[0] == 0 or not count.any():
        return mean, low, high, count
    alpha = (1.0 - confidence) / 2.0
    dist = bootstrap_means(values, resamples=resamples, rng=rng, counts=counts)
    live = count > 0
    sub = dist[:, live]
    # A resample can miss every defined value only when a column has very few of them.
    if np.isnan(sub).any():
        with np.errstate(invalid="ignore"):
            q = np.nanpercentile(sub, [100 * alpha, 100 * (1 - alpha)], axis=0)
    else:
        q = np.percentile(sub, [100 * alpha, 100 * (1 - alpha)], axis=0)
    low[live], high[live] = q[0], q[1]
    return mean, low, high, count


def ranks_with_ties(
    mean: np.ndarray, low: np.ndarray, high: np.ndarray, *, higher_is_better: bool
) -> np.ndarray:
    """Competition ranks (float; NaN where the mean is undefined) under the overlap rule.

    ``rank[i] = 1 + #{j : interval j lies entirely on the better side of interval i}``.
    """
    mean = np.asarray(mean, dtype=np.float64)
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    ok = np.isfinite(mean)
    # A missing interval (e.g. from a study without bootstrap) collapses to the point.
    low = np.where(np.isfinite(low), low, mean)
    high = np.where(np.isfinite(high), high, mean)
    if higher_is_better:
        better = low[:, None] > high[None, :]  # better[j, i]: j's interval above i's
    else:
        better = high[:, None] < low[None, :]
    better &= ok[:, None] & ok[None, :]
    rank = 1.0 + better.sum(axis=0)
    return np.where(ok, rank, np.nan)


def paired_bootstrap(
    ours: np.ndarray,
    other: np.ndarray,
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
) -> tuple[float, float, float, int]:
    """Mean of ``ours - other`` over the samples both define, with its percentile interval.

    Paired: both methods' values of one sample stay together in every resample, which is
    what the leaderboard gets by drawing one set of resample counts for all methods; here
    the same bootstrap (:func:`mean_ci`) runs on the per-sample differences. Returns mean,
    interval low, interval high and the number of pairs (NaN statistics for no pair).
    """
    diff = np.asarray(ours, dtype=np.float64) - np.asarray(other, dtype=np.float64)
    diff = diff[np.isfinite(diff)]
    mean, low, high, n = mean_ci(diff, resamples=resamples, confidence=confidence, rng=rng)
    return float(mean[0]), float(low[0]), float(high[0]), int(n[0])
