"""What every metric shares: the scoring regions of a quadmask and the stateful metric shape.

Arrays, documented once for the whole package: videos ``(T, H, W, 3)`` uint8 RGB, quadmasks
``(T, H, W)`` uint8 holding the four values (``void.quadmask``). Metrics follow the
torchmetrics shape - ``update`` with a chunk of frames, ``compute`` at the end, ``reset`` -
so a long video is scored in pieces without holding float copies of all of it; the math
lives once in the module-level functions that the classes call.

Regions (``void.quadmask.REGIONS``):

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

REGION_NAMES = ("all", "removed", "affected", "keep")
_PARTS = REGION_NAMES[1:]  # the quadmask regions partition the frame; "all" is their union

# quadmask value -> index into _PARTS; other values are rejected before they get here.
_LUT = np.full(256, 255, dtype=np.uint8)
for _i, _name in enumerate(_PARTS):
    for _v in quadmask.REGIONS[_name]:
        _LUT[_v] = _i


def region_labels(mask: np.ndarray) -> np.ndarray:
    """Per-pixel region index (0 removed, 1 affected, 2 keep) of a quadmask."""
    labels = _LUT[np.asarray(mask, dtype=np.uint8)]
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
    parts = np.bincount(labels.ravel(), minlength=len(_PARTS)).astype(np.float64)
    return np.concatenate([[parts.sum()], parts[: len(_PARTS)]])


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


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0 (an empty region)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out
