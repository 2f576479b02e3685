"""The participant flow and the admin page, driven through Streamlit's AppTest."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from evaluate.study.store import ParticipantRow, VoteRow

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from study_support import APP  # noqa: E402

METHODS = ("oracle-removed", "oracle-hidden", "identity")


def _app(monkeypatch, url: str, **params) -> AppTest:
    monkeypatch.setenv("VOID_STUDY_DB", url)
    at = AppTest.from_file(str(APP), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _count(store, column) -> int:
    with store.session() as s:
        return s.scalar(select(func.count(column)))


def _page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [b.label for b in at.button] + [t.value for t in at.subheader]
    return "\n".join(parts + [json.dumps(d) for d in _players(at)])


def _players(at: AppTest) -> list[dict]:
    """The data handed to the video player component (what the page's script receives)."""
    out = []

    def walk(node):
        if getattr(node, "type", None) == "bidi_component":
            out.append(json.loads(node.proto.json))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return out


def _consent(at: AppTest) -> AppTest:
    at.checkbox(key="agree").check().run()
    return at.button(key="consent").click().run()


def test_full_flow_consent_instructions_trials_code(monkeypatch, sqlite_url, make_study):
    store = make_study(sqlite_url, completion={"code": "CODE-1234"})
    at = _app(monkeypatch, sqlite_url, PROLIFIC_PID="prolific-abc")
    assert not at.exception
    assert at.button(key="consent").disabled  # cannot continue without ticking consent
    assert _count(store, ParticipantRow.id) == 0  # nobody is stored before consenting

    at = _consent(at)
    token = at.session_state["token"]
    assert dict(at.query_params) == {"token": token}  # the resume link carries the token only
    assert len(token) >= 40
    with store.session() as s:
        p = s.scalar(select(ParticipantRow))
    assert p.external_id == "prolific-abc" and p.external_source == "PROLIFIC_PID" and p.consented_at
    assert any("Instructions" in t.value for t in at.title)

    at = at.button(key="instructions").click().run()
    n_trials = store.participant(token).n_trials
    assert n_trials == 4  # 3 main + 1 gold
    for k in range(n_trials):
        assert any(f"Trial {k + 1} of {n_trials}" in (p.proto.text) for p in at.get("progress"))
        text = _page_text(at)
        assert not any(m in text for m in METHODS), "method names must stay hidden during the trials"
        players = _players(at)
        # the source, the source with the object outlined, two results: each under its own
        # random address for this session (identity's bytes equal the source's, its URL does not)
        assert len(players) == 1
        urls = [players[0]["source"], players[0]["marked"], *players[0]["candidates"]]
        assert len(set(urls)) == 4 and all(re.fullmatch(r"/(mock/)?media/[0-9a-f]+\.mp4", u) for u in urls)
        trial = store.participant(token).trial
        at = at.button(key=f"vote-{trial.trial_id}-0").click().run()
        assert not at.exception
        # committed before the next trial showed
        assert _count(store, VoteRow.id) == k + 1
        with store.session() as s:
            vote = s.scalar(select(VoteRow).where(VoteRow.trial_id == trial.trial_id))
        assert vote.choice_position == 0
        assert vote.response_ms is not None and vote.response_ms >= 0

    assert any("Thank you" in t.value for t in at.title)
    assert "CODE-1234" in _page_text(at)
    assert not at.table and not any(m in _page_text(at) for m in METHODS)  # the design stays hidden
    assert store.participant(token).completed


def test_resume_link_continues_where_it_stopped(monkeypatch, sqlite_url, make_study):
    store = make_study(sqlite_url)
    at = _consent(_app(monkeypatch, sqlite_url))
    token = at.session_state["token"]
    at = at.button(key="instructions").click().run()
    for _ in range(2):
        trial = store.participant(token).trial
        at = at.button(key=f"vote-{trial.trial_id}-1").click().run()

    # A new browser session opens the resume link.
    again = _app(monkeypatch, sqlite_url, token=token)
    assert not again.exception
    assert any("Trial 3 of 4" in (p.proto.text) for p in again.get("progress"))
    assert store.participant(token).trial.position == 2
    assert _count(store, ParticipantRow.id) == 1  # resuming did not create anyone


def test_double_submit_from_two_tabs_stores_one_vote(monkeypatch, sqlite_url, make_study, methods_of):
    store = make_study(sqlite_url)
    tab1 = _consent(_app(monkeypatch, sqlite_url))
    token = tab1.session_state["token"]
    tab1 = tab1.button(key="instructions").click().run()
    tab2 = _app(monkeypatch, sqlite_url, token=token)
    trial = store.participant(token).trial

    tab1.button(key=f"vote-{trial.trial_id}-0").click().run()
    tab2.button(key=f"vote-{trial.trial_id}-1").click().run()
    with store.session() as s:
        votes = s.scalars(select(VoteRow).where(VoteRow.trial_id == trial.trial_id)).all()
    assert len(votes) == 1 and votes[0].choice_position == 0  # the first answer stands
    assert any("already answered" in i.value for i in tab2.info)
    assert store.participant(token).n_done == 1


def test_answer_before_min_viewing_time_is_refused(monkeypatch, sqlite_url, make_study):
    store = make_study(sqlite_url, min_response_s=30)
    at = _consent(_app(monkeypatch, sqlite_url))
    at = at.button(key="instructions").click().run()
    trial = store.participant(at.session_state["token"]).trial
    at = at.button(key=f"vote-{trial.trial_id}-0").click().run()
    assert _count(store, VoteRow.id) == 0
    assert any("watch the videos" in w.value for w in at.warning)


def test_unknown_token_starts_over(monkeypatch, sqlite_url, make_study):
    make_study(sqlite_url)
    at = _app(monkeypatch, sqlite_url, token="not-a-real-token")
    assert any("not valid" in w.value for w in at.warning)
    assert at.checkbox(key="agree")  # back on the consent page


def test_best_of_n_shows_all_candidates_without_tie(monkeypatch, sqlite_url, make_study):
    store = make_study(sqlite_url, design="best-of-n", trials_per_participant=2, methods=list(METHODS) + ["blend"], candidates=3)
    at = _consent(_app(monkeypatch, sqlite_url))
    at = at.button(key="instructions").click().run()
    token = at.session_state["token"]
    for _ in range(store.participant(token).n_trials):  # gold trials look the same (3 videos)
        trial = store.participant(token).trial
        assert [b.label for b in at.button] == ["Video 1", "Video 2", "Video 3"]  # no "Both equally"
        assert len(_players(at)[0]["candidates"]) == 3
        at = at.button(key=f"vote-{trial.trial_id}-2").click().run()
    assert any("Thank you" in t.value for t in at.title)


def test_admin_page_refuses_without_or_with_wrong_token(monkeypatch, sqlite_url, make_study):
    store = make_study(sqlite_url)
    token = store.create_participant(external_id="secret-worker")
    store.mark(token, "consent")

    monkeypatch.delenv("VOID_STUDY_ADMIN_TOKEN", raising=False)
    at = _app(monkeypatch, sqlite_url, admin="1")
    assert any("disabled" in e.value for e in at.error)
    assert not at.get("download_button") and not at.dataframe

    monkeypatch.setenv("VOID_STUDY_ADMIN_TOKEN", "s3cret-admin-token")
    at = _app(monkeypatch, sqlite_url, admin="1")
    assert not at.get("metric") and not at.get("download_button")
    at = at.text_input(key="admin_token_input").input("wrong").run()
    assert any("Wrong admin token" in e.value for e in at.error)
    assert not at.get("metric") and not at.dataframe

    at = at.text_input(key="admin_token_input").input("s3cret-admin-token").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Participants"] == "1" and metrics["Consented"] == "1"
    assert len(at.get("download_button")) == 2
    table = at.dataframe[0].value
    assert list(table["external_id"]) == ["secret-worker"]
    assert "token" not in table.columns  # tokens are credentials: never on the admin page
    assert token not in table.to_csv()


def test_admin_flag_does_not_open_admin_for_participant_token(monkeypatch, sqlite_url, make_study):
    """A participant's own token is not an admin token."""
    store = make_study(sqlite_url)
    token = store.create_participant()
    monkeypatch.setenv("VOID_STUDY_ADMIN_TOKEN", "another-secret")
    at = _app(monkeypatch, sqlite_url, admin="1", token=token)
    at = at.text_input(key="admin_token_input").input(token).run()
    assert not at.get("metric")


def test_object_overlay_can_be_turned_off_and_votes_show_a_saved_cue(monkeypatch, sqlite_url, make_study):
    store = make_study(sqlite_url, show_mask=False)
    at = _consent(_app(monkeypatch, sqlite_url))
    at = at.button(key="instructions").click().run()
    assert _players(at)[0]["marked"] is None  # no outline, and no toggle in the page
    trial = store.participant(at.session_state["token"]).trial
    at = at.button(key=f"vote-{trial.trial_id}-0").click().run()
    assert any("Saved (1 of 4 answered)" in c.value for c in at.caption)


def test_repeated_platform_id_resumes_and_study_ids_are_kept(monkeypatch, sqlite_url, make_study):
    store = make_study(sqlite_url)
    at = _consent(_app(monkeypatch, sqlite_url, PROLIFIC_PID="p-1", STUDY_ID="s-1", SESSION_ID="x-1"))
    token = at.session_state["token"]
    again = _app(monkeypatch, sqlite_url, PROLIFIC_PID="p-1", SESSION_ID="x-2")  # a new browser
    assert again.session_state["token"] == token and dict(again.query_params) == {"token": token}
    assert any("Instructions" in t.value for t in again.title)  # consent was given already
    people = store.export_participants()
    assert len(people) == 1 and (people[0]["platform_study_id"], people[0]["platform_session_id"]) == ("s-1", "x-1")
