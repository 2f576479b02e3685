"""The metric suite: every metric's name, direction and description, and one object that
scores a video with all of them.

The names here are the ``metric`` column of ``results.parquet`` and the keys of
``summary.json`` (the results contract the leaderboard reads).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from evaluate.metrics import lpips as lpips_metric
from evaluate.metrics.core import REGION_NAMES, region_labels
from evaluate.metrics.counterfactual import CounterfactualScore
from evaluate.metrics.fidelity import PSNR_CAP_DB, RegionPSNR, RegionSSIM
from evaluate.metrics.temporal import WarpError

# Bump when a definition changes: finished parts scored under another version are redone.
SUITE_VERSION = 1


@dataclass(frozen=True)
class MetricSpec:
    name: str
    higher_is_better: bool
    description: str
    regions: tuple[str, ...] = ("all",)

    def as_json(self) -> dict:
        return {"higher_is_better": self.higher_is_better, "description": self.description, "regions": list(self.regions)}


METRICS: dict[str, MetricSpec] = {
    s.name: s
    for s in (
        MetricSpec(
            "psnr",
            True,
            "PSNR (dB) against rgb_removed, MSE pooled over the region's pixels in all frames; "
            f"capped at {PSNR_CAP_DB:g} dB for an exact match",
            REGION_NAMES,
        ),
        MetricSpec(
            "ssim",
            True,
            "Gaussian SSIM (sigma 1.5) against rgb_removed: mean of the SSIM map over the region's pixels in all frames",
            REGION_NAMES,
        ),
        MetricSpec(
            "lpips",
            False,
            "LPIPS distance to rgb_removed (spatial map averaged over the region); only with real pretrained weights",
            REGION_NAMES,
        ),
        MetricSpec(
            "warp_error",
            False,
            "RMSE (8-bit levels) between each output frame and the previous output frame warped by DIS optical "
            "flow, over pixels passing a forward-backward occlusion check",
        ),
        MetricSpec(
            "cf_margin",
            True,
            "counterfactual margin (d_hidden - d_removed) / (d_hidden + d_removed), d = RMSE to rgb_hidden / "
            "rgb_removed over quadmask 63 and 127: +1 true counterfactual, -1 pixel-only removal",
        ),
        MetricSpec(
            "cf_win",
            True,
            "1 when the output is closer to rgb_removed than to rgb_hidden in the affected region (cf_margin > 0), "
            "else 0; NaN without an affected region",
        ),
    )
}


class MetricSuite:
    """All metrics for one output video; ``update`` with chunks of frames, then ``rows``.

    ``hidden`` may be ``None`` (a dataset without ``rgb_hidden``): the counterfactual rows are
    then NaN. ``seconds`` accumulates the time spent in each family (for the benchmark).
    """

    def __init__(self, *, lpips: bool = False, lpips_net: str = lpips_metric.DEFAULT_NET, clock=time.perf_counter):
        self.metrics = {"psnr": RegionPSNR(), "ssim": RegionSSIM(), "warp_error": WarpError(), "counterfactual": CounterfactualScore()}
        if lpips:
            self.metrics["lpips"] = lpips_metric.LPIPSMetric(lpips_net)
        self.seconds = {"regions": 0.0, **{name: 0.0 for name in self.metrics}}
        self._clock = clock  # the benchmark passes a CPU clock: robust to a busy machine
        self.frames = 0
        self._has_hidden = True

    def _timed(self, name: str, fn, *args) -> None:
        t0 = self._clock()
        fn(*args)
        self.seconds[name] += self._clock() - t0

    def update(self, pred: np.ndarray, removed: np.ndarray, hidden: np.ndarray | None, mask: np.ndarray) -> None:
        t0 = self._clock()
        labels = region_labels(mask)  # shared by the region-wise metrics
        self.seconds["regions"] += self._clock() - t0
        for name in ("psnr", "ssim", "lpips"):
            if name in self.metrics:
                self._timed(name, self.metrics[name].update, pred, removed, mask, labels)
        self._timed("warp_error", self.metrics["warp_error"].update, pred)
        if hidden is None:
            self._has_hidden = False
        else:
            self._timed("counterfactual", self.metrics["counterfactual"].update, pred, removed, hidden, mask)
        self.frames += pred.shape[0]

    def rows(self) -> list[tuple[str, str, float]]:
        """``(metric, region, value)`` in a fixed order."""
        out: list[tuple[str, str, float]] = []
        for name in ("psnr", "ssim", "lpips"):
            if name in self.metrics:
                values = self.metrics[name].compute()
                out.extend((name, r, values[r]) for r in REGION_NAMES)
        out.append(("warp_error", "all", self.metrics["warp_error"].compute()["all"]))
        cf = self.metrics["counterfactual"].compute()
        if not self._has_hidden:
            cf = {"margin": float("nan"), "win": float("nan")}
        out.append(("cf_margin", "all", cf["margin"]))
        out.append(("cf_win", "all", cf["win"]))
        return out


def score_video(
    pred: np.ndarray,
    removed: np.ndarray,
    hidden: np.ndarray | None,
    mask: np.ndarray,
    *,
    lpips: bool = False,
    chunk_frames: int = 16,
) -> list[tuple[str, str, float]]:
    """Score one output against its references in chunks of frames (bounded float memory)."""
    suite = MetricSuite(lpips=lpips)
    for i in range(0, pred.shape[0], chunk_frames):
        sl = slice(i, i + chunk_frames)
        suite.update(pred[sl], removed[sl], None if hidden is None else hidden[sl], mask[sl])
    return suite.rows()
