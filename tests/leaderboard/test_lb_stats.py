"""Bootstrap intervals against scipy and against the coverage they promise; tie-aware ranks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from leaderboard import stats


def _scipy_percentile(values: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    res = sps.bootstrap(
        (values,), np.mean, n_resamples=resamples, confidence_level=0.95, method="percentile",
        vectorized=True, rng=np.random.default_rng(seed),
    )
    return res.confidence_interval.low, res.confidence_interval.high


@pytest.mark.parametrize("draw", ["normal", "exponential"])
def test_interval_matches_scipy_percentile_bootstrap(draw):
    rng = np.random.default_rng(1)
    n = 60
    data = rng.normal(30.0, 2.0, n) if draw == "normal" else rng.exponential(0.05, n)
    mean, low, high, count = stats.mean_ci(data, resamples=20000, rng=np.random.default_rng(2))
    ref_low, ref_high = _scipy_percentile(data, 20000, seed=3)
    se = data.std(ddof=1) / np.sqrt(n)
    # Two independent Monte Carlo estimates of the same quantiles: each endpoint's own
    # error is about 0.03 SE at 20,000 resamples, so 0.15 SE is a 4-sigma band.
    assert mean[0] == pytest.approx(data.mean())
    assert count[0] == n
    assert low[0] == pytest.approx(ref_low, abs=0.15 * se)
    assert high[0] == pytest.approx(ref_high, abs=0.15 * se)
    # and the interval is not trivially wide or narrow: about 2 x 1.96 standard errors
    assert 3.3 * se < high[0] - low[0] < 4.5 * se


def test_columns_are_resampled_together_and_independently_correct():
    rng = np.random.default_rng(4)
    data = np.column_stack([rng.normal(0, 1, 50), rng.normal(10, 3, 50), rng.uniform(0, 1, 50)])
    joint = stats.mean_ci(data, resamples=4000, rng=np.random.default_rng(5))
    for j in range(3):
        alone = stats.mean_ci(data[:, j], resamples=4000, rng=np.random.default_rng(5))
        # the same resample counts apply to every column, so a column's interval does not
        # depend on which other columns are computed alongside it
        for a, b in zip(joint, alone):
            assert a[j] == pytest.approx(b[0])


def test_coverage_of_the_mean_is_close_to_nominal():
    """Analytic check: the interval should contain the true mean about 95% of the time."""
    rng = np.random.default_rng(6)
    datasets = rng.normal(5.0, 2.0, size=(40, 600))  # 600 independent datasets of 40 samples
    _, low, high, _ = stats.mean_ci(datasets, resamples=2000, rng=np.random.default_rng(7))
    coverage = np.mean((low <= 5.0) & (5.0 <= high))
    # The percentile bootstrap of a mean undercovers a little at n = 40 (about 0.935);
    # 600 datasets give a binomial SD of about 0.01.
    assert 0.90 <= coverage <= 0.975


def test_nan_values_are_left_out_of_mean_count_and_interval():
    rng = np.random.default_rng(8)
    values = rng.normal(20.0, 1.0, 80)
    with_nan = values.copy()
    with_nan[::4] = np.nan  # e.g. samples whose affected region is empty
    matrix = np.column_stack([with_nan, np.full(80, np.nan), np.r_[7.0, np.full(79, np.nan)]])
    mean, low, high, count = stats.mean_ci(matrix, resamples=20000, rng=np.random.default_rng(9))
    defined = values[np.isfinite(with_nan)]
    assert count.tolist() == [60, 0, 1]
    assert mean[0] == pytest.approx(defined.mean())
    # resampling samples and averaging the defined values is the bootstrap of the
    # defined values (with a random count), so it agrees with scipy on them
    ref_low, ref_high = _scipy_percentile(defined, 20000, seed=10)
    se = defined.std(ddof=1) / np.sqrt(len(defined))
    assert low[0] == pytest.approx(ref_low, abs=0.2 * se)
    assert high[0] == pytest.approx(ref_high, abs=0.2 * se)
    assert np.isnan([mean[1], low[1], high[1]]).all()  # nothing defined: nothing claimed
    assert (mean[2], low[2], high[2]) == (7.0, 7.0, 7.0)  # one value: a zero-width interval


def test_seed_reproduces_and_changes_intervals():
    data = np.random.default_rng(11).normal(size=(30, 3))
    a = stats.mean_ci(data, resamples=500, rng=stats.rng_for(0, "void", "all"))
    b = stats.mean_ci(data, resamples=500, rng=stats.rng_for(0, "void", "all"))
    c = stats.mean_ci(data, resamples=500, rng=stats.rng_for(1, "void", "all"))
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_cached_counts_chunked_draws_and_multinomial_agree(monkeypatch):
    n, resamples = 25, 600
    counts = stats.resample_counts(n, resamples, np.random.default_rng(12))
    assert counts.shape == (resamples, n)
    assert (counts.sum(axis=1) == n).all()  # each resample draws n samples
    assert counts.mean() == pytest.approx(1.0)
    assert counts.var() == pytest.approx((n - 1) / n, rel=0.1)  # multinomial(n, 1/n) variance
    data = np.random.default_rng(13).normal(size=(n, 2))
    with_counts = stats.mean_ci(data, resamples=resamples, counts=counts)
    drawn = stats.mean_ci(data, resamples=resamples, rng=np.random.default_rng(12))
    np.testing.assert_allclose(with_counts[1], drawn[1])
    # tiny chunks: the draws continue from the same generator, chunk after chunk
    monkeypatch.setattr(stats, "_CHUNK_ELEMENTS", n * 7)
    chunked = stats.mean_ci(data, resamples=20000, rng=np.random.default_rng(14))
    whole = stats.mean_ci(data, resamples=20000, rng=np.random.default_rng(15))
    se = data.std(axis=0, ddof=1) / np.sqrt(n)
    np.testing.assert_allclose(chunked[1], whole[1], atol=0.15 * se.max())


def _ranks(intervals, higher_is_better=True):
    low = np.array([i[0] for i in intervals], dtype=float)
    high = np.array([i[1] for i in intervals], dtype=float)
    mean = np.array([i[2] if len(i) > 2 else (i[0] + i[1]) / 2 for i in intervals], dtype=float)
    return stats.ranks_with_ties(mean, low, high, higher_is_better=higher_is_better).tolist()


def test_ranks_all_overlapping_share_first_place():
    assert _ranks([(1, 3), (2, 4), (0, 2.5)]) == [1, 1, 1]


def test_ranks_disjoint_intervals_are_strict_and_respect_direction():
    intervals = [(10, 11), (5, 6), (0, 1)]
    assert _ranks(intervals, higher_is_better=True) == [1, 2, 3]
    assert _ranks(intervals, higher_is_better=False) == [3, 2, 1]


def test_ranks_ties_share_the_better_rank_and_skip_places():
    assert _ranks([(10, 11), (10, 11), (5, 6)]) == [1, 1, 3]
    assert _ranks([(5, 6), (0, 1), (0, 1)], higher_is_better=True) == [1, 2, 2]


def test_ranks_overlap_is_not_transitive():
    # A beats C, B overlaps both: A and B share first, C is beaten by one method
    assert _ranks([(10, 12), (9, 11), (8, 9.5)]) == [1, 1, 2]


def test_touching_intervals_count_as_overlapping():
    assert _ranks([(2, 3), (1, 2)]) == [1, 1]


def test_undefined_means_get_no_rank_and_missing_intervals_collapse_to_the_point():
    ranks = stats.ranks_with_ties(
        np.array([5.0, np.nan, 3.0, 4.0]),
        np.array([4.5, np.nan, np.nan, 3.9]),
        np.array([5.5, np.nan, np.nan, 4.6]),
        higher_is_better=True,
    )
    assert ranks[0] == 1 and np.isnan(ranks[1])
    assert ranks[2] == 3  # the point 3.0 lies below both other intervals
    assert ranks[3] == 1  # [3.9, 4.6] overlaps [4.5, 5.5]


def test_paired_bootstrap_is_the_bootstrap_of_differences():
    """The quickstart's claim test and the leaderboard share this one implementation."""
    rng = np.random.default_rng(5)
    base = rng.normal(25.0, 4.0, 50)  # samples differ a lot; the methods differ by ~0.5 dB
    ours, other = base + 0.5 + rng.normal(0, 0.2, 50), base.copy()
    other[3] = np.nan  # a sample the other method has no value for is left out of the pairs
    mean, low, high, n = stats.paired_bootstrap(ours, other, resamples=4000, rng=np.random.default_rng(6))
    diff = np.delete(ours - other, 3)
    assert n == 49 and mean == pytest.approx(diff.mean())
    ref_low, ref_high = _scipy_percentile(diff, 20000, seed=7)
    se = diff.std(ddof=1) / np.sqrt(n)
    assert abs(low - ref_low) < 0.2 * se and abs(high - ref_high) < 0.2 * se
    # Pairing is what makes 0.5 dB visible under 4 dB of sample-to-sample spread.
    assert low > 0
    _, u_low, u_high, _ = stats.mean_ci(np.delete(ours, 3), resamples=4000, rng=np.random.default_rng(6))
    assert high - low < (u_high - u_low) / 5
