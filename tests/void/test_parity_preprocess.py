"""``--void-parity`` preprocessing and windows against values worked out by hand from VOID's rules
(area average then thresholds; stretch; its padding length rule and mirror order; its windows)."""

from __future__ import annotations

import numpy as np
import torch

from void import quadmask
from void.infer import Fit
from void.model import void_parity as vp
from void.pipeline import temporal_windows, window_weights


def test_mask_area_average_then_thresholds_by_hand():
    # 2x6 -> 1x3: each output pixel is the mean of one 2x2 block.
    mask = np.array(
        [[[0, 255, 0, 63, 0, 0],
          [0, 255, 63, 63, 0, 127]]], np.uint8)
    got = vp.prepare_mask(mask, 1, 3)[0, 0, 0].tolist()
    # block 1: (0+255+0+255)/4 = 127.5 -> (95, 191] -> affected 127
    # block 2: (0+63+63+63)/4 = 47.25 -> (31, 95] -> overlap 63
    # block 3: (0+0+0+127)/4 = 31.75 -> (31, 95] -> overlap 63 (just past the remove threshold)
    assert got == [127, 63, 63]
    # our default keeps the most-edit class of each footprint instead (remove survives)
    assert Fit.make(2, 6, 1, 3).mask(mask)[0, 0].tolist() == [0, 0, 0]


def test_mask_area_at_a_non_integer_ratio_by_hand():
    # torch's area mode = adaptive average pooling: 3 -> 2 columns takes [0, 2) and [1, 3).
    mask = np.array([[[0, 255, 255]]], np.uint8)
    assert vp.prepare_mask(mask, 1, 2)[0, 0, 0].tolist() == [127, 255]  # mean 127.5 and 255


def test_video_is_stretched_by_area_without_rounding():
    frames = np.zeros((1, 2, 4, 3), np.uint8)
    frames[0, :, 1] = 1  # column means over 2x2 blocks: (0+1)/2 / 255 -> not a multiple of 1/255
    clip = vp.prepare_video(frames, 1, 2)
    assert clip.shape == (1, 1, 3, 1, 2)
    assert torch.allclose(clip[0, 0, :, 0, 0], torch.full((3,), 0.5 / 255 * 2 - 1))
    assert torch.allclose(clip[0, 0, :, 0, 1], torch.full((3,), -1.0))


def test_padded_length_follows_voids_rule():
    # n = 4*(T//4)+1, +4 if short of T, +4 more if n//4 is even; at least 85, VOID caps at 197
    cases = {1: 85, 50: 85, 85: 85, 86: 93, 100: 101, 197: 197, 200: 205}
    for frames, want in cases.items():
        got = vp.padded_length(frames)
        assert got == want, frames
        assert (got - 1) % 4 == 0 and ((got - 1) // 4 + 1) % 2 == 0  # an even latent count
        assert got >= frames


def test_symmetric_padding_repeats_the_end_frame():
    assert vp.symmetric_pad_index(3, 8).tolist() == [0, 1, 2, 2, 1, 0, 0, 1]
    video = torch.arange(3.0).view(1, 3, 1, 1, 1)
    mask = torch.arange(3).view(1, 3, 1, 1).to(torch.uint8)
    pv, pm, t = vp.pad_clip(video, mask)
    assert t == 3 and pv.shape[1] == pm.shape[1] == 85
    assert pv[0, :7, 0, 0, 0].tolist() == [0, 1, 2, 2, 1, 0, 0]


def test_void_windows_start_at_zero_and_cut_the_last():
    # VOID: window 22 latents, stride 16 frames = 4 latents, next start = end - 4
    assert temporal_windows(50, 22, 4, 2, "start") == [(0, 22), (18, 40), (36, 50)]
    assert temporal_windows(50, 22, 4, 2, "end") == [(0, 22), (18, 40), (28, 50)]
    # VOID's ramps: linspace(0, 1, stride + 2)[1:-1] into a window, reversed out of it
    assert window_weights(18, 40, 50, 4)[:4].tolist() == torch.linspace(0, 1, 6)[1:-1].tolist()
    assert window_weights(18, 40, 50, 4)[-4:].tolist() == torch.linspace(1, 0, 6)[1:-1].tolist()


def test_profile_values_are_voids():
    p = vp.VOID_PROFILE
    assert (p.steps, p.guidance_scale, p.pass2_steps, p.pass2_guidance_scale) == (30, 1.0, 50, 6.0)
    assert p.working_hw == (384, 672) and p.window_frames == 85 and p.window_overlap_latents == 4
    assert set(np.unique(vp.prepare_mask(np.arange(256, dtype=np.uint8).reshape(1, 16, 16), 4, 4))) <= set(quadmask.VALUES)
