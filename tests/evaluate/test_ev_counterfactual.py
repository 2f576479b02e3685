"""The counterfactual-physics score on hand-built cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluate.metrics import counterfactual as cf
from evaluate.metrics.registry import score_video
from void import quadmask


def _scene(t=3, h=12, w=16):
    """removed = 100 everywhere; hidden = 130 in the affected band (the knocked object is
    elsewhere in the pixel-only world); the quadmask marks the band 127."""
    removed = np.full((t, h, w, 3), 100, np.uint8)
    hidden = removed.copy()
    mask = np.full((t, h, w), quadmask.KEEP, np.uint8)
    mask[:, 4:8, 2:10] = quadmask.AFFECTED
    hidden[mask == quadmask.AFFECTED] = 130
    return removed, hidden, mask


def test_true_counterfactual_scores_plus_one_and_pixel_only_minus_one():
    removed, hidden, mask = _scene()
    best = cf.counterfactual_score(removed, removed, hidden, mask)
    assert best["margin"] == 1.0 and best["win"] == 1.0 and best["d_removed"] == 0.0
    pixel_only = cf.counterfactual_score(hidden, removed, hidden, mask)
    assert pixel_only["margin"] == -1.0 and pixel_only["win"] == 0.0


@pytest.mark.parametrize(
    "value, margin, win",
    [(110, 1 / 3, 1.0), (120, -1 / 3, 0.0), (115, 0.0, 0.0)],  # d_removed, d_hidden: 10/20, 20/10, 15/15
)
def test_margin_in_between(value, margin, win):
    removed, hidden, mask = _scene()
    out = removed.copy()
    out[mask == quadmask.AFFECTED] = value
    got = cf.counterfactual_score(out, removed, hidden, mask)
    assert got["d_removed"] == pytest.approx(abs(value - 100))
    assert got["d_hidden"] == pytest.approx(abs(value - 130))
    assert got["margin"] == pytest.approx(margin)
    assert got["win"] == win


def test_only_the_affected_region_counts_and_overlap_is_part_of_it():
    removed, hidden, mask = _scene()
    out = removed.copy()
    out[mask == quadmask.KEEP] = 0  # garbage outside the region does not matter
    assert cf.counterfactual_score(out, removed, hidden, mask)["margin"] == 1.0
    # a consequence behind the object (63) is judged as well
    mask2 = np.full(mask.shape, quadmask.KEEP, np.uint8)
    mask2[:, 4:8, 2:10] = quadmask.OVERLAP
    assert cf.counterfactual_score(hidden, removed, hidden, mask2)["margin"] == -1.0


def test_undefined_without_affected_region_or_without_consequence():
    removed, hidden, mask = _scene()
    no_region = np.full(mask.shape, quadmask.KEEP, np.uint8)
    got = cf.counterfactual_score(removed, removed, hidden, no_region)
    assert math.isnan(got["margin"]) and math.isnan(got["win"])
    # affected pixels exist but both references agree there (say, only a shadow vanished)
    got = cf.counterfactual_score(removed, removed, removed, mask)
    assert math.isnan(got["margin"]) and math.isnan(got["win"])


def test_suite_rows_carry_the_score_and_nan_without_hidden():
    removed, hidden, mask = _scene()
    rows = {(m, r): v for m, r, v in score_video(removed, removed, hidden, mask)}
    assert rows[("cf_margin", "all")] == 1.0 and rows[("cf_win", "all")] == 1.0
    rows = {(m, r): v for m, r, v in score_video(removed, removed, None, mask)}
    assert math.isnan(rows[("cf_margin", "all")]) and math.isnan(rows[("cf_win", "all")])
    assert rows[("psnr", "affected")] == 100.0


def test_chunked_equals_whole():
    rng = np.random.default_rng(0)
    removed, hidden, mask = _scene(t=5)
    out = np.clip(removed + rng.normal(0, 20, removed.shape), 0, 255).astype(np.uint8)
    whole = cf.counterfactual_score(out, removed, hidden, mask)
    m = cf.CounterfactualScore()
    for i in range(0, 5, 2):
        m.update(out[i : i + 2], removed[i : i + 2], hidden[i : i + 2], mask[i : i + 2])
    assert m.compute()["margin"] == pytest.approx(whole["margin"], abs=1e-12)
