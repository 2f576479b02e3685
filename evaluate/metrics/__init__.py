"""Metrics of the evaluation harness, one module per family around a functional core.

* :mod:`~evaluate.metrics.core` - scoring regions of a quadmask, the stateful metric shape;
* :mod:`~evaluate.metrics.fidelity` - PSNR and SSIM against the true counterfactual;
* :mod:`~evaluate.metrics.temporal` - optical-flow warping error of the output;
* :mod:`~evaluate.metrics.counterfactual` - closer to ``rgb_removed`` than to ``rgb_hidden``?
* :mod:`~evaluate.metrics.lpips` - LPIPS, only with real pretrained weights;
* :mod:`~evaluate.metrics.registry` - names, directions, descriptions, the whole suite.
"""

from evaluate.metrics.core import REGION_NAMES
from evaluate.metrics.counterfactual import CounterfactualScore, counterfactual_score
from evaluate.metrics.fidelity import RegionPSNR, RegionSSIM, psnr, region_psnr, region_ssim, ssim_map
from evaluate.metrics.registry import METRICS, MetricSpec, MetricSuite, score_video
from evaluate.metrics.temporal import WarpError, warp_error

__all__ = [
    "REGION_NAMES",
    "METRICS",
    "MetricSpec",
    "MetricSuite",
    "score_video",
    "psnr",
    "ssim_map",
    "region_psnr",
    "region_ssim",
    "RegionPSNR",
    "RegionSSIM",
    "warp_error",
    "WarpError",
    "counterfactual_score",
    "CounterfactualScore",
]
