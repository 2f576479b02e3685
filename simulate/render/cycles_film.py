"""The footage look's film in Cycles: a camera's tone curve and sensor grain after the denoiser.

A denoised path-traced frame is cleaner and flatter than anything a camera records: flat
walls come out without any fine texture, and the indoor lights leave few real shadows (the
footage look's Cycles frames had a median luma of 0.62 where VOID's real clips have 0.40,
``benchmarks/realism.py``, docs/look.md). What a camera adds, applied to every view alike:

* **tone curve**: ``out = in ** tone_gamma`` on sRGB values in [0, 1] (a toe that deepens
  the shadows and mid-tones and leaves highlights where they were);
* **sensor grain**: Gaussian noise per pixel and channel, of standard deviation
  ``grain`` (a fraction of full scale) in mid-grey, less in the shadows as a sensor's shot
  noise (the same shape as the raster renderer's grain, ``camerawork.develop``);
* **the encoder's hold**: a video encoder at a camera's bit rate does not re-send the grain
  of blocks that did not change: in a still part of a real clip the grain stands still (most
  pixels of VOID's locked-off sample clips do not change at all from one frame to the next).
  So the grain of a pixel is drawn afresh only in frames where the full view's rendered pixel
  changed; elsewhere it keeps the previous frame's grain.

Everything is a function of a pixel's value, its position, its frame, the sample seed and
the full view (which decides where grain is held), shared by the three views: pixels equal
in two views stay equal, so the quadmask (made before this step from the exact passes) still
holds and 255 pixels stay bit-identical. The parameters come from the sample seed's own
random stream (``FILM_STREAM``); no other draw changes. ``CyclesRenderer(film=False)`` (CLI
``--no-film``) leaves the renders as rendered.
"""

from __future__ import annotations

import numpy as np

FILM_STREAM = 0xF11A  # spawn key of the film's own random stream (from the sample seed)
GRAIN_RANGE = (0.010, 0.020)  # grain standard deviation in mid-grey, fraction of full scale
TONE_GAMMA_RANGE = (1.3, 1.7)


def film_for(scene) -> dict | None:
    """The film of a footage-look scene (None for the plain look: renders are left alone)."""
    if "environment" not in scene.extras:
        return None
    return film_params(scene.seed)


def film_params(seed: int) -> dict:
    """A footage-look sample's film, from its seed's own stream."""
    rng = np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(FILM_STREAM,)))
    grain = float(rng.uniform(*GRAIN_RANGE))
    tone_gamma = float(rng.uniform(*TONE_GAMMA_RANGE))
    return {
        "seed": int(seed),
        "grain": round(grain, 5),
        "tone_gamma": round(tone_gamma, 4),
        "grain_hold": "where the full view's rendered pixel did not change from the previous frame",
    }


def _tone_lut(tone_gamma: float) -> np.ndarray:
    return ((np.arange(256, dtype=np.float64) / 255.0) ** float(tone_gamma) * 255.0).astype(np.float32)


def grain_field(seed: int, frame: int, shape: tuple[int, int]) -> np.ndarray:
    """Unit Gaussian grain ``(H, W, 3)`` float32 of one frame, from ``(seed, FILM_STREAM, frame)``."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(FILM_STREAM, int(frame)))
    return np.random.default_rng(ss).standard_normal((*shape, 3), dtype=np.float32)


def develop(views: list[np.ndarray], film: dict) -> list[np.ndarray]:
    """Tone curve and held sensor grain on ``(T, H, W, 3)`` uint8 views; ``views[0]`` is the
    full view, whose changes from frame to frame decide where the grain is drawn afresh."""
    full = views[0]
    T, H, W, _ = full.shape
    lut = _tone_lut(film["tone_gamma"])
    sigma = np.float32(film["grain"] * 255.0)
    out = [np.empty_like(v) for v in views]
    grain = None
    for t in range(T):
        fresh = grain_field(film["seed"], t, (H, W))
        if grain is None:
            grain = fresh
        else:
            changed = np.any(full[t] != full[t - 1], axis=-1)
            grain = np.where(changed[..., None], fresh, grain)
        for src, dst in zip(views, out):
            v = lut[src[t]]
            v += grain * sigma * np.sqrt(v * np.float32(1 / 128.0) + np.float32(0.05), dtype=np.float32)
            np.clip(np.rint(v), 0, 255, out=v)
            dst[t] = v
    return out
