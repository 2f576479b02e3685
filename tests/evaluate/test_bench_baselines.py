"""``void bench baselines``: every baseline and a tiny real model on a tiny build, one bundle
each, merged into one leaderboard site that lists them all."""

from __future__ import annotations

import json

import pytest
from benchdata import FAMILIES, build_tiny_bench, tiny_definition

from evaluate.bench_baselines import SUBMISSIONS, run_bench_baselines
from evaluate.bundle import read_bundle
from evaluate.config import BENCH_BASELINES, OURS, BenchBaselinesConfig
from void.errors import ConfigError


def _tiny_model(root):
    """An untrained 2-layer quadmask model written as `void train` writes one (real weights
    file and config; what it paints does not matter here, only that `void infer` runs it)."""
    import torch

    from void.model import VoidTransformer
    from void.model.io import make_scheduler
    from void.pipeline import VoidPipeline

    torch.manual_seed(0)
    model = VoidTransformer(sample_size=(8, 16, 16), num_layers=2, num_attention_heads=2, attention_head_dim=16,
                            time_embed_dim=32, text_embed_dim=32)
    VoidPipeline(model, make_scheduler()).save_pretrained(root, info={"inference_steps": 2, "train_steps": 0})
    return root


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("bb")
    bench = build_tiny_bench(root / "bench", tiny_definition(root / "tiny.json"))
    model = _tiny_model(root / "model")
    out = root / "bundles"
    assert run_bench_baselines(BenchBaselinesConfig(bench=str(bench), out=str(out), model=str(model), workers=1, progress=False)) == 0
    return bench, out


@pytest.mark.slow  # five baselines run and scored: minutes on two shared cores
def test_one_bundle_per_baseline_with_a_measured_card(made):
    bench, out = made
    assert sorted(p.stem for p in out.glob("*.zip")) == sorted(BENCH_BASELINES)
    clips = 2 * len(FAMILIES)  # main and long, one clip per family
    for name in BENCH_BASELINES:
        b = read_bundle(out / f"{name}.zip")
        card = b.data["card"]
        assert b.method == name and len(b.data["clips"]) == clips
        assert card["mask_input"] == ("quadmask" if name == OURS else "object-mask")
        measured = card["parameters"]["runtime_measured"]
        assert measured["wall_s"] > 0 and card["runtime"].startswith(f"{measured['s_per_clip']:.2f} s per clip")
        assert len(b.previews()) == clips
        assert (out / SUBMISSIONS / name / "method.json").is_file()
    # the oracle is rgb_hidden (through a lossy H.264 encode, so not exactly): it resembles
    # the pixel-only reference, not the true counterfactual, on average
    oracle = read_bundle(out / "oracle-hidden.zip").table()
    margins = oracle[(oracle.metric == "cf_margin")]["value"].dropna()
    assert len(margins) and margins.mean() < 0
    assert read_bundle(out / f"{OURS}.zip").data["card"]["parameters"]["mask_encoding"] == "quad"


@pytest.mark.slow  # five baselines run and scored: minutes on two shared cores
def test_the_bundles_merge_into_a_site_listing_every_baseline(made, tmp_path):
    from leaderboard import LeaderboardConfig, build

    bench, out = made
    site = tmp_path / "site"
    report = build(LeaderboardConfig(bundles=[str(p) for p in sorted(out.glob("*.zip"))], bench=str(bench), out=str(site), quiet=True, resamples=200))
    assert sorted(report.methods) == sorted(BENCH_BASELINES)
    index = (site / "index.html").read_text()
    page = (site / "gallery.html").read_text()
    for name in BENCH_BASELINES:
        assert name in index and f"<figcaption>{name}</figcaption>" in page
    summary = json.loads((site / "results" / "summary.json").read_text())
    assert sorted(summary["methods"]) == sorted(BENCH_BASELINES)


@pytest.mark.slow  # five baselines run and scored: minutes on two shared cores
def test_a_rerun_keeps_finished_bundles(made, capsys):
    bench, out = made
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.zip")}
    assert run_bench_baselines(BenchBaselinesConfig(bench=str(bench), out=str(out), skip=[OURS], workers=1, progress=False)) == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.zip")} == before
    assert "exists; keeping it" in capsys.readouterr().err


def test_the_model_is_required_unless_skipped(tmp_path):
    bench = tmp_path / "bench"
    bench.mkdir()
    with pytest.raises(ConfigError, match=f"{OURS} needs --model.*--skip {OURS}"):
        BenchBaselinesConfig(bench=str(bench), out=str(tmp_path / "b"))
    with pytest.raises(ConfigError, match="--skip nope: not a baseline"):
        BenchBaselinesConfig(bench=str(bench), out=str(tmp_path / "b"), skip=["nope"])
    BenchBaselinesConfig(bench=str(bench), out=str(tmp_path / "b"), skip=[OURS])  # fine without a model
