"""A synthetic study at a realistic clip size, to try the app and to measure it.

``make_demo_study(root)`` writes VOID's inference layout (``<seq>/input_video.mp4``,
``quadmask_0.mp4``, ``prompt.json``) and three methods' results, all 672x384, 49 frames at
12 fps (VOID's output size), and returns a study YAML:

* ``copy`` - the input, byte for byte (a baseline that removes nothing: the gold "bad");
* ``clean`` - the scene without the object (the gold "good");
* ``smear`` - the object's box filled with the mean colour of the frame (a crude eraser).

A yellow ball rolls across a striped floor and casts a shadow; the quadmask marks the ball 0 and
its shadow 127 (affected).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from void import formats, quadmask, video

WIDTH, HEIGHT, FRAMES, FPS = 672, 384, 49, 12.0


def _scene(t: int, n: int, width: int, height: int, seed: int, with_ball: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = rng.integers(60, 200, size=3)
    stripes = ((x // 24 + y // 24) % 2).astype(np.float32)
    frame = np.stack([base[c] * (0.8 + 0.2 * stripes) for c in range(3)], -1)
    mask = np.full((height, width), quadmask.KEEP, np.uint8)
    cx = int(width * (0.15 + 0.7 * t / max(1, n - 1)))
    cy, r = int(height * 0.55), max(4, height // 8)
    shadow = (x - cx - r // 2) ** 2 / 4 + (y - cy - r) ** 2 * 4 < r * r
    ball = (x - cx) ** 2 + (y - cy) ** 2 < r * r
    mask[shadow] = quadmask.AFFECTED
    mask[ball] = quadmask.REMOVE
    if with_ball:
        frame[shadow] *= 0.55
        frame[ball] = (240, 200, 40)  # yellow: the red outline stays visible on it
    return frame.clip(0, 255).astype(np.uint8), mask


def make_demo_study(root: str | Path, samples: int = 2, width: int = WIDTH, height: int = HEIGHT, frames: int = FRAMES) -> Path:
    root = Path(root)
    inputs, pred = root / "inputs", root / "pred"
    for s in range(samples):
        seq = inputs / f"rolling-ball-{s}"
        full, clean, masks = [], [], []
        for t in range(frames):
            f, m = _scene(t, frames, width, height, s, True)
            c, _ = _scene(t, frames, width, height, s, False)
            full.append(f), clean.append(c), masks.append(m)
        full, clean, masks = np.stack(full), np.stack(clean), np.stack(masks)
        video.write_video(seq / formats.VOID_INPUT, full, FPS)
        video.write_mask(seq / "quadmask_0.mp4", masks, FPS)
        (seq / formats.VOID_PROMPT).write_text('{"bg": "a striped floor"}')
        smear = full.copy()
        region = masks == quadmask.REMOVE
        smear[region] = full.reshape(-1, 3).mean(0).astype(np.uint8)
        video.write_video(formats.prediction_path(pred, "clean", seq.name), clean, FPS)
        video.write_video(formats.prediction_path(pred, "smear", seq.name), smear, FPS)
        copy = formats.prediction_path(pred, "copy", seq.name)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seq / formats.VOID_INPUT, copy)
    cfg = root / "study.yaml"
    cfg.write_text(
        "name: rolling-ball-demo\n"
        "predictions: pred\ninputs: inputs\n"
        "methods: [clean, smear]\n"
        "design: pairwise\nallow_tie: true\ntrials_per_participant: 2\n"
        "gold: {bad: copy, good: clean, trials: 1}\n"
        "completion: {code: DEMO-CODE, redirect_url: 'https://app.prolific.com/submissions/complete?cc={code}'}\n"
        "external_id_params: [PROLIFIC_PID]\n"
        "min_response_s: 0\n",
        encoding="utf-8",
    )
    return cfg
