"""The in-process baselines: each maps an input video and its fill mask to an output video.

* ``identity``        the input unchanged: the floor every method must beat;
* ``opencv-inpaint``  per-frame ``cv2.inpaint`` (Telea) of the dilated fill mask;
* ``clean-plate``     temporal propagation for a static camera: a masked pixel takes the
                      median of the same pixel in the nearest frames where it is unmasked;
                      pixels masked in every frame fall back to spatial inpainting;
* ``oracle-hidden``   the ``rgb_hidden`` render: the best any pixel-only, interaction-unaware
                      method could do; the reference point of the counterfactual score.

Videos are ``(T, H, W, 3)`` uint8, masks ``(T, H, W)`` (quadmask uint8 or fill bool).
"""

from __future__ import annotations

import numpy as np

from void import formats, quadmask

TELEA_RADIUS = 3


def fill_mask(mask: np.ndarray, region: str = "removed", dilate_px: int = 0) -> np.ndarray:
    """Pixels a baseline fills: the object (0 and 63) or every edit (all but 255), dilated.

    Dilation covers the soft edge and the object's own blur, which a hard mask leaves as a
    halo around the fill.
    """
    import cv2

    if region == "removed":
        fill = quadmask.region(mask, "removed")
    elif region == "edit":
        fill = mask != quadmask.KEEP
    else:
        raise ValueError(f"unknown fill region {region!r}")
    if dilate_px <= 0:
        return fill
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1, 2 * dilate_px + 1))
    return np.stack([cv2.dilate(f.astype(np.uint8), kernel) > 0 for f in fill])


def identity(frames: np.ndarray, fill: np.ndarray) -> np.ndarray:
    return frames.copy()


def inpaint_frame(frame: np.ndarray, fill: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    import cv2

    if not fill.any():
        return frame.copy()
    return cv2.inpaint(np.ascontiguousarray(frame), fill.astype(np.uint8) * 255, radius, cv2.INPAINT_TELEA)


def opencv_inpaint(frames: np.ndarray, fill: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    return np.stack([inpaint_frame(f, m, radius) for f, m in zip(frames, fill)])


def clean_plate(frames: np.ndarray, fill: np.ndarray, neighbors: int = 5, radius: int = TELEA_RADIUS) -> np.ndarray:
    """Temporal median propagation (static camera), spatial inpainting where never visible.

    For a masked pixel at frame t, the candidates are the same pixel in frames where it is
    unmasked, nearest in time first (ties: the earlier frame); the output is the per-channel
    median of the ``neighbors`` nearest candidates.
    """
    out = frames.copy()
    ys, xs = np.nonzero(fill.any(axis=0))
    if ys.size == 0:
        return out
    masked = fill[:, ys, xs]  # (T, N): only pixels masked at some time matter
    values = frames[:, ys, xs].astype(np.float32)  # (T, N, 3)
    times = np.arange(frames.shape[0])
    for t in range(frames.shape[0]):
        cols = np.nonzero(masked[t])[0]
        if cols.size == 0:
            continue
        dist = np.repeat(np.abs(times - t)[:, None].astype(np.float64), cols.size, axis=1)
        dist[masked[:, cols]] = np.inf
        order = np.argsort(dist, axis=0, kind="stable")[:neighbors]  # (k, n)
        usable = np.isfinite(np.take_along_axis(dist, order, axis=0))
        ok = usable[0]  # the nearest candidate is usable iff any is
        if ok.any():
            cand = values[order[:, ok], cols[ok][None, :]]  # (k, n_ok, 3)
            cand[~usable[:, ok]] = np.nan
            med = np.nanmedian(cand, axis=0)
            out[t, ys[cols[ok]], xs[cols[ok]]] = np.clip(np.round(med), 0, 255).astype(np.uint8)
        if not ok.all():
            holes = np.zeros(frames.shape[1:3], dtype=bool)
            holes[ys[cols[~ok]], xs[cols[~ok]]] = True
            out[t] = inpaint_frame(out[t], holes, radius)
    return out


def oracle_hidden(sample: formats.SampleRef, num_frames: int, shape: tuple[int, ...]) -> np.ndarray:
    """The hidden render of a dataset sample, checked against the input's shape."""
    hidden = sample.load_video("hidden")[:num_frames]
    if hidden.shape != shape:
        raise formats.FormatError(
            f"{sample.video_path('hidden')}: shape {hidden.shape} does not match the input video {shape}"
        )
    return hidden


# --------------------------------------------------------------------------- registered runners
# ``void baseline NAME`` calls these through ``registry.BASELINES`` with a ``run.Job``.


def run_identity(job) -> np.ndarray:
    return identity(job.frames, job.fill)


def run_opencv_inpaint(job) -> np.ndarray:
    return opencv_inpaint(job.frames, job.fill, job.config.inpaint_radius)


def run_clean_plate(job) -> np.ndarray:
    return clean_plate(job.frames, job.fill, job.config.neighbors, job.config.inpaint_radius)


def run_oracle_hidden(job) -> np.ndarray:
    return oracle_hidden(job.inp.sample, job.frames.shape[0], job.frames.shape)
