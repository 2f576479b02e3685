"""Page-to-playing time of a study trial in a real browser, at VOID's clip size.

    python benchmarks/study_page_to_playing.py --loads 5

Builds the synthetic rolling-ball study (``evaluate/study/demo.py``: 672x384, 49 frames at
12 fps, H.264), serves it with ``streamlit run`` on loopback and opens a participant's
resume link in headless Chromium (Debian's ``/usr/bin/chromium``), each time in a fresh
browser context (no cache). Measured from the navigation start to the moment the page saw
every video playing (the player records ``performance.now()`` then, and tells the server,
which times answers from it): the Original, the Original with the object outlined and the
two results. Also printed: how far apart the players' clocks are 1.5 s later.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from evaluate.study.config import StudyInitConfig
from evaluate.study.demo import FRAMES, HEIGHT, WIDTH, make_demo_study
from evaluate.study.manage import init_study, streamlit_command
from evaluate.study.store import open_store

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
STATE = """() => {
  const find = root => { const p = root.querySelector('.player'); if (p) return p;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const q = find(el.shadowRoot); if (q) return q; }
    return null; };
  const r = find(document); if (!r) return null;
  const t = Array.from(r.querySelectorAll('video')).map(v => v.currentTime);
  return {playingMs: r.dataset.playingMs ? Number(r.dataset.playingMs) : null, n: t.length, spread: Math.max(...t) - Math.min(...t)};
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loads", type=int, default=5, help="page loads, each in a fresh browser context")
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="page-to-playing-") as tmp:
        root = Path(tmp)
        cfg = make_demo_study(root)
        url = f"sqlite:///{root / 'study.db'}"
        with contextlib.redirect_stdout(io.StringIO()):
            init_study(StudyInitConfig(config=str(cfg), db=url, check_videos=True))
        store = open_store(url)
        tokens = []
        for _ in range(args.loads):
            token = store.create_participant()
            store.mark(token, "consent")
            store.mark(token, "instructions")
            tokens.append(token)
        argv, env = streamlit_command(store.url, args.port)
        server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"{base}/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.3)
            rows = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for token in tokens:
                    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = ctx.new_page()
                    page.goto(f"{base}/?token={token}")
                    deadline = time.monotonic() + 60
                    state = None
                    while time.monotonic() < deadline:
                        state = page.evaluate(STATE)
                        if state and state["playingMs"]:
                            break
                        time.sleep(0.05)
                    time.sleep(1.5)
                    later = page.evaluate(STATE)
                    rows.append((state["playingMs"], later["spread"] * 1000, state["n"]))
                    ctx.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
            store.close()
    print(f"clips {WIDTH}x{HEIGHT}x{FRAMES} (H.264), {rows[0][2]} videos on the trial page, {len(rows)} loads (fresh contexts)")
    print(f"{'load':>4} {'page-to-playing ms':>19} {'player spread 1.5 s later ms':>29}")
    for k, (ms, spread, _) in enumerate(rows, 1):
        print(f"{k:>4} {ms:>19.0f} {spread:>29.1f}")
    ms = [r[0] for r in rows]
    print(f"median page-to-playing {statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f}); "
          f"the first load also starts the server's script (later loads reuse its caches)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
