"""Schema migrations: empty -> head, models == head, and a first-revision study keeps its votes."""

from __future__ import annotations

import json

from sqlalchemy import inspect, text

from evaluate.study import design
from evaluate.study.store import Base, Store, open_store

HEAD = "0003"


def test_upgrade_from_empty_to_head_matches_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store(db_url)
    try:
        assert store.revision() is None
        store.upgrade()
        assert store.revision() == HEAD
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        store.upgrade()  # running again is a no-op
        assert store.revision() == HEAD
    finally:
        store.close()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url):
    with open_store(sqlite_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_study_created_at_first_revision_upgrades_without_losing_votes(db_url, write_study, methods_of):
    """A study running under revision 0001 (no response times) is upgraded by a newer tool."""
    study = design.load(write_study())
    old = Store(db_url)
    try:
        old.upgrade("0001")
        assert old.revision() == "0001"
        cols = {c["name"] for c in inspect(old.engine).get_columns("vote")}
        assert "response_ms" not in cols
        # Written with the first revision's columns only, as the old tool did.
        with old.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO study (id, name, design, definition, digest, created_at) "
                "VALUES (1, :n, :d, :j, :h, CURRENT_TIMESTAMP)"),
                {"n": study.name, "d": study.design, "j": json.dumps(study.to_json()), "h": study.digest()})
            conn.execute(text("INSERT INTO method (id, name, folder, studied, gold_role) VALUES "
                              "(1, 'oracle-removed', '/x', true, 'good'), (2, 'identity', '/y', true, 'bad')"))
            conn.execute(text("INSERT INTO sample (id, sample_id) VALUES (1, 'toy_0000')"))
            conn.execute(text("INSERT INTO video (id, sample_pk, method_id, path) VALUES "
                              "(1, 1, NULL, '/s.mp4'), (2, 1, 1, '/a.mp4'), (3, 1, 2, '/b.mp4')"))
            conn.execute(text("INSERT INTO item (id, sample_pk, kind, method_ids, good_ids) VALUES (1, 1, 'main', '[1, 2]', '[]')"))
            for p in (1, 2, 3):
                conn.execute(text(
                    "INSERT INTO participant (id, token, seed, created_at, consented_at) "
                    "VALUES (:p, :t, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"p": p, "t": f"token-{p}"})
                conn.execute(text("INSERT INTO trial (id, participant_id, position, item_id, layout) "
                                  "VALUES (:p, :p, 0, 1, '[2, 1]')"), {"p": p})
                conn.execute(text(
                    "INSERT INTO vote (participant_id, trial_id, choice_position, choice_method_id, created_at) "
                    "VALUES (:p, :p, 1, 1, CURRENT_TIMESTAMP)"), {"p": p})
    finally:
        old.close()

    with open_store(db_url) as new:  # what `init`, `serve`, `analyze` and the app do first
        assert new.revision() == HEAD
        votes = new.export_votes()
        assert len(votes) == 3
        assert all(v["choice"] == "oracle-removed" and v["shown"] == ["identity", "oracle-removed"] for v in votes)
        assert all(v["response_ms"] is None for v in votes)  # the new column, empty for old votes
        index_names = {ix["name"] for ix in inspect(new.engine).get_indexes("trial")}
        assert "ix_trial_item_id" in index_names
        assert methods_of(new, 1) == ["identity", "oracle-removed"]
        # ...and the study carries on: the old participant's resubmit still returns their vote.
        again = new.record_vote("token-1", 1, 0)
        assert not again.created and again.choice_position == 1


def test_downgrade_then_upgrade_round_trips(sqlite_url):
    from alembic import command

    from evaluate.study.store import _alembic_config

    store = open_store(sqlite_url)
    try:
        with store.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0001")
        assert store.revision() == "0001"
        store.upgrade()
        assert store.revision() == HEAD
    finally:
        store.close()
