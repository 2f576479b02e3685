"""Warped noise: stays exactly N(0, 1) per frame and follows the motion it is given."""

from __future__ import annotations

import numpy as np
import pytest

from void import warped_noise as wn

stats = pytest.importorskip("scipy.stats")
cv2 = pytest.importorskip("cv2")


def _texture(size: int = 160, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (size, size, 3)).astype(np.float32), (0, 0), 2)
    return np.clip((tex - tex.mean()) * 4 + 128, 0, 255).astype(np.uint8)


def _translating(frames: int, dx: int, dy: int, size: int = 64) -> np.ndarray:
    """Content moving by (+dx, +dy) pixels per frame: crops of a larger texture."""
    tex = _texture()
    o = 40
    return np.stack([tex[o - dy * t : o - dy * t + size, o - dx * t : o - dx * t + size] for t in range(frames)])


def test_flow_measures_the_translation():
    frames = _translating(4, dx=3, dy=-2)
    for method in wn.FLOW_METHODS:
        flow = wn.optical_flow(frames, method)
        assert flow.shape == (3, 64, 64, 2)
        inner = flow[:, 12:-12, 12:-12].reshape(-1, 2)
        # backward flow: from frame t to where the content was in t-1
        assert np.allclose(np.median(inner, axis=0), [-3, 2], atol=0.3), method


def test_noise_follows_a_known_translation_exactly_at_pixel_level():
    dx, dy = 2, 1
    frames = _translating(6, dx, dy)
    noise = wn.warped_noise(frames, (6, 3, 64, 64), seed=3, upscale=1)
    m = 8  # away from borders, where content enters and flow is uncertain
    now = noise[1:, :, m + dy : 64 - m, m + dx : 64 - m]
    before = noise[:-1, :, m : 64 - m - dy, m : 64 - m - dx]
    assert (now == before).mean() > 0.97


def test_noise_follows_translation_at_latent_resolution():
    # 4 px per frame = 1 latent pixel at 1/4 resolution, warped at 4x the latent grid.
    frames = _translating(8, dx=4, dy=0)
    noise = wn.warped_noise(frames, (8, 4, 16, 16), seed=1, upscale=4)
    shifted = np.corrcoef(noise[1:, :, 2:-2, 3:-2].ravel(), noise[:-1, :, 2:-2, 2:-3].ravel())[0, 1]
    unshifted = np.corrcoef(noise[1:].ravel(), noise[:-1].ravel())[0, 1]
    assert shifted > 0.95
    assert abs(unshifted) < 0.1


@pytest.mark.parametrize("upscale", [1, 4])
def test_every_frame_stays_standard_normal(upscale):
    frames = _translating(6, dx=3, dy=2)
    noise = wn.warped_noise(frames, (6, 4, 32, 32), seed=7, upscale=upscale)
    for frame in noise:  # each frame i.i.d. N(0,1): Kolmogorov-Smirnov against the normal
        assert stats.kstest(frame.ravel(), "norm").pvalue > 1e-3
        assert abs(frame.mean()) < 0.06 and abs(frame.std() - 1) < 0.05


def test_converging_flow_never_duplicates_a_sample():
    # A zoom-out: many destinations point at the same sources; each may keep only one.
    rng = np.random.default_rng(0)
    h = w = 48
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    flow = np.stack([(xs - w / 2) * 0.5, (ys - h / 2) * 0.5], axis=-1)  # sources spread out: outside too
    shrink = -flow  # sources pulled toward the centre: convergent
    prev = rng.standard_normal((2, h, w), dtype=np.float32)
    for f in (flow, shrink):
        out = wn.transport(prev, f, rng)
        flat = out.reshape(2, -1)
        assert all(len(np.unique(c)) == c.size for c in flat)
        assert stats.kstest(out.ravel(), "norm").pvalue > 1e-3


def test_static_video_keeps_the_same_noise():
    frames = np.repeat(_texture()[None, :64, :64], 4, axis=0)
    noise = wn.warped_noise(frames, (4, 2, 16, 16), seed=0, upscale=2)
    assert np.array_equal(noise[0], noise[3])


def test_same_seed_same_noise_and_latent_frame_choice():
    frames = _translating(9, 1, 0)
    a = wn.warped_noise(frames, (3, 2, 16, 16), seed=5, temporal=4)
    b = wn.warped_noise(frames, (3, 2, 16, 16), seed=5, temporal=4)
    assert np.array_equal(a, b)
    assert list(wn.latent_frame_index(9, 3, 4)) == [0, 4, 8]
    assert list(wn.latent_frame_index(10, 4, 4)) == [0, 4, 8, 9]


def test_pool_keeps_unit_variance():
    rng = np.random.default_rng(1)
    pooled = wn.pool(rng.standard_normal((4, 256, 256)), 4)
    assert pooled.shape == (4, 64, 64)
    assert abs(pooled.std() - 1) < 0.03
