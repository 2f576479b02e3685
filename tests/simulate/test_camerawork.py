"""Camera work: deterministic paths, moves that do what their names say, blur margins."""

import math

import numpy as np
import pytest

from simulate import camerawork as cw

EYE, TARGET = np.array([2.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.2])


def test_sample_shot_is_reproducible_and_covers_the_motions():
    shots = [cw.sample_shot(np.random.default_rng(i)) for i in range(300)]
    again = [cw.sample_shot(np.random.default_rng(i)) for i in range(300)]
    assert shots == again
    assert {s["motion"] for s in shots} == set(cw.MOTIONS)
    focal = np.array([s["focal_mm"] for s in shots])
    assert 20 <= focal.min() < 30 and 60 < focal.max() <= 85
    for s in shots:
        assert math.isclose(cw.focal_from_fov(s["fov_deg"]), s["focal_mm"])
        assert abs(s["exposure_ev"]) <= 0.7
    with pytest.raises(ValueError, match="unknown camera motion"):
        cw.sample_shot(np.random.default_rng(0), "crane")


def test_fov_of_a_50mm_lens():
    # 24 mm sensor height, 50 mm lens: 2 atan(12/50) = 26.99 degrees
    assert math.isclose(cw.fov_from_focal(50.0), math.degrees(2 * math.atan(12 / 50)))


def test_moves_are_centred_and_do_what_they_say():
    for motion, amount in (("pan", 20.0), ("sweep", 10.0), ("dolly", 0.3), ("truck", 0.3)):
        mid = cw.path(EYE, TARGET, 40.0, motion, amount, 0.5)
        assert np.allclose(mid[0], EYE) and np.allclose(mid[1], TARGET), motion
    e0, t0, _ = cw.path(EYE, TARGET, 40.0, "dolly", 0.3, 0.0)
    e1, t1, _ = cw.path(EYE, TARGET, 40.0, "dolly", 0.3, 1.0)
    assert math.isclose(np.linalg.norm(e0 - TARGET) - np.linalg.norm(e1 - TARGET), 0.3)
    e0, _, _ = cw.path(EYE, TARGET, 40.0, "pan", 20.0, 0.0)
    assert math.isclose(np.linalg.norm(e0 - TARGET), np.linalg.norm(EYE - TARGET))  # an orbit
    e0, t0, _ = cw.path(EYE, TARGET, 40.0, "sweep", 10.0, 0.0)
    assert np.allclose(e0, EYE)  # a pan turns on the tripod
    a = (t0 - e0)[:2]
    b = (TARGET - EYE)[:2]
    angle = math.degrees(math.acos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    assert math.isclose(angle, 5.0, rel_tol=1e-6)
    e0, t0, _ = cw.path(EYE, TARGET, 40.0, "truck", 0.4, 0.0)
    assert np.allclose(e0 - EYE, t0 - TARGET) and math.isclose(np.linalg.norm(e0 - EYE), 0.2)
    assert math.isclose(cw.path(EYE, TARGET, 40.0, "zoom", 0.2, 1.0)[2], 32.0)


def test_shake_is_smooth_bounded_and_a_function_of_time():
    t = np.arange(85) / 24.0
    w = np.array([cw.shake(7, x) for x in t])
    assert np.abs(w).max() <= 1.0 + 1e-12
    assert np.array_equal(w[40], cw.shake(7, t[40]))  # any frame on its own
    # at 24 fps a < 2.5 Hz wobble moves at most 2 pi 2.5 / 24 of its range per frame
    assert np.abs(np.diff(w, axis=0)).max() <= 2 * math.pi * 2.5 / 24
    eyes = [cw.path(EYE, TARGET, 40.0, "handheld", 0.0, s, t_s=x, shake_m=0.01, shake_deg=0.4, shake_seed=7)[0]
            for s, x in zip(np.linspace(0, 1, 85), t)]
    offsets = np.linalg.norm(np.array(eyes) - EYE, axis=1)
    assert offsets.max() <= 0.01 * math.sqrt(3) + 1e-12 and offsets.max() > 0.002


def test_circle_of_confusion_in_focus_and_out():
    assert cw.coc_px([2.0], 2.0, 50.0, 2.8, 384)[0] == 0.0
    near, far = cw.coc_px([1.0, 8.0], 2.0, 50.0, 2.8, 384)
    # thin lens: c = f^2 / (N (S - f)) |z - S| / z; 50 mm, f/2.8, S = 2 m, z = 1 m
    expected = 0.05 ** 2 / (2.8 * (2.0 - 0.05)) * 1.0 / 1.0 / 0.024 * 384
    assert math.isclose(near, expected)
    assert near > far > 0
    assert cw.blur_radius_px([2.0], 2.0, 50.0, 0.0, 384) == 1  # pinhole: the pixel filter only
    assert cw.blur_radius_px([1.0], 2.0, 50.0, 2.8, 384, motion_px=10, shutter=0.5) == math.ceil(expected / 2 + 5) + 1


def test_grow_changed_turns_the_fringe_to_127_and_keeps_the_rest():
    m = np.full((2, 20, 20), 255, np.uint8)
    m[0, 8:12, 8:12] = 0
    m[0, 10, 10] = 63
    grown = cw.grow_changed(m, 2)
    assert (grown[1] == 255).all()  # nothing changed, nothing grown
    assert grown[0, 10, 10] == 63 and grown[0, 8, 8] == 0
    assert grown[0, 6, 10] == 127 and grown[0, 5, 10] == 255
    assert grown[0, 6, 6] == 255  # outside the disc of radius 2 around the corner
    assert set(np.unique(grown)) <= {0, 63, 127, 255}


@pytest.mark.parametrize("seed", range(6))
def test_dilate_disc_marks_exactly_the_disc_around_every_marked_pixel(seed):
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(seed)
    mask = rng.random((90, 130)) > 0.998  # sparse dots, some near the borders
    mask[rng.integers(0, 80):, rng.integers(0, 120):][:6, :9] = True
    mask[0, rng.integers(0, 130)] = True
    for r in (0, 1, 3, 7, 16, 60):
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
        want = ndimage.binary_dilation(mask, structure=(xx * xx + yy * yy) <= r * r) if r else mask
        got = cw.dilate_disc(mask, r)
        assert got.dtype == bool and (got == want).all(), r
    assert not cw.dilate_disc(np.zeros((5, 5), bool), 3).any()


def test_develop_keeps_equal_pixels_equal_and_is_reproducible():
    rng = np.random.default_rng(0)
    full = rng.integers(0, 256, size=(3, 12, 16, 3), dtype=np.uint8)
    removed = full.copy()
    removed[:, 4:8, 4:8] = rng.integers(0, 256, size=(3, 4, 4, 3), dtype=np.uint8)
    same = np.all(full == removed, axis=-1)
    a, b = cw.develop([full, removed], seed=5, exposure_ev=0.4, vignette=0.3, grain=0.01)
    assert a.dtype == np.uint8 and a.shape == full.shape
    assert np.array_equal(a[same], b[same])  # 255 pixels stay bit-identical
    again = cw.develop([full, removed], seed=5, exposure_ev=0.4, vignette=0.3, grain=0.01)
    assert np.array_equal(again[0], a) and np.array_equal(again[1], b)
    assert not np.array_equal(cw.develop([full], seed=6, grain=0.01)[0], cw.develop([full], seed=5, grain=0.01)[0])
    # the grain differs between frames of a still scene, as a sensor's does
    still = np.full((2, 12, 16, 3), 128, np.uint8)
    g = cw.develop([still], seed=1, grain=0.02)[0]
    assert not np.array_equal(g[0], g[1]) and abs(float(g.mean()) - 128) < 2


def test_develop_exposure_and_vignette():
    grey = np.full((1, 9, 9, 3), 100, np.uint8)
    brighter = cw.develop([grey], seed=0, exposure_ev=1.0)[0]
    # one stop doubles linear light: sRGB 100 -> linear 0.12744 -> 0.25488 -> sRGB 138.18
    assert brighter[0, 4, 4, 0] == 138
    assert (cw.develop([grey], seed=0)[0] == grey).all()  # nothing asked, nothing changed
    v = cw.develop([grey], seed=0, vignette=0.4)[0]
    assert v[0, 4, 4, 0] == 100 and v[0, 0, 0, 0] < 100
