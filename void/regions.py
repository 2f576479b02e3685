"""Scoring regions of a quadmask and region-wise PSNR: their one home.

The evaluation's metrics (``evaluate.metrics``) and training's validation
(``train.validation``) both score through these functions, so a number in ``validation.csv``
and the same number in ``results.parquet`` are computed alike.

Arrays: videos ``(T, H, W, 3)`` uint8 RGB, quadmasks ``(T, H, W)`` uint8.

* Regions (:data:`~void.constants.REGION_NAMES`): ``all`` every pixel; ``removed`` quadmask
  0 and 63; ``affected`` 127; ``keep`` 255. A region-wise value pools the region's pixels
  over all frames (and over all clips given to one accumulator); an empty region gives NaN.
* PSNR is ``10 log10(255^2 / MSE)`` with the MSE pooled over the region's pixels and
  channels. An exact match would be infinite; it is capped at :data:`PSNR_CAP_DB` so means
  and tables stay finite.
"""

from __future__ import annotations

import numpy as np

from void import quadmask
from void.constants import REGION_NAMES

DATA_RANGE = 255.0
PSNR_CAP_DB = 100.0

_PARTS = REGION_NAMES[1:]  # the quadmask regions partition the frame; "all" is their union

# quadmask value -> index into _PARTS; other values are rejected before they get here.
_LUT = np.full(256, 255, dtype=np.uint8)
for _i, _name in enumerate(_PARTS):
    for _v in quadmask.REGIONS[_name]:
        _LUT[_v] = _i


def region_labels(mask: np.ndarray) -> np.ndarray:
    """Per-pixel region index (0 removed, 1 affected, 2 keep) of a quadmask."""
    mask = np.asarray(mask, dtype=np.uint8)
    if mask.size and mask.flags.c_contiguous:
        import cv2

        # OpenCV's table lookup on a 2-D view: the same labels as indexing _LUT, several times faster
        labels = cv2.LUT(mask.reshape(-1, mask.shape[-1] if mask.ndim > 1 else mask.size), _LUT).reshape(mask.shape)
    else:
        labels = _LUT[mask]
    if labels.size and labels.max() == 255:
        quadmask.validate(mask, source="quadmask given to a metric")
    return labels


def region_sums(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Sums of ``values`` per region, ordered as :data:`REGION_NAMES` (``all`` first).

    ``values`` and ``labels`` have the same shape; float64 accumulation keeps long videos
    exact enough that chunked and whole-video results agree.
    """
    parts = np.bincount(labels.ravel(), weights=np.asarray(values, dtype=np.float64).ravel(), minlength=len(_PARTS))
    return np.concatenate([[parts.sum()], parts[: len(_PARTS)]])


def region_counts(labels: np.ndarray) -> np.ndarray:
    """Pixel counts per region, ordered as :data:`REGION_NAMES`."""
    flat = np.asarray(labels).reshape(-1)
    # counting compares per region: no widening of every label to a 64-bit index first
    counts = [np.count_nonzero(flat == i) for i in range(len(_PARTS) - 1)]
    parts = np.array([*counts, flat.size - sum(counts)], dtype=np.float64)
    return np.concatenate([[parts.sum()], parts])


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0 (an empty region)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def psnr_from_mse(mse: np.ndarray | float) -> np.ndarray:
    """PSNR in dB from a mean squared error on the 0..255 scale, capped; NaN stays NaN."""
    mse = np.asarray(mse, dtype=np.float64)
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(DATA_RANGE**2 / mse)
    return np.where(np.isnan(mse), np.nan, np.minimum(db, PSNR_CAP_DB))


# 0..255 -> its square, exact in float32 (a sum of three is at most 195075 < 2^24)
_SQUARES = np.arange(256, dtype=np.float32) ** 2


def squared_error(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-pixel squared error summed over the channels, ``(T, H, W)`` float64.

    Every value is an integer, exact in float32 and float64 alike, so any summation order
    gives the same region sums; |difference| and a table of squares is the cheap way there.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.dtype != np.uint8 or target.dtype != np.uint8:
        diff = pred.astype(np.int64) - target.astype(np.int64)
        return np.einsum("...c,...c->...", diff, diff).astype(np.float64)
    import cv2

    sq = _SQUARES[cv2.absdiff(pred.reshape(-1, pred.shape[-1]), target.reshape(-1, target.shape[-1]))]
    total = sq[:, 0].copy()
    for c in range(1, sq.shape[1]):
        total += sq[:, c]
    return total.reshape(pred.shape[:-1]).astype(np.float64)


def masked_sse(pred: np.ndarray, target: np.ndarray, where: np.ndarray | None = None) -> float:
    """Sum of squared differences over all channels of the pixels where ``where`` is true
    (every pixel when ``None``), pooled over the frames of ``(T, H, W, C)`` uint8 videos.

    OpenCV's L2-squared norm of a difference adds the squares of 8-bit differences in integers
    and returns a double, so the sum is exact (any order gives the same number) and matches
    :func:`squared_error` summed over the same pixels; it needs no per-pixel temporaries, so
    it is several times faster at 672x384.
    """
    import cv2

    pred, target = np.asarray(pred), np.asarray(target)
    if pred.dtype != np.uint8 or target.dtype != np.uint8:
        se = squared_error(pred, target)
        return float(se.sum() if where is None else se[where].sum())
    total = 0.0
    for t in range(pred.shape[0]):
        if where is None:
            total += cv2.norm(pred[t], target[t], cv2.NORM_L2SQR)
        elif where[t].any():
            total += cv2.norm(pred[t], target[t], cv2.NORM_L2SQR, where[t].view(np.uint8))
    return total


def region_sse(pred: np.ndarray, target: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Summed squared errors per region, ordered as :data:`REGION_NAMES`: the same numbers as
    ``region_sums(squared_error(pred, target), labels)``, computed by :func:`masked_sse`
    (``keep``, usually most of the frame, as the rest of ``all``: exact in integers)."""
    everything = masked_sse(pred, target)
    parts = [masked_sse(pred, target, labels == i) for i in range(len(_PARTS) - 1)]
    return np.array([everything, *parts, everything - sum(parts)], dtype=np.float64)


class PooledPSNR:
    """PSNR per region from squared errors pooled over every frame and clip given to it."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sse = np.zeros(len(REGION_NAMES))
        self.count = np.zeros(len(REGION_NAMES))  # values: pixels x channels

    def update(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray, labels: np.ndarray | None = None) -> None:
        labels = region_labels(mask) if labels is None else labels
        self.sse += region_sse(pred, target, labels)
        self.count += region_counts(labels) * pred.shape[-1]

    def compute(self) -> dict[str, float]:
        values = psnr_from_mse(ratio(self.sse, self.count))
        return {r: float(v) for r, v in zip(REGION_NAMES, values)}

    def pixels(self, region: str) -> int:
        return int(self.count[REGION_NAMES.index(region)]) // 3


def region_psnr(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """PSNR over ``all`` and each quadmask region of one video (NaN for an empty region)."""
    acc = PooledPSNR()
    acc.update(pred, target, mask)
    return acc.compute()
