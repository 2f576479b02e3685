"""Group commit of votes: one writer thread stores every vote waiting in one transaction.

Why: SQLite has one writer at a time. With a transaction per vote, 50 participants voting
at once queue behind each other's BEGIN / check / INSERT / COMMIT, each several
milliseconds of Python under a shared GIL, and the last in line waited the sum
(``benchmarks/vote_store_latency.py``: p99 near a second with 50 at once on a 2-core
machine). Here a voter hands its vote to the writer and waits; the writer takes everything
queued, checks all tokens and trials with one query, inserts with ``ON CONFLICT DO
NOTHING`` (the unique constraint still decides double submissions) and commits once, so a
vote waits for at most the batch in progress and its own.

SQLite's WAL checkpoint (copying the log back into the database, with an fsync) used to run
inside whichever commit crossed 1000 log pages, a spike of tens to hundreds of ms on that
vote; the store turns automatic checkpoints off for its connections and this writer runs
one whenever no vote is waiting.

The rules are :meth:`Store.record_vote`'s, unchanged: unknown token, someone else's trial
(:class:`AccessDenied`), a choice that is not a position (:class:`InvalidVote`), a second
vote for a trial returns the first.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import select

MAX_BATCH = 256
CHECKPOINT_EVERY = 20  # batches between idle-time WAL checkpoints


@dataclass
class VoteRequest:
    token: str
    trial_id: int
    choice: int | None
    response_ms: int | None
    playback_ms: int | None
    future: Future = field(default_factory=Future)


class VoteBatcher:
    def __init__(self, store):
        self.store = store
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def submit(self, req: VoteRequest):
        if self._closed:
            raise RuntimeError("the vote writer is closed")
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="void-study-vote-writer", daemon=True)
                    self._thread.start()
        self._queue.put(req)
        return req.future.result()

    def close(self) -> None:
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _checkpoint(self) -> None:
        from sqlalchemy import text

        with self.store._write_lock, self.store.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))

    def _run(self) -> None:
        since_checkpoint = 0
        while True:
            if since_checkpoint >= CHECKPOINT_EVERY and self._queue.empty() and self.store.is_sqlite:
                try:
                    self._checkpoint()
                except Exception:  # a checkpoint can wait for the next idle moment
                    pass
                since_checkpoint = 0
            first = self._queue.get()
            if first is None:
                return
            since_checkpoint += 1
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(nxt)
            try:
                outcomes = write_batch(self.store, batch)
            except BaseException as exc:  # a database error fails the whole batch, loudly
                for req in batch:
                    req.future.set_exception(exc)
                continue
            for req, out in zip(batch, outcomes):
                if isinstance(out, BaseException):
                    req.future.set_exception(out)
                else:
                    req.future.set_result(out)


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def write_batch(store, batch: list[VoteRequest]) -> list:
    """Store a batch of votes in one transaction; one VoteResult or exception per request."""
    from evaluate.study.store import AccessDenied, InvalidVote, ParticipantRow, TrialRow, VoteResult, VoteRow, _now

    allow_tie = store.definition().allow_tie
    out: list = [None] * len(batch)
    with store.session(write=True) as s:
        ids = sorted({r.trial_id for r in batch})
        rows = {
            tid: (layout, pid, token) for tid, layout, pid, token in s.execute(
                select(TrialRow.id, TrialRow.layout, ParticipantRow.id, ParticipantRow.token)
                .join(ParticipantRow, ParticipantRow.id == TrialRow.participant_id).where(TrialRow.id.in_(ids))
            )
        }
        strangers = {r.token for r in batch if r.trial_id not in rows or rows[r.trial_id][2] != r.token}
        known = set(s.scalars(select(ParticipantRow.token).where(ParticipantRow.token.in_(strangers)))) if strangers else set()
        first: dict[int, int] = {}  # trial id -> index of the batch's first valid vote for it
        for k, r in enumerate(batch):
            row = rows.get(r.trial_id)
            if row is None or row[2] != r.token:
                out[k] = AccessDenied("unknown participant token" if r.token not in known
                                      else f"trial {r.trial_id} is not one of this participant's trials")
                continue
            layout = row[0]
            if r.choice is None:
                if not allow_tie:
                    out[k] = InvalidVote("this study does not offer 'both equally'")
                    continue
            elif isinstance(r.choice, bool) or not isinstance(r.choice, int) or not 0 <= r.choice < len(layout):
                out[k] = InvalidVote(f"choice {r.choice!r} is not a position of trial {r.trial_id} (0..{len(layout) - 1})")
                continue
            first.setdefault(r.trial_id, k)
        insert = _insert(store.engine.dialect.name)
        stored: dict[int, tuple[int, int | None, bool]] = {}  # trial -> (vote id, choice, created here)
        if first:
            # rows that meet the unique constraint are skipped and return nothing
            values = []
            for trial_id, k in first.items():
                r, (layout, pid, _) = batch[k], rows[trial_id]
                values.append(dict(
                    participant_id=pid, trial_id=trial_id, choice_position=r.choice,
                    choice_method_id=None if r.choice is None else layout[r.choice], created_at=_now(),
                    response_ms=None if r.response_ms is None else max(0, int(r.response_ms)),
                    playback_ms=None if r.playback_ms is None else max(0, int(r.playback_ms)),
                ))
            # Core on the table, the rows as executemany parameters: one cached compiled
            # statement (a VALUES list of N rows compiles anew per N, ~40 ms at 50 rows)
            table = VoteRow.__table__
            stmt = insert(table).on_conflict_do_nothing(index_elements=["participant_id", "trial_id"])
            conn = s.connection()
            for tid, vid in conn.execute(stmt.returning(table.c.trial_id, table.c.id), values):
                stored[tid] = (vid, batch[first[tid]].choice, True)
        missing = [t for t in first if t not in stored]
        if missing:
            for tid, vid, choice in s.execute(select(VoteRow.trial_id, VoteRow.id, VoteRow.choice_position).where(VoteRow.trial_id.in_(missing))):
                stored[tid] = (vid, choice, False)
    for k, r in enumerate(batch):
        if out[k] is None:
            vote_id, choice, created = stored[r.trial_id]
            out[k] = VoteResult(vote_id, created and first[r.trial_id] == k, choice)
    return out
