"""``void leaderboard --bundles``: bundles merge into one site with a video gallery; bundles
scored against another definition are refused. The gallery is checked in a real Chromium."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from benchdata import FAMILIES, build_tiny_bench, make_submission, score_tiny, tiny_definition

from evaluate.bundle import copy_with

from leaderboard import LeaderboardConfig, build
from leaderboard.inputs import InputError

# the one Chromium fixture of the leaderboard tests (Playwright starts it with autoplay allowed)
from test_lb_browser import chromium  # noqa: F401, E402



@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp("gal")
    bench = build_tiny_bench(root / "bench", tiny_definition(root / "tiny.json"))
    a = score_tiny(bench, make_submission(bench, root / "sub-a", name="identity"), root / "identity.zip")
    b = score_tiny(bench, make_submission(bench, root / "sub-b", name="hidden-copy", source="rgb_hidden.mp4"), root / "hidden.zip")
    return bench, [a, b]


@pytest.fixture(scope="module")
def site(scored, tmp_path_factory):
    bench, bundles = scored
    out = tmp_path_factory.mktemp("site") / "site"
    report = build(LeaderboardConfig(bundles=[str(b) for b in bundles], bench=str(bench), out=str(out), quiet=True, resamples=200))
    return out, report


def test_bundles_merge_into_one_site_with_a_gallery(site, scored):
    out, report = site
    assert sorted(report.methods) == ["hidden-copy", "identity"]
    index = (out / "index.html").read_text()
    assert 'href="gallery.html"' in index and "definition " in index
    page = (out / "gallery.html").read_text()
    assert page.count('<section class="clip"') == 2 * len(FAMILIES)
    for label in ("input", "quadmask", "ground truth", "identity", "hidden-copy"):
        assert f"<figcaption>{label}</figcaption>" in page
    videos = list((out / "media").rglob("*.mp4"))
    assert len(videos) == 6 * 5  # six clips: three bench views and two methods each
    summary = json.loads((out / "results" / "summary.json").read_text())
    assert summary["methods"]["identity"]["card"]["mask_input"] == "object-mask"


def test_bundle_from_another_definition_is_refused(scored, tmp_path):
    _, (a, b) = scored
    other = copy_with(b, tmp_path / "other.zip", definition_hash="0" * 64, version="v0")
    with pytest.raises(InputError, match=r"other.zip was scored against v0 \(definition 0000000000000000\).*only comparable under one definition"):
        build(LeaderboardConfig(bundles=[str(a), str(other)], out=str(tmp_path / "s"), quiet=True, resamples=200))
    import json
    import zipfile

    scored_b = json.loads(zipfile.ZipFile(b).read("bundle.json"))["scored"]
    newer = copy_with(b, tmp_path / "newer.zip", name="newer", scored=dict(scored_b, suite_version=scored_b["suite_version"] + 1))
    with pytest.raises(InputError, match=r"newer.zip was scored with removal metric suite \d+, .* with another"):
        build(LeaderboardConfig(bundles=[str(a), str(newer)], out=str(tmp_path / "s"), quiet=True, resamples=200))
    twin = copy_with(b, tmp_path / "twin.zip", name="identity")
    with pytest.raises(InputError, match="method 'identity' is in both"):
        build(LeaderboardConfig(bundles=[str(a), str(twin)], out=str(tmp_path / "s"), quiet=True, resamples=200))
    assert not (tmp_path / "s" / "index.html").exists()


def test_gallery_of_another_bench_is_refused(scored, tmp_path):
    bench, bundles = scored
    info = json.loads((bench / "bench.json").read_text())
    copy = shutil.copytree(bench, tmp_path / "bench2")
    info["definition"]["fps"] = 10
    from void.bench_format import definition_hash

    info["definition_hash"] = definition_hash(info["definition"])
    (copy / "bench.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="the gallery would show other clips"):
        build(LeaderboardConfig(bundles=[str(b) for b in bundles], bench=str(copy), out=str(tmp_path / "s"), quiet=True, resamples=200))


@pytest.mark.browser
def test_gallery_videos_play_in_sync_and_the_filter_and_sort_work(chromium, site):
    out, _ = site
    page = chromium.new_page(viewport={"width": 1500, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    page.goto((out / "gallery.html").resolve().as_uri(), wait_until="load")
    first = page.locator("section.clip").first
    # every video of the first row decodes and plays
    page.wait_for_function(
        "() => [...document.querySelector('section.clip:not([hidden])').querySelectorAll('video')]"
        ".every(v => v.readyState >= 2 && v.currentTime > 0 && !v.paused && v.videoWidth > 0)",
        timeout=20000,
    )
    spread = page.evaluate(
        "() => { const t = [...document.querySelector('section.clip:not([hidden])').querySelectorAll('video')]"
        ".map(v => v.currentTime); return Math.max(...t) - Math.min(...t); }"
    )
    assert first.locator("video").count() == 5
    assert spread < 0.5  # looping together (a clip is under a second long)
    # filter by family
    page.select_option("#family", FAMILIES[1])
    visible = page.locator("section.clip:not([hidden])")
    assert visible.count() == 2
    assert set(visible.evaluate_all("els => els.map(e => e.dataset.family)")) == {FAMILIES[1]}
    assert page.inner_text("#count") == "2 clip(s)"
    # sort by a method's score: worst first, then best first
    page.select_option("#family", "all")
    page.select_option("#method", "identity")
    page.select_option("#metric", "psnr/all")
    worst = [float(s) for s in page.locator("section.clip .score").all_inner_texts()]
    assert worst == sorted(worst) and len(worst) == 2 * len(FAMILIES)
    page.select_option("#order", "best")
    best = [float(s) for s in page.locator("section.clip .score").all_inner_texts()]
    assert best == sorted(worst, reverse=True)
    assert errors == []
    shot = out / "gallery.png"
    page.select_option("#order", "worst")
    page.screenshot(path=str(shot))
    if os.environ.get("VOID_TEST_ARTIFACTS"):
        shutil.copy(shot, Path(os.environ["VOID_TEST_ARTIFACTS"]) / "gallery.png")
