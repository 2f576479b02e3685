"""``void bench score --task masks``: mask submissions checked, scored by the mask track into a
bundle, and merged with removal bundles into one site with both sections."""

from __future__ import annotations

import json

import numpy as np
import pytest
from benchdata import CARD, FAMILIES, build_tiny_bench, make_submission, score_tiny, tiny_definition

from evaluate.bundle import read_bundle
from evaluate.config import BenchScoreConfig
from evaluate.masks.config import MaskBaselineConfig
from evaluate.masks.run import run_mask_baseline
from evaluate.submission import SubmissionError, score_submission
from leaderboard.build import build
from leaderboard.config import LeaderboardConfig
from leaderboard.inputs import InputError
from void import bench_format, video


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    return build_tiny_bench(root / "b", tiny_definition(root / "tiny.json"))


def _baseline(bench, out, name):
    run_mask_baseline(MaskBaselineConfig(name=name, input=str(bench), out=str(out), layout="bench", progress=False))
    return out


@pytest.fixture(scope="module")
def bundles(bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("mb")
    out = {}
    for name in ("oracle", "object-only"):
        out[name] = root / f"{name}.zip"
        _score(bench, _baseline(bench, root / name, name), out[name])
    return out


def _score(bench, pred, out):
    cfg = BenchScoreConfig(bench=str(bench), pred=str(pred), out=str(out), workers=1, progress=False, task="masks")
    return score_submission(cfg)


def _value(table, metric, region):
    rows = table[(table.metric == metric) & (table.region == region)]
    return rows["value"].to_numpy()


def test_baseline_submission_layout_and_card(bench, tmp_path):
    sub = _baseline(bench, tmp_path / "dil", "dilated")
    card = json.loads((sub / "method.json").read_text())
    assert card["name"] == "dilated" and card["mask_input"] == "object-mask" and card["parameters"]["dilate_px"] == 4
    clips = sorted(bench_format.Bench(bench).clips())
    assert sorted(p.relative_to(sub).with_suffix("").as_posix() for p in sub.rglob("*.mp4")) == clips


def test_oracle_scores_iou_one_and_object_only_recall_zero(bench, bundles):
    info = bench_format.Bench(bench)
    oracle = read_bundle(bundles["oracle"])
    assert oracle.task == "masks" and oracle.method == "oracle"
    assert oracle.definition_hash == info.definition_hash
    assert oracle.data["checksums_sha256"] == bench_format.file_sha256(bench / bench_format.CHECKSUMS)
    table = oracle.table()
    assert sorted(table["sample_id"].unique()) == sorted(info.clips())
    iou = _value(table, "iou", "remove")
    assert len(iou) == len(info.clips()) and (iou == 1.0).all()
    assert (_value(table, "recall", "changed") == 1.0).all()
    only = read_bundle(bundles["object-only"]).table()
    recall = _value(only, "recall", "changed")
    assert len(recall) == len(info.clips()) and (recall == 0.0).all()


def test_bad_value_size_missing_clip_and_card_field_are_each_named(bench, tmp_path):
    sub = _baseline(bench, tmp_path / "sub", "oracle")
    odd = sub / "main" / f"000000_{FAMILIES[0]}.mp4"
    mask = video.read_mask(odd)
    mask[:, :8, :8] = 100  # not one of the four; write_mask would refuse it, a plain video does not
    video.write_video(odd, np.repeat(mask[..., None], 3, -1), 12)
    small = sub / "long" / f"000001_{FAMILIES[1]}.mp4"
    video.write_mask(small, np.full((10, 24, 32), 255, np.uint8), 12)
    gone = sub / "main" / f"000002_{FAMILIES[2]}.mp4"
    gone.unlink()
    card = json.loads((sub / "method.json").read_text())
    del card["runtime"]
    (sub / "method.json").write_text(json.dumps(card))
    with pytest.raises(SubmissionError) as err:
        _score(bench, sub, tmp_path / "x.zip")
    msg = str(err.value)
    assert "4 problem(s)" in msg
    assert f"{odd}: values other than the quadmask's four" in msg
    assert f"{small}: is 32x24, the clip is 48x32" in msg
    assert f"{gone}: missing" in msg
    assert "method.json: missing field 'runtime'" in msg
    assert not (tmp_path / "x.zip").exists()


def test_a_mask_predictor_must_declare_object_mask_input(bench, tmp_path):
    sub = _baseline(bench, tmp_path / "sub", "object-only")
    (sub / "method.json").write_text(json.dumps(dict(CARD, name="object-only", mask_input="quadmask")))
    with pytest.raises(SubmissionError, match="'mask_input' must be 'object-mask' for a mask predictor"):
        _score(bench, sub, tmp_path / "x.zip")


def test_site_from_removal_and_mask_bundles_shows_both(bench, bundles, tmp_path):
    removal = score_tiny(bench, make_submission(bench, tmp_path / "ident"), tmp_path / "identity.zip")
    site = tmp_path / "site"
    build(LeaderboardConfig(bundles=[str(removal), str(bundles["oracle"]), str(bundles["object-only"])], out=str(site), resamples=200, quiet=True))
    page = (site / "index.html").read_text()
    main, masks = page.split('<h2 id="mask-track">Mask track</h2>')
    assert ">identity<" in main and ">oracle<" not in main
    assert masks.index(">oracle<") < masks.index(">object-only<") and ">identity<" not in masks
    assert "1.000 <span class=\"ci\">[1.000, 1.000]</span>" in masks
    assert "2 mask-track bundle(s): oracle, object-only" in page
    # the gallery shows the removal methods only (mask bundles carry no previews)
    assert "object-only" not in (site / "gallery.html").read_text()


def test_mixed_definitions_and_mask_only_sites_are_refused(bench, bundles, tmp_path):
    from evaluate.bundle import copy_with

    other = copy_with(bundles["oracle"], tmp_path / "other.zip", definition_hash="0" * 64)
    with pytest.raises(InputError, match="only comparable under one definition"):
        build(LeaderboardConfig(bundles=[str(bundles["object-only"]), str(other)], out=str(tmp_path / "s1"), resamples=200, quiet=True))
    with pytest.raises(InputError, match="only mask-track bundles"):
        build(LeaderboardConfig(bundles=[str(bundles["oracle"])], out=str(tmp_path / "s2"), resamples=200, quiet=True))


def test_masks_folder_and_mask_bundles_add_up_but_may_not_share_a_name(bench, bundles, tmp_path):
    from evaluate.bundle import read_bundle as rb
    from leaderboard.bundles import MASK_RESULTS_DIR

    removal = score_tiny(bench, make_submission(bench, tmp_path / "ident"), tmp_path / "identity.zip")
    site = tmp_path / "site"
    build(LeaderboardConfig(bundles=[str(removal), str(bundles["oracle"])], out=str(site), resamples=200, quiet=True))
    # the merged mask results folder is what --masks reads: the same oracle twice is refused
    with pytest.raises(InputError, match="oracle are both in --masks"):
        build(LeaderboardConfig(bundles=[str(removal), str(bundles["oracle"])], masks=str(site / MASK_RESULTS_DIR), out=str(tmp_path / "s2"), resamples=200, quiet=True))
    build(LeaderboardConfig(bundles=[str(removal), str(bundles["object-only"])], masks=str(site / MASK_RESULTS_DIR), out=str(tmp_path / "s3"), resamples=200, quiet=True))
    section = (tmp_path / "s3" / "index.html").read_text().split('id="mask-track"')[1]
    assert ">oracle<" in section and ">object-only<" in section
    from evaluate.masks.metrics import SUITE_VERSION

    assert rb(bundles["oracle"]).data["scored"]["mask_suite_version"] == SUITE_VERSION
