"""Region PSNR of the validation step (``void.regions``, shared with evaluate), against scikit-image."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from train import validation
from void import quadmask, regions
from void.constants import REGION_NAMES

skimage_metrics = pytest.importorskip("skimage.metrics")


def _clip(seed=0, t=3, h=8, w=10):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 256, (t, h, w, 3), dtype=np.uint8)
    pred = np.clip(target.astype(int) + rng.integers(-40, 41, target.shape), 0, 255).astype(np.uint8)
    mask = rng.choice(np.array(quadmask.VALUES, np.uint8), size=(t, h, w))
    return pred, target, mask


def test_region_psnr_matches_skimage():
    pred, target, mask = _clip()
    got = regions.region_psnr(pred, target, mask)
    assert tuple(got) == REGION_NAMES
    for region in REGION_NAMES:
        sel = np.ones(mask.shape, bool) if region == "all" else quadmask.region(mask, region)
        want = skimage_metrics.peak_signal_noise_ratio(target[sel], pred[sel], data_range=255)
        assert got[region] == pytest.approx(want, rel=1e-9)


def test_pooled_score_and_edge_cases():
    score = regions.PooledPSNR()
    clips = [_clip(seed) for seed in range(3)]
    for pred, target, mask in clips:
        score.update(pred, target, mask)
    # Pooling = PSNR of all clips' pixels concatenated.
    preds = np.concatenate([c[0] for c in clips])
    targets = np.concatenate([c[1] for c in clips])
    want = skimage_metrics.peak_signal_noise_ratio(targets, preds, data_range=255)
    assert score.compute()["all"] == pytest.approx(want, rel=1e-9)
    assert score.pixels("all") == preds.shape[0] * preds.shape[1] * preds.shape[2]
    # An exact match is capped as the benchmark caps it; an empty region is NaN.
    assert regions.psnr_from_mse(0.0) == regions.PSNR_CAP_DB
    assert math.isnan(regions.psnr_from_mse(np.nan))


def test_validate_scores_identity_and_model(toy_dataset, tmp_path):
    from train import data

    ds = data.ClipDataset(toy_dataset, data.ClipSpec(8, 1, 32, 32), augment=False)

    def render_target(batch, first):  # a perfect "model": the ground truth itself
        return batch["target"]

    scores, rows = validation.validate(render_target, ds, num_samples=2, step=7, run_dir=tmp_path, split="val")
    assert scores == {r: regions.PSNR_CAP_DB for r in REGION_NAMES}
    assert [r["region"] for r in rows] == list(REGION_NAMES)
    by_region = {r["region"]: r for r in rows}
    # The identity copies the input: wrong where the removed square was, exact where kept.
    assert by_region["removed"]["identity_psnr_db"] < 20
    assert by_region["keep"]["identity_psnr_db"] == regions.PSNR_CAP_DB
    assert by_region["all"]["samples"] == 2
    assert sorted(p.name for p in (tmp_path / "validation" / "step_00000007").iterdir()) == ["toy_0000.mp4", "toy_0001.mp4"]
    assert torch.is_tensor(ds.eval_clip(0)["input"])
