"""The footage look's film in Cycles: tone curve and held sensor grain after the denoiser.

Without Blender: the film's parameters come from the sample seed's own stream (footage look
only), the grain is reproducible, differs per frame and per seed, stands still where the full
view does not change, and keeps equal pixels equal; the CLI and the dataset header. With
Blender: a tiny denoised, blurred footage-look render keeps its 255 pixels bit-identical
through the film, and ``film=False`` leaves the renders exactly as before.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from simulate import groundtruth
from simulate.render import cycles_film

from tests.simulate.test_cycles_footage_camera import blender, make_scene  # the tiny lens scene


def _views(T=4, H=24, W=32, seed=0):
    """Three views: equal except a block that differs in the removed view; the full view
    changes only in its left half from frame 2 on."""
    rng = np.random.default_rng(seed)
    full = np.repeat(rng.integers(0, 256, (1, H, W, 3), dtype=np.uint8), T, axis=0)
    full[2:, :, : W // 2] = rng.integers(0, 256, (T - 2, H, W // 2, 3), dtype=np.uint8)
    removed = full.copy()
    removed[:, 4:10, 20:28] = 17
    return [full, removed, full.copy()]


FILM = {"seed": 5, "grain": 0.015, "tone_gamma": 1.5}


def test_only_the_footage_look_gets_a_film_from_its_own_stream():
    scene, _, _ = make_scene()
    film = cycles_film.film_for(scene)
    assert film == cycles_film.film_for(scene)  # reproducible
    assert cycles_film.GRAIN_RANGE[0] <= film["grain"] <= cycles_film.GRAIN_RANGE[1]
    assert cycles_film.TONE_GAMMA_RANGE[0] <= film["tone_gamma"] <= cycles_film.TONE_GAMMA_RANGE[1]
    other = cycles_film.film_for(dataclasses.replace(scene, seed=scene.seed + 1))
    assert (other["grain"], other["tone_gamma"]) != (film["grain"], film["tone_gamma"])
    plain, _, _ = make_scene(footage=False)
    assert cycles_film.film_for(plain) is None


def test_equal_pixels_stay_equal_and_the_grain_is_reproducible():
    views = _views()
    out = cycles_film.develop(views, FILM)
    again = cycles_film.develop(_views(), FILM)
    assert all(np.array_equal(a, b) for a, b in zip(out, again))
    equal = (views[0] == views[1]).all(-1)
    assert np.array_equal(out[0][equal], out[1][equal])
    assert np.array_equal(out[0], out[2])
    assert all(not np.array_equal(o, v) for o, v in zip(out, views))  # it did something
    assert all(v.dtype == np.uint8 and v.shape == views[0].shape for v in out)


def test_grain_is_drawn_afresh_only_where_the_full_view_changes():
    views = _views()
    W = views[0].shape[2]
    no_grain = cycles_film.develop(views, {**FILM, "grain": 0.0})
    grain = cycles_film.develop(views, FILM)[0].astype(int) - no_grain[0].astype(int)
    left, right = np.s_[:, :, : W // 2], np.s_[:, :, W // 2:]
    # the right half never changes: its grain is frame 0's in every frame
    assert all(np.array_equal(grain[t][right[1:]], grain[0][right[1:]]) for t in range(4))
    # the left half changes at frame 2 (and every frame after): new grain there
    assert np.array_equal(grain[1][left[1:]], grain[0][left[1:]])
    assert not np.array_equal(grain[2][left[1:]], grain[1][left[1:]])
    assert not np.array_equal(grain[3][left[1:]], grain[2][left[1:]])
    # about the asked strength in mid-grey (shot-noise shaped), and seeded per sample
    assert 0.5 * 0.015 * 255 < grain[0].std() < 2.0 * 0.015 * 255
    other = cycles_film.develop(views, {**FILM, "seed": 6})[0]
    assert not np.array_equal(other, cycles_film.develop(views, FILM)[0])
    fields = [cycles_film.grain_field(5, t, (8, 8)) for t in range(2)]
    assert not np.array_equal(fields[0], fields[1])


def test_tone_curve_deepens_shadows_and_keeps_white():
    grey = np.array([0, 64, 128, 192, 255], np.uint8).reshape(1, 1, 5, 1).repeat(3, -1)
    out = cycles_film.develop([grey], {**FILM, "grain": 0.0})[0][0, 0, :, 0]
    assert out[0] == 0 and out[-1] == 255
    assert (out[1:4] < grey[0, 0, 1:4, 0]).all()
    assert out[2] == round(255 * (128 / 255) ** 1.5)


def test_film_option_in_cli_and_dataset_header(tmp_path):
    import argparse

    from simulate.config import SimulateConfig
    from simulate.generate import _config_dict
    from void.cliutil import add_arguments, build_config

    parser = argparse.ArgumentParser()
    add_arguments(parser, SimulateConfig)
    args = ["--out", str(tmp_path / "d"), "--renderer", "cycles", "--look", "footage"]
    assert build_config(SimulateConfig, parser.parse_args(args)).film is True
    assert build_config(SimulateConfig, parser.parse_args(args + ["--no-film"])).film is False
    cycles = SimulateConfig(out=str(tmp_path / "d"), renderer="cycles", film=False)
    assert _config_dict(cycles)["film"] is False
    assert "film" not in json.loads(json.dumps(_config_dict(SimulateConfig(out=str(tmp_path / "d")))))


@pytest.fixture(scope="module")
def film_renders():
    from simulate.render.cycles import CyclesRenderer

    scene, full, removed = make_scene()
    with_film = CyclesRenderer(spp=2, denoiser=True).render_views(scene, full, removed)
    without = CyclesRenderer(spp=2, denoiser=True, film=False).render_views(scene, full, removed)
    raw = [with_film.full.rgb.copy(), with_film.removed.rgb.copy(), with_film.hidden.rgb.copy()]
    return scene, with_film, without, raw


@blender
@pytest.mark.blender
def test_255_pixels_bit_identical_through_the_film(film_renders):
    from simulate.pipeline import develop

    scene, views, _, _ = film_renders
    assert views.info["film"] == cycles_film.film_for(scene) and views.info["denoiser"]
    mask = groundtruth.build_quadmask(views, scene.removed_ids)
    before = views.full.rgb.copy()
    develop(views, scene, grain=False)
    assert not np.array_equal(views.full.rgb, before)
    keep = mask == 255
    assert keep.mean() > 0.3
    assert np.array_equal(views.full.rgb[keep], views.hidden.rgb[keep])
    assert np.array_equal(views.full.rgb[keep], views.removed.rgb[keep])


@blender
@pytest.mark.blender
def test_no_film_leaves_the_renders_as_they_were(film_renders):
    from simulate.pipeline import develop

    scene, views, without, raw = film_renders
    assert without.info["film"] is None and views.info["film"]
    for a, b in zip(raw, (without.full, without.removed, without.hidden)):
        # The renders themselves do not depend on the film. They come from two worker
        # processes, whose denoised floats can differ in the last bit (blender_worker's ASLR
        # note): a handful of pixels one level apart, where the film moves every pixel by many.
        differ = (a != b.rgb).any(-1)
        assert np.abs(a.astype(int) - b.rgb).max() <= 1 and differ.mean() < 0.001, (
            f"{differ.mean():.3%} of pixels differ, by up to {np.abs(a.astype(int) - b.rgb).max()} levels")
    rgb = [without.full.rgb.copy(), without.removed.rgb.copy(), without.hidden.rgb.copy()]
    develop(without, scene, grain=False)  # the scene's camera has no exposure or vignette
    assert all(np.array_equal(a, b) for a, b in zip(rgb, (without.full.rgb, without.removed.rgb, without.hidden.rgb)))
