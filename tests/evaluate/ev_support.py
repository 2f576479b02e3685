"""Helpers of the evaluation tests (imported by conftest.py and the test modules): small
inputs built through the real writers, and the command-baseline stand-in's command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from evaluate.baselines import run_baseline
from evaluate.config import BaselineConfig
from void import formats, video

HERE = Path(__file__).resolve().parent
GREY_REMOVER = HERE / "grey_remover.py"


def grey_cmd(*extra: str) -> str:
    """The command-baseline template running the test's stand-in remover."""
    return f"{sys.executable} {GREY_REMOVER} --frames {{frames}} --masks {{masks}} --out {{out}} " + " ".join(extra)


def write_void_seq(root: Path, name: str, frames: np.ndarray, mask: np.ndarray, prompt: str = "a quiet room") -> Path:
    """One sequence in VOID's inference layout (input_video.mp4, quadmask_0.mp4, prompt.json)."""
    seq = root / name
    seq.mkdir(parents=True, exist_ok=True)
    video.write_video(seq / formats.VOID_INPUT, frames, 12.0)
    video.write_mask(seq / "quadmask_0.mp4", mask, 12.0)
    (seq / formats.VOID_PROMPT).write_text(json.dumps({"bg": prompt}))
    return seq


def moving_square_video(frames: int = 12, size: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A static textured background with a red square sliding across: (video, mask, background)."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(40, 200, size=(size, size, 3)).astype(np.uint8)
    vid = np.repeat(bg[None], frames, 0).copy()
    mask = np.full((frames, size, size), 255, np.uint8)
    s = size // 4
    for t in range(frames):
        x = 1 + t * (size - s - 2) // max(frames - 1, 1)
        vid[t, 8 : 8 + s, x : x + s] = (230, 20, 20)
        mask[t, 8 : 8 + s, x : x + s] = 0
    return vid, mask, bg


def baseline(name: str, src: Path, out: Path, **kw) -> Path:
    run_baseline(BaselineConfig(name=name, input=str(src), out=str(out), progress=False, **kw))
    return out / kw.get("method", name)
