"""The counterfactual-physics score: did the method remove the object's consequences too?

Two references exist for every sample: ``rgb_removed``, the true counterfactual (physics
re-run without the object), and ``rgb_hidden``, the same physics as the input with the object
erased - what a perfect pixel-only inpainter would produce (the ball it knocked still
rolls). Inside the region where the two can differ, the score asks which one the output
resembles.

Definitions:

* the **affected region** for this score is every pixel that changes in the counterfactual
  apart from the object itself: quadmask 127 (affected) and 63 (overlap: a consequence that
  happens behind the object), over all frames;
* ``d_removed`` and ``d_hidden`` are the RMSE (8-bit levels, pooled over the region's pixels,
  channels and frames) between the output and each reference;
* ``cf_margin = (d_hidden - d_removed) / (d_hidden + d_removed)``, in [-1, 1]: +1 for the
  perfect counterfactual (``d_removed = 0``), -1 for a pixel-only output that equals
  ``rgb_hidden``, 0 for an output equally far from both;
* ``cf_win = 1.0`` when the margin is positive, else ``0.0``; the win rate of a method is
  the mean of ``cf_win`` over its samples.

Both are NaN when the sample has no affected region, or when ``rgb_hidden`` and
``rgb_removed`` are identical there (the object had no consequence the score could see).
"""

from __future__ import annotations

import numpy as np

from evaluate.metrics.core import Frames, Metric, MetricSpec, check_frames
from void.regions import masked_sse

CF_VALUES = (63, 127)


def cf_region(mask: np.ndarray) -> np.ndarray:
    """Boolean map of the region the counterfactual score looks at (quadmask 63 and 127)."""
    return np.isin(mask, CF_VALUES)


def margin_from_distances(d_removed: float, d_hidden: float) -> float:
    """``(d_hidden - d_removed) / (d_hidden + d_removed)``; NaN when both are 0 or NaN."""
    total = d_hidden + d_removed
    if not np.isfinite(total) or total <= 0:
        return float("nan")
    return float((d_hidden - d_removed) / total)


def win_from_margin(margin: float) -> float:
    return float("nan") if np.isnan(margin) else float(margin > 0)


def counterfactual_score(pred: np.ndarray, removed: np.ndarray, hidden: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """``{"margin", "win", "d_removed", "d_hidden"}`` for one output video."""
    m = CounterfactualScore()
    m.update(pred, removed, hidden, mask)
    return m.compute()


class CounterfactualScore(Metric):
    name = "counterfactual"
    higher_is_better = True
    outputs = ("margin", "win", "d_removed", "d_hidden")
    specs = (
        MetricSpec(
            "cf_margin",
            True,
            "counterfactual margin (d_hidden - d_removed) / (d_hidden + d_removed), d = RMSE to rgb_hidden / "
            "rgb_removed over quadmask 63 and 127: +1 true counterfactual, -1 pixel-only removal",
            label="CF margin",
            group="Counterfactual physics",
        ),
        MetricSpec(
            "cf_win",
            True,
            "1 when the output is closer to rgb_removed than to rgb_hidden in the affected region (cf_margin > 0), "
            "else 0; NaN without an affected region",
            label="CF win rate",
            group="Counterfactual physics",
            percent=True,
        ),
    )

    def reset(self) -> None:
        self.sse_removed = 0.0
        self.sse_hidden = 0.0
        self.count = 0
        self.references_differ = False
        self.has_hidden = True

    def score(self, frames: Frames) -> None:
        if frames.hidden is None:  # no rgb_hidden in the dataset: the rows are NaN
            self.has_hidden = False
        else:
            self.update(frames.pred, frames.removed, frames.hidden, frames.mask)

    def rows(self) -> list[tuple[str, str, float]]:
        values = self.compute() if self.has_hidden else {"margin": float("nan"), "win": float("nan")}
        return [("cf_margin", "all", values["margin"]), ("cf_win", "all", values["win"])]

    def update(self, pred: np.ndarray, removed: np.ndarray, hidden: np.ndarray, mask: np.ndarray) -> None:
        check_frames(pred, removed, mask)
        check_frames(pred, hidden)
        region = cf_region(mask)
        n = int(np.count_nonzero(region))
        if n == 0:
            return
        # exact integer sums of squares (void.regions.masked_sse), no per-pixel gathers
        self.sse_removed += masked_sse(pred, removed, region)
        self.sse_hidden += masked_sse(pred, hidden, region)
        self.count += n * pred.shape[-1]
        self.references_differ = self.references_differ or masked_sse(removed, hidden, region) > 0

    def compute(self) -> dict[str, float]:
        if not self.count:
            nan = float("nan")
            return {"margin": nan, "win": nan, "d_removed": nan, "d_hidden": nan}
        d_removed = float(np.sqrt(self.sse_removed / self.count))
        d_hidden = float(np.sqrt(self.sse_hidden / self.count))
        margin = margin_from_distances(d_removed, d_hidden) if self.references_differ else float("nan")
        return {"margin": margin, "win": win_from_margin(margin), "d_removed": d_removed, "d_hidden": d_hidden}
