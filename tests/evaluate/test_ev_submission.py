"""``void bench score``: a submission is checked (every problem named) and scored into one bundle."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from benchdata import CARD, FAMILIES, build_tiny_bench, make_submission, tiny_definition

from evaluate.bundle import read_bundle
from evaluate.config import BenchScoreConfig
from evaluate.submission import SubmissionError, score_submission
from void import bench_format, video


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    return build_tiny_bench(root / "b", tiny_definition(root / "tiny.json"))


@pytest.fixture
def submission(bench, tmp_path):
    return make_submission(bench, tmp_path / "sub")


def _score(bench, pred, out):
    return score_submission(BenchScoreConfig(bench=str(bench), pred=str(pred), out=str(out), workers=1, progress=False))


def test_valid_submission_scores_into_one_bundle(bench, submission, tmp_path):
    out = tmp_path / "identity.zip"
    assert _score(bench, submission, out) == 0
    b = read_bundle(out)
    info = bench_format.Bench(bench)
    assert b.method == "identity" and b.data["card"] == CARD
    assert b.definition_hash == info.definition_hash
    assert b.data["checksums"] == (bench / bench_format.CHECKSUMS).read_text()
    assert b.data["checksums_sha256"] == bench_format.file_sha256(bench / bench_format.CHECKSUMS)
    table = b.table()
    clips = sorted(info.clips())
    assert sorted(table["sample_id"].unique()) == clips
    # one whole-frame PSNR per clip, computed (the input differs from the counterfactual)
    psnr = table[(table.metric == "psnr") & (table.region == "all")]
    assert len(psnr) == len(clips) and np.isfinite(psnr["value"]).all()
    assert sorted(p[len("previews/"):-4] for p in b.previews()) == clips


def test_missing_clip_wrong_size_and_card_field_are_each_named(bench, submission, tmp_path):
    gone = submission / "main" / f"000001_{FAMILIES[1]}.mp4"
    gone.unlink()
    small = submission / "long" / f"000000_{FAMILIES[0]}.mp4"
    video.write_video(small, np.zeros((10, 24, 32, 3), np.uint8), 12)
    card = dict(CARD)
    del card["hardware"]
    (submission / "method.json").write_text(json.dumps(card))
    with pytest.raises(SubmissionError) as err:
        _score(bench, submission, tmp_path / "x.zip")
    msg = str(err.value)
    assert "3 problem(s)" in msg
    assert f"{gone}: missing" in msg
    assert f"{small}: is 32x24, the ground truth is 48x32" in msg
    assert "method.json: missing field 'hardware'" in msg
    assert not (tmp_path / "x.zip").exists()


def test_wrong_frame_count_bad_mask_input_and_stray_files(bench, submission, tmp_path):
    short = submission / "main" / f"000000_{FAMILIES[0]}.mp4"
    video.write_video(short, np.zeros((5, 32, 48, 3), np.uint8), 12)
    shutil.copyfile(submission / "main" / f"000002_{FAMILIES[2]}.mp4", submission / "main" / "999999_extra.mp4")
    (submission / "method.json").write_text(json.dumps(dict(CARD, mask_input="bbox")))
    with pytest.raises(SubmissionError) as err:
        _score(bench, submission, tmp_path / "x.zip")
    msg = str(err.value)
    assert f"{short}: has 5 frames, the ground truth has 8" in msg
    assert "999999_extra.mp4: not a clip of test-tiny" in msg
    assert "'mask_input' must be one of quadmask, object-mask, got 'bbox'" in msg


def test_missing_card_and_unfinished_bench_are_refused(bench, submission, tmp_path):
    (submission / "method.json").unlink()
    with pytest.raises(SubmissionError, match="method.json: missing"):
        _score(bench, submission, tmp_path / "x.zip")
    half = shutil.copytree(bench, tmp_path / "half")
    (half / bench_format.CHECKSUMS).unlink()
    with pytest.raises(bench_format.BenchError, match="checksums.sha256: missing"):
        _score(half, submission, tmp_path / "x.zip")


def test_cut_and_garbled_videos_are_refused_and_no_bundle_is_written(bench, submission, tmp_path):
    # the quick check counts packets without decoding them; a cut or garbled file is still
    # refused naming it, and no bundle is written
    cut = submission / "main" / f"000000_{FAMILIES[0]}.mp4"
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # faststart: the index is whole, the frames are not
    with pytest.raises(SubmissionError) as err:
        _score(bench, submission, tmp_path / "x.zip")
    assert f"{cut}: " in str(err.value) and "1 problem(s)" in str(err.value)
    cut.write_bytes(b"\0" * 64 + data[64:])  # no container header: nothing decodes
    with pytest.raises(SubmissionError, match="corrupt or unreadable video"):
        _score(bench, submission, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
