"""``void evaluate`` end to end on the toy dataset: the results contract, determinism,
resuming, and clear errors for predictions and ground truth that cannot be scored."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from evaluate.config import EvaluateConfig
from evaluate.results import COLUMNS, METHOD_COLUMNS, PARTS_DIR
from evaluate.runner import EvaluationError, score
from void import formats, video
from void.app import cli
from void.errors import ConfigError

METRIC_REGIONS = {
    "psnr": {"all", "removed", "affected", "keep"},
    "ssim": {"all", "removed", "affected", "keep"},
    "warp_error": {"all"},
    "cf_margin": {"all"},
    "cf_win": {"all"},
}


def _score(data, pred, out, **kw):
    kw.setdefault("workers", 1)
    kw.setdefault("progress", False)
    return score(EvaluateConfig(data=str(data), pred=str(pred), out=str(out), **kw))


@pytest.fixture(scope="module")
def scored(toy_dataset, toy_preds, tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "run"
    assert _score(toy_dataset, toy_preds, out) == 0
    return out


def test_results_table_follows_the_contract(scored):
    df = pd.read_parquet(scored / "results.parquet")
    assert list(df.columns) == list(COLUMNS)
    assert df["value"].dtype == np.float64 and df["higher_is_better"].dtype == bool
    assert len(df) == 3 * 2 * 11  # methods x samples x (4 psnr + 4 ssim + warp + cf_margin + cf_win)
    assert set(df["method"]) == {"identity", "oracle-hidden", "perfect"}
    assert set(df["family"]) == {"toy"}
    for metric, regions in METRIC_REGIONS.items():
        sub = df[df["metric"] == metric]
        assert set(sub["region"]) == regions
        assert sub["higher_is_better"].all() == (metric not in ("warp_error",))
    assert "lpips" not in set(df["metric"])
    csv = pd.read_csv(scored / "results.csv")
    assert list(csv.columns) == list(COLUMNS)
    np.testing.assert_allclose(csv["value"].to_numpy(), df["value"].to_numpy(), rtol=1e-12)


def test_counterfactual_score_separates_the_true_counterfactual_from_pixel_only(scored):
    df = pd.read_parquet(scored / "results.parquet")
    wins = df[df["metric"] == "cf_win"].groupby("method")["value"].mean()
    assert wins["perfect"] == 1.0  # rgb_removed itself (through h264)
    assert wins["oracle-hidden"] == 0.0  # the best pixel-only removal
    margins = df[df["metric"] == "cf_margin"].set_index(["method", "sample_id"])["value"]
    assert (margins["perfect"] > 0.3).all() and (margins["oracle-hidden"] < -0.3).all()
    psnr = df[(df["metric"] == "psnr") & (df["region"] == "affected")].groupby("method")["value"].mean()
    assert psnr["perfect"] > psnr["oracle-hidden"] > 0


def test_summary_and_methods_table(scored, toy_dataset):
    summary = json.loads((scored / "summary.json").read_text())
    assert set(summary) == {"metrics", "methods", "unavailable", "data", "pred", "created"}
    assert summary["data"] == str(toy_dataset)
    assert summary["metrics"]["warp_error"]["higher_is_better"] is False
    assert summary["metrics"]["psnr"]["regions"] == ["all", "removed", "affected", "keep"]
    assert "weights" in summary["unavailable"]["lpips"] or "checkpoint" in summary["unavailable"]["lpips"]
    perfect, ident = summary["methods"]["perfect"], summary["methods"]["identity"]
    assert perfect["n_samples"] == 2 and perfect["cf_win_rate"] == 1.0 and perfect["problems"] == []
    assert perfect["wall_time_s"] is None and perfect["seconds_per_frame"] is None  # no run.json
    assert ident["wall_time_s"] > 0 and ident["seconds_per_frame"] > 0 and ident["peak_memory_mb"] > 0
    df = pd.read_parquet(scored / "results.parquet")
    mean = df[(df["method"] == "identity") & (df["metric"] == "ssim") & (df["region"] == "keep")]["value"].mean()
    assert ident["means"]["ssim/keep"] == pytest.approx(mean)
    methods = pd.read_csv(scored / "methods.csv")
    assert list(methods.columns) == list(METHOD_COLUMNS)
    assert list(methods["method"]) == ["identity", "oracle-hidden", "perfect"]


def test_scoring_is_deterministic_across_workers(scored, toy_dataset, toy_preds, tmp_path):
    _score(toy_dataset, toy_preds, tmp_path / "pool", workers=2)
    a = pd.read_parquet(scored / "results.parquet")
    b = pd.read_parquet(tmp_path / "pool" / "results.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_resume_scores_only_what_is_missing_or_changed(toy_dataset, preds_copy, tmp_path, capsys):
    out = tmp_path / "run"
    _score(toy_dataset, preds_copy, out)
    first = pd.read_parquet(out / "results.parquet")
    parts = sorted((out / PARTS_DIR).rglob("*.json"))
    assert len(parts) == 6
    stamps = {p: p.stat().st_mtime_ns for p in parts}
    # an interrupted run: one score and the final tables never written
    lost = out / PARTS_DIR / "identity" / "toy_0001.json"
    lost.unlink()
    for name in ("results.parquet", "results.csv", "summary.json", "methods.csv"):
        (out / name).unlink()
    capsys.readouterr()
    _score(toy_dataset, preds_copy, out)
    assert "resuming: 5 of 6" in capsys.readouterr().err
    assert all(p.stat().st_mtime_ns == stamps[p] for p in parts if p != lost)
    pd.testing.assert_frame_equal(first, pd.read_parquet(out / "results.parquet"), check_exact=True)
    # a regenerated prediction is scored again, the rest is not
    src = formats.prediction_path(preds_copy, "identity", "toy_0000")
    video.write_video(formats.prediction_path(preds_copy, "perfect", "toy_0000"), video.read_video(src), 12.0)
    _score(toy_dataset, preds_copy, out)
    again = pd.read_parquet(out / "results.parquet")
    changed = again.set_index(["method", "sample_id", "metric", "region"])["value"] != first.set_index(
        ["method", "sample_id", "metric", "region"]
    )["value"]
    assert {k[:2] for k in changed[changed].index} == {("perfect", "toy_0000")}


def _break_predictions(pred):
    corrupt = formats.prediction_path(pred, "identity", "toy_0000")
    corrupt.write_bytes(os.urandom(200))
    frames = video.read_video(formats.prediction_path(pred, "perfect", "toy_0001"))
    video.write_video(formats.prediction_path(pred, "perfect", "toy_0001"), frames[:5], 12.0)
    small = video.read_video(formats.prediction_path(pred, "oracle-hidden", "toy_0001"))[:, ::2, ::2].copy()
    video.write_video(formats.prediction_path(pred, "oracle-hidden", "toy_0001"), small, 12.0)
    outside = pred / "outside-tool"
    outside.mkdir()
    video.write_video(outside / "toy_0000.mp4", frames, 12.0)  # toy_0001 never exported
    return {
        str(corrupt): "corrupt or unreadable",
        str(formats.prediction_path(pred, "perfect", "toy_0001")): "has 5 frames, the ground truth has 8",
        str(formats.prediction_path(pred, "oracle-hidden", "toy_0001")): "is 16x16, the ground truth is 32x32",
        str(outside / "toy_0001.mp4"): "missing",
    }


def test_bad_predictions_are_listed_and_fail_unless_allowed(toy_dataset, preds_copy, tmp_path, capsys):
    expected = _break_predictions(preds_copy)
    with pytest.raises(EvaluationError) as info:
        _score(toy_dataset, preds_copy, tmp_path / "r1")
    for path, what in expected.items():
        assert f"{path}: {what}" in str(info.value)
    assert not (tmp_path / "r1" / "results.parquet").exists()
    rc = cli.main(["evaluate", "--data", str(toy_dataset), "--pred", str(preds_copy), "--out", str(tmp_path / "r2"), "--no-progress", "--workers", "1"])
    assert rc == 2 and "--allow-missing" in capsys.readouterr().err

    assert _score(toy_dataset, preds_copy, tmp_path / "r3", allow_missing=True) == 0
    summary = json.loads((tmp_path / "r3" / "summary.json").read_text())
    assert summary["methods"]["identity"]["n_samples"] == 1
    assert summary["methods"]["outside-tool"]["n_samples"] == 1
    problems = [p for m in summary["methods"].values() for p in m["problems"]]
    assert len(problems) == 4 and all(any(p.startswith(path) for path in expected) for p in problems)

    # --resize brings the small prediction to the ground truth's size
    _score(toy_dataset, preds_copy, tmp_path / "r4", allow_missing=True, resize=True, methods=["oracle-hidden"])
    summary = json.loads((tmp_path / "r4" / "summary.json").read_text())
    assert summary["methods"]["oracle-hidden"]["n_samples"] == 2 and set(summary["methods"]) == {"oracle-hidden"}


def test_ground_truth_problems_name_the_file(toy_copy, toy_preds, tmp_path):
    mask_path = toy_copy / "toy_0000" / formats.MASK
    bad = np.repeat(np.where(video.read_mask(mask_path) == 0, 100, 255).astype(np.uint8)[..., None], 3, axis=3)
    video.write_video(mask_path, bad, 12.0)  # lossy, and a value that is no quadmask value
    with pytest.raises(formats.FormatError, match=rf"{mask_path}.*outside the quadmask"):
        _score(toy_copy, toy_preds, tmp_path / "r1", methods=["identity"])
    hidden = toy_copy / "toy_0001" / formats.LOSSLESS["hidden"]
    video.write_video(hidden, video.read_video(hidden)[:5], 12.0, codec="lossless")
    with pytest.raises(formats.FormatError, match=rf"{hidden}: has 5 frames of 32x32, but sample toy_0001 has 8 frames"):
        _score(toy_copy, toy_preds, tmp_path / "r2", methods=["identity"], samples=["toy_0001"])


def test_void_training_layout_without_hidden_or_metadata(toy_copy, toy_preds, tmp_path):
    """VOID's own training layout: manifest + rgb_full/rgb_removed/mask.mp4 only."""
    import shutil

    (toy_copy / formats.HEADER).unlink()
    for ref in formats.Dataset(toy_copy):
        shutil.rmtree(ref.root / formats.LOSSLESS_DIR)
        (ref.root / formats.RGB_HIDDEN).unlink()
        (ref.root / formats.METADATA).unlink()
    _score(toy_copy, toy_preds, tmp_path / "r", methods=["perfect"])
    df = pd.read_parquet(tmp_path / "r" / "results.parquet")
    assert set(df["family"]) == {"unknown"}
    assert df[df["metric"].str.startswith("cf_")]["value"].isna().all()
    assert df[df["metric"] == "psnr"]["value"].notna().all()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert "rgb_hidden" in summary["unavailable"]["cf_win"]
    assert summary["methods"]["perfect"]["cf_win_rate"] is None


def test_configuration_errors(toy_dataset, toy_preds, tmp_path):
    with pytest.raises(ConfigError, match="--out .* inside --pred"):
        EvaluateConfig(data=str(toy_dataset), pred=str(toy_preds), out=str(toy_preds / "results"))
    with pytest.raises(ConfigError, match="--ray-address needs --executor ray"):
        EvaluateConfig(data=str(toy_dataset), pred=str(toy_preds), out=str(tmp_path / "o"), ray_address="auto")
    with pytest.raises(EvaluationError, match="--methods: no method folder nope"):
        _score(toy_dataset, toy_preds, tmp_path / "r", methods=["nope"])
    with pytest.raises(EvaluationError, match="--samples: not in"):
        _score(toy_dataset, toy_preds, tmp_path / "r", samples=["toy_9999"])


@pytest.mark.ray
def test_ray_executor_gives_the_same_results(scored, toy_dataset, toy_preds, tmp_path):
    pytest.importorskip("ray")
    _score(toy_dataset, toy_preds, tmp_path / "ray", executor="ray", workers=2)
    a = pd.read_parquet(scored / "results.parquet")
    b = pd.read_parquet(tmp_path / "ray" / "results.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_folders_without_predictions_are_not_methods(toy_dataset, tmp_path):
    """An empty ``PRED/logs/`` (or a folder of notes) is not taken for a method."""
    pred = tmp_path / "pred"
    ref = formats.Dataset(toy_dataset).sample(formats.Dataset(toy_dataset).sample_ids()[0])
    video.write_video(formats.prediction_path(pred, "perfect", ref.sample_id), ref.load_video("removed"), 12.0)
    (pred / "logs").mkdir()
    (pred / "notes").mkdir()
    (pred / "notes" / "readme.txt").write_text("not a prediction")
    assert _score(toy_dataset, pred, tmp_path / "r", allow_missing=True) == 0
    methods = set(pd.read_parquet(tmp_path / "r" / "results.parquet").method)
    assert methods == {"perfect"}
