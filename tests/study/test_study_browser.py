"""End to end: `streamlit run` on loopback, a real headless Chromium driven by Playwright."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaluate.study.manage import streamlit_command
from evaluate.study.store import ParticipantRow, VoteRow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(sqlite_url, make_study, tmp_path):
    store = make_study(sqlite_url, trials_per_participant=1, gold={"bad": "identity", "good": "oracle-removed", "trials": 1},
                       completion={"code": "E2E-CODE-42"})
    port = _free_port()
    argv, env = streamlit_command(store.url, port)
    log = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield base, store
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


PLAYER_STATE = """() => { const v = Array.from(document.querySelectorAll('video'));
    return {n: v.length, trial: document.body.dataset.trial,
            playing: v.filter(x => !x.paused && x.currentTime > 0).length,
            width: v.map(x => x.videoWidth), started: Number(document.body.dataset.started || 0)}; }"""


def _wait_playing(page, previous_trial: str | None, timeout_s: float = 30.0) -> dict:
    """Poll the player iframe until every video plays (and, after a vote, shows new videos).

    Polled rather than awaited: Streamlit replaces the iframe's document on each trial,
    which would abort a single in-page wait."""
    deadline = time.monotonic() + timeout_s
    state: dict = {}
    while time.monotonic() < deadline:
        try:
            frame = page.locator("iframe").first.element_handle(timeout=5000).content_frame()
            state = frame.evaluate(PLAYER_STATE) if frame else {}
        except Exception:  # the document was being replaced; look again
            state = {}
        if state.get("n") and state["playing"] == state["n"] and state["trial"] != previous_trial:
            return state
        time.sleep(0.2)
    raise AssertionError(f"videos did not all play within {timeout_s}s: {state}")


def test_consent_two_votes_and_completion_code_in_chromium(server, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    base, store = server
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/?PROLIFIC_PID=e2e-worker")
            page.get_by_text("I have read this and agree to take part.").click()
            page.get_by_role("button", name="Continue").click()
            page.get_by_role("button", name="Start").click()

            previous = None
            for k in (1, 2):
                page.get_by_text(f"Trial {k} of 2").wait_for()
                state = _wait_playing(page, previous)
                previous = state["trial"]
                # source + two results, decoded (H.264 at 32x32) and started by the sync script
                assert state["n"] == 3 and state["width"] == [32, 32, 32] and state["started"] >= 1
                if k == 1:
                    page.screenshot(path=str(tmp_path / "trial.png"), full_page=True)
                page.get_by_role("button", name="Left").click()

            page.get_by_text("E2E-CODE-42").wait_for()
            page.get_by_role("button", name="Both equally").wait_for(state="detached")
            page.get_by_text("oracle-removed").wait_for()  # method names revealed at the end
            page.screenshot(path=str(tmp_path / "completion.png"), full_page=True)
            url = page.url
        finally:
            browser.close()

    assert (tmp_path / "trial.png").stat().st_size > 10_000
    assert (tmp_path / "completion.png").stat().st_size > 5_000
    assert "token=" in url and "PROLIFIC_PID" not in url  # the resume link carries the token only
    with store.session() as s:
        assert s.scalar(select(func.count(VoteRow.id))) == 2
        p = s.scalar(select(ParticipantRow))
    assert p.external_id == "e2e-worker" and p.completed_at is not None and p.completion_code == "E2E-CODE-42"
