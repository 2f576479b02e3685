"""Fixtures for the generator's tests: tiny configs and one small generated dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulate.config import FAMILIES, SimulateConfig

TINY = dict(resolution=(32, 32), frames=8, fps=12, progress=False)


def tiny_config(out: Path, **overrides) -> SimulateConfig:
    """32x32 x 8 frames: a few tenths of a second of CPU per sample."""
    values = dict(TINY, out=str(out), num_samples=len(FAMILIES), seed=7, workers=1)
    values.update(overrides)
    return SimulateConfig(**values)


@pytest.fixture(scope="session")
def make_config():
    """``make_config(out, **overrides)`` -> a tiny SimulateConfig (a fixture: test modules
    cannot import this conftest under pytest's importlib mode)."""
    return tiny_config


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """One sample of every family, generated in-process through the real entry function."""
    from simulate.generate import generate

    out = tmp_path_factory.mktemp("sim") / "tiny"
    assert generate(tiny_config(out)) == 0
    return out


def _valid_sample(make_config, tmp_path: Path, family: str, key: str, want: str, frames: int = 12, where=None):
    """The first valid raster sample of ``family`` (64x64, ``frames`` frames, static camera)
    whose ``extras[key]`` is ``want`` (and whose scene passes ``where``, if given):
    ``(draw, views, mask)``."""
    from collections import Counter

    from simulate import families, groundtruth, validation
    from simulate.pipeline import SampleTask, _family_check, draw_scene, renderer_for

    config = make_config(tmp_path, resolution=(64, 64), frames=frames, families=[family], camera_motion="static")
    renderer = renderer_for(config)
    module = families.get(family)
    for seed in range(60):
        draw = draw_scene(SampleTask(str(tmp_path), f"s{seed}", seed, 100 + seed, family, config), Counter())
        if draw.scene.extras.get(key) != want or (where is not None and not where(draw.scene)):
            continue
        views = renderer.render_views(draw.scene, draw.full.poses, draw.removed.poses)
        mask = groundtruth.build_quadmask(views, draw.scene.removed_ids)
        if validation.check_render(draw.scene, views, mask, module.INTERACTION, _family_check(module, draw)) is None:
            return draw, views, mask
    raise AssertionError(f"no valid {family} sample with {key}={want} in 60 seeds")


@pytest.fixture(scope="session")
def valid_sample():
    """``valid_sample(make_config, tmp_path, family, key, want, frames=12, where=None)`` -> the first
    valid raster sample of a family variant: ``(draw, views, mask)``."""
    return _valid_sample
