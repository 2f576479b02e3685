"""Gaussian noise that moves with a video's optical flow: the initial latent of VOID's pass 2.

VOID's pass 2 starts sampling from noise warped along the motion of the pass-1 result
(Go-with-the-Flow), so the noise - and with it the sample - is temporally coherent. Ours:

1. backward optical flow between consecutive frames (OpenCV DIS or Farneback);
2. a noise field at ``upscale`` times the latent resolution, frame 0 fresh N(0, 1);
3. each later frame takes, for every pixel, the value at the pixel the flow points back to
   (nearest-pixel transport). A source claimed by several pixels keeps its value for the
   one that lands closest and the others draw fresh noise, as do pixels whose source lies
   outside the frame - so every frame stays exactly i.i.d. N(0, 1), only now correlated
   along the motion;
4. sum-pool ``upscale x upscale`` blocks and divide by ``upscale``: still N(0, 1) (a sum
   of k^2 independent unit normals has variance k^2), now with sub-latent-pixel motion;
5. pick the frames that the latent frames stand for.

No library does (3) with an exact Gaussian guarantee (VOID calls an external repository that
needs a GPU toolchain), hence this implementation.

``void infer --void-parity`` uses :func:`void_warped_noise` instead: Go-with-the-Flow's
published noise warping (Burgert et al., 2025) - nearest-pixel backward lookup that may
duplicate values, then "regaussianization" of each group of duplicates - in VOID's geometry
(the pass-1 video resampled to 72 frames at 480x720, noise handed over on a 1/8 grid, picked
and resized to the latent grid). Written here from the paper's description.
"""

from __future__ import annotations

import numpy as np

from void.constants import FLOW_METHODS  # noqa: F401 (re-exported)
from void.deps import require


def optical_flow(frames: np.ndarray, method: str = "dis") -> np.ndarray:
    """Backward flow ``(T-1, H, W, 2)`` of ``(T, H, W, 3)`` uint8 frames: ``flow[t-1][y, x]``
    is the (dx, dy) from pixel (x, y) of frame t to where it was in frame t-1."""
    cv2 = require("cv2")
    if method not in FLOW_METHODS:
        raise ValueError(f"unknown flow method {method!r}; expected one of {FLOW_METHODS}")
    gray = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        compute = lambda cur, prev: dis.calc(cur, prev, None)  # noqa: E731
    else:
        compute = lambda cur, prev: cv2.calcOpticalFlowFarneback(cur, prev, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # noqa: E731
    h, w = gray[0].shape
    flows = np.zeros((max(len(gray) - 1, 0), h, w, 2), np.float32)
    for t in range(1, len(gray)):
        flows[t - 1] = compute(gray[t], gray[t - 1])
    return flows


def resize_flow(flow: np.ndarray, height: int, width: int) -> np.ndarray:
    """A ``(H, W, 2)`` flow resampled to ``(height, width)``, vectors scaled to the new grid."""
    cv2 = require("cv2")
    h, w = flow.shape[:2]
    out = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= width / w
    out[..., 1] *= height / h
    return out


def transport(prev: np.ndarray, flow: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One step of (3): ``prev`` ``(C, H, W)`` i.i.d. N(0,1) carried along backward ``flow``
    ``(H, W, 2)``; the result is again i.i.d. N(0,1)."""
    c, h, w = prev.shape
    ys, xs = np.mgrid[0:h, 0:w]
    sx = xs + flow[..., 0]
    sy = ys + flow[..., 1]
    rx, ry = np.rint(sx).astype(np.int64), np.rint(sy).astype(np.int64)
    inside = (rx >= 0) & (rx < w) & (ry >= 0) & (ry < h)
    dest = np.flatnonzero(inside)
    src = (ry * w + rx).ravel()[dest]
    # Several destinations may claim one source; the nearest keeps it so that no value is
    # used twice (a duplicate would make the frame's samples dependent).
    dist = ((sx - rx) ** 2 + (sy - ry) ** 2).ravel()[dest]
    order = np.lexsort((dist, src))
    src, dest = src[order], dest[order]
    first = np.ones(len(src), bool)
    first[1:] = src[1:] != src[:-1]
    out = rng.standard_normal((c, h * w), dtype=np.float32)
    flat = prev.reshape(c, h * w)
    out[:, dest[first]] = flat[:, src[first]]
    return out.reshape(c, h, w)


def pool(noise: np.ndarray, k: int) -> np.ndarray:
    """Sum-pool ``k x k`` blocks of ``(..., H, W)`` and divide by ``k``: keeps N(0, 1)."""
    if k == 1:
        return noise
    *lead, h, w = noise.shape
    blocks = noise.reshape(*lead, h // k, k, w // k, k)
    return blocks.sum(axis=(-3, -1)) / k


def latent_frame_index(num_frames: int, latent_frames: int, temporal: int) -> np.ndarray:
    """The video frame each latent frame's noise is taken from: ``temporal * j`` - for the
    VAE the last frame of the group latent j encodes (frame 0 alone for j = 0), for pixel
    latents the first frame of group j."""
    return np.minimum(np.arange(latent_frames) * temporal, num_frames - 1)


def warped_noise(
    frames: np.ndarray,
    latent_shape: tuple[int, int, int, int],
    *,
    seed: int = 0,
    upscale: int = 4,
    flow_method: str = "dis",
    temporal: int = 1,
) -> np.ndarray:
    """Noise ``latent_shape`` = ``(T', C, h, w)`` float32, warped along the flow of ``frames``
    ``(T, H, W, 3)`` uint8 (the pass-1 result at the working size)."""
    latent_frames, channels, h, w = latent_shape
    rng = np.random.default_rng(seed)
    hn, wn = h * upscale, w * upscale
    flows = optical_flow(frames, flow_method)
    noise = rng.standard_normal((channels, hn, wn), dtype=np.float32)
    per_frame = [pool(noise, upscale)]
    for flow in flows:
        noise = transport(noise, resize_flow(flow, hn, wn), rng)
        per_frame.append(pool(noise, upscale))
    idx = latent_frame_index(len(frames), latent_frames, temporal)
    return np.stack([per_frame[i] for i in idx]).astype(np.float32)


# --------------------------------------------------------------------------- Go-with-the-Flow


def regaussianize(values: np.ndarray, groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Make ``values`` ``(C, N)`` i.i.d. N(0, 1) again where ``groups`` ``(N,)`` marks copies of one
    value: a group of n copies of x becomes ``x / sqrt(n) + (z - mean_group(z))`` with fresh
    z ~ N(0, 1). Each entry has variance 1/n + (1 - 1/n) = 1, and the group's sum is
    ``sqrt(n) x`` (so area-downsampling still sees x's contribution)."""
    c, n = values.shape
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    z = rng.standard_normal((c, n), dtype=np.float32)
    sums = np.zeros((c, len(counts)), np.float64)
    for ch in range(c):
        sums[ch] = np.bincount(inverse, weights=z[ch], minlength=len(counts))
    mean = (sums / counts)[:, inverse].astype(np.float32)
    return values / np.sqrt(counts[inverse]).astype(np.float32) + (z - mean)


def gwf_step(state: np.ndarray, flow: np.ndarray, rng: np.random.Generator, scale: int = 1) -> np.ndarray:
    """One frame of Go-with-the-Flow warping: ``state`` ``(C, h, w)`` N(0, 1) noise, ``flow``
    ``(h*scale, w*scale, 2)`` backward flow in pixels of that finer grid. The state is
    upsampled ``scale`` x (nearest: s^2 copies), each fine pixel takes the value at the nearest
    pixel its flow points back to (clamped to the frame), copies of one state pixel are
    regaussianized together, and blocks are area-averaged back times ``scale``."""
    c, h, w = state.shape
    hs, ws = h * scale, w * scale
    ys, xs = np.mgrid[0:hs, 0:ws]
    sx = np.clip(np.rint(xs + flow[..., 0]).astype(np.int64), 0, ws - 1)
    sy = np.clip(np.rint(ys + flow[..., 1]).astype(np.int64), 0, hs - 1)
    src = ((sy // scale) * w + (sx // scale)).ravel()  # the state pixel each fine pixel copies
    fine = regaussianize(state.reshape(c, h * w)[:, src], src, rng).reshape(c, hs, ws)
    if scale == 1:
        return fine
    return fine.reshape(c, h, scale, w, scale).mean(axis=(2, 4)) * scale


def _resample_frames(frames: np.ndarray, count: int) -> np.ndarray:
    # Evenly spaced picks stretch or squash a clip to ``count`` frames.
    idx = np.floor(np.arange(count) * len(frames) / count).astype(np.int64)
    return frames[np.minimum(idx, len(frames) - 1)]


def _cover_crop(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    # Resize so the frame covers height x width, then cut the centre.
    cv2 = require("cv2")
    h, w = frames.shape[1:3]
    scale = max(height / h, width / w)
    nh, nw = max(height, round(h * scale)), max(width, round(w * scale))
    top, left = (nh - height) // 2, (nw - width) // 2
    return np.stack([cv2.resize(f, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
                     [top : top + height, left : left + width] for f in frames])


def void_warped_noise(
    frames: np.ndarray,
    latent_shape: tuple[int, int, int, int],
    *,
    seed: int = 0,
    warp_scale: int = 8,
    flow_method: str = "dis",
) -> np.ndarray:
    """Pass-2 noise ``latent_shape`` = ``(T', C, h, w)`` the way VOID makes it from the pass-1
    result ``frames`` ``(T, H, W, 3)`` uint8 (see :mod:`void.model.void_parity` for the numbers):
    resample to 72 frames, cover-and-crop to 480x720, flow at half that size, warp noise at
    flow resolution (``warp_scale`` x finer inside each step), hand it over on the 1/8 grid,
    pick the latent frames with linspace and resize bilinearly to ``(h, w)``. The last resize
    lowers the noise's variance a little, as VOID's does."""
    from void.model import void_parity as vp

    cv2 = require("cv2")
    latent_frames, channels, h, w = latent_shape
    rng = np.random.default_rng(seed)
    clip = _cover_crop(_resample_frames(frames, vp.NOISE_FRAMES), *vp.NOISE_FRAME_HW)
    fh, fw = (round(v * vp.NOISE_FLOW_SCALE) for v in vp.NOISE_FRAME_HW)
    small = np.stack([cv2.resize(f, (fw, fh), interpolation=cv2.INTER_AREA) for f in clip])
    flows = optical_flow(small, flow_method)
    down = round(vp.NOISE_LATENT_DIVISOR * vp.NOISE_FLOW_SCALE)  # flow grid -> 1/8 grid
    state = rng.standard_normal((channels, fh, fw), dtype=np.float32)
    grid = [pool(state, down)]
    for flow in flows:
        fine = resize_flow(flow, fh * warp_scale, fw * warp_scale) if warp_scale > 1 else flow
        state = gwf_step(state, fine, rng, warp_scale)
        grid.append(pool(state, down))
    picks = np.linspace(0, len(grid) - 1, latent_frames).astype(int)
    out = np.empty((latent_frames, channels, h, w), np.float32)
    for j, i in enumerate(picks):
        for ch in range(channels):
            out[j, ch] = cv2.resize(grid[i][ch], (w, h), interpolation=cv2.INTER_LINEAR)
    return out
