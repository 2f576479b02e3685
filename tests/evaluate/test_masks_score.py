"""`void evaluate --task masks` on the toy dataset: baselines, the results contract, refusals."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from evaluate import results
from evaluate.config import EvaluateConfig
from evaluate.masks.config import MaskBaselineConfig
from evaluate.masks.run import run_mask_baseline
from evaluate.masks.score import MaskScoringError, score_masks
from void import formats, video
from void.app.cli import main


def _baselines(data, pred, *names):
    for name in names:
        run_mask_baseline(MaskBaselineConfig(name=name, input=str(data), out=str(pred), progress=False))


def _score(data, pred, out, **kw):
    return score_masks(EvaluateConfig(data=str(data), pred=str(pred), out=str(out), task="masks", workers=1, progress=False, **kw))


@pytest.fixture(scope="module")
def scored(toy_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("masks")
    _baselines(toy_dataset, root / "pred", "oracle", "object-only", "dilated")
    _score(toy_dataset, root / "pred", root / "res")
    return root


def test_truth_scores_one_and_object_only_zero(scored):
    df = (__import__("pandas")).read_parquet(scored / "res" / results.RESULTS_PARQUET)
    assert list(df.columns) == list(results.COLUMNS)
    assert set(df["family"]) == {"toy"}
    oracle = df[df["method"] == "oracle"].dropna(subset=["value"])
    assert (oracle["value"] == 1.0).all()
    assert set(oracle["metric"]) >= {"iou", "recall", "precision", "boundary_f", "stability"}
    only = df[(df["method"] == "object-only") & (df["metric"] == "recall")]
    assert len(only) == 2 and (only["value"] == 0.0).all()


def test_summary_has_bootstrap_intervals_per_method_and_family(scored):
    summary = json.loads((scored / "res" / results.SUMMARY_JSON).read_text())
    assert summary["task"] == "masks"
    dil = summary["methods"]["dilated"]
    iv = dil["intervals"]["iou/affected"]
    assert iv["n"] == 2 and iv["ci_low"] <= iv["mean"] <= iv["ci_high"]
    assert 0.0 < iv["mean"] < 1.0
    assert dil["families"]["toy"]["iou/affected"]["mean"] == pytest.approx(iv["mean"])
    assert summary["methods"]["oracle"]["intervals"]["iou/changed"] == {"mean": 1.0, "ci_low": 1.0, "ci_high": 1.0, "n": 2}
    assert summary["methods"]["dilated"]["wall_time_s"] is not None  # from run.json


def test_rerun_reuses_finished_parts(scored, toy_dataset, capsys):
    part = results.part_path(scored / "res", "oracle", "toy_0000")
    before = part.stat().st_mtime_ns
    _score(toy_dataset, scored / "pred", scored / "res")
    assert "resuming: 6" in capsys.readouterr().err
    assert part.stat().st_mtime_ns == before


def _bad_predictions(data, pred):
    """Three methods, each wrong in one way on toy_0000 (and right on toy_0001)."""
    truth = formats.Dataset(data).sample("toy_0000").load_mask()
    _baselines(data, pred, "oracle")
    for method in ("values", "frames", "size"):
        (pred / method).mkdir(parents=True)
        for sid in ("toy_0000", "toy_0001"):
            src = formats.prediction_path(pred, "oracle", sid)
            formats.prediction_path(pred, method, sid).write_bytes(src.read_bytes())
    bad = truth.copy()
    bad[bad == 127] = 100
    video.write_video(formats.prediction_path(pred, "values", "toy_0000"), np.repeat(bad[..., None], 3, -1), 12.0)
    video.write_mask(formats.prediction_path(pred, "frames", "toy_0000"), truth[:7], 12.0)
    video.write_mask(formats.prediction_path(pred, "size", "toy_0000"), truth[:, :16, :16], 12.0)


def test_wrong_values_sizes_and_frame_counts_are_refused_naming_the_file(toy_dataset, tmp_path):
    pred = tmp_path / "pred"
    _bad_predictions(toy_dataset, pred)
    with pytest.raises(MaskScoringError) as err:
        _score(toy_dataset, pred, tmp_path / "res")
    msg = str(err.value)
    assert f"{pred / 'values' / 'toy_0000.mp4'}: values other than the quadmask's four" in msg
    assert f"{pred / 'frames' / 'toy_0000.mp4'}: has 7 frames, the clip has 8" in msg
    assert f"{pred / 'size' / 'toy_0000.mp4'}: is 16x16, the clip is 32x32" in msg
    assert "toy_0001" not in msg

    # --allow-missing scores the rest and records the problems
    _score(toy_dataset, pred, tmp_path / "res2", allow_missing=True)
    summary = json.loads((tmp_path / "res2" / results.SUMMARY_JSON).read_text())
    assert summary["methods"]["frames"]["n_samples"] == 1
    assert "has 7 frames" in summary["methods"]["frames"]["problems"][0]
    assert summary["methods"]["oracle"]["n_samples"] == 2


def test_cli_prints_one_line_and_exits_2(toy_dataset, tmp_path, capsys):
    pred = tmp_path / "pred"
    _bad_predictions(toy_dataset, pred)
    code = main(["evaluate", "--task", "masks", "--data", str(toy_dataset), "--pred", str(pred), "--out", str(tmp_path / "r"),
                 "--methods", "size", "--no-progress", "--workers", "1"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("void evaluate: error: predicted masks under") and "is 16x16" in err
    assert "Traceback" not in err


def test_nan_where_undefined_is_written_as_missing(scored):
    df = (__import__("pandas")).read_csv(scored / "res" / results.RESULTS_CSV)
    # the toy dataset has no first-contact frame: the pre-contact metrics have no value
    pre = df[df["metric"] == "precontact_recall"]["value"]
    assert len(pre) == 6 and pre.isna().all()
    assert not math.isnan(df[df["metric"] == "iou"]["value"].dropna().iloc[0])
