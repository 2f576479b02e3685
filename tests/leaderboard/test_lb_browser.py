"""Render the built page in a real headless Chromium (Debian's, driven by Playwright).

Opens index.html from disk with every network request refused, and checks that the main
table has a row per method and every figure decoded (naturalWidth > 0). A screenshot is
saved next to the site (and to $VOID_TEST_ARTIFACTS when set).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lb_fixtures import METHODS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium); never `playwright install`")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def test_page_renders_tables_and_images_offline(chromium, built_site):
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    requested = []

    def refuse_network(route):
        # file:// is how the page opens from disk; anything else means it is not self-contained
        if route.request.url.startswith(("file://", "data:")):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()

    page.route("**/*", refuse_network)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(built_site.index.resolve().as_uri(), wait_until="load")

    assert page.title() == "VOID-bench leaderboard"
    rows = page.locator("#board tbody tr")
    assert rows.count() == len(METHODS)
    assert rows.nth(0).locator("td.method").inner_text() == "void"
    headers = page.locator("#board thead tr").nth(1).locator("th").all_inner_texts()
    assert headers[0] == "CF win rate ↑"
    assert page.locator("#board").is_visible()
    for table_id in ("families", "metrics", "human", "runtime"):
        assert page.locator(f"#{table_id} tbody tr").count() > 0, table_id

    images = page.locator("img")
    assert images.count() == 3
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 0 for w in widths), widths
    assert not requested, f"the page asked the network for {requested}"
    assert not errors

    shot = built_site.index.parent / "screenshot.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("VOID_TEST_ARTIFACTS"):
        dest = Path(os.environ["VOID_TEST_ARTIFACTS"])
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, dest / "leaderboard.png")
    page.close()
