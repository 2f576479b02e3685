"""Go-with-the-Flow noise warping (``--void-parity``'s pass-2 noise) on cases whose transport is
known by construction: no motion, a whole-pixel shift, duplicates at a clamped border."""

from __future__ import annotations

import numpy as np

from void import warped_noise as wn


def test_regaussianize_keeps_group_sums_and_unit_variance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1)).astype(np.float32)
    n, trials = 4, 20000
    values = np.repeat(x, n, axis=1)  # one value copied four times
    outs = np.stack([wn.regaussianize(values, np.zeros(n, np.int64), rng) for _ in range(trials)])
    # the copies' sum is sqrt(n) * x exactly, whatever the fresh noise
    assert np.allclose(outs.sum(axis=-1), np.sqrt(n) * x[0, 0], atol=1e-5)
    # over fresh noise each entry is x/2 + zero-mean noise of variance 1 - 1/4
    assert abs(outs[..., 0].mean() - x[0, 0] / 2) < 0.02
    assert abs(outs[..., 0].var() - 0.75) < 0.03
    singles = wn.regaussianize(values, np.arange(n), rng)  # no duplicates: passed through
    assert np.array_equal(singles, values)


def test_no_motion_leaves_the_noise_unchanged_at_any_scale():
    rng = np.random.default_rng(1)
    state = rng.standard_normal((3, 6, 8)).astype(np.float32)
    assert np.array_equal(wn.gwf_step(state, np.zeros((6, 8, 2), np.float32), rng, 1), state)
    # scale 2: each state pixel becomes 4 copies (one group), which average back to itself
    out = wn.gwf_step(state, np.zeros((12, 16, 2), np.float32), rng, 2)
    assert np.allclose(out, state, atol=1e-5)


def test_a_whole_pixel_shift_moves_the_noise_and_regaussianizes_the_border():
    rng = np.random.default_rng(2)
    state = rng.standard_normal((2, 5, 7)).astype(np.float32)
    flow = np.zeros((5, 7, 2), np.float32)
    flow[..., 0] = -1.0  # backward flow: every pixel came from one pixel to its left
    out = wn.gwf_step(state, flow, rng, 1)
    assert np.array_equal(out[:, :, 2:], state[:, :, 1:-1])  # moved one to the right, exactly
    # columns 0 and 1 both look back to column 0 (clamped): one value shared by two pixels
    assert np.allclose(out[:, :, 0] + out[:, :, 1], np.sqrt(2) * state[:, :, 0], atol=1e-5)
    assert not np.allclose(out[:, :, 0], out[:, :, 1])
    # the same shift of 2 fine pixels at scale 2 is one state pixel
    fine = np.zeros((10, 14, 2), np.float32)
    fine[..., 0] = -2.0
    out2 = wn.gwf_step(state, fine, rng, 2)
    assert np.allclose(out2[:, :, 2:], state[:, :, 1:-1], atol=1e-5)


def test_expanding_and_contracting_motion_keeps_unit_gaussian_noise():
    rng = np.random.default_rng(3)
    h = w = 64
    state = rng.standard_normal((4, h, w)).astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    zoom = np.stack([(xs - w / 2) * -0.3, (ys - h / 2) * -0.3], -1)  # a zoom in: many duplicates
    for _ in range(5):
        state = wn.gwf_step(state, zoom, rng, 1)
    assert abs(state.mean()) < 0.05 and abs(state.std() - 1) < 0.05


def test_void_geometry_static_video_gives_the_same_noise_each_latent_frame():
    frames = np.tile(np.random.default_rng(4).integers(0, 255, (1, 40, 64, 3), dtype=np.uint8), (9, 1, 1, 1))
    noise = wn.void_warped_noise(frames, (3, 4, 6, 10), seed=0, warp_scale=1)
    assert noise.shape == (3, 4, 6, 10) and noise.dtype == np.float32
    assert np.allclose(noise[0], noise[1], atol=1e-5) and np.allclose(noise[0], noise[2], atol=1e-5)
    # the 60x90 grid resized bilinearly to 6x10 averages neighbours: variance drops, as VOID's does
    assert noise.std() < 1.0
