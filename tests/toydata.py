"""A tiny synthetic paired dataset written through the real dataset writer.

Two squares on a textured background: a red "removed" square slides right and pushes a blue
square; in the counterfactual the blue square stays put; in the hidden render the blue square
moves but the red one is not drawn. Cheap (no physics engine), exact, and in the real format,
for tests of the stages downstream of ``simulate``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from void import formats, quadmask


def _background(size: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    checker = (((yy // 4) + (xx // 4)) % 2).astype(np.float32)
    base = rng.uniform(60, 200, size=3)
    img = base[None, None, :] * (0.8 + 0.2 * checker[..., None])
    return img.astype(np.uint8)


def toy_sample(sample_id: str, frames: int = 8, size: int = 32, seed: int = 0) -> formats.Sample:
    rng = np.random.default_rng(seed)
    bg = _background(size, rng)
    s = max(size // 6, 3)
    y0 = size // 2 - s // 2 + int(rng.integers(-2, 3))
    red = np.array([220, 30, 30], np.uint8)
    blue = np.array([30, 60, 220], np.uint8)
    full, hidden, removed = (np.repeat(bg[None], frames, 0).copy() for _ in range(3))
    ids_full = np.zeros((frames, size, size), np.int32)
    blue_x0 = size // 2
    for t in range(frames):
        rx = 1 + t * 2
        push = max(0, rx + s - blue_x0)
        bx = blue_x0 + push
        for img in (full,):
            img[t, y0 : y0 + s, rx : rx + s] = red
            ids_full[t, y0 : y0 + s, rx : rx + s] = 1
        for img in (full, hidden):
            img[t, y0 : y0 + s, bx : bx + s] = blue
        removed[t, y0 : y0 + s, blue_x0 : blue_x0 + s] = blue
    removed_visible = ids_full == 1
    diff_full = np.any(full != removed, axis=-1)
    diff_hidden = np.any(hidden != removed, axis=-1)
    mask = quadmask.compose(removed_visible, diff_full, diff_hidden)
    return formats.Sample(
        sample_id=sample_id,
        full=full,
        removed=removed,
        hidden=hidden,
        mask=mask,
        fps=12.0,
        caption="A blue square rests on a checkered floor.",
        metadata={"family": "toy", "seed": seed, "removed_ids": [1], "affected_ids": [2]},
    )


def make_toy_dataset(root: Path, n: int = 2, frames: int = 8, size: int = 32, seed: int = 0) -> Path:
    root = Path(root)
    entries = []
    ids = []
    for i in range(n):
        sid = f"toy_{i:04d}"
        formats.write_sample(root, toy_sample(sid, frames, size, seed + i))
        entries.append(formats.manifest_entry(root, sid, "A blue square rests on a checkered floor."))
        ids.append({"sample_id": sid, "family": "toy"})
    formats.write_manifest(root, entries)
    formats.write_header(root, {"generator": "tests.toydata", "split": "test", "samples": ids, "counts": {"samples": n}})
    return root
