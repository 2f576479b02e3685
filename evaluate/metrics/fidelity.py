"""Fidelity against the true counterfactual: PSNR and SSIM, whole frame and per quadmask region.

Definitions (8-bit RGB, data range 255):

* **PSNR** of a region is ``10 log10(255^2 / MSE)`` with the MSE pooled over the region's
  pixels and channels across *all* frames - one number per video, not a mean of per-frame
  PSNRs (a frame where the region is three pixels wide must not swing the score). An exact
  match would be infinite; it is capped at :data:`PSNR_CAP_DB` so means stay finite. This
  math has one home, ``void.regions``, which training's validation uses too.
* **SSIM** is the Gaussian SSIM of Wang et al. (window sigma 1.5, 11 taps, K1 0.01, K2 0.03,
  population statistics), computed per channel into an SSIM map whose border is filled by
  reflecting the image (torch/OpenCV "reflect-101" padding, as torchmetrics does), averaged
  over the channels. The SSIM of a region is the mean of that map over the region's pixels in
  all frames; over ``all`` it equals torchmetrics' ``structural_similarity_index_measure``
  averaged over frames. The tests check the map against scikit-image and torchmetrics.

The SSIM map is computed with OpenCV's separable filter rather than torchmetrics' 2-D grouped
convolution: the numbers agree to 1e-5, and it is over ten times faster on one CPU core
(``benchmarks/evaluate_speed.py`` prints the ratio; the suite's target is 30 frames/s).
"""

from __future__ import annotations

import numpy as np

from evaluate.metrics.core import REGION_NAMES, Metric, MetricSpec, check_frames, ratio, region_counts, region_labels, region_sums
from void.regions import DATA_RANGE, PSNR_CAP_DB, PooledPSNR, psnr_from_mse, region_psnr, squared_error  # noqa: F401
SSIM_SIGMA = 1.5
SSIM_RADIUS = 5  # int(3.5 * sigma + 0.5): the truncation torchmetrics and scikit-image use
SSIM_K1, SSIM_K2 = 0.01, 0.03


# --------------------------------------------------------------------------- functional


def psnr(pred: np.ndarray, target: np.ndarray, region: np.ndarray | None = None) -> float:
    """PSNR of two videos, pooled over all frames, optionally only where ``region`` is true."""
    se = squared_error(pred, target)
    channels = pred.shape[-1]
    if region is not None:
        se = se[region]
    if se.size == 0:
        return float("nan")
    return float(psnr_from_mse(se.sum() / (se.size * channels)))


def ssim_map(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """SSIM map ``(T, H, W)`` float32, averaged over the colour channels."""
    import cv2

    check_frames(pred, target)
    kernel = cv2.getGaussianKernel(2 * SSIM_RADIUS + 1, SSIM_SIGMA, cv2.CV_32F)
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2

    def blur(img: np.ndarray) -> np.ndarray:
        # float32 out of 8-bit or float32 in: the same numbers (8-bit values are exact in
        # float32), without a float copy of each frame for the means
        return cv2.sepFilter2D(img, cv2.CV_32F, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)

    out = np.empty(pred.shape[:3], dtype=np.float32)
    eight_bit = pred.dtype == np.uint8 and target.dtype == np.uint8
    for t in range(pred.shape[0]):
        x, y = pred[t], target[t]
        if not eight_bit:
            x, y = x.astype(np.float32), y.astype(np.float32)
        mx, my = blur(x), blur(y)
        if eight_bit:  # products of 8-bit values are exact in float32: no float copies first
            xx, yy, xy = (cv2.multiply(a, b, dtype=cv2.CV_32F) for a, b in ((x, x), (y, y), (x, y)))
        else:
            xx, yy, xy = x * x, y * y, x * y
        mxx, myy, mxy = mx * mx, my * my, mx * my
        # Variances are clamped at 0 as torchmetrics does: float32 cancellation can dip below.
        vx = np.maximum(blur(xx) - mxx, 0.0)
        vy = np.maximum(blur(yy) - myy, 0.0)
        cov = blur(xy) - mxy
        # s = ((2 mxy + c1)(2 cov + c2)) / ((mxx + myy + c1)(vx + vy + c2)), the same float32
        # operations in the same order, done in place (no temporary per step).
        num = np.multiply(mxy, 2.0, out=mxy)
        num += c1
        cov *= 2.0
        cov += c2
        num *= cov
        den = np.add(mxx, myy, out=mxx)
        den += c1
        vx += vy
        vx += c2
        den *= vx
        num /= den
        # the mean over the three channels as numpy's mean(axis=-1) computes it (sum left to
        # right, then / 3), without its slow reduction over a length-3 axis
        np.add(num[..., 0], num[..., 1], out=out[t])
        out[t] += num[..., 2]
        out[t] /= np.float32(3.0)
    return out


def region_ssim(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """SSIM over ``all`` and each quadmask region (NaN for an empty region)."""
    m = RegionSSIM()
    m.update(pred, target, mask)
    return m.compute()


# --------------------------------------------------------------------------- stateful


class RegionPSNR(Metric):
    name = "psnr"
    higher_is_better = True
    outputs = REGION_NAMES
    specs = (
        MetricSpec(
            "psnr",
            True,
            "PSNR (dB) against rgb_removed, MSE pooled over the region's pixels in all frames; "
            f"capped at {PSNR_CAP_DB:g} dB for an exact match",
            REGION_NAMES,
            label="PSNR",
        ),
    )

    def reset(self) -> None:
        self.pooled = PooledPSNR()  # the math lives in void.regions, shared with training

    def update(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray, labels: np.ndarray | None = None) -> None:
        check_frames(pred, target, mask)
        self.pooled.update(pred, target, mask, labels)

    def compute(self) -> dict[str, float]:
        return self.pooled.compute()


class RegionSSIM(Metric):
    name = "ssim"
    higher_is_better = True
    outputs = REGION_NAMES
    specs = (
        MetricSpec(
            "ssim",
            True,
            "Gaussian SSIM (sigma 1.5) against rgb_removed: mean of the SSIM map over the region's pixels in all frames",
            REGION_NAMES,
            label="SSIM",
        ),
    )

    def reset(self) -> None:
        self.total = np.zeros(len(REGION_NAMES))
        self.count = np.zeros(len(REGION_NAMES))

    def update(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray, labels: np.ndarray | None = None) -> None:
        check_frames(pred, target, mask)
        labels = region_labels(mask) if labels is None else labels
        self.total += region_sums(ssim_map(pred, target), labels)
        self.count += region_counts(labels)

    def compute(self) -> dict[str, float]:
        return {r: float(v) for r, v in zip(REGION_NAMES, ratio(self.total, self.count))}
