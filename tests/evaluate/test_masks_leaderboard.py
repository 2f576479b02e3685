"""The mask track on the leaderboard site: a section with intervals and ranks, and masks.csv."""

from __future__ import annotations

import pytest

from evaluate.config import EvaluateConfig
from evaluate.masks.config import MaskBaselineConfig
from evaluate.masks.run import run_mask_baseline
from evaluate.masks.score import score_masks
from evaluate.runner import score
from leaderboard import masks as lb_masks
from leaderboard.build import build
from leaderboard.config import LeaderboardConfig
from leaderboard.inputs import InputError


@pytest.fixture(scope="module")
def mask_results(toy_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("lbmasks")
    for name in ("oracle", "object-only", "dilated"):
        run_mask_baseline(MaskBaselineConfig(name=name, input=str(toy_dataset), out=str(root / "pred"), progress=False))
    score_masks(EvaluateConfig(data=str(toy_dataset), pred=str(root / "pred"), out=str(root / "res"), task="masks", workers=1, progress=False))
    return root / "res"


def test_scores_rank_the_truth_first(mask_results):
    long = lb_masks.score(lb_masks.load(mask_results), resamples=200, confidence=0.95, seed=0)
    head = long[(long["metric"] == "iou") & (long["region"] == "affected") & (long["family"] == "all")].set_index("method")
    assert head.loc["oracle", "mean"] == 1.0 and head.loc["oracle", "rank"] == 1
    assert head.loc["object-only", "mean"] == 0.0
    assert head.loc["dilated", "ci_low"] <= head.loc["dilated", "mean"] <= head.loc["dilated", "ci_high"]
    # object-only (0 everywhere) lies entirely below the oracle (1 everywhere)
    assert head.loc["object-only", "rank"] > 1
    assert set(long["family"]) == {"all", "toy"}


def test_site_has_the_mask_track_section(mask_results, toy_dataset, toy_preds, tmp_path):
    removal = tmp_path / "removal"
    score(EvaluateConfig(data=str(toy_dataset), pred=str(toy_preds), out=str(removal), workers=1, progress=False, lpips=False))
    site = tmp_path / "site"
    build(LeaderboardConfig(results=str(removal), masks=str(mask_results), out=str(site), resamples=200, quiet=True))
    page = (site / "index.html").read_text()
    assert '<h2 id="mask-track">Mask track</h2>' in page
    section = page.split('id="mask-track"')[1]
    # sorted by IoU affected: the oracle first, its interval shown
    assert section.index(">oracle<") < section.index(">dilated<") < section.index(">object-only<")
    assert "1.000 <span class=\"ci\">[1.000, 1.000]</span>" in section
    assert (site / lb_masks.MASKS_CSV).read_text().startswith(",".join(lb_masks.LONG_COLUMNS))


def test_removal_results_are_not_mask_results(toy_dataset, toy_preds, tmp_path):
    score(EvaluateConfig(data=str(toy_dataset), pred=str(toy_preds), out=str(tmp_path / "r"), workers=1, progress=False, lpips=False))
    with pytest.raises(InputError, match="not the mask track's"):
        lb_masks.load(tmp_path / "r")
