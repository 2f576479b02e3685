"""Validation: render held-out clips with the model being trained and score them by region.

PSNR is computed in each quadmask region (``removed`` = remove + overlap, ``affected``,
``keep``) and over the whole frame, for the model and for the identity baseline (the input
video copied unchanged), so the curve in ``validation.csv`` shows the model learning to beat
"do nothing" where it matters: in the removed region. Squared errors are pooled over all
rendered clips before taking the log (a per-clip mean would be undefined for clips whose
region is empty). The math is ``void.regions``, the same code the benchmark's PSNR runs, so
an exact region reads :data:`~void.regions.PSNR_CAP_DB` here as it does in the results
("keep" pixels are identical in input and target by construction, so the identity's keep
PSNR is that cap).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from void import quadmask, video
from void.constants import REGION_NAMES
from void.regions import PooledPSNR

VALIDATION_DIR = "validation"
PREVIEW_CLIPS = 2  # side-by-side videos written per validation
RENDER_BATCH = 4


def pipeline_renderer(module, scheduler, *, steps: int, seed: int, vae=None):
    """``render(batch, first)`` for :func:`validate`: pass-1 sampling with ``VoidPipeline``.

    The pipeline gets its own scheduler (``set_timesteps`` mutates it) and a generator
    seeded by (seed, first clip), so every validation renders the same noise and the curve
    compares like with like. ``vae``: the VAE component of a VAE-latent model.
    """
    from void.pipeline import VoidPipeline

    pipe = VoidPipeline(module, scheduler.__class__.from_config(scheduler.config), vae=vae)
    pipe.set_progress_bar_config(disable=True)

    def render(batch: dict, first: int) -> torch.Tensor:
        gen = torch.Generator(device=module.device).manual_seed(seed * 1_000_003 + first)
        return pipe(batch["input"], batch["mask"], num_inference_steps=steps, generator=gen).videos

    return render


def _preview(path: Path, inp: np.ndarray, mask: np.ndarray, out: np.ndarray, target: np.ndarray) -> None:
    """input | mask | output | ground truth, side by side."""
    frames = np.concatenate([inp, quadmask.colorize(mask), out, target], axis=2)
    video.write_video(path, frames, fps=8.0, codec="h264")


def validate(
    render,
    dataset,
    *,
    num_samples: int,
    step: int,
    run_dir: Path | None,
    split: str,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Render the first ``num_samples`` clips of ``dataset`` and score them.

    ``render(batch, first_index)`` returns output videos ``(B, T, 3, H, W)`` in [-1, 1]
    (:func:`pipeline_renderer`). Returns the model's PSNR per region (the metrics.csv
    columns) and the rows of ``validation.csv`` (model and identity side by side).
    """
    n = min(num_samples, len(dataset))
    model_score, identity_score = PooledPSNR(), PooledPSNR()
    preview_dir = Path(run_dir) / VALIDATION_DIR / f"step_{step:08d}" if run_dir is not None else None
    for first in range(0, n, RENDER_BATCH):
        clips = [dataset.eval_clip(i) for i in range(first, min(n, first + RENDER_BATCH))]
        batch = {k: torch.stack([c[k] for c in clips]) for k in ("input", "target", "mask")}
        outputs = render(batch, first)
        for j, clip in enumerate(clips):
            inp = video.from_tensor(clip["input"])
            target = video.from_tensor(clip["target"])
            out = video.from_tensor(outputs[j])
            mask = clip["mask"].numpy()
            model_score.update(out, target, mask)
            identity_score.update(inp, target, mask)
            if preview_dir is not None and first + j < PREVIEW_CLIPS:
                _preview(preview_dir / f"{clip['sample_id']}.mp4", inp, mask, out, target)
    model_psnr, identity_psnr = model_score.compute(), identity_score.compute()
    rows = [
        {
            "split": split,
            "samples": n,
            "region": region,
            "pixels": model_score.pixels(region),
            "model_psnr_db": model_psnr[region],
            "identity_psnr_db": identity_psnr[region],
        }
        for region in REGION_NAMES
    ]
    return model_psnr, rows
