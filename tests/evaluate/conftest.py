"""Fixtures of the evaluation tests: predictions of real baselines on the toy dataset."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# The helpers module sits beside this file; test modules import it too.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ev_support import baseline  # noqa: E402
from void import formats, video  # noqa: E402


@pytest.fixture(scope="session")
def toy_preds(toy_dataset, tmp_path_factory) -> Path:
    """PRED dir for the toy dataset: identity, oracle-hidden, and 'perfect' (rgb_removed)."""
    pred = tmp_path_factory.mktemp("preds") / "pred"
    baseline("identity", toy_dataset, pred, write_tuple=False)
    baseline("oracle-hidden", toy_dataset, pred, write_tuple=False)
    for ref in formats.Dataset(toy_dataset):
        video.write_video(formats.prediction_path(pred, "perfect", ref.sample_id), ref.load_video("removed"), 12.0)
    return pred


@pytest.fixture
def toy_copy(toy_dataset, tmp_path) -> Path:
    """A private copy of the toy dataset, for tests that break it."""
    dst = tmp_path / "toy"
    shutil.copytree(toy_dataset, dst)
    return dst


@pytest.fixture
def preds_copy(toy_preds, tmp_path) -> Path:
    dst = tmp_path / "pred"
    shutil.copytree(toy_preds, dst)
    return dst
