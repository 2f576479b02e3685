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


class Metric:
    """Stateful metric: ``update`` with chunks of consecutive frames, then ``compute``.

    ``compute`` returns ``{output name: value}``; for region-wise metrics the names are the
    regions. Subclasses set ``name``, ``higher_is_better`` and ``outputs``.
    """

    name: str = ""
    higher_is_better: bool = True
    outputs: tuple[str, ...] = ("all",)

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def compute(self) -> dict[str, float]:  # pragma: no cover
        raise NotImplementedError
