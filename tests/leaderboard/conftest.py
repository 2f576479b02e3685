"""Fixtures: a results and a study directory in the contracts' schema (see lb_fixtures.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers module sits beside this file; test modules import it too.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lb_fixtures import write_results, write_study  # noqa: E402


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory) -> Path:
    return write_results(tmp_path_factory.mktemp("lb") / "results")


@pytest.fixture(scope="session")
def study_dir(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("lb") / "study")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, results_dir, study_dir):
    """The site built once from the fixture results and study (it is read by several tests)."""
    from leaderboard import LeaderboardConfig, build

    out = tmp_path_factory.mktemp("lb") / "site"
    report = build(LeaderboardConfig(results=str(results_dir), study=str(study_dir), out=str(out), quiet=True))
    return report
