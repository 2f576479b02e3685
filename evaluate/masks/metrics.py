"""Metrics of the mask track: a predicted quadmask against the exact one.

Every function is pure (numpy in, float out) and takes ``(T, H, W)`` uint8 quadmasks. An
undefined value (both masks empty in a region, no frame before first contact...) is NaN:
"no value for this clip", skipped by means and intervals, never counted as 0 or 1.

Regions (sets of quadmask values):

* ``remove`` = {0}, ``overlap`` = {63}, ``affected`` = {127}: the three classes;
* ``changed`` = {63, 127}: every pixel where a consequence of the object shows (the region a
  mask predictor must find beyond the object it is given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from void import quadmask

CLASS_REGIONS = {"remove": (quadmask.REMOVE,), "overlap": (quadmask.OVERLAP,), "affected": (quadmask.AFFECTED,)}
CHANGED = "changed"
REGION_VALUES = {**CLASS_REGIONS, CHANGED: (quadmask.OVERLAP, quadmask.AFFECTED)}

# Bumped whenever a number this module computes would change: old parts are rescored.
SUITE_VERSION = "masks-1"


@dataclass(frozen=True)
class MaskMetric:
    name: str
    regions: tuple[str, ...]
    higher_is_better: bool
    description: str

    def as_json(self) -> dict:
        return {"regions": list(self.regions), "higher_is_better": self.higher_is_better, "description": self.description}


METRICS: dict[str, MaskMetric] = {
    m.name: m
    for m in (
        MaskMetric("iou", ("remove", "overlap", "affected", CHANGED), True,
                   "intersection over union of the region's pixels over all frames (NaN when both are empty)"),
        MaskMetric("precision", (CHANGED,), True,
                   "fraction of predicted changed pixels (63 or 127) that are changed in the truth"),
        MaskMetric("recall", (CHANGED,), True,
                   "fraction of true changed pixels (63 or 127) the prediction marks as changed"),
        MaskMetric("boundary_f", (CHANGED,), True,
                   "boundary F-score of the changed region (DAVIS style, tolerance 0.8% of the diagonal), mean over frames"),
        MaskMetric("precontact_recall", (CHANGED,), True,
                   "in frames before the first contact: fraction of true changed pixels the prediction marks"),
        MaskMetric("precontact_precision", (CHANGED,), True,
                   "in frames before the first contact: fraction of predicted changed pixels that are true "
                   "(low when a mask marks the future too early)"),
        MaskMetric("stability", ("all",), True,
                   "1 - label changes between consecutive frames that the truth does not make, per pixel-pair "
                   "where either mask marks something"),
    )
}  # fmt: skip


def _ratio(num: int, den: int) -> float:
    return float(num) / float(den) if den else math.nan


def region_map(mask: np.ndarray, region: str) -> np.ndarray:
    return np.isin(mask, REGION_VALUES[region])


def iou(pred: np.ndarray, truth: np.ndarray, region: str) -> float:
    p, t = region_map(pred, region), region_map(truth, region)
    return _ratio(int(np.count_nonzero(p & t)), int(np.count_nonzero(p | t)))


def precision_recall(pred: np.ndarray, truth: np.ndarray, region: str = CHANGED) -> tuple[float, float]:
    p, t = region_map(pred, region), region_map(truth, region)
    hit = int(np.count_nonzero(p & t))
    return _ratio(hit, int(np.count_nonzero(p))), _ratio(hit, int(np.count_nonzero(t)))


def boundary_tolerance_px(height: int, width: int) -> int:
    # DAVIS' bound_th = 0.008 of the image diagonal, at least one pixel.
    return max(1, int(round(0.008 * math.hypot(height, width))))


def _boundary(m: np.ndarray) -> np.ndarray:
    """Pixels of ``m`` with a 4-neighbour outside it (the image border counts as outside)."""
    import cv2

    inner = cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return m & ~inner.astype(bool)


def _dilate(m: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(m.astype(np.uint8), k).astype(bool)


def boundary_f(pred: np.ndarray, truth: np.ndarray, region: str = CHANGED) -> float:
    """Mean over frames of the boundary F-score; frames where neither mask has the region are
    skipped, a frame where only one has it scores 0."""
    _, h, w = truth.shape
    tol = boundary_tolerance_px(h, w)
    scores = []
    for p, t in zip(region_map(pred, region), region_map(truth, region)):
        bp, bt = _boundary(p), _boundary(t)
        np_, nt = int(bp.sum()), int(bt.sum())
        if np_ == 0 and nt == 0:
            continue
        if np_ == 0 or nt == 0:
            scores.append(0.0)
            continue
        prec = np.count_nonzero(bp & _dilate(bt, tol)) / np_
        rec = np.count_nonzero(bt & _dilate(bp, tol)) / nt
        scores.append(0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec))
    return float(np.mean(scores)) if scores else math.nan


def precontact(pred: np.ndarray, truth: np.ndarray, first_contact: int | None) -> tuple[float, float]:
    """(precision, recall) of the changed region over frames ``[0, first_contact)``."""
    if first_contact is None or first_contact <= 0:
        return math.nan, math.nan
    k = min(int(first_contact), truth.shape[0])
    return precision_recall(pred[:k], truth[:k], CHANGED)


def stability(pred: np.ndarray, truth: np.ndarray) -> float:
    """1 - (pixel-pairs whose predicted label changes from frame t to t+1 while the true label
    does not) / (pixel-pairs where either mask marks anything but keep in t or t+1)."""
    if pred.shape[0] < 2:
        return math.nan
    p_change = pred[1:] != pred[:-1]
    t_change = truth[1:] != truth[:-1]
    marked = (pred[1:] != quadmask.KEEP) | (pred[:-1] != quadmask.KEEP) | (truth[1:] != quadmask.KEEP) | (truth[:-1] != quadmask.KEEP)
    spurious = int(np.count_nonzero(p_change & ~t_change & marked))
    den = int(np.count_nonzero(marked))
    return 1.0 - _ratio(spurious, den) if den else math.nan


def score_mask(pred: np.ndarray, truth: np.ndarray, first_contact: int | None = None) -> list[tuple[str, str, float]]:
    """Every (metric, region, value) row of one clip, in the registry's order."""
    if pred.shape != truth.shape:
        raise ValueError(f"prediction {pred.shape} and truth {truth.shape} differ in shape")
    rows = [("iou", r, iou(pred, truth, r)) for r in METRICS["iou"].regions]
    prec, rec = precision_recall(pred, truth, CHANGED)
    rows += [("precision", CHANGED, prec), ("recall", CHANGED, rec), ("boundary_f", CHANGED, boundary_f(pred, truth))]
    pre_p, pre_r = precontact(pred, truth, first_contact)
    rows += [("precontact_recall", CHANGED, pre_r), ("precontact_precision", CHANGED, pre_p)]
    rows.append(("stability", "all", stability(pred, truth)))
    return rows
