"""The local quadmask predictor: consequences of an object from its video and mask alone.

No network, no API, no learned weights: OpenCV optical flow and background models. Given
the frames and the object's binary track it marks as affected (127):

* what **moves with the object** - its shadow and reflection: regions that differ from the
  scene's temporal median (the object pixels left out of the median) and stay in contact
  with the object's mask;
* what **the object set moving** - other objects whose appearance departs from how the scene
  first looked (each pixel's first few unoccluded observations), from the first frame their
  change region touches the object onward, including the place they left.

Both are found as spatio-temporal connected components of a change volume (3-D labelling,
so a pushed object and the spot it vacated form one component); a component counts only
from the first frame it comes within ``contact_px`` of the object, which is the contact
timing taken from the object's mask. Components that never touch the object are unrelated
motion and stay 255; a darker-than-background component whose centroid moves with the
object's counts even when detached from it (a shadow cast on a floor below a flying object).

A moving camera is compensated first: Farneback flow between consecutive frames, a
RANSAC similarity fitted to it, the frames and masks warped into the first frame's view,
the prediction warped back. Object pixels next to a displaced object (within ``overlap_px``)
are marked 63, the rest of the object 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from void import quadmask


FLOW_SIZE = 160


@dataclass(frozen=True)
class PredictorParams:
    change_threshold: float = 16.0  # max channel difference (0-255) that counts as a change
    contact_px: int = 2  # a component within this many pixels of the object touches it
    near_object_px: int = 1  # object pixels grown by this much are left out of the backgrounds
    first_views: int = 3  # how many first unoccluded observations make "how the scene looked"
    min_voxels: int = 6  # smaller change components are noise
    overlap_px: int = 1  # object pixels this close to a consequence become overlap (63)
    shadow_correlation: float = 0.6  # detached dark component: centroid/object motion correlation
    camera_motion_px: float = 0.5  # median flow above this means a moving camera


@dataclass
class Prediction:
    mask: np.ndarray  # (T, H, W) uint8 quadmask
    info: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def _disk(radius: int) -> np.ndarray:
    import cv2

    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _grow(masks: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    if radius <= 0:
        return masks.copy()
    k = _disk(radius)
    return np.stack([cv2.dilate(m.astype(np.uint8), k).astype(bool) for m in masks])


def _gray(frames: np.ndarray) -> np.ndarray:
    import cv2

    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


# --------------------------------------------------------------------------- 1. camera


def camera_motion(frames: np.ndarray, obj: np.ndarray, params: PredictorParams) -> list[np.ndarray] | None:
    """2x3 affine maps from each frame into frame 0, or None when the camera holds still.

    Flow on the object (and where it moves) is left out of the fit: it is the motion we look
    for, not the camera's.
    """
    import cv2

    t, h, w = obj.shape
    # Flow on a copy at most FLOW_SIZE px wide: the camera's motion is global, detail adds
    # nothing but time. Translations are scaled back at the end.
    scale = min(1.0, FLOW_SIZE / max(h, w))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    gray = np.stack([cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in _gray(frames)])
    keep_out_full = _grow(obj, 2 * params.contact_px + 2)
    keep_out = np.stack([cv2.resize(m.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) for m in keep_out_full]).astype(bool)
    ys, xs = np.mgrid[0 : size[1] : 2, 0 : size[0] : 2]
    steps, moving = [], []
    for i in range(1, t):
        flow = cv2.calcOpticalFlowFarneback(gray[i], gray[i - 1], None, 0.5, 3, 9, 3, 5, 1.1, 0)
        sel = ~(keep_out[i][ys, xs] | keep_out[i - 1][ys, xs])
        src = np.stack([xs[sel], ys[sel]], -1).astype(np.float32)
        vec = flow[ys[sel], xs[sel]]
        moving.append(float(np.median(np.hypot(vec[:, 0], vec[:, 1]))) / scale if len(vec) else 0.0)
        affine = None
        if len(src) >= 6:
            affine, _ = cv2.estimateAffinePartial2D(src, src + vec, method=cv2.RANSAC, ransacReprojThreshold=1.0)
        if affine is None:
            affine = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
        affine[:, 2] /= scale
        # neighbouring frames differ little: ECC polishes the flow's fit there reliably
        steps.append(_refine(frames[i - 1], frames[i], affine, keep_out_full[i - 1] | keep_out_full[i]))
    if not moving or max(moving) <= params.camera_motion_px:
        return None
    # chain i -> i-1 -> ... -> 0
    to_first = [np.array([[1, 0, 0], [0, 1, 0]], np.float64)]
    for a in steps:
        prev = np.vstack([to_first[-1], [0, 0, 1]])
        to_first.append((prev @ np.vstack([a, [0, 0, 1]]))[:2])
    return [to_first[0]] + [_refine(frames[0], frames[i], m, keep_out_full[0] | keep_out_full[i]) for i, m in enumerate(to_first[1:], start=1)]


def _refine(first: np.ndarray, frame: np.ndarray, to_first: np.ndarray, hide: np.ndarray) -> np.ndarray:
    """Polish a map from ``frame`` into ``first`` by aligning the two directly: OpenCV's ECC,
    started from the estimate (chained maps add up small errors frame after frame)."""
    import cv2

    g0 = cv2.cvtColor(first, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gi = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # ECC's warp maps template (first-frame) coordinates into the input frame: the inverse
    warp = cv2.invertAffineTransform(to_first).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 60, 1e-5)
    try:
        _, refined = cv2.findTransformECC(g0, gi, warp.copy(), cv2.MOTION_AFFINE, criteria, (~hide).astype(np.uint8), 3)
    except cv2.error:  # no convergence (a flat frame): keep the chained estimate
        return to_first
    # ECC can also wander off on fine texture: keep whichever map aligns better
    h, w = g0.shape

    def misfit(m: np.ndarray) -> float:
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        back = cv2.warpAffine(gi, m, (w, h), flags=flags, borderValue=-1)
        ok = (back >= 0) & ~hide
        return float(np.abs(back - g0)[ok].mean()) if ok.any() else np.inf

    best = refined if misfit(refined) < misfit(warp) else warp
    return cv2.invertAffineTransform(best).astype(np.float64)


def _warp(stack: np.ndarray, maps: list[np.ndarray], inverse: bool, nearest: bool) -> np.ndarray:
    import cv2

    h, w = stack.shape[1:3]
    flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | (cv2.WARP_INVERSE_MAP if inverse else 0)
    out = [cv2.warpAffine(f, m, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0) for f, m in zip(stack, maps)]
    return np.stack(out)


# --------------------------------------------------------------------------- 2. backgrounds


def _masked_median(f: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Per-pixel median of ``f`` (T, H, W, C) over the frames where ``use`` (T, H, W) is set;
    the median of all frames where no frame is usable. (A sort beats np.nanmedian here by
    an order of magnitude: it avoids numpy's masked-array path.)"""
    n = use.sum(axis=0)
    x = np.where(use[..., None], f, np.inf)
    x.sort(axis=0)
    lo = np.take_along_axis(x, np.maximum((n - 1) // 2, 0)[None, ..., None], axis=0)[0]
    hi = np.take_along_axis(x, np.maximum(n // 2, 0)[None, ..., None].clip(max=f.shape[0] - 1), axis=0)[0]
    with np.errstate(invalid="ignore"):
        med = (lo + hi) / 2
    return np.where((n > 0)[..., None], med, np.median(f, axis=0))


def _median_background(f: np.ndarray, hide: np.ndarray) -> np.ndarray:
    """Per-pixel median over the frames where the pixel is not hidden."""
    return _masked_median(f, ~hide)


def _first_views(f: np.ndarray, hide: np.ndarray, n: int) -> np.ndarray:
    """Per pixel, the median of its first ``n`` unoccluded observations: the scene as first seen."""
    seen = ~hide
    return _masked_median(f, seen & (np.cumsum(seen, axis=0) <= n))


def _change(f: np.ndarray, ref: np.ndarray, hide: np.ndarray, threshold: float) -> np.ndarray:
    return (np.abs(f - ref[None]).max(axis=-1) > threshold) & ~hide


# --------------------------------------------------------------------------- 3. consequences


def _centroids(masks: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """(T, 2) centroid (x, y) per frame of a (T, h, w) mask cut at ``offset`` (y, x); NaN where empty."""
    count = masks.sum(axis=(1, 2)).astype(np.float64)
    ys = (masks.sum(axis=2) * np.arange(masks.shape[1])).sum(axis=1)
    xs = (masks.sum(axis=1) * np.arange(masks.shape[2])).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.stack([xs / count + offset[1], ys / count + offset[0]], axis=1)


def _moves_with(track: np.ndarray, obj_track: np.ndarray, min_corr: float) -> bool:
    """Does a centroid track follow the object's (its frame-to-frame steps correlate)?"""
    both = ~np.isnan(track).any(1) & ~np.isnan(obj_track).any(1)
    if both.sum() < 4:
        return False
    dc, do = np.diff(track[both], axis=0).ravel(), np.diff(obj_track[both], axis=0).ravel()
    if dc.std() < 1e-6 or do.std() < 1e-6:
        return False
    return float(np.corrcoef(dc, do)[0, 1]) >= min_corr


def consequences(
    f: np.ndarray, ref: np.ndarray, change: np.ndarray, obj: np.ndarray, params: PredictorParams, *, shadows: bool
) -> tuple[np.ndarray, int]:
    """Change components that touch the object, from their first touch on; (map, count)."""
    from scipy import ndimage

    labels, n = ndimage.label(change, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return np.zeros_like(change), 0
    touch = _grow(obj, params.contact_px)
    out = np.zeros_like(change)
    sizes = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, n + 1))
    slices = ndimage.find_objects(labels)
    obj_track = _centroids(obj) if shadows else None
    darker = (f.mean(-1) < ref.mean(-1)[None]) if shadows else None
    found = 0
    for k, sl in enumerate(slices, start=1):
        if sl is None or sizes[k - 1] < params.min_voxels:
            continue
        comp = labels[sl] == k
        touching = np.nonzero((comp & touch[sl]).any(axis=(1, 2)))[0]
        if len(touching):
            first = touching[0]
            comp[:first] = False
        elif shadows and darker[sl][comp].mean() > 0.7:
            track = np.full((change.shape[0], 2), np.nan)
            track[sl[0]] = _centroids(comp, (sl[1].start, sl[2].start))
            if not _moves_with(track, obj_track, params.shadow_correlation):
                continue
        else:
            continue
        out[sl] |= comp
        found += 1
    return out, found


# --------------------------------------------------------------------------- 4. the whole thing


def predict(frames: np.ndarray, obj: np.ndarray, params: PredictorParams | None = None) -> Prediction:
    """Quadmask (T, H, W) for ``frames`` (T, H, W, 3) uint8 and the object's track (T, H, W) bool."""
    params = params or PredictorParams()
    obj = np.asarray(obj, bool)
    if frames.shape[:3] != obj.shape:
        raise ValueError(f"frames {frames.shape} and object mask {obj.shape} differ")
    maps = camera_motion(frames, obj, params) if frames.shape[0] > 1 else None
    f_in, o_in = frames, obj
    valid = np.ones(obj.shape, bool)
    if maps is not None:
        f_in = _warp(frames, maps, inverse=False, nearest=False)
        o_in = _warp(obj.astype(np.uint8), maps, inverse=False, nearest=True).astype(bool)
        valid = _warp(np.ones(obj.shape, np.uint8), maps, inverse=False, nearest=True).astype(bool)
    f = f_in.astype(np.float32)
    hide = _grow(o_in, params.near_object_px) | ~valid

    # things that move with the object (shadow, reflection): transient against the median
    median = _median_background(f, hide)
    # (the ring next to the object is left out of the references, which it may smear, but
    # not out of the changes: a contact shadow lies right there)
    outside = o_in | ~valid
    moving, n_moving = consequences(f, median, _change(f, median, outside, params.change_threshold), o_in, params, shadows=True)
    # things it displaced: departed from the scene as first seen
    first = _first_views(f, hide, params.first_views)
    displaced, n_displaced = consequences(f, first, _change(f, first, outside, params.change_threshold), o_in, params, shadows=False)
    if maps is not None:
        moving, displaced = (_warp(m.astype(np.uint8), maps, inverse=True, nearest=True).astype(bool) for m in (moving, displaced))
    affected = (moving | displaced) & ~obj
    mask = np.full(obj.shape, quadmask.KEEP, np.uint8)
    mask[affected] = quadmask.AFFECTED
    mask[obj] = quadmask.REMOVE
    if params.overlap_px > 0:
        # a displaced object continues behind the removed one; a shadow ends at its edge
        mask[obj & _grow(displaced & ~obj, params.overlap_px)] = quadmask.OVERLAP
    info = {"camera_moves": maps is not None, "moving_components": n_moving, "displaced_components": n_displaced}
    return Prediction(mask, info)
