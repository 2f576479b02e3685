"""The vote store on SQLite and PostgreSQL: definition, participants, votes, access rules."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from evaluate.study import design
from evaluate.study.store import (
    AccessDenied, InvalidVote, ItemRow, MethodRow, ParticipantRow, SampleRow, StoreError, TrialRow, VideoRow, VoteRow,
    open_store,
)


def _answer_all(store, token, choice=0):
    while (state := store.participant(token)).trial is not None:
        store.record_vote(token, state.trial.trial_id, choice)


def test_init_stores_definition_methods_samples_videos(db_url, make_study, toy_dataset, predictions):
    store = make_study(db_url)
    study = store.definition()
    assert study.studied == ["oracle-removed", "oracle-hidden", "identity"]
    with store.session() as s:
        methods = {m.name: m for m in s.scalars(select(MethodRow))}
        assert methods["identity"].gold_role == "bad" and methods["oracle-removed"].gold_role == "good"
        assert {r.sample_id for r in s.scalars(select(SampleRow))} == {"toy_0000", "toy_0001"}
        videos = s.scalars(select(VideoRow)).all()
        kinds = [r.kind for r in s.scalars(select(ItemRow))]
    assert len(videos) == 2 * (1 + 3)  # per sample: the source and one result per method
    assert all(v.path.startswith(str(predictions.resolve())) or v.path.startswith(str(toy_dataset.resolve())) for v in videos)
    sources = [v.path for v in videos if v.method_id is None]
    assert all(p.endswith("rgb_full.mp4") for p in sources)  # the browser-playable h264, not the lossless mkv
    assert kinds.count("main") == 2 * 3 and kinds.count("gold") == 2


def test_init_is_idempotent_but_refuses_another_study(db_url, make_study, capsys):
    store = make_study(db_url)
    token = store.create_participant()
    make_study(db_url)  # the same config again: nothing changes, votes and people stay
    assert "already initialised" in capsys.readouterr().out
    with pytest.raises(StoreError, match="different definition"):
        make_study(db_url, trials_per_participant=2)
    with store.session() as s:
        assert s.scalar(select(func.count(ItemRow.id))) == 8
    assert store.participant(token) is not None


def test_participant_tokens_are_unguessable_and_external_ids_are_not_tokens(db_url, make_study):
    store = make_study(db_url)
    a = store.create_participant(external_id="worker-1", external_source="PROLIFIC_PID")
    b = store.create_participant(external_id="worker-2", external_source="PROLIFIC_PID")
    assert a != b and len(a) >= 43  # 256 bits from secrets.token_urlsafe
    assert store.participant("worker-1") is None  # a platform id is not a token
    with store.session() as s:
        assert s.scalar(select(func.count(ParticipantRow.id))) == 2


def test_trials_are_assigned_and_randomised_per_participant(db_url, make_study):
    store = make_study(db_url)
    study = store.definition()
    tokens = [store.create_participant() for _ in range(12)]
    with store.session() as s:
        trials = s.scalars(select(TrialRow)).all()
        items = {i.id: i for i in s.scalars(select(ItemRow))}
    per = {}
    for t in trials:
        per.setdefault(t.participant_id, []).append(t)
    for rows in per.values():
        kinds = [items[t.item_id].kind for t in rows]
        assert kinds.count("main") == study.trials_per_participant and kinds.count("gold") == study.gold_trials
        assert sorted(t.position for t in rows) == list(range(len(rows)))
        assert len({t.item_id for t in rows}) == len(rows)  # no comparison twice
        for t in rows:
            assert sorted(t.layout) == sorted(items[t.item_id].method_ids)
    # Balanced: 12 participants x 3 main trials over 6 comparisons = exactly 6 judgments each.
    counts = {}
    for t in trials:
        if items[t.item_id].kind == "main":
            counts[t.item_id] = counts.get(t.item_id, 0) + 1
    assert sorted(counts.values()) == [6] * 6
    # Screen order is randomised: the first listed method is not always on the left.
    lefts = [t.layout[0] == items[t.item_id].method_ids[0] for t in trials]
    assert 0 < sum(lefts) < len(lefts)
    with store.session() as s:
        seeds = dict(s.execute(select(ParticipantRow.token, ParticipantRow.seed)).all())
    assert all(seeds[t] == design.participant_seed(study.seed, t) for t in tokens)  # recorded, derived from the token


def test_one_vote_per_trial_and_resubmits_return_the_first(db_url, make_study, methods_of):
    store = make_study(db_url)
    token = store.create_participant()
    trial = store.participant(token).trial
    first = store.record_vote(token, trial.trial_id, 1, response_ms=1234)
    again = store.record_vote(token, trial.trial_id, 0)
    assert first.created and not again.created
    assert again.vote_id == first.vote_id and again.choice_position == 1
    with store.session() as s:
        votes = s.scalars(select(VoteRow)).all()
    assert len(votes) == 1 and votes[0].response_ms == 1234
    assert votes[0].choice_method_id is not None
    with store.session() as s:
        name = s.get(MethodRow, votes[0].choice_method_id).name
    assert name == methods_of(store, trial.trial_id)[1]
    assert store.participant(token).trial.trial_id != trial.trial_id  # moved on


def test_unique_constraint_holds_in_the_database_itself(db_url, make_study):
    from sqlalchemy.exc import IntegrityError

    store = make_study(db_url)
    token = store.create_participant()
    state = store.participant(token)
    store.record_vote(token, state.trial.trial_id, 0)
    with pytest.raises(IntegrityError):
        with store.session(write=True) as s:
            s.execute(text(
                "INSERT INTO vote (participant_id, trial_id, choice_position, choice_method_id, created_at) "
                "VALUES (:p, :t, 1, NULL, CURRENT_TIMESTAMP)"), {"p": state.id, "t": state.trial.trial_id})


def test_cannot_vote_for_someone_else_or_with_a_bad_choice(db_url, make_study):
    store = make_study(db_url)
    alice, bob = store.create_participant(), store.create_participant()
    bobs_trial = store.participant(bob).trial.trial_id
    with pytest.raises(AccessDenied, match="not one of this participant's trials"):
        store.record_vote(alice, bobs_trial, 0)
    with pytest.raises(AccessDenied, match="unknown participant"):
        store.record_vote("guessed-token", bobs_trial, 0)
    with pytest.raises(AccessDenied):
        store.record_vote("", bobs_trial, 0)
    with pytest.raises(InvalidVote):
        store.record_vote(bob, bobs_trial, 2)  # only positions 0 and 1 exist
    with pytest.raises(InvalidVote):
        store.record_vote(bob, bobs_trial, True)
    with store.session() as s:
        assert s.scalar(select(func.count(VoteRow.id))) == 0
    tie = store.record_vote(bob, bobs_trial, None)  # "both equally" is offered in this study
    assert tie.created and tie.choice_position is None


def test_best_of_n_refuses_ties(db_url, make_study):
    store = make_study(db_url, design="best-of-n", trials_per_participant=2)
    token = store.create_participant()
    with pytest.raises(InvalidVote, match="both equally"):
        store.record_vote(token, store.participant(token).trial.trial_id, None)


def test_finish_requires_every_answer_then_gives_only_the_code(db_url, make_study):
    store = make_study(db_url)
    token = store.create_participant()
    with pytest.raises(StoreError, match="answered 0 of 4"):
        store.finish(token)
    _answer_all(store, token, 0)
    code = store.finish(token)
    assert isinstance(code, str) and len(code) == 8 and code == store.finish(token)  # stable once issued
    assert store.participant(token).completed


def test_one_session_per_platform_id(db_url, make_study):
    store = make_study(db_url)
    first = store.create_participant(external_id="5f1e", external_source="PROLIFIC_PID",
                                     platform_study_id="S1", platform_session_id="sess-1")
    again = store.create_participant(external_id="5f1e", external_source="PROLIFIC_PID", platform_session_id="sess-2")
    other_param = store.create_participant(external_id="5f1e", external_source="workerId")
    assert again == first and other_param != first
    assert store.token_for_external("PROLIFIC_PID", "5f1e") == first
    assert store.token_for_external("PROLIFIC_PID", "nobody") is None and store.token_for_external(None, None) is None
    people = store.export_participants()
    assert len(people) == 2
    assert (people[0]["platform_study_id"], people[0]["platform_session_id"]) == ("S1", "sess-1")  # the first visit's


def test_fixed_completion_code_from_the_crowd_platform(db_url, make_study):
    store = make_study(db_url, completion={"code": "PROLIFIC1", "redirect_url": "https://example.org/done?cc={code}"})
    token = store.create_participant()
    _answer_all(store, token, 1)
    assert store.finish(token) == "PROLIFIC1"
    assert store.definition().completion_url == "https://example.org/done?cc={code}"


def test_exports_never_contain_tokens(db_url, make_study):
    store = make_study(db_url)
    token = store.create_participant(external_id="w1", external_source="workerId")
    _answer_all(store, token, 1)
    votes, people = store.export_votes(), store.export_participants()
    assert len(votes) == 4 and people[0]["external_id"] == "w1" and people[0]["votes"] == 4
    assert token not in repr(votes) + repr(people)
    gold = [v for v in votes if v["kind"] == "gold"]
    assert len(gold) == 1 and gold[0]["correct"] == (gold[0]["choice"] == "oracle-removed")
    assert all(v["created_at"].endswith("+00:00") for v in votes)


def test_store_without_study_says_how_to_make_one(db_url):
    with open_store(db_url) as store, pytest.raises(StoreError, match="void study init"):
        store.definition()
