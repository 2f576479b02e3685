"""Study config validation, the comparisons it implies, trial assignment, and the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluate.study import design
from evaluate.study.config import StudyAnalyzeConfig, StudyInitConfig, StudyServeConfig
from evaluate.study.manage import streamlit_command
from void import formats, video
from void.errors import ConfigError


def test_valid_config_resolves_methods_samples_and_defaults(write_study, predictions, toy_dataset):
    study = design.load(write_study())
    assert study.studied == ["oracle-removed", "oracle-hidden", "identity"]
    assert [s.sample_id for s in study.samples] == ["toy_0000", "toy_0001"]
    assert study.samples[0].source == str((toy_dataset / "toy_0000" / "rgb_full.mp4").resolve())
    assert study.samples[0].videos["identity"] == str((predictions / "identity" / "toy_0000.mp4").resolve())
    assert study.question.startswith("Which video removed the object more convincingly")
    assert study.allow_tie and study.candidates == 2
    assert set(study.roots) == {str(toy_dataset.resolve())} | {str((predictions / m).resolve()) for m in study.studied}
    assert design.StudyDefinition.from_json(study.to_json()) == study  # round-trips through the DB


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"methods": ["oracle-removed", "nope"]}, r"unknown method folder 'nope'.*methods under .*: blend, identity"),
        ({"methods": ["oracle-removed"]}, "at least 2 methods"),
        ({"design": "triplet"}, "unknown design 'triplet'; expected one of pairwise, best-of-n"),
        ({"samples": ["toy_0000", "toy_9999"]}, r"missing videos: toy_9999: not in"),
        ({"trials_per_participant": 50}, "exceeds the 6 distinct comparisons"),
        ({"trials_per_participant": 0}, r"trials_per_participant: must be in \[1"),
        ({"gold": {"bad": "identity", "trials": 1}}, "need both a known-bad"),
        ({"gold": {"bad": "identity", "good": "identity", "trials": 1}}, "cannot be both good and bad"),
        ({"gold": {"bad": "missing-method", "good": "oracle-removed"}}, "gold: unknown method folder 'missing-method'"),
        ({"design": "best-of-n", "allow_tie": True}, "only offered in the pairwise design"),
        ({"design": "best-of-n", "candidates": 5}, r"candidates: must be in \[2, 3\]"),
        ({"colour": "blue"}, "unknown keys colour"),
        ({"predictions": "/no/such/dir"}, "predictions: /no/such/dir: no such directory"),
        ({"completion": {"redirect_url": "javascript:alert(1)"}}, "expected an http"),
        ({"completion": {"redirect_url": "https://x.org/?cc={cc}"}}, "only the {code} placeholder"),
        ({"min_response_s": "soon"}, "min_response_s: expected a number"),
    ],
)
def test_bad_configs_fail_with_clear_errors(write_study, overrides, message):
    path = write_study(**overrides)
    with pytest.raises(ConfigError, match=message) as info:
        design.load(path)
    assert str(path) in str(info.value)  # the error names the file


def test_missing_prediction_for_an_explicit_sample_is_named(write_study, predictions, tmp_path):
    pred = tmp_path / "pred"
    shutil.copytree(predictions, pred)
    (pred / "oracle-hidden" / "toy_0001.mp4").unlink()
    with pytest.raises(ConfigError, match=r"toy_0001: no oracle-hidden/toy_0001.mp4"):
        design.load(write_study(predictions=str(pred), samples=["toy_0000", "toy_0001"]))
    # "all" keeps only the samples every method has
    study = design.load(write_study(predictions=str(pred), trials_per_participant=2))
    assert [s.sample_id for s in study.samples] == ["toy_0000"]


def test_void_inference_layout_as_inputs(void_samples, tmp_path, write_study):
    pred = tmp_path / "pred"
    for m in ("a", "b"):
        (pred / m).mkdir(parents=True)
        shutil.copy(void_samples / "BigBen" / "input_video.mp4", pred / m / "BigBen.mp4")
    study = design.load(write_study(predictions=str(pred), inputs=str(void_samples), methods=["a", "b"], gold=None,
                                    trials_per_participant=1))
    assert [s.sample_id for s in study.samples] == ["BigBen"]
    assert study.samples[0].source.endswith("BigBen/input_video.mp4")


def test_items_cover_every_comparison_and_gold_pairs(write_study):
    study = design.load(write_study(methods=["oracle-removed", "oracle-hidden", "identity", "blend"], trials_per_participant=4))
    items = design.build_items(study)
    main = [i for i in items if i.kind == "main"]
    assert len(main) == 2 * 6 and len({(i.sample_id, i.methods) for i in main}) == 12
    gold = [i for i in items if i.kind == "gold"]
    assert {i.methods for i in gold} == {("oracle-removed", "identity")} and all(i.good == ("oracle-removed",) for i in gold)
    bon = design.load(write_study(design="best-of-n", methods=["oracle-removed", "oracle-hidden", "identity", "blend"],
                                  candidates=3, trials_per_participant=4))
    bon_items = design.build_items(bon)
    assert len([i for i in bon_items if i.kind == "main"]) == 2 * 4  # C(4, 3) per sample
    # Gold trials in best-of-n show N videos too (indistinguishable by count); the filler
    # rotates per sample; any pick but the known-bad passes.
    bon_gold = [i for i in bon_items if i.kind == "gold"]
    assert [len(i.methods) for i in bon_gold] == [3, 3]
    assert {i.methods[1] for i in bon_gold} == {"oracle-hidden", "blend"}
    assert all("identity" in i.methods and "identity" not in i.good and len(i.good) == 2 for i in bon_gold)


def test_assignment_is_seeded_balanced_and_randomised():
    main, gold = list(range(1, 13)), [100, 101]
    methods = {i: [1, 2] for i in main + gold}
    plan = design.assign_trials(main, gold, methods, {}, 5, 1, seed=42)
    assert plan == design.assign_trials(main, gold, methods, {}, 5, 1, seed=42)  # reproducible
    assert plan != design.assign_trials(main, gold, methods, {}, 5, 1, seed=43)
    assert len(plan) == 6 and sum(i in gold for i, _ in plan) == 1
    # Least-judged comparisons first.
    counts = {i: (0 if i in (3, 7) else 5) for i in main}
    chosen = {i for i, _ in design.assign_trials(main, gold, methods, counts, 2, 0, seed=1)}
    assert chosen == {3, 7}
    # Left/right and gold position vary across seeds (both orders appear, about half each).
    lefts = [design.assign_trials(main, gold, methods, {}, 1, 0, seed=s)[0][1][0] for s in range(400)]
    assert 150 < lefts.count(1) < 250
    positions = {[i for i, _ in design.assign_trials(main, gold, methods, {}, 5, 1, seed=s)].index(
        next(g for g in gold if g in [i for i, _ in design.assign_trials(main, gold, methods, {}, 5, 1, seed=s)]))
        for s in range(60)}
    assert len(positions) > 3
    seeds = {design.participant_seed(0, f"token{i}") for i in range(1000)}
    assert len(seeds) == 1000 and max(seeds) < 2**63


def test_check_videos_warns_on_frame_mismatch_and_rejects_garbage(write_study, predictions, tmp_path, capsys, toy_dataset):
    from evaluate.study.manage import check_videos

    pred = tmp_path / "pred"
    shutil.copytree(predictions, pred)
    short = formats.Dataset(toy_dataset).sample("toy_0000").load_video("removed")[:5]
    video.write_video(pred / "oracle-removed" / "toy_0000.mp4", short, 12.0)
    study = design.load(write_study(predictions=str(pred)))
    meta, warnings = check_videos(study)
    assert meta["toy_0000"] == {"width": 32, "height": 32, "fps": 12.0, "num_frames": 8}
    assert any("oracle-removed/toy_0000.mp4: 5 frames, the source has 8" in w for w in warnings)
    (pred / "identity" / "toy_0001.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(ConfigError, match="identity/toy_0001.mp4: unreadable video"):
        check_videos(design.load(write_study(predictions=str(pred))))


def _void(*args: str, cwd) -> subprocess.CompletedProcess:
    # A subprocess, as a user runs it (and independent of how pytest set up sys.path).
    return subprocess.run([sys.executable, "-m", "void.app.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_init_analyze_and_serve_errors(write_study, tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    ok = _void("study", "init", "--config", str(write_study()), "--db", db, "--no-check-videos", cwd=tmp_path)
    assert ok.returncode == 0 and "created" in ok.stdout
    bad = _void("study", "init", "--config", str(write_study("bad.yaml", design="triplet")), "--db", db, cwd=tmp_path)
    assert bad.returncode == 2 and "unknown design" in bad.stderr and "Traceback" not in bad.stderr
    out = _void("study", "analyze", "--db", db, "--out", str(tmp_path / "out"), "--bootstrap", "0", cwd=tmp_path)
    assert out.returncode == 0 and (tmp_path / "out" / "preference.csv").is_file()
    empty = _void("study", "serve", "--db", f"sqlite:///{tmp_path / 'empty.db'}", cwd=tmp_path)
    assert empty.returncode == 2 and "void study init" in empty.stderr


def test_command_configs_validate_their_flags(tmp_path, write_study):
    with pytest.raises(ConfigError, match="--db"):
        StudyServeConfig(db="mysql://x/y")
    with pytest.raises(ConfigError, match="in-memory"):
        StudyServeConfig(db="sqlite://")
    with pytest.raises(ConfigError, match="--port"):
        StudyServeConfig(port=0)
    with pytest.raises(ConfigError, match="--config"):
        StudyInitConfig(config=str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="--bootstrap"):
        StudyAnalyzeConfig(bootstrap=50)
    with pytest.raises(ConfigError, match="--effect-win-rates"):
        StudyAnalyzeConfig(effect_win_rates=[0.5])
    assert StudyServeConfig(db="postgresql://u:p@127.0.0.1/db").port == 8501


def test_serve_command_is_headless_on_loopback_without_usage_stats():
    argv, env = streamlit_command("sqlite:////tmp/x.db", 8765)
    flags = dict(zip(argv[5::2], argv[6::2]))
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("evaluate/study/app.py")
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8765"
    assert flags["--server.headless"] == "true" and flags["--browser.gatherUsageStats"] == "false"
    assert env["VOID_STUDY_DB"] == "sqlite:////tmp/x.db"


def test_predictions_fixture_is_real_video(predictions):
    frames = video.read_video(predictions / "blend" / "toy_0000.mp4")
    assert frames.shape == (8, 32, 32, 3) and frames.dtype == np.uint8


def test_database_urls_pick_psycopg_and_absolute_sqlite_paths(tmp_path, monkeypatch):
    from evaluate.study.store import normalize_url

    assert normalize_url("postgresql://void:pw@127.0.0.1:5432/db") == "postgresql+psycopg://void:pw@127.0.0.1:5432/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.chdir(tmp_path)
    assert normalize_url("sqlite:///study.db") == f"sqlite:///{tmp_path.resolve() / 'study.db'}"


def test_platform_repeat_and_mask_settings(write_study):
    study = design.load(write_study(repeat={"share": 0.5, "raters": 3}, show_mask=False,
                                    platform_params={"study_id": "STUDY", "session_id": "SESSION"}))
    assert (study.repeat_share, study.repeat_raters, study.show_mask) == (0.5, 3, False)
    assert study.platform_params == {"study_id": "STUDY", "session_id": "SESSION"}
    assert all(s.mask and s.mask.endswith(".mp4") for s in study.samples)  # the quadmask of each sample
    default = design.load(write_study())
    assert (default.repeat_share, default.repeat_raters, default.show_mask) == (0.0, 0, True)
    with pytest.raises(ConfigError, match="repeat.raters"):
        design.load(write_study(repeat={"share": 0.5, "raters": 1}))
    with pytest.raises(ConfigError, match="platform_params"):
        design.load(write_study(platform_params={"worker": "X"}))


def test_prolific_example_config_parses(predictions, toy_dataset, tmp_path):
    """configs/study_prolific.yaml with the toy data in place of the quickstart's."""
    import yaml

    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "configs" / "study_prolific.yaml").read_text())
    raw.update(predictions=str(predictions), inputs=str(toy_dataset), methods=["oracle-removed", "oracle-hidden", "blend"],
               trials_per_participant=4, gold={**raw["gold"], "good": "oracle-removed"})
    study = design.parse(raw, base=tmp_path, source="study_prolific.yaml")
    assert study.completion_code == "C1VOIDQS"
    assert study.completion_url.format(code=study.completion_code).endswith("?cc=C1VOIDQS")
    assert study.external_id_params == ["PROLIFIC_PID"] and study.platform_params["session_id"] == "SESSION_ID"
    assert (study.repeat_share, study.repeat_raters, study.show_mask) == (0.25, 3, True)
