"""The metric suite: every metric's name, direction and description, and one object that
scores a video with all of them.

The names here are the ``metric`` column of ``results.parquet`` and the keys of
``summary.json`` (the results contract the leaderboard reads).
"""

from __future__ import annotations

import time

import numpy as np

from evaluate.metrics.core import Frames, Metric, MetricSpec, region_labels
from evaluate.metrics.counterfactual import CounterfactualScore
from evaluate.metrics.fidelity import RegionPSNR, RegionSSIM
from evaluate.metrics.lpips import LPIPSMetric
from evaluate.metrics.temporal import WarpError

# Bump when a definition changes: finished parts scored under another version are redone.
SUITE_VERSION = 2  # 2: the warping error's flow is DIS ULTRAFAST (temporal.py says why)

# Every metric of the suite, in the order of the results' rows. Adding a metric is a module
# with its class (``specs`` say what it reports, ``score``/``rows`` how it is fed and read)
# and one line here; results, summary.json and the leaderboard pick it up from its specs.
REGISTRY: tuple[type[Metric], ...] = (
    RegionPSNR,
    RegionSSIM,
    LPIPSMetric,
    WarpError,
    CounterfactualScore,
)

METRICS: dict[str, MetricSpec] = {spec.name: spec for cls in REGISTRY for spec in cls.specs}


class MetricSuite:
    """All metrics for one output video; ``update`` with chunks of frames, then ``rows``.

    ``hidden`` may be ``None`` (a dataset without ``rgb_hidden``): the counterfactual rows are
    then NaN. Optional metrics run only when named in ``optional`` (``lpips=True`` is the
    same as ``optional=("lpips",)``); ``options`` go to each metric's ``create``.
    ``seconds`` accumulates the time spent in each metric (for the benchmark).
    """

    def __init__(self, *, lpips: bool = False, optional: tuple[str, ...] = (), clock=time.perf_counter, **options):
        wanted = set(optional) | ({"lpips"} if lpips else set())
        self.metrics = {cls.name: cls.create(**options) for cls in REGISTRY if not cls.optional or cls.name in wanted}
        self.seconds = {"regions": 0.0, **{name: 0.0 for name in self.metrics}}
        self._clock = clock  # the benchmark passes a CPU clock: robust to a busy machine
        self.frames = 0

    def update(self, pred: np.ndarray, removed: np.ndarray, hidden: np.ndarray | None, mask: np.ndarray) -> None:
        t0 = self._clock()
        labels = region_labels(mask)  # shared by the region-wise metrics
        self.seconds["regions"] += self._clock() - t0
        frames = Frames(pred, removed, hidden, mask, labels)
        for name, metric in self.metrics.items():
            t0 = self._clock()
            metric.score(frames)
            self.seconds[name] += self._clock() - t0
        self.frames += pred.shape[0]

    def rows(self) -> list[tuple[str, str, float]]:
        """``(metric, region, value)`` in registry order."""
        return [row for metric in self.metrics.values() for row in metric.rows()]


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
