"""The vote store: SQLAlchemy 2 models and the operations the app, the CLI and the analysis use.

SQLite (WAL, busy timeout) by default, PostgreSQL by URL. The schema belongs to the Alembic
migrations shipped in ``migrations/``; :meth:`Store.upgrade` runs them, so a study that is
already collecting votes survives an upgrade of the tool. The models below mirror the head
revision (a test compares them).

Security rules kept here rather than in the app, so every caller gets them:

* a participant is the holder of an unguessable server-issued token
  (:func:`secrets.token_urlsafe`); a crowd platform's id (``PROLIFIC_PID``) is stored beside
  it and, unique per parameter, resumes that id's one session: a platform id is as good as a
  token, which is how crowd platforms work (their ids are not public);
* a vote names a trial id and must come with the token of the participant that trial was
  assigned to; a second vote for the same trial (double click, resubmit, a second tab)
  stores nothing and returns the first (a unique constraint backs this under concurrency);
* videos are addressed by id; :mod:`media` turns an id into bytes only inside the study's
  folders.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event, func, insert, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from evaluate.study import design
from evaluate.study.schema import Base, ItemRow, MethodRow, ParticipantRow, SampleRow, StudyRow, TrialRow, VideoRow, VoteRow  # noqa: F401 (re-exported: callers import the rows from here)
from void.errors import VoidError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
TOKEN_BYTES = 32  # 43 url-safe characters, 256 bits


class StoreError(VoidError):
    """A problem with the study database; the message names it."""


class AccessDenied(StoreError, PermissionError):
    """A token that is unknown, or a trial that belongs to someone else."""


class InvalidVote(StoreError, ValueError):
    """A choice that is not one of the trial's options."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime | None) -> str | None:
    """ISO time in UTC; SQLite hands timestamps back without their zone."""
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).isoformat()


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class TrialView:
    """What the app shows: ids only, no method names (the participant is blinded)."""

    trial_id: int
    position: int  # 0-based
    total: int
    source_video: int
    candidate_videos: tuple[int, ...]  # screen order, left to right
    allow_tie: bool
    marked_source: bool = False  # the object to remove is outlined on the source (quadmask shown)
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ParticipantState:
    id: int
    consented: bool
    instructed: bool
    completed: bool
    completion_code: str | None
    n_trials: int
    n_done: int
    trial: TrialView | None  # the next unanswered trial, None when all are answered


@dataclass(frozen=True)
class VoteResult:
    vote_id: int
    created: bool  # False: the trial had a vote already, which is returned unchanged
    choice_position: int | None


# --------------------------------------------------------------------------- engine


def normalize_url(url: str) -> str:
    """Pick the installed PostgreSQL driver and make SQLite paths absolute.

    ``postgresql://`` alone means psycopg2 to SQLAlchemy, which the study extra does not
    install; an absolute SQLite path lets ``serve`` hand the URL to another process.
    """
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    if u.drivername.startswith("sqlite") and u.database and u.database != ":memory:":
        u = u.set(database=str(Path(u.database).expanduser().resolve()))
    return u.render_as_string(hide_password=False)


def _sqlite_events(engine: Engine, journal_mode: str, auto_checkpoint: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own implicit BEGIN
        # is deferred, and a deferred reader that later writes fails with SQLITE_BUSY
        # without waiting: the upgrade-deadlock case the busy timeout cannot help).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA journal_mode = {journal_mode}")
        cur.execute("PRAGMA synchronous = NORMAL" if journal_mode.lower() == "wal" else "PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        if not auto_checkpoint:
            cur.execute("PRAGMA wal_autocheckpoint = 0")  # the vote writer checkpoints when idle
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock up front, so they queue on the busy timeout instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("void_write") else "BEGIN")


class Store:
    """One study database. Thread-safe: every operation opens its own short transaction."""

    def __init__(self, url: str, *, journal_mode: str = "wal", pool_size: int | None = None, batch_votes: bool | None = None):
        if journal_mode.lower() not in ("wal", "delete"):
            raise StoreError(f"journal_mode must be 'wal' or 'delete', got {journal_mode!r}")
        self.url = normalize_url(url)
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if pool_size:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        self.engine = create_engine(self.url, **kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        batch = self.is_sqlite if batch_votes is None else batch_votes
        if self.is_sqlite:
            _sqlite_events(self.engine, journal_mode, auto_checkpoint=not (batch and journal_mode.lower() == "wal"))
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(void_write=True), expire_on_commit=False)
        self._cache: dict[str, Any] = {}
        # SQLite has one writer at a time; its busy handler retries with sleeps of up to
        # 100 ms, so under 50 concurrent voters unlucky threads starved for seconds
        # (benchmarks/vote_store_latency.py: p99 11 s). Queueing this process's writers on
        # a lock keeps waits short; the busy timeout still covers other processes. (Reentrant
        # so a nested write fails on SQLite's own timeout instead of hanging forever.)
        self._write_lock = threading.RLock() if self.is_sqlite else contextlib.nullcontext()
        # ...and even queued, a transaction per vote left the 50th voter waiting for 49
        # commits (p99 ~0.5-1 s): on SQLite votes are group-committed (evaluate/study/batch.py).
        from evaluate.study.batch import VoteBatcher

        self._batcher = VoteBatcher(self) if batch else None

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        if not write:
            with self._read() as s, s.begin():
                yield s
            return
        with self._write_lock, self._write() as s, s.begin():
            yield s

    # ------------------------------------------------------------------ schema

    def upgrade(self, revision: str = "head") -> None:
        """Create or upgrade the schema by running the shipped Alembic migrations."""
        from alembic import command

        with self.engine.execution_options(void_write=True).begin() as conn:
            command.upgrade(_alembic_config(conn), revision)

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    # ------------------------------------------------------------------ study definition

    def create_study(self, study: design.StudyDefinition, video_meta: dict[str, dict[str, Any]]) -> bool:
        """Store the study, its methods, samples, videos and comparisons. Returns False when
        the database already holds this very definition (init is idempotent)."""
        with self.session(write=True) as s:
            existing = s.scalar(select(StudyRow))
            if existing is not None:
                if existing.digest == study.digest():
                    return False
                raise StoreError(
                    f"{self.engine.url.render_as_string()}: already holds study {existing.name!r} with a "
                    "different definition; votes are never overwritten, so use a new database"
                )
            s.add(StudyRow(name=study.name, design=study.design, definition=study.to_json(), digest=study.digest(), created_at=_now()))
            methods = {m.name: MethodRow(name=m.name, folder=m.folder, studied=m.studied, gold_role=m.gold_role) for m in study.methods}
            samples = {x.sample_id: SampleRow(sample_id=x.sample_id, **video_meta.get(x.sample_id, {})) for x in study.samples}
            s.add_all([*methods.values(), *samples.values()])
            s.flush()
            for x in study.samples:
                s.add(VideoRow(sample_pk=samples[x.sample_id].id, method_id=None, path=x.source))
                for name, path in x.videos.items():
                    s.add(VideoRow(sample_pk=samples[x.sample_id].id, method_id=methods[name].id, path=path))
            for it in design.build_items(study):
                s.add(ItemRow(
                    sample_pk=samples[it.sample_id].id, kind=it.kind,
                    method_ids=[methods[m].id for m in it.methods], good_ids=[methods[m].id for m in it.good],
                ))
        return True

    def definition(self) -> design.StudyDefinition:
        if "definition" not in self._cache:
            with self.session() as s:
                row = s.scalar(select(StudyRow))
            if row is None:
                raise StoreError(f"{self.engine.url.render_as_string()}: no study here; create one with `void study init`")
            self._cache["definition"] = design.StudyDefinition.from_json(row.definition)
        return self._cache["definition"]

    def _layout_cache(self) -> dict[str, Any]:
        """Immutable after init: items, videos by (method, sample), method names."""
        if "items" not in self._cache:
            with self.session() as s:
                items = {r.id: r for r in s.scalars(select(ItemRow))}
                videos = {(v.method_id, v.sample_pk): v.id for v in s.scalars(select(VideoRow))}
                names = {m.id: m.name for m in s.scalars(select(MethodRow))}
                samples = {r.id: (r.sample_id, r.width, r.height) for r in s.scalars(select(SampleRow))}
            study = self.definition()
            masked = {x.sample_id for x in study.samples if x.mask} if study.show_mask else set()
            self._cache.update(items=items, videos=videos, names=names, samples=samples, masked=masked)
        return self._cache

    def mask_path(self, video_id: int) -> str | None:
        """The quadmask of the sample a *source* video belongs to (None for a method's result
        or a sample without one)."""
        with self.session() as s:
            row = s.get(VideoRow, int(video_id))
            sample = None if row is None or row.method_id is not None else s.get(SampleRow, row.sample_pk)
        if sample is None:
            return None
        spec = next((x for x in self.definition().samples if x.sample_id == sample.sample_id), None)
        return None if spec is None else spec.mask

    def video_path(self, video_id: int) -> str | None:
        with self.session() as s:
            row = s.get(VideoRow, int(video_id))
            return None if row is None else row.path

    # ------------------------------------------------------------------ participants

    def create_participant(
        self, external_id: str | None = None, external_source: str | None = None,
        platform_study_id: str | None = None, platform_session_id: str | None = None,
    ) -> str:
        """Issue a token and assign the participant's trials; returns the token.

        A platform id (``external_source`` = the query parameter, ``external_id`` its value)
        that already has a session gets that session's token back: one session per id.
        """
        study = self.definition()
        items = self._layout_cache()["items"]
        token = secrets.token_urlsafe(TOKEN_BYTES)
        seed = design.participant_seed(study.seed, token)
        key = external_key(external_source, external_id)
        try:
            return self._create_participant(study, items, token, seed, key, external_id, external_source,
                                            platform_study_id, platform_session_id)
        except IntegrityError:  # another request registered the same platform id first
            existing = self.token_for_external(external_source, external_id)
            if existing is None:
                raise
            return existing

    def token_for_external(self, external_source: str | None, external_id: str | None) -> str | None:
        """The token of the session a platform id already has, or None."""
        key = external_key(external_source, external_id)
        if key is None:
            return None
        with self.session() as s:
            return s.scalar(select(ParticipantRow.token).where(ParticipantRow.external_key == key))

    def _create_participant(self, study, items, token, seed, key, external_id, external_source, study_id, session_id) -> str:
        with self.session(write=True) as s:
            if key is not None:
                existing = s.scalar(select(ParticipantRow.token).where(ParticipantRow.external_key == key))
                if existing is not None:
                    return existing
            counts = dict(s.execute(select(TrialRow.item_id, func.count()).group_by(TrialRow.item_id)).all())
            plan = design.assign_trials(
                [i for i, r in items.items() if r.kind == "main"],
                [i for i, r in items.items() if r.kind == "gold"],
                {i: r.method_ids for i, r in items.items()},
                counts, study.trials_per_participant, study.gold_trials, seed, study.repeat_share, study.repeat_raters,
            )
            p = ParticipantRow(
                token=token, seed=seed, created_at=_now(), external_key=key,
                external_id=None if external_id is None else str(external_id)[:200],
                external_source=None if external_source is None else str(external_source)[:50],
                platform_study_id=None if study_id is None else str(study_id)[:200],
                platform_session_id=None if session_id is None else str(session_id)[:200],
            )
            s.add(p)
            s.flush()
            s.add_all(TrialRow(participant_id=p.id, position=k, item_id=item, layout=layout) for k, (item, layout) in enumerate(plan))
        return token

    def _participant(self, s: Session, token: str) -> ParticipantRow:
        if not isinstance(token, str) or not token:
            raise AccessDenied("no participant token")
        p = s.scalar(select(ParticipantRow).where(ParticipantRow.token == token))
        if p is None:
            raise AccessDenied("unknown participant token")
        return p

    def participant(self, token: str) -> ParticipantState | None:
        """The participant's progress and next trial; None for an unknown token."""
        cache = self._layout_cache()
        allow_tie = self.definition().allow_tie
        with self.session() as s:
            try:
                p = self._participant(s, token)
            except AccessDenied:
                return None
            trials = s.execute(
                select(TrialRow.id, TrialRow.position, TrialRow.item_id, TrialRow.layout, VoteRow.id)
                .outerjoin(VoteRow, VoteRow.trial_id == TrialRow.id)
                .where(TrialRow.participant_id == p.id).order_by(TrialRow.position)
            ).all()
        n_done = sum(vote_id is not None for *_, vote_id in trials)
        nxt = next((t for t in trials if t[4] is None), None)
        view = None
        if nxt is not None:
            sample_pk = cache["items"][nxt.item_id].sample_pk
            sample_id, width, height = cache["samples"][sample_pk]
            view = TrialView(
                trial_id=nxt[0], position=nxt.position, total=len(trials),
                source_video=cache["videos"][(None, sample_pk)],
                candidate_videos=tuple(cache["videos"][(m, sample_pk)] for m in nxt.layout),
                allow_tie=allow_tie, marked_source=sample_id in cache["masked"], width=width, height=height,
            )
        return ParticipantState(
            id=p.id, consented=p.consented_at is not None, instructed=p.instructed_at is not None,
            completed=p.completed_at is not None, completion_code=p.completion_code,
            n_trials=len(trials), n_done=n_done, trial=view,
        )

    def mark(self, token: str, step: str) -> None:
        """Record that the participant passed ``consent`` or ``instructions`` (first time only)."""
        column = {"consent": ParticipantRow.consented_at, "instructions": ParticipantRow.instructed_at}[step]
        with self.session(write=True) as s:
            p = self._participant(s, token)
            s.execute(update(ParticipantRow).where(ParticipantRow.id == p.id, column.is_(None)).values({column: _now()}))

    # ------------------------------------------------------------------ votes

    def record_vote(
        self, token: str, trial_id: int, choice: int | None, response_ms: int | None = None, playback_ms: int | None = None,
    ) -> VoteResult:
        """Store the participant's answer to one of their trials, exactly once.

        ``choice`` is the screen position picked (0 = left), ``None`` for "both equally".
        A repeated vote for the same trial stores nothing and returns the first one: the
        insert meets the unique constraint, whoever got there first (another tab, a
        concurrent request) wins.
        """
        allow_tie = self.definition().allow_tie  # read before the write transaction opens
        if not isinstance(token, str) or not token:
            raise AccessDenied("no participant token")
        if isinstance(trial_id, bool) or not isinstance(trial_id, int):
            raise AccessDenied(f"invalid trial id {trial_id!r}")
        if self._batcher is not None:
            from evaluate.study.batch import VoteRequest

            return self._batcher.submit(VoteRequest(token, trial_id, choice, response_ms, playback_ms))
        try:
            with self.session(write=True) as s:
                # One query checks the token and that the trial is this participant's.
                row = s.execute(
                    select(TrialRow.layout, ParticipantRow.id).join(ParticipantRow, ParticipantRow.id == TrialRow.participant_id)
                    .where(TrialRow.id == trial_id, ParticipantRow.token == token)
                ).first()
                if row is None:
                    self._participant(s, token)  # raises "unknown participant token" when that is the cause
                    raise AccessDenied(f"trial {trial_id} is not one of this participant's trials")
                layout, participant_id = row
                if choice is None:
                    if not allow_tie:
                        raise InvalidVote("this study does not offer 'both equally'")
                elif isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < len(layout):
                    raise InvalidVote(f"choice {choice!r} is not a position of trial {trial_id} (0..{len(layout) - 1})")
                inserted = s.execute(insert(VoteRow).values(
                    participant_id=participant_id, trial_id=trial_id, choice_position=choice,
                    choice_method_id=None if choice is None else layout[choice],
                    created_at=_now(), response_ms=None if response_ms is None else max(0, int(response_ms)),
                    playback_ms=None if playback_ms is None else max(0, int(playback_ms)),
                ))
                return VoteResult(int(inserted.inserted_primary_key[0]), True, choice)
        except IntegrityError:
            with self.session() as s:
                existing = s.scalar(select(VoteRow).where(VoteRow.trial_id == trial_id))
            if existing is None:
                raise
            return VoteResult(existing.id, False, existing.choice_position)

    def finish(self, token: str) -> str:
        """Mark a participant complete once every trial is answered; return the completion
        code. Nothing about the methods is returned: what a participant learns at the end
        reaches the next one."""
        study = self.definition()
        with self.session(write=True) as s:
            p = self._participant(s, token)
            n_trials = s.scalar(select(func.count()).select_from(TrialRow).where(TrialRow.participant_id == p.id))
            n_votes = s.scalar(select(func.count()).select_from(VoteRow).where(VoteRow.participant_id == p.id))
            if n_votes < n_trials:
                raise StoreError(f"participant has answered {n_votes} of {n_trials} trials")
            if p.completed_at is None:
                code = study.completion_code or secrets.token_hex(4).upper()
                s.execute(
                    update(ParticipantRow).where(ParticipantRow.id == p.id, ParticipantRow.completed_at.is_(None))
                    .values(completed_at=_now(), completion_code=code)
                )
            return s.scalar(select(ParticipantRow.completion_code).where(ParticipantRow.id == p.id))

    # ------------------------------------------------------------------ exports

    def export_votes(self) -> list[dict[str, Any]]:
        """One row per vote with everything the analysis needs; tokens are never exported."""
        cache = self._layout_cache()
        names = cache["names"]
        with self.session() as s:
            sample_rows = {r.id: r for r in s.scalars(select(SampleRow))}
            rows = s.execute(
                select(VoteRow, TrialRow, ParticipantRow.external_id, ParticipantRow.completed_at)
                .join(TrialRow, TrialRow.id == VoteRow.trial_id)
                .join(ParticipantRow, ParticipantRow.id == VoteRow.participant_id)
                .order_by(VoteRow.id)
            ).all()
        out = []
        for vote, trial, external_id, completed_at in rows:
            item = cache["items"][trial.item_id]
            chosen = None if vote.choice_method_id is None else names[vote.choice_method_id]
            good = [names[m] for m in item.good_ids]
            out.append({
                "vote_id": vote.id, "participant": vote.participant_id, "external_id": external_id,
                "completed": completed_at is not None, "trial_id": trial.id, "position": trial.position,
                "item_id": trial.item_id, "kind": item.kind, "sample_id": sample_rows[item.sample_pk].sample_id,
                "shown": [names[m] for m in trial.layout], "choice": chosen, "choice_position": vote.choice_position,
                "tie": vote.choice_method_id is None, "correct": (chosen in good) if item.kind == "gold" else None,
                "response_ms": vote.response_ms, "playback_ms": vote.playback_ms,
                "clip_ms": _clip_ms(sample_rows[item.sample_pk]), "created_at": _iso(vote.created_at),
            })
        return out

    def export_participants(self) -> list[dict[str, Any]]:
        with self.session() as s:
            n_votes = dict(s.execute(select(VoteRow.participant_id, func.count()).group_by(VoteRow.participant_id)).all())
            n_trials = dict(s.execute(select(TrialRow.participant_id, func.count()).group_by(TrialRow.participant_id)).all())
            rows = s.scalars(select(ParticipantRow).order_by(ParticipantRow.id)).all()
        return [{
            "participant": p.id, "external_source": p.external_source, "external_id": p.external_id,
            "platform_study_id": p.platform_study_id, "platform_session_id": p.platform_session_id,
            "created_at": _iso(p.created_at), "consented_at": _iso(p.consented_at), "completed_at": _iso(p.completed_at),
            "completion_code": p.completion_code, "trials": n_trials.get(p.id, 0), "votes": n_votes.get(p.id, 0),
        } for p in rows]


def external_key(source: str | None, external_id: str | None) -> str | None:
    """The unique key of a platform id: ``"<param>:<id>"`` (None without both)."""
    if not source or external_id is None or not str(external_id):
        return None
    return f"{str(source)[:50]}:{str(external_id)[:200]}"


def _clip_ms(sample: SampleRow) -> int | None:
    if not sample.num_frames or not sample.fps:
        return None
    return round(1000 * sample.num_frames / sample.fps)


# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"); a leading apostrophe makes it text and shows nothing extra.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """A cell that is safe to open in a spreadsheet: text that could run as a formula gets
    a leading ``'``; numbers, booleans and empty cells pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text (lists joined with ';'), formula cells neutralised: every CSV the
    study writes (admin downloads, analysis exports) goes through here."""
    import csv
    import io

    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralize(";".join(map(str, v)) if isinstance(v, list) else v) for k, v in row.items()})
    return buf.getvalue()


def _alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def open_store(url: str, *, upgrade: bool = True, **kwargs) -> Store:
    """A store on ``url`` with its schema at the head revision (unless ``upgrade=False``)."""
    store = Store(url, **kwargs)
    if upgrade:
        store.upgrade()
    return store
