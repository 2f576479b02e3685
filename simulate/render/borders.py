"""Rectangles of pixels: the Cycles render borders, and the cost model that merges them.

Rectangles are ``(x0, y0, x1, y1)`` in pixels, x right, y down, ``x1``/``y1`` exclusive.
:func:`mask_rects` covers a pixel mask with rectangles (used for the projected change regions
before the signature pass and, after it, for the pixels whose signatures differ, where the
beauty is re-rendered). Adjacent rectangles are merged when one render of their union is
cheaper than two renders: each Cycles render call costs a fixed overhead, expressed here in
pixels. Pure numpy.
"""

from __future__ import annotations

import numpy as np

Rect = tuple[int, int, int, int]

# A Cycles render call costs a fixed ~2.4 CPU-ms (signature pass) to ~3.5 (beauty pass) on
# top of its pixels: Blender's render pipeline and scene sync, measured at one thread with the
# meshes kept instanced (blender_scene._instance_anchor). In pixels that is about 640 of the
# signature pass (2 spp, direct light) and about 1500 / spp of a beauty pass. Rectangles are
# merged by these costs (the signature's by default).
SIGNATURE_OVERHEAD_PX = 640
# A beauty pixel costs ten signature pixels: finer blocks cover the changed pixels tighter.
BEAUTY_BLOCK_PX = 4


def beauty_overhead_px(spp: int) -> int:
    return max(16, 1500 // max(spp, 1))


def rect_area(rect: Rect) -> int:
    x0, y0, x1, y1 = rect
    return max(0, x1 - x0) * max(0, y1 - y0)


def rects_area(rects: list[Rect]) -> int:
    return sum(rect_area(r) for r in rects)


def clip_rect(rect: Rect, width: int, height: int) -> Rect | None:
    x0, y0, x1, y1 = max(0, rect[0]), max(0, rect[1]), min(width, rect[2]), min(height, rect[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def merge_rects(rects: list[Rect], overhead_px: int = SIGNATURE_OVERHEAD_PX) -> list[Rect]:
    """Greedily merge rectangles while one render of a union costs less than two renders.

    Each step merges the pair with the largest saving ``area(a) + area(b) + overhead -
    area(a | b)``, computed for all pairs at once.
    """
    r = np.asarray([q for q in rects if rect_area(q) > 0], dtype=np.int64).reshape(-1, 4)
    while len(r) > 1:
        area = (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])
        lo = np.minimum(r[:, None, :2], r[None, :, :2])
        hi = np.maximum(r[:, None, 2:], r[None, :, 2:])
        union = (hi[..., 0] - lo[..., 0]) * (hi[..., 1] - lo[..., 1])
        saving = area[:, None] + area[None, :] + overhead_px - union
        np.fill_diagonal(saving, -1)
        i, j = np.unravel_index(int(np.argmax(saving)), saving.shape)
        if saving[i, j] < 0:
            break
        merged = np.concatenate([lo[i, j], hi[i, j]])
        r = np.concatenate([np.delete(r, [i, j], axis=0), merged[None]])
    return sorted(tuple(int(v) for v in q) for q in r)


def rects_mask(rects: list[Rect], width: int, height: int) -> np.ndarray:
    """Boolean ``(H, W)`` map of the pixels covered by ``rects``."""
    mask = np.zeros((height, width), dtype=bool)
    for x0, y0, x1, y1 in rects:
        mask[y0:y1, x0:x1] = True
    return mask


def mask_rects(mask: np.ndarray, pad_px: int, block_px: int = 8, overhead_px: int = SIGNATURE_OVERHEAD_PX) -> list[Rect]:
    """Rectangles covering every True pixel of a ``(H, W)`` mask, padded and merged.

    The padded mask is cut into ``block_px`` blocks; runs of marked blocks in a block row
    become rectangles, runs with the same columns in consecutive rows are stacked, and the
    result is merged by cost. Blocks keep the number of render calls small without
    connected-component labelling (and its dependency).
    """
    H, W = mask.shape
    if not mask.any():
        return []
    # Bounding box of the marked pixels of every block, padded, marks the grown mask.
    cells = _cells(mask, block_px)
    rows, cols = cells.any(axis=3), cells.any(axis=1)  # (hb, B, wb), (hb, wb, B)
    grown = np.zeros_like(mask)
    by, bx = np.nonzero(rows.any(axis=1))
    r, c = rows[by, :, bx], cols[by, bx]  # (K, B) each
    y0 = by * block_px + r.argmax(1) - pad_px
    y1 = by * block_px + block_px - r[:, ::-1].argmax(1) + pad_px
    x0 = bx * block_px + c.argmax(1) - pad_px
    x1 = bx * block_px + block_px - c[:, ::-1].argmax(1) + pad_px
    for ya, yb, xa, xb in zip(np.maximum(y0, 0).tolist(), y1.tolist(), np.maximum(x0, 0).tolist(), x1.tolist()):
        grown[ya:yb, xa:xb] = True
    blocks = _block_any(grown, block_px)
    runs: list[list[int]] = []  # [x0, y0, x1, y1] in block units
    open_runs: dict[tuple[int, int], list[int]] = {}  # (x0, x1) -> the run ending at this row
    for by in range(blocks.shape[0]):
        row = np.concatenate([[False], blocks[by], [False]])
        edges = np.flatnonzero(row[1:] != row[:-1]).tolist()
        for bx0, bx1 in zip(edges[::2], edges[1::2]):
            prev = open_runs.get((bx0, bx1))
            if prev is not None and prev[3] == by:
                prev[3] = by + 1
            else:
                prev = [bx0, by, bx1, by + 1]
                runs.append(prev)
                open_runs[(bx0, bx1)] = prev
    rects = []
    for bx0, by0, bx1, by1 in runs:
        # Shrink each block run to the marked pixels it holds.
        y0, y1, x0, x1 = by0 * block_px, by1 * block_px, bx0 * block_px, bx1 * block_px
        sy, sx = np.nonzero(grown[y0:y1, x0:x1])
        rects.append((x0 + int(sx.min()), y0 + int(sy.min()), x0 + int(sx.max()) + 1, y0 + int(sy.max()) + 1))
    return merge_rects(rects, overhead_px)


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(y0, y1, x0, x1)`` bounding the True pixels of a ``(H, W)`` mask; None if there are none."""
    ys, xs = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if len(ys) == 0:
        return None
    return int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1


def _cells(mask: np.ndarray, block_px: int) -> np.ndarray:
    """The mask, zero-padded to whole blocks, as ``(rows of blocks, B, columns of blocks, B)``."""
    H, W = mask.shape
    hb, wb = -(-H // block_px), -(-W // block_px)
    padded = np.zeros((hb * block_px, wb * block_px), dtype=bool)
    padded[:H, :W] = mask
    return padded.reshape(hb, block_px, wb, block_px)


def _block_any(mask: np.ndarray, block_px: int) -> np.ndarray:
    return _cells(mask, block_px).any(axis=(1, 3))
