"""The quadmask: VOID's four-valued per-pixel edit mask, and the encodings derived from it.

Values (uint8, per pixel, per frame):

====  ==========================================================================
0     REMOVE   - the object to remove is visible here
63    OVERLAP  - the removed object is here AND the pixel changes in the counterfactual
127   AFFECTED - no removed object, but the scene differs once it is gone
255   KEEP     - identical in the counterfactual
====  ==========================================================================

Readers quantize with VOID's thresholds (<=31 -> 0, <=95 -> 63, <=191 -> 127, else 255) so
files written by VOID's own tools load too.
"""

from __future__ import annotations

import numpy as np

from void.constants import MASK_ENCODINGS  # noqa: F401 (re-exported)
from void.errors import VoidError

REMOVE = 0
OVERLAP = 63
AFFECTED = 127
KEEP = 255
VALUES = (REMOVE, OVERLAP, AFFECTED, KEEP)
NAMES = {REMOVE: "remove", OVERLAP: "overlap", AFFECTED: "affected", KEEP: "keep"}

# Upper bounds (inclusive) of each quantization bucket, as in VOID's training loader.
THRESHOLDS = (31, 95, 191)

# Scoring regions: name -> the quadmask values that belong to it.
REGIONS = {
    "removed": (REMOVE, OVERLAP),
    "affected": (AFFECTED,),
    "keep": (KEEP,),
}


# False colours for previews and the study app (RGB).
PALETTE = {
    REMOVE: (230, 40, 40),
    OVERLAP: (240, 160, 20),
    AFFECTED: (40, 120, 240),
    KEEP: (24, 24, 24),
}


class QuadmaskError(VoidError, ValueError):
    """A mask that is not a valid quadmask."""


def quantize(mask: np.ndarray) -> np.ndarray:
    """Snap arbitrary uint8 values to the four quadmask values with VOID's thresholds."""
    mask = np.asarray(mask)
    lut = np.empty(256, dtype=np.uint8)
    lut[: THRESHOLDS[0] + 1] = REMOVE
    lut[THRESHOLDS[0] + 1 : THRESHOLDS[1] + 1] = OVERLAP
    lut[THRESHOLDS[1] + 1 : THRESHOLDS[2] + 1] = AFFECTED
    lut[THRESHOLDS[2] + 1 :] = KEEP
    return lut[mask.astype(np.uint8, copy=False)]


def invalid_values(mask: np.ndarray) -> list[int]:
    """The values present in ``mask`` that are not one of the four."""
    mask = np.asarray(mask)
    # a histogram finds the values of a uint8 video many times faster than sorting it;
    # OpenCV's counts 8-bit values without numpy's widening to 64-bit indices first
    if mask.dtype == np.uint8 and mask.size:
        import cv2

        flat = np.ascontiguousarray(mask).reshape(-1, mask.shape[-1] if mask.ndim > 1 else mask.size)
        present = np.flatnonzero(cv2.calcHist([flat], [0], None, [256], [0, 256]).ravel())
    else:
        present = np.unique(mask)
    return [int(v) for v in present if int(v) not in VALUES]


def validate(mask: np.ndarray, *, source: str = "mask") -> None:
    """Raise :class:`QuadmaskError` naming ``source`` if ``mask`` holds other values."""
    bad = invalid_values(mask)
    if bad:
        shown = ", ".join(str(v) for v in bad[:8]) + (" ..." if len(bad) > 8 else "")
        raise QuadmaskError(
            f"{source}: mask values outside the quadmask's four {VALUES}: {shown}"
        )


def compose(
    removed_visible: np.ndarray, full_vs_removed: np.ndarray, hidden_vs_removed: np.ndarray
) -> np.ndarray:
    """Build a quadmask from boolean maps (any shape, usually ``(T, H, W)``).

    ``removed_visible``: the removed object is visible in the full render.
    ``full_vs_removed``: the full render and the counterfactual differ.
    ``hidden_vs_removed``: the hidden render (object erased, consequences kept) and the
    counterfactual differ.
    """
    mask = np.full(removed_visible.shape, KEEP, dtype=np.uint8)
    mask[full_vs_removed] = AFFECTED
    mask[removed_visible] = REMOVE
    mask[removed_visible & hidden_vs_removed] = OVERLAP
    return mask


def region(mask: np.ndarray, name: str) -> np.ndarray:
    """Boolean map of a scoring region (``removed``, ``affected``, ``keep``)."""
    try:
        values = REGIONS[name]
    except KeyError:
        raise KeyError(f"unknown region {name!r}; expected one of {sorted(REGIONS)}") from None
    return np.isin(mask, values)


def encode(mask: np.ndarray, encoding: str) -> np.ndarray:
    """Model conditioning channels for a quadmask, float32 in [-1, 1], channels last.

    ``quad``: 3 channels - remove (0 or 63), affected (63 or 127: "changes in the
    counterfactual"), and the raw value scaled to [-1, 1] (as VOID feeds it).
    ``binary-object``: 1 channel - only "remove here" (0 or 63), what ordinary removal
    methods are given.
    ``binary-union``: 1 channel - one "edit here" region (anything but 255).
    """
    mask = np.asarray(mask)
    if encoding == "quad":
        remove = np.isin(mask, (REMOVE, OVERLAP))
        changes = np.isin(mask, (OVERLAP, AFFECTED))
        raw = mask.astype(np.float32) / 127.5 - 1.0
        chans = [remove.astype(np.float32) * 2 - 1, changes.astype(np.float32) * 2 - 1, raw]
    elif encoding == "binary-object":
        chans = [np.isin(mask, (REMOVE, OVERLAP)).astype(np.float32) * 2 - 1]
    elif encoding == "binary-union":
        chans = [(mask != KEEP).astype(np.float32) * 2 - 1]
    else:
        raise ValueError(f"unknown mask encoding {encoding!r}; expected one of {MASK_ENCODINGS}")
    return np.stack(chans, axis=-1)


def encoding_channels(encoding: str) -> int:
    """Number of conditioning channels :func:`encode` produces for ``encoding``."""
    return {"quad": 3, "binary-object": 1, "binary-union": 1}[encoding]


def colorize(mask: np.ndarray) -> np.ndarray:
    """False-colour RGB (uint8, ``mask.shape + (3,)``) for display."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    for value, rgb in PALETTE.items():
        lut[value] = rgb
    return lut[quantize(mask)]


def stats(mask: np.ndarray) -> dict[str, float]:
    """Fraction of pixels holding each value, keyed by value name."""
    mask = np.asarray(mask)
    total = max(mask.size, 1)
    return {NAMES[v]: float(np.count_nonzero(mask == v)) / total for v in VALUES}
