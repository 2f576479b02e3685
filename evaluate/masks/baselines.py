"""Reference predictors of the mask track: the floor, a naive guess and the ceiling.

* ``object-only``: the object is 0, everything else 255 - what an ordinary removal mask
  gives (no consequences at all);
* ``dilated``: the object is 0 and a ring of ``dilate_px`` pixels around it 127 - the
  usual "grow the mask a bit" guess, which catches contact shadows and little else;
* ``oracle``: the exact quadmask (our datasets only) - the ceiling, and a check that the
  scorer gives the truth full marks.
"""

from __future__ import annotations

import numpy as np

from void import quadmask

BASELINES = ("object-only", "dilated", "oracle")


def object_only(obj: np.ndarray) -> np.ndarray:
    mask = np.full(obj.shape, quadmask.KEEP, np.uint8)
    mask[obj] = quadmask.REMOVE
    return mask


def dilated(obj: np.ndarray, dilate_px: int) -> np.ndarray:
    import cv2

    mask = object_only(obj)
    if dilate_px <= 0:
        return mask
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1, 2 * dilate_px + 1))
    for t in range(obj.shape[0]):
        ring = cv2.dilate(obj[t].astype(np.uint8), k).astype(bool) & ~obj[t]
        mask[t][ring] = quadmask.AFFECTED
    return mask
