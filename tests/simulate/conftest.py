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
