"""Our top-level packages must be the ones imported, never a same-named PyPI project
(Hugging Face's `evaluate` in particular, see docs/design.md)."""

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["void", "simulate", "train", "evaluate", "leaderboard"])
def test_packages_import_from_this_repository(name):
    mod = importlib.import_module(name)
    assert Path(mod.__file__).resolve().parent == ROOT / name
