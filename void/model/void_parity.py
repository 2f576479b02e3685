"""VOID's own inference recipe, as ``void infer --void-parity`` reproduces it.

Facts read from Netflix/void-model (``config/quadmask_cogvideox.py``, ``predict_v2v.py``,
``inference_with_pass1_warped_noise.py``, ``videox_fun/utils/utils.py``, the CogVideoX-Fun
inpaint pipeline and VAE); the code here is ours. docs/void-parity.md lists every value, where
it comes from, and where our default profile differs and why.

Layouts: video ``(T, H, W, 3)`` uint8 in, ``(1, T, 3, h, w)`` float in [-1, 1] out; quadmask
``(T, H, W)`` uint8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

# VOID's inference defaults ------------------------------------------------------------
WORKING_HW = (384, 672)  # config.data.sample_size
WINDOW_FRAMES = 85  # temporal_window_size: also the minimum length clips are padded to
MAX_FRAMES = 197  # max_video_length
WINDOW_STRIDE_FRAMES = 16  # temproal_multidiffusion_stride: overlap of windows, in frames
PASS1_STEPS = 30  # predict_v2v.py passes 30 to the pipeline (its config's 50 is not used)
PASS1_GUIDANCE = 1.0
PASS2_STEPS = 50
PASS2_GUIDANCE = 6.0
PASS2_NEGATIVE_PROMPT = ""
SEED = 42
# Pass-2 noise geometry (make_warped_noise.py + load_and_resize_warped_noise): the pass-1
# video is resampled to 72 frames, resized to cover 480x720 and centre-cropped, the noise is
# warped at half that resolution and handed over on a 1/8 grid (60x90), then the latent
# frames are picked with linspace and the grid is resized bilinearly to the latent size.
NOISE_FRAMES = 72
NOISE_FRAME_HW = (480, 720)
NOISE_FLOW_SCALE = 0.5
NOISE_LATENT_DIVISOR = 8
NOISE_WARP_SCALE = 8  # Go-with-the-Flow's resize_flow: noise is warped 8x finer inside each step


@dataclass(frozen=True)
class Profile:
    """The sampling settings a profile fixes (the CLI's ``--void-parity`` fills them in)."""

    working_hw: tuple[int, int] = WORKING_HW
    window_frames: int = WINDOW_FRAMES
    window_overlap_latents: int = WINDOW_STRIDE_FRAMES // 4
    steps: int = PASS1_STEPS
    guidance_scale: float = PASS1_GUIDANCE
    pass2_steps: int = PASS2_STEPS
    pass2_guidance_scale: float = PASS2_GUIDANCE
    negative_prompt: str = PASS2_NEGATIVE_PROMPT


VOID_PROFILE = Profile()


def padded_length(num_frames: int, min_length: int = WINDOW_FRAMES, max_length: int = MAX_FRAMES) -> int:
    """VOID's clip length for ``num_frames`` input frames: ``4k + 1`` with an even latent count
    (CogVideoX 1.5 patches 2 latent frames per token), at least ``min_length``. Clips longer
    than ``max_length`` are cut there by VOID; we keep all frames (windows cover them), so
    past ``max_length`` the same rule applies without the cap."""
    n = (num_frames // 4) * 4 + 1
    if n < num_frames:
        n += 4
    if (n // 4) % 2 == 0:
        n += 4
    if num_frames <= max_length:
        n = min(n, max_length)
    return max(min_length, n)


def symmetric_pad_index(num_frames: int, target: int) -> np.ndarray:
    """Frame indices VOID pads with: the clip, then the clip reversed (its last frame twice),
    and so on, cut at ``target``."""
    period = 2 * num_frames
    i = np.arange(target) % period
    return np.where(i < num_frames, i, period - 1 - i)


def area_resize(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``(N, C, H, W)`` float -> ``(N, C, height, width)`` by area averaging (torch's
    ``mode='area'``, i.e. adaptive average pooling), as VOID resizes videos and masks."""
    return torch.nn.functional.interpolate(frames, size=(height, width), mode="area")


def quantize_float_mask(mask: torch.Tensor) -> torch.Tensor:
    """VOID's quadmask thresholds on area-averaged values: <=31 -> 0, <=95 -> 63, <=191 -> 127,
    else 255. Returns uint8."""
    from void import quadmask

    t_remove, t_overlap, t_affected = quadmask.THRESHOLDS
    out = torch.full(mask.shape, quadmask.KEEP, dtype=torch.uint8)
    out[mask <= t_affected] = quadmask.AFFECTED
    out[mask <= t_overlap] = quadmask.OVERLAP
    out[mask <= t_remove] = quadmask.REMOVE
    return out


def prepare_video(frames: np.ndarray, height: int, width: int) -> torch.Tensor:
    """``(T, H, W, 3)`` uint8 -> ``(1, T, 3, height, width)`` in [-1, 1]: stretched to the working
    size by area averaging, with no 8-bit rounding in between (VOID keeps floats too)."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    return (area_resize(x, height, width) * 2 - 1).unsqueeze(0)


def prepare_mask(mask: np.ndarray, height: int, width: int) -> torch.Tensor:
    """``(T, H, W)`` quadmask -> ``(1, T, height, width)`` uint8: area average, then VOID's
    thresholds (a pixel takes the class its footprint's mean value falls in)."""
    m = torch.from_numpy(np.ascontiguousarray(mask)).float().unsqueeze(1)
    return quantize_float_mask(area_resize(m, height, width)[:, 0]).unsqueeze(0)


def pad_clip(video: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Pad ``(1, T, ...)`` video and mask to VOID's length; returns them and the original ``T``."""
    t = video.shape[1]
    idx = torch.from_numpy(symmetric_pad_index(t, padded_length(t)))
    return video[:, idx], mask[:, idx], t
