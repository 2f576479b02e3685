"""Helpers shared by the study tests (a module of its own: ``conftest`` names are ambiguous)."""

from __future__ import annotations

from pathlib import Path

POSTGRES_ENV = "VOID_TEST_POSTGRES_URL"
APP = Path(__file__).resolve().parents[2] / "evaluate" / "study" / "app.py"


def trial_methods(store, trial_id: int) -> list[str]:
    """The method names behind a trial's screen positions (what the participant cannot see)."""
    from sqlalchemy import select

    from evaluate.study.store import MethodRow, TrialRow

    with store.session() as s:
        layout = s.get(TrialRow, trial_id).layout
        names = dict(s.execute(select(MethodRow.id, MethodRow.name)).all())
    return [names[m] for m in layout]
