"""Camera work that reads as filmed: handheld shake, pans, dollies, orbits, lenses, exposure.

Pure functions of plain numbers (no scene types), so :func:`simulate.scene.camera_at` can
call them and every renderer moves the camera the same way. A shot is sampled once per
sample (:func:`sample_shot`); the path is then a deterministic function of the frame time:
the shake is a sum of a few sinusoids whose frequencies and phases come from ``shake_seed``,
not a random walk, so any frame can be computed on its own, by any worker, in any order.

Motions (``amount`` in the unit given):

``static``    locked off (``amount`` unused)
``pan``       orbit about the look-at point, degrees over the clip (the name older datasets use)
``sweep``     a true pan: the camera turns on its tripod, degrees of yaw over the clip
``dolly``     the camera moves towards the look-at point, metres over the clip (< 0: away)
``truck``     camera and look-at point slide sideways together, metres over the clip
``zoom``      the field of view narrows by this fraction over the clip
``handheld``  no deliberate move; the shake alone

Any motion can carry shake (``shake_m`` position, ``shake_deg`` rotation amplitude).

Lenses and exposure: the vertical field of view comes from a focal length on a full-frame
sensor (24 mm tall); ``exposure_ev`` scales linear radiance by ``2**ev`` before the display
transform, the same for every view of a sample (so 255 pixels stay identical).

Depth of field and motion blur are rendered by Cycles in the footage look
(:mod:`simulate.render.cycles_lens`); :func:`blur_radius_px` and :func:`grow_changed` state
the rule they follow (docs/look.md): the mask is made from
the exact, sharp id and signature passes at the shutter's mid time, and since a blurred edge
spreads a changed object over pixels its sharp footprint does not cover, the changed regions
are grown by the blur radius before the composite and the quadmask are made: the fringe
becomes 127 (affected), and every pixel left at 255 is still bit-identical.
"""

from __future__ import annotations

import math

import numpy as np

SENSOR_HEIGHT_MM = 24.0
MOTIONS = ("static", "pan", "sweep", "dolly", "truck", "zoom", "handheld")
MOTION_WEIGHTS = {"static": 0.2, "handheld": 0.25, "pan": 0.15, "sweep": 0.1, "dolly": 0.12, "truck": 0.08, "zoom": 0.1}
SHAKE_WAVES = 3  # sinusoids per axis
_UP = np.array([0.0, 0.0, 1.0])


def fov_from_focal(focal_mm: float, sensor_mm: float = SENSOR_HEIGHT_MM) -> float:
    """Vertical field of view (degrees) of a lens on the sensor."""
    return math.degrees(2.0 * math.atan(sensor_mm / (2.0 * focal_mm)))


def focal_from_fov(fov_deg: float, sensor_mm: float = SENSOR_HEIGHT_MM) -> float:
    return sensor_mm / (2.0 * math.tan(math.radians(fov_deg) / 2.0))


def sample_shot(rng: np.random.Generator, motion: str = "random") -> dict:
    """A shot's parameters: motion and amount, shake, lens, exposure, vignetting, grain.

    ``amount`` is sign-randomised where a direction makes sense; callers frame the scene with
    ``fov_deg`` (the lens) before placing the camera.
    """
    if motion == "random":
        names = list(MOTION_WEIGHTS)
        motion = names[int(rng.choice(len(names), p=list(MOTION_WEIGHTS.values())))]
    if motion not in MOTIONS:
        raise ValueError(f"unknown camera motion {motion!r}; choose from {', '.join(MOTIONS)}")
    sign = 1.0 if rng.random() < 0.5 else -1.0
    amount = {
        "static": 0.0, "handheld": 0.0,
        "pan": sign * float(rng.uniform(8, 30)),
        "sweep": sign * float(rng.uniform(4, 12)),
        "dolly": float(rng.uniform(0.1, 0.35)) * (1.0 if rng.random() < 0.7 else -1.0),
        "truck": sign * float(rng.uniform(0.1, 0.4)),
        "zoom": float(rng.uniform(0.08, 0.25)),
    }[motion]
    handheld = motion == "handheld" or rng.random() < 0.35
    focal_mm = float(np.exp(rng.uniform(math.log(20.0), math.log(85.0))))
    return {
        "motion": motion,
        "motion_amount": amount,
        "shake_m": float(rng.uniform(0.003, 0.012)) if handheld else 0.0,
        "shake_deg": float(rng.uniform(0.15, 0.6)) if handheld else 0.0,
        "shake_seed": int(rng.integers(2**31)),
        "focal_mm": focal_mm,
        "fov_deg": fov_from_focal(focal_mm),
        "exposure_ev": float(np.clip(rng.normal(0.0, 0.3), -0.7, 0.7)),
        "vignette": float(rng.uniform(0.05, 0.35)),
        "grain": float(rng.uniform(0.002, 0.008)),
    }


def shake(seed: int, t_s: float) -> np.ndarray:
    """Unit handheld wobble at time ``t_s``: ``(6,)`` = 3 position + 3 rotation axes in [-1, 1].

    Frequencies between 0.3 and 2.5 Hz (a person's breathing and hand tremor at film
    frame rates), fixed per seed.
    """
    rng = np.random.default_rng(int(seed))
    freq = rng.uniform(0.3, 2.5, size=(6, SHAKE_WAVES))
    phase = rng.uniform(0, 2 * math.pi, size=(6, SHAKE_WAVES))
    weight = rng.uniform(0.5, 1.0, size=(6, SHAKE_WAVES))
    weight /= weight.sum(axis=1, keepdims=True)
    return (weight * np.sin(2 * math.pi * freq * t_s + phase)).sum(axis=1)


def _rotate_about(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    c, s = math.cos(angle), math.sin(angle)
    return v * c + np.cross(axis, v) * s + axis * float(axis @ v) * (1 - c)


def path(position, look_at, fov_deg: float, motion: str, amount: float, s: float, *,
         t_s: float = 0.0, shake_m: float = 0.0, shake_deg: float = 0.0, shake_seed: int = 0):
    """Eye, target and vertical fov at clip progress ``s`` in [0, 1] (time ``t_s`` for shake)."""
    eye = np.asarray(position, dtype=np.float64).copy()
    target = np.asarray(look_at, dtype=np.float64).copy()
    fov = float(fov_deg)
    u = s - 0.5  # moves are centred on the sampled framing, so it holds mid-clip
    if motion == "pan":
        angle = math.radians(amount) * u
        rel = eye - target
        c, si = math.cos(angle), math.sin(angle)
        eye = target + np.array([c * rel[0] - si * rel[1], si * rel[0] + c * rel[1], rel[2]])
    elif motion == "sweep":
        target = eye + _rotate_about(target - eye, _UP, math.radians(amount) * u)
    elif motion == "dolly":
        forward = (target - eye) / np.linalg.norm(target - eye)
        eye = eye + forward * amount * u
    elif motion == "truck":
        forward = target - eye
        side = np.cross(forward, _UP)
        side = side / max(np.linalg.norm(side), 1e-12)
        eye, target = eye + side * amount * u, target + side * amount * u
    elif motion == "zoom":
        fov = fov * (1.0 - amount * s)
    if shake_m or shake_deg:
        w = shake(shake_seed, t_s)
        eye = eye + w[:3] * shake_m
        forward = target - eye
        side = np.cross(forward, _UP)
        side = side / max(np.linalg.norm(side), 1e-12)
        forward = _rotate_about(forward, _UP, math.radians(shake_deg) * w[3])  # yaw
        forward = _rotate_about(forward, side, math.radians(shake_deg) * w[4])  # tilt
        target = eye + forward
    return eye, target, fov


def roll_up(eye, target, roll_deg: float) -> np.ndarray:
    """The up vector of a camera rolled by ``roll_deg`` about its view axis (handheld roll)."""
    forward = np.asarray(target, float) - np.asarray(eye, float)
    return _rotate_about(_UP.copy(), forward, math.radians(roll_deg))


# --------------------------------------------------------------------------- the camera's response


def _exposure_lut(exposure_ev: float) -> np.ndarray:
    """8-bit sRGB in -> float sRGB out (0..255) after scaling linear light by ``2**ev``."""
    v = np.arange(256) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4) * 2.0 ** exposure_ev
    lin = np.clip(lin, 0.0, 1.0)
    return (np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055) * 255.0).astype(np.float32)


def develop(views: list[np.ndarray], *, seed: int, exposure_ev: float = 0.0, vignette: float = 0.0,
            grain: float = 0.0) -> list[np.ndarray]:
    """What the camera makes of rendered frames: exposure, lens vignetting, sensor grain.

    ``views``: ``(T, H, W, 3)`` uint8 sRGB renders of one sample (full, removed, hidden).
    The result at a pixel depends only on its value, its position and its frame (the grain
    of frame ``t`` is drawn from ``(seed, t)`` and shared by every view), so pixels that are
    equal in two views stay equal: the quadmask, made from the exact passes before this
    step, still holds, and 255 pixels stay bit-identical. ``vignette``: the fraction of light
    lost in the corners; ``grain``: noise standard deviation as a fraction of full scale in
    mid-grey (less in the shadows, as a sensor's shot noise).
    """
    T, H, W, _ = views[0].shape
    lut = _exposure_lut(exposure_ev)
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    r2 = ((x + 0.5 - W / 2) ** 2 + (y + 0.5 - H / 2) ** 2) / ((W / 2) ** 2 + (H / 2) ** 2)
    # cos^4-like falloff in linear light, applied to sRGB values (a 1/2.2 power)
    gain = ((1.0 - vignette * r2) ** (1 / 2.2)).astype(np.float32)[..., None]
    out = [np.empty_like(v) for v in views]
    for t in range(T):
        noise = None
        if grain > 0:
            rng = np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(t,)))
            noise = rng.standard_normal((H, W, 3), dtype=np.float32) * np.float32(grain * 255.0)
        for src, dst in zip(views, out):
            v = lut[src[t]] * gain
            if noise is not None:
                v += noise * np.sqrt(v * np.float32(1 / 128.0) + np.float32(0.05), dtype=np.float32)
            np.clip(np.rint(v), 0, 255, out=v)
            dst[t] = v
    return out


# --------------------------------------------------------------------------- blur


def coc_px(depth_m, focus_m: float, focal_mm: float, fstop: float, height_px: int) -> np.ndarray:
    """Thin-lens circle-of-confusion diameter in pixels of points at ``depth_m``."""
    f = focal_mm / 1000.0
    z = np.maximum(np.asarray(depth_m, np.float64), 1e-6)
    focus = max(float(focus_m), f * 1.001)
    c_m = (f * f / (fstop * (focus - f))) * np.abs(z - focus) / z
    return c_m / (SENSOR_HEIGHT_MM / 1000.0) * height_px


def blur_radius_px(depths_m, focus_m: float, focal_mm: float, fstop: float, height_px: int,
                   motion_px: float = 0.0, shutter: float = 0.0) -> int:
    """How far (pixels) blur can carry a changed surface beyond its sharp footprint.

    ``depths_m``: depths of the changed surfaces (from the depth pass); ``fstop`` 0 means a
    pinhole (no defocus). ``motion_px``: the largest on-screen displacement between frames
    of anything changed, of which the shutter keeps ``shutter`` (fraction of a frame). One
    pixel is added for Cycles' pixel filter.
    """
    depths = np.asarray(depths_m, np.float64)
    defocus = 0.0
    if fstop > 0 and depths.size:
        defocus = float(coc_px(depths, focus_m, focal_mm, fstop, height_px).max()) / 2.0
    return int(math.ceil(defocus + abs(motion_px) * shutter)) + 1


def dilate_disc(mask: np.ndarray, radius_px: int) -> np.ndarray:
    """A ``(H, W)`` bool mask dilated by a disc of ``radius_px`` pixels (``x^2 + y^2 <= r^2``).

    Nothing outside the picture counts as marked. Only the box around the marked pixels,
    grown by the radius, is processed (OpenCV's dilation, the same pixels as SciPy's
    ``binary_dilation`` with that disc, a few tens of times faster at these radii).
    """
    import cv2

    out = np.array(mask, dtype=bool, copy=True)
    r = int(radius_px)
    ys, xs = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    if r <= 0 or len(ys) == 0:
        return out
    H, W = out.shape
    y0, y1 = max(int(ys[0]) - r, 0), min(int(ys[-1]) + r + 1, H)
    x0, x1 = max(int(xs[0]) - r, 0), min(int(xs[-1]) + r + 1, W)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = ((xx * xx + yy * yy) <= r * r).astype(np.uint8)
    box = np.ascontiguousarray(out[y0:y1, x0:x1]).view(np.uint8)
    out[y0:y1, x0:x1] = cv2.dilate(box, disc, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    return out


def grow_changed(quadmask: np.ndarray, radius_px: int) -> np.ndarray:
    """A quadmask whose 255 pixels within ``radius_px`` of a changed pixel become 127.

    ``quadmask``: ``(T, H, W)`` uint8 with values {0, 63, 127, 255}. The grown ring is where
    blur may carry the change; 0 and 63 pixels stay as they are (they are defined by what the
    removed object shows in the sharp pass).
    """
    mask = np.asarray(quadmask)
    if radius_px <= 0:
        return mask.copy()
    out = mask.copy()
    for t in range(mask.shape[0]):
        changed = mask[t] != 255
        grown = dilate_disc(changed, radius_px)
        out[t][grown & ~changed] = 127
    return out
