"""The quadmask from render passes, and its statistics (``docs/quadmask.md``).

Per pixel and frame, from the exact id passes and the noise-free signatures of the three
views (``simulate.render.base``):

* 0 (remove): a removed object is visible in *full*;
* 63 (overlap): ... and *hidden* and *removed* also differ there;
* 127 (affected): any other pixel where *full* and *removed* differ;
* 255 (keep): *full* and *removed* are identical there, so their RGB is bit-identical.
"""

from __future__ import annotations

import numpy as np

from simulate.render.base import RenderPasses, Views
from void import quadmask


def differs(a: RenderPasses, b: RenderPasses) -> np.ndarray:
    """``(T, H, W)`` bool: the two views are not the same at this pixel (ids or signature)."""
    diff = a.ids != b.ids
    sig = a.signature != b.signature
    if sig.ndim == diff.ndim + 1:
        sig = sig.any(axis=-1)
    return diff | sig


def removed_visible(views: Views, removed_ids) -> np.ndarray:
    return np.isin(views.full.ids, np.asarray(list(removed_ids), dtype=views.full.ids.dtype))


def build_quadmask(views: Views, removed_ids) -> np.ndarray:
    """``(T, H, W)`` uint8 quadmask of a rendered sample."""
    return quadmask.compose(
        removed_visible(views, removed_ids),
        differs(views.full, views.removed),
        differs(views.hidden, views.removed),
    )


def mask_stats(mask: np.ndarray) -> dict:
    """Fractions of each value overall, per-frame extremes, and how many frames show each."""
    mask = np.asarray(mask)
    T = mask.shape[0]
    per_frame = {name: (mask == value).reshape(T, -1).mean(axis=1) for value, name in quadmask.NAMES.items()}
    out = {"fractions": quadmask.stats(mask)}
    out["max_frame_fraction"] = {name: float(v.max()) for name, v in per_frame.items()}
    out["frames_with"] = {name: int((v > 0).sum()) for name, v in per_frame.items()}
    edited = 1.0 - per_frame["keep"]
    out["edited_fraction"] = float(edited.mean())
    out["num_frames"] = int(T)
    return out
