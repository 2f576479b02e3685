"""End to end: `streamlit run` on loopback, a real headless Chromium driven by Playwright.

The player is an in-page component (its videos sit in a shadow root, which Playwright's CSS
locators pierce); the page script finds them through ``FIND_PLAYER``.
"""

from __future__ import annotations

import filecmp
import os
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
    "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
]
# Screenshots of the trial page go to a temporary folder; VOID_STUDY_SCREENSHOTS=docs/img/study
# refreshes the README's pictures.
SCREENSHOTS_ENV = "VOID_STUDY_SCREENSHOTS"
METHOD_NAMES = ("oracle-removed", "oracle-hidden", "identity", "clean", "smear", "copy")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"),
]


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_study(tmp_path_factory) -> Path:
    """Two samples at VOID's size (672x384, 49 frames); ``copy`` is the input byte for byte."""
    from evaluate.study.demo import make_demo_study

    return make_demo_study(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def serve(tmp_path):
    """Start `streamlit run` on a study database; yields a function (store) -> base URL."""
    procs = []

    def start(store) -> str:
        port = _free_port()
        argv, env = streamlit_command(store.url, port)
        log = open(tmp_path / f"streamlit-{port}.log", "wb")
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        procs.append((proc, log))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return base
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {(tmp_path / f'streamlit-{port}.log').read_text()[-2000:]}")
            time.sleep(0.3)

    yield start
    for proc, log in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _demo_store(make_study_from, demo_study, sqlite_url, **overrides):
    from evaluate.study.config import StudyInitConfig
    from evaluate.study.manage import init_study
    from evaluate.study.store import open_store

    cfg = demo_study
    if overrides:
        import yaml

        data = yaml.safe_load(demo_study.read_text())
        data.update(overrides)
        cfg = demo_study.parent / f"study-{abs(hash(repr(sorted(overrides.items()))))}.yaml"
        cfg.write_text(yaml.safe_dump(data))
    init_study(StudyInitConfig(config=str(cfg), db=sqlite_url, check_videos=True))
    store = open_store(sqlite_url)
    make_study_from.append(store)
    return store


@pytest.fixture
def stores():
    opened = []
    yield opened
    for s in opened:
        s.close()


FIND_PLAYER = """() => {
  const find = root => { const p = root.querySelector('.player'); if (p) return p;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const q = find(el.shadowRoot); if (q) return q; }
    return null; };
  const r = find(document);
  if (!r) return {};
  const v = Array.from(r.querySelectorAll('video'));
  const t = v.map(x => x.currentTime);
  return {n: v.length, trial: r.dataset.trial, started: Number(r.dataset.started || 0),
          playing: v.filter(x => !x.paused && x.currentTime > 0).length, width: v.map(x => x.videoWidth),
          height: v.map(x => x.videoHeight), src: v.map(x => x.currentSrc || x.src), cls: v.map(x => x.className),
          visible: v.map(x => getComputedStyle(x).display !== 'none'), spread: Math.max(...t) - Math.min(...t),
          playingMs: r.dataset.playingMs ? Number(r.dataset.playingMs) : null,
          toggle: !!r.querySelector('input.mark'), html: r.innerHTML};
}"""


def _wait_playing(page, previous_trial: str | None, timeout_s: float = 45.0) -> dict:
    """Poll until every video of a new trial plays (Streamlit replaces the player per trial)."""
    deadline = time.monotonic() + timeout_s
    state: dict = {}
    while time.monotonic() < deadline:
        try:
            state = page.evaluate(FIND_PLAYER)
        except Exception:  # the page was re-rendering; look again
            state = {}
        if state.get("n") and state["playing"] == state["n"] and state["trial"] != previous_trial and state["playingMs"]:
            return state
        time.sleep(0.2)
    raise AssertionError(f"videos did not all play within {timeout_s}s: { {k: v for k, v in state.items() if k != 'html'} }")


def _begin(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("I have read this and agree to take part.").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Start").click()


def _vote_left_when_timed(page, store, n_before: int) -> None:
    """Click "Left" once the server has the playback start (the page reported it), then wait
    for the vote to be stored."""
    page.get_by_role("button", name="Left").click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with store.session() as s:
            if s.scalar(select(func.count(VoteRow.id))) > n_before:
                return
        time.sleep(0.2)
    raise AssertionError("the vote was not stored")


def test_consent_votes_saved_cue_and_code_without_methods(stores, demo_study, sqlite_url, serve, browser, tmp_path):
    store = _demo_store(stores, demo_study, sqlite_url)
    base = serve(store)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(45_000)
    _begin(page, f"{base}/?PROLIFIC_PID=e2e-worker&STUDY_ID=study-9&SESSION_ID=sess-3")
    previous = None
    n = store.participant(store.token_for_external("PROLIFIC_PID", "e2e-worker")).n_trials
    for k in range(1, n + 1):
        page.get_by_text(f"Trial {k} of {n}").wait_for()
        state = _wait_playing(page, previous)
        previous = state["trial"]
        # Original, Original marked, two results: decoded at full size, started together
        assert state["n"] == 4 and set(state["width"]) == {672} and set(state["height"]) == {384}
        assert state["started"] >= 1
        time.sleep(1.5)
        state = page.evaluate(FIND_PLAYER)
        assert state["spread"] < 0.25, f"players drifted apart: {state['spread']:.3f} s"
        if k == 1:
            page.screenshot(path=str(_shots(tmp_path) / "trial_desktop.png"))
        _vote_left_when_timed(page, store, k - 1)
        if k < n:
            page.get_by_text(f"Saved ({k} of {n} answered)").wait_for()  # the visible "saved" cue

    page.get_by_text("DEMO-CODE").wait_for()
    back = page.get_by_role("link", name="Return to the study platform")
    back.wait_for()
    assert back.get_attribute("href") == "https://app.prolific.com/submissions/complete?cc=DEMO-CODE"
    body = page.locator("body").inner_text()
    assert not any(m in body for m in METHOD_NAMES), "the completion page must not reveal methods"
    page.screenshot(path=str(tmp_path / "completion.png"), full_page=True)
    assert "token=" in page.url and "PROLIFIC_PID" not in page.url  # the resume link carries the token only
    with store.session() as s:
        votes = s.scalars(select(VoteRow)).all()
        p = s.scalar(select(ParticipantRow))
    assert len(votes) == n and all(v.playback_ms is not None and v.playback_ms <= v.response_ms for v in votes)
    assert (p.external_id, p.platform_study_id, p.platform_session_id) == ("e2e-worker", "study-9", "sess-3")
    assert p.completed_at is not None and p.completion_code == "DEMO-CODE"


def test_identical_videos_get_different_addresses_and_bytes(stores, demo_study, sqlite_url, serve, browser):
    seq = demo_study.parent / "inputs" / "rolling-ball-0"
    assert filecmp.cmp(seq / "input_video.mp4", demo_study.parent / "pred" / "copy" / "rolling-ball-0.mp4", shallow=False)
    store = _demo_store(stores, demo_study, sqlite_url)
    base = serve(store)
    seen: dict[str, bytes] = {}
    for who in ("a", "b"):  # two participants: nothing is shared between sessions either
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(45_000)
        _begin(page, f"{base}/?PROLIFIC_PID=worker-{who}")
        previous, n_votes = None, len(seen) // 4
        for _ in range(3):
            state = _wait_playing(page, previous)
            previous = state["trial"]
            html = page.content() + state["html"]
            assert not any(m in html for m in METHOD_NAMES) and "rolling-ball" not in html
            for src in state["src"]:
                assert src not in seen, "a video address was reused"
                seen[src] = page.request.get(src).body()
            _vote_left_when_timed(page, store, n_votes)
            n_votes += 1
        page.close()
    bodies = list(seen.values())
    assert len(bodies) == 2 * 3 * 4
    assert len(set(bodies)) == len(bodies), "two videos were served with the same bytes"
    # ...though under the salt trailer the copy is the source: every trial's Original and the
    # gold trial's copy, for each of the two participants
    sources = [p.read_bytes() for p in sorted((demo_study.parent / "inputs").glob("*/input_video.mp4"))]
    assert sum(any(b.startswith(s) and len(b) > len(s) for s in sources) for b in bodies) == 2 * (3 + 1)


def test_repeated_platform_id_resumes_its_session(stores, demo_study, sqlite_url, serve, browser):
    store = _demo_store(stores, demo_study, sqlite_url)
    base = serve(store)
    page = browser.new_context().new_page()
    page.set_default_timeout(45_000)
    _begin(page, f"{base}/?PROLIFIC_PID=twice")
    _wait_playing(page, None)
    _vote_left_when_timed(page, store, 0)
    page.get_by_text("Trial 2 of 3").wait_for()
    page.context.close()

    again = browser.new_context().new_page()  # a new browser, no cookies, no token
    again.set_default_timeout(45_000)
    again.goto(f"{base}/?PROLIFIC_PID=twice")
    again.get_by_text("Trial 2 of 3").wait_for()  # straight back where it stopped
    assert "agree to take part" not in again.locator("body").inner_text()
    with store.session() as s:
        assert s.scalar(select(func.count(ParticipantRow.id))) == 1


def test_object_overlay_toggles(stores, demo_study, sqlite_url, serve, browser):
    store = _demo_store(stores, demo_study, sqlite_url)
    base = serve(store)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(45_000)
    _begin(page, base)
    state = _wait_playing(page, None)
    assert state["toggle"] and state["cls"][:2] == ["source hidden", "marked"] and state["visible"][:2] == [False, True]
    page.get_by_label("Show the object to remove").uncheck()
    state = page.evaluate(FIND_PLAYER)
    assert state["visible"][:2] == [True, False]  # the original as it is
    page.get_by_label("Show the object to remove").check()
    assert page.evaluate(FIND_PLAYER)["visible"][:2] == [False, True]


def test_mobile_vote_buttons_above_the_fold(stores, demo_study, sqlite_url, serve, browser, tmp_path):
    store = _demo_store(stores, demo_study, sqlite_url)
    base = serve(store)
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.set_default_timeout(45_000)
    _begin(page, base)
    _wait_playing(page, None)
    for name in ("Left", "Right", "Both equally"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, f"{name} is below the first screen: {box}"
    assert page.evaluate("() => window.scrollY") == 0
    page.screenshot(path=str(_shots(tmp_path) / "trial_mobile.png"))
    assert (_shots(tmp_path) / "trial_mobile.png").stat().st_size > 10_000
