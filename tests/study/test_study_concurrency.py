"""50 participants starting and voting at once against the store: no vote lost, none doubled."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

import pytest

from evaluate.study.store import ParticipantRow, Store, TrialRow, VoteRow

N_PARTICIPANTS = 50


@pytest.mark.parametrize("batch_votes", [None, False], ids=["default", "vote-per-transaction"])
def test_fifty_participants_vote_at_once(db_url, make_study, batch_votes):
    """Both write paths: group commit (SQLite's default) and a transaction per vote."""
    store = make_study(db_url)
    if batch_votes is not None:
        store = Store(store.url, batch_votes=batch_votes)
    start = threading.Barrier(N_PARTICIPANTS)

    def join(i: int) -> str:
        start.wait()
        token = store.create_participant(external_id=f"w{i}")
        store.mark(token, "consent")
        return token

    with ThreadPoolExecutor(N_PARTICIPANTS) as pool:
        tokens = list(pool.map(join, range(N_PARTICIPANTS)))
    assert len(set(tokens)) == N_PARTICIPANTS

    with store.session() as s:
        trials = {t: [] for t in tokens}
        owner = dict(s.execute(select(ParticipantRow.id, ParticipantRow.token)).all())
        for row in s.scalars(select(TrialRow).order_by(TrialRow.position)):
            trials[owner[row.participant_id]].append(row.id)

    # Every participant answers all their trials; every answer is sent twice at the same
    # moment by two submitters with different choices (a double click racing a resubmit).
    go = threading.Barrier(2 * N_PARTICIPANTS)
    results: dict[tuple[str, int], list] = {}
    lock = threading.Lock()

    def submit(token: str, choice: int) -> None:
        go.wait()
        for trial_id in trials[token]:
            r = store.record_vote(token, trial_id, choice, response_ms=10)
            with lock:
                results.setdefault((token, trial_id), []).append(r)

    with ThreadPoolExecutor(2 * N_PARTICIPANTS) as pool:
        futures = [pool.submit(submit, t, c) for t in tokens for c in (0, 1)]
        for f in futures:
            f.result()

    expected = sum(len(v) for v in trials.values())
    assert expected == N_PARTICIPANTS * 4
    with store.session() as s:
        votes = s.scalars(select(VoteRow)).all()
        distinct = s.scalar(select(func.count(func.distinct(VoteRow.trial_id))))
    assert len(votes) == expected and distinct == expected  # none lost, none doubled
    by_trial = {v.trial_id: v for v in votes}
    for (token, trial_id), pair in results.items():
        assert len(pair) == 2
        assert sum(r.created for r in pair) == 1  # exactly one submission stored a row
        assert pair[0].vote_id == pair[1].vote_id == by_trial[trial_id].id
        assert {r.choice_position for r in pair} == {by_trial[trial_id].choice_position}
    assert all(store.participant(t).trial is None for t in tokens)
    if batch_votes is not None:
        store.close()
