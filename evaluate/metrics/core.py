"""What every metric shares: the scoring regions of a quadmask and the stateful metric shape.

Arrays, documented once for the whole package: videos ``(T, H, W, 3)`` uint8 RGB, quadmasks
``(T, H, W)`` uint8 holding the four values (``void.quadmask``). Metrics follow the
torchmetrics shape - ``update`` with a chunk of frames, ``compute`` at the end, ``reset`` -
so a long video is scored in pieces without holding float copies of all of it; the math
lives once in the module-level functions that the classes call.

Regions (their one home is ``void.regions``, shared with training's validation):

* ``all``      every pixel;
* ``removed``  quadmask 0 and 63 - where the object was;
* ``affected`` quadmask 127 - where the scene changes once the object is gone;
* ``keep``     quadmask 255 - what a method should leave alone.

A region-wise value pools the region's pixels over all frames (a region that covers few
pixels in one frame weighs little); an empty region gives NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from void import quadmask
from void.regions import REGION_NAMES, ratio, region_counts, region_labels, region_sums  # noqa: F401 (re-exported)


def region_mask(mask: np.ndarray, name: str) -> np.ndarray:
    """Boolean map of one region, ``all`` included."""
    if name == "all":
        return np.ones(np.shape(mask), dtype=bool)
    return quadmask.region(mask, name)


def check_frames(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> None:
    """Raise ``ValueError`` when arrays do not line up (a bug upstream, not a user error)."""
    if pred.shape != target.shape or pred.ndim != 4 or pred.shape[-1] != 3:
        raise ValueError(f"expected two (T, H, W, 3) videos of one shape, got {pred.shape} and {target.shape}")
    if mask is not None and mask.shape != pred.shape[:3]:
        raise ValueError(f"mask shape {mask.shape} does not match video {pred.shape[:3]}")


@dataclass(frozen=True)
class MetricSpec:
    """One ``metric`` of the results: what the leaderboard and ``summary.json`` know of it."""

    name: str
    higher_is_better: bool
    description: str
    regions: tuple[str, ...] = ("all",)
    label: str = ""  # column title on the leaderboard (default: the name)
    group: str = "Fidelity"  # column group on the leaderboard
    percent: bool = False  # a rate in [0, 1], shown as a percentage

    def as_json(self) -> dict:
        return {"higher_is_better": self.higher_is_better, "description": self.description, "regions": list(self.regions)}


@dataclass
class Frames:
    """A chunk of consecutive frames of one output and its references, as metrics take it."""

    pred: np.ndarray
    removed: np.ndarray
    hidden: np.ndarray | None  # None: the dataset has no rgb_hidden
    mask: np.ndarray
    labels: np.ndarray  # region_labels(mask), computed once for every region-wise metric


class Metric:
    """Stateful metric: ``update`` with chunks of consecutive frames, then ``compute``.

    ``compute`` returns ``{output name: value}``; for region-wise metrics the names are the
    regions. Subclasses set ``name``, ``higher_is_better`` and ``outputs``, and ``specs``: the
    rows of ``results.parquet`` the metric produces. In the suite a metric is fed through
    :meth:`score` and read through :meth:`rows`; the defaults suit a region-wise metric
    against ``rgb_removed`` (``update(pred, removed, mask, labels)``), others override them.
    A new metric is a module with such a class plus one line in ``registry.REGISTRY``.
    """

    name: str = ""
    higher_is_better: bool = True
    outputs: tuple[str, ...] = ("all",)
    specs: tuple[MetricSpec, ...] = ()
    optional: bool = False  # only computed when the caller asks for it (e.g. LPIPS)

    def __init__(self) -> None:
        self.reset()

    @classmethod
    def create(cls, **options) -> "Metric":
        """The suite's constructor; ``options`` are the suite's keyword options (ignored here)."""
        return cls()

    def score(self, frames: Frames) -> None:
        self.update(frames.pred, frames.removed, frames.mask, frames.labels)

    def rows(self) -> list[tuple[str, str, float]]:
        """``(metric, region, value)`` for each of :attr:`specs` and its regions."""
        values = self.compute()
        return [(spec.name, r, values[r]) for spec in self.specs for r in spec.regions]

    def reset(self) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def compute(self) -> dict[str, float]:  # pragma: no cover
        raise NotImplementedError
