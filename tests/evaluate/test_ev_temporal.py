"""The flow-warping error on videos whose motion and flicker are known."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from evaluate.metrics import temporal

DX, DY = 2, 1  # the camera pans this many pixels per frame


def _texture(seed=0, h=160, w=200):
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (h, w, 3)).astype(np.float32), (0, 0), 3)
    return cv2.normalize(tex, None, 30, 225, cv2.NORM_MINMAX).astype(np.uint8)


def _panning(frames=5, size=96, seed=0):
    """Frame t is a window moved by (DX, DY) * t over a larger texture: a known translation."""
    big = _texture(seed)
    return np.stack([big[10 + DY * t : 10 + DY * t + size, 10 + DX * t : 10 + DX * t + size] for t in range(frames)])


def test_warp_with_an_exact_integer_flow_reproduces_the_shift():
    vid = _panning()
    flow = np.zeros(vid.shape[1:3] + (2,), np.float32)
    flow[..., 0], flow[..., 1] = DX, DY
    warped = temporal.warp(vid[0], flow)
    # frame 1 at p shows frame 0 at p + (DX, DY): identical wherever that lies inside frame 0
    assert np.array_equal(warped[:-DY, :-DX], vid[1][:-DY, :-DX])
    assert np.array_equal(warped[:-DY, :-DX], vid[0][DY:, DX:])


def test_flow_recovers_a_known_translation_and_the_entering_strip_is_excluded():
    vid = _panning()
    g0, g1 = temporal.to_gray(vid[0]), temporal.to_gray(vid[1])
    backward = temporal.optical_flow(g1, g0)
    forward = temporal.optical_flow(g0, g1)
    assert np.median(backward[..., 0]) == pytest.approx(DX, abs=0.05)
    assert np.median(backward[..., 1]) == pytest.approx(DY, abs=0.05)
    assert np.median(forward[..., 0]) == pytest.approx(-DX, abs=0.05)
    valid = temporal.valid_mask(backward, forward)
    # content entering at the right edge has no source in frame 0
    assert not valid[:, -DX:].any()
    assert valid[8:-8, 8:-8].mean() > 0.95


def test_pure_motion_has_a_small_error_and_flicker_a_known_one():
    vid = _panning(frames=6)
    assert temporal.warp_error(vid) < 1.0  # interpolation and flow error only
    static = np.repeat(_texture(1)[None, :96, :96], 6, 0).astype(np.int16)
    flicker = static.copy()
    flicker[1::2] += 12  # every other frame 12 levels brighter
    assert temporal.warp_error(static.astype(np.uint8)) == 0.0
    assert temporal.warp_error(np.clip(flicker, 0, 255).astype(np.uint8)) == pytest.approx(12.0, abs=0.5)
    # moving and flickering: the motion is explained away, the flicker is not
    moving = _panning(frames=6).astype(np.int16)
    moving[1::2] += 12
    assert temporal.warp_error(np.clip(moving, 0, 255).astype(np.uint8)) == pytest.approx(12.0, abs=1.0)


def test_single_frame_is_undefined_and_chunks_carry_over():
    vid = _panning(frames=7)
    assert math.isnan(temporal.warp_error(vid[:1]))
    whole = temporal.warp_error(vid)
    m = temporal.WarpError()
    for i in range(0, 7, 3):
        m.update(vid[i : i + 3])
    assert m.compute()["all"] == pytest.approx(whole, rel=1e-9)
    assert not temporal.WarpError.higher_is_better
