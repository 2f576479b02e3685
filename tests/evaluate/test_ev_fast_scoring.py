"""The faster scorer computes the same numbers as the plain formulas it replaced.

The references below are the previous implementations, kept verbatim: SSIM's textbook
expression with numpy's channel mean, PSNR's squared error through int32 and einsum, the
quadmask check through np.unique, and the warping error gathering the valid pixels before
squaring in float64. PSNR, SSIM and the mask check must agree bit for bit (the speed-ups
reorder no float operation); the warping error now squares and adds a pixel's channels in
float32 (a relative rounding of about 1e-7 per pixel), so its sum agrees to 1e-6. Metric
suite 2 changed the flow preset, not these formulas.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from evaluate.metrics import fidelity, temporal
from evaluate.metrics.registry import SUITE_VERSION
from void import quadmask, regions


def _ssim_map_reference(pred, target):
    kernel = cv2.getGaussianKernel(2 * fidelity.SSIM_RADIUS + 1, fidelity.SSIM_SIGMA, cv2.CV_32F)
    c1 = (fidelity.SSIM_K1 * 255.0) ** 2
    c2 = (fidelity.SSIM_K2 * 255.0) ** 2

    def blur(img):
        return cv2.sepFilter2D(img, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)

    out = np.empty(pred.shape[:3], dtype=np.float32)
    for t in range(pred.shape[0]):
        x = pred[t].astype(np.float32)
        y = target[t].astype(np.float32)
        mx, my = blur(x), blur(y)
        mxx, myy, mxy = mx * mx, my * my, mx * my
        vx = np.maximum(blur(x * x) - mxx, 0.0)
        vy = np.maximum(blur(y * y) - myy, 0.0)
        cov = blur(x * y) - mxy
        s = ((2.0 * mxy + c1) * (2.0 * cov + c2)) / ((mxx + myy + c1) * (vx + vy + c2))
        out[t] = s.mean(axis=-1)
    return out


def _squared_error_reference(pred, target):
    diff = pred.astype(np.int32) - target.astype(np.int32)
    return np.einsum("...c,...c->...", diff, diff).astype(np.float64)


def _pair_error_reference(prev, nxt, dis):
    g_prev, g_next = temporal.to_gray(prev), temporal.to_gray(nxt)
    backward = dis.calc(g_next, g_prev, None)
    forward = dis.calc(g_prev, g_next, None)
    grid = temporal._sample_grid(backward)
    valid = temporal.valid_mask(backward, forward, grid)
    warped = cv2.remap(prev.astype(np.float32), grid[2], grid[3], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    diff = nxt.astype(np.float32)[valid] - warped[valid]
    return float(np.einsum("ij,ij->", diff, diff, dtype=np.float64)), int(valid.sum()) * 3


def _case(frames=6, h=40, w=56, seed=3):
    """A textured scene panning 1 px a frame, a target that differs in a box, a quadmask."""
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (h + 20, w + 20, 3)).astype(np.float32), (0, 0), 2).astype(np.uint8)
    pred = np.stack([tex[5:5 + h, 3 + t:3 + t + w] for t in range(frames)])
    target = pred.copy()
    target[:, 10:22, 14:30] = rng.integers(0, 256, (frames, 12, 16, 3), dtype=np.uint8)
    pred[:, 12:20, 16:28] = 255 - pred[:, 12:20, 16:28]  # a badly filled hole
    mask = np.full(pred.shape[:3], quadmask.KEEP, np.uint8)
    mask[:, 10:22, 14:30] = quadmask.AFFECTED
    mask[:, 12:20, 16:28] = quadmask.REMOVE
    mask[:, 12:14, 16:20] = quadmask.OVERLAP
    return pred, target, mask


def test_ssim_map_is_bit_identical_to_the_textbook_formula():
    pred, target, _ = _case()
    assert np.array_equal(fidelity.ssim_map(pred, target), _ssim_map_reference(pred, target))
    noise = np.random.default_rng(0).integers(0, 256, pred.shape, dtype=np.uint8)
    assert np.array_equal(fidelity.ssim_map(pred, noise), _ssim_map_reference(pred, noise))


def test_psnr_squared_error_and_region_psnr_are_unchanged():
    pred, target, mask = _case()
    se = regions.squared_error(pred, target)
    assert se.dtype == np.float64 and np.array_equal(se, _squared_error_reference(pred, target))
    labels = regions.region_labels(mask)
    sse = regions.region_sums(_squared_error_reference(pred, target), labels)
    count = regions.region_counts(labels) * 3
    expected = regions.psnr_from_mse(regions.ratio(sse, count))
    got = regions.region_psnr(pred, target, mask)
    assert [got[r] for r in regions.REGION_NAMES] == [float(v) for v in expected]
    # not uint8 (a float video from a model): the integer path, same numbers
    assert np.array_equal(regions.squared_error(pred.astype(np.int16), target.astype(np.int16)), se)


def test_quadmask_check_finds_the_same_stray_values():
    _, _, mask = _case()
    assert quadmask.invalid_values(mask) == []
    bad = mask.copy()
    bad[0, 0, :3] = (7, 200, 7)
    assert quadmask.invalid_values(bad) == [7, 200]
    assert quadmask.invalid_values(bad.astype(np.int32)) == [7, 200]


def test_warp_error_sum_matches_gathering_the_valid_pixels():
    pred, _, _ = _case(frames=4)
    dis = temporal._dis()
    for t in range(3):
        sse, n = temporal.pair_error(pred[t], pred[t + 1], dis)
        ref_sse, ref_n = _pair_error_reference(pred[t], pred[t + 1], dis)
        assert n == ref_n and n > 0
        assert sse == pytest.approx(ref_sse, rel=1e-6)


def test_suite_2_is_the_shipped_v1_scorer():
    from simulate.bench import definition

    v1, _ = definition.load("v1")
    assert SUITE_VERSION == 2 and v1["scorer"]["suite_version"] == SUITE_VERSION
    assert json.loads(json.dumps(v1["scorer"]))["lpips"] is False
