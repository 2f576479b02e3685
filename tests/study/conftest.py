"""Fixtures of the study tests: real predictions, study configs and databases.

Predictions are small H.264 mp4s written with the real video writer from the toy dataset:
``identity`` copies the input (the object stays: the known-bad gold method),
``oracle-removed`` is the true counterfactual (known-good), ``oracle-hidden`` erases the
object but leaves its consequences, and ``blend`` averages the last two.

Databases: ``db_url`` runs a test on SQLite and, marked ``postgres``, on the server named by
``VOID_TEST_POSTGRES_URL`` (each test in a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from void import formats, video

sys.path.insert(0, str(Path(__file__).resolve().parent))
from study_support import POSTGRES_ENV, trial_methods  # noqa: E402


@pytest.fixture(scope="session")
def predictions(toy_dataset, tmp_path_factory) -> Path:
    pred = tmp_path_factory.mktemp("pred")
    for ref in formats.Dataset(toy_dataset):
        full, removed, hidden = (ref.load_video(k) for k in ("full", "removed", "hidden"))
        blend = ((removed.astype(np.uint16) + hidden) // 2).astype(np.uint8)
        for method, frames in {"identity": full, "oracle-removed": removed, "oracle-hidden": hidden, "blend": blend}.items():
            video.write_video(formats.prediction_path(pred, method, ref.sample_id), frames, 12.0)
    return pred


@pytest.fixture
def write_study(tmp_path, toy_dataset, predictions):
    """Write a study YAML (defaults overridable) and return its path."""

    def write(name: str = "study.yaml", **overrides) -> Path:
        cfg = {
            "name": "toy-study",
            "predictions": str(predictions),
            "inputs": str(toy_dataset),
            "methods": ["oracle-removed", "oracle-hidden", "identity"],
            "design": "pairwise",
            "trials_per_participant": 3,
            "gold": {"bad": "identity", "good": "oracle-removed", "trials": 1},
            "min_response_s": 0,
        }
        cfg.update(overrides)
        cfg = {k: v for k, v in cfg.items() if v is not None}
        path = tmp_path / name
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        return path

    return write


def _postgres_schema_url(base: str):
    """A fresh schema on the test server; yields a URL whose search_path points at it."""
    from sqlalchemy import create_engine, text

    from evaluate.study.store import normalize_url

    schema = "t_" + secrets.token_hex(6)
    engine = create_engine(normalize_url(base))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (CI exports it after starting PostgreSQL on loopback)")
    yield from _postgres_schema_url(base)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'study.db'}"


@pytest.fixture
def make_study(write_study):
    """Create a study in a database through the real ``init`` entry; returns an open Store."""
    from evaluate.study.config import StudyInitConfig
    from evaluate.study.manage import init_study
    from evaluate.study.store import open_store

    stores = []

    def make(url: str, check_videos: bool = False, **overrides):
        init_study(StudyInitConfig(config=str(write_study(**overrides)), db=url, check_videos=check_videos))
        store = open_store(url)
        stores.append(store)
        return store

    yield make
    for s in stores:
        s.close()


@pytest.fixture
def methods_of():
    return trial_methods


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest installs the app script as ``sys.modules["__main__"]`` and leaves
    it there; spawn-based process pools in later tests would then re-run the app in every
    worker. Put the real main module back after each test."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
