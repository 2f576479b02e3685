"""Write latency of the study's vote store with 50 participants voting at once.

    python benchmarks/vote_store_latency.py                      # SQLite (+ PostgreSQL if set)
    VOID_TEST_POSTGRES_URL=postgresql+psycopg://void:void@127.0.0.1:5432/void_test \\
        python benchmarks/vote_store_latency.py --participants 50 --trials 20

Builds a real study (tiny H.264 videos, ``void study init``), then for each backend lets
every participant join (token + trial assignment) and answer all its trials as fast as it
can, all threads released at once - the worst case of a crowd study going live, and how
Streamlit serves sessions (threads of one process). Each vote is ``Store.record_vote``:
token check, ownership check, insert, commit. Measured in one run, side by side:

1. SQLite in WAL mode (the default), one participant alone, then N at once;
2. SQLite with the rollback journal (``journal_mode=DELETE``), N at once: why WAL;
3. PostgreSQL, alone and N at once, when ``VOID_TEST_POSTGRES_URL`` is set (each run in a
   schema of its own, dropped afterwards).

Printed: p50/p99/max write latency, the next-trial read the app does on every rerun, and
votes per second; then ratios. Timings on a shared machine are noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml

from evaluate.study.config import StudyInitConfig
from evaluate.study.manage import init_study
from evaluate.study.store import Store, normalize_url
from void import formats, quadmask, video

POSTGRES_ENV = "VOID_TEST_POSTGRES_URL"


def make_study_files(root: Path, samples: int, methods: int) -> Path:
    """VOID-layout inputs and one tiny prediction per method and sample; returns the YAML."""
    rng = np.random.default_rng(0)
    inputs, pred = root / "inputs", root / "pred"
    for s in range(samples):
        seq = inputs / f"seq{s:03d}"
        frames = rng.integers(0, 255, size=(4, 16, 16, 3), dtype=np.uint8)
        video.write_video(seq / formats.VOID_INPUT, frames, 8.0)
        video.write_mask(seq / "quadmask_0.mp4", np.full((4, 16, 16), quadmask.KEEP, np.uint8), 8.0)
        (seq / formats.VOID_PROMPT).write_text('{"bg": "an empty table"}')
        for m in range(methods):
            video.write_video(formats.prediction_path(pred, f"m{m}", seq.name), frames, 8.0)
    cfg = root / "study.yaml"
    cfg.write_text(yaml.safe_dump({
        "name": "latency", "predictions": str(pred), "inputs": str(inputs),
        "methods": [f"m{m}" for m in range(methods)], "design": "pairwise", "min_response_s": 0,
    }))
    return cfg


def run_backend(url: str, config: Path, participants: int, trials: int, **store_kwargs) -> dict[str, float]:
    cfg = yaml.safe_load(config.read_text())
    cfg["trials_per_participant"] = trials
    config.write_text(yaml.safe_dump(cfg))
    with contextlib.redirect_stdout(io.StringIO()):
        init_study(StudyInitConfig(config=str(config), db=url, check_videos=False))
    store = Store(url, pool_size=participants, **store_kwargs)
    try:
        start = threading.Barrier(participants)
        writes: list[float] = []
        reads: list[float] = []
        lock = threading.Lock()

        def participant(_: int) -> None:
            token = store.create_participant()
            start.wait()
            mine_w, mine_r = [], []
            while True:
                t0 = time.perf_counter()
                state = store.participant(token)
                mine_r.append(time.perf_counter() - t0)
                if state.trial is None:
                    break
                t0 = time.perf_counter()
                store.record_vote(token, state.trial.trial_id, 0)
                mine_w.append(time.perf_counter() - t0)
            with lock:
                writes.extend(mine_w)
                reads.extend(mine_r)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(participants) as pool:
            list(pool.map(participant, range(participants)))
        wall = time.perf_counter() - t0
    finally:
        store.close()
    w = np.array(writes) * 1000
    r = np.array(reads) * 1000
    return {"votes": len(w), "p50": np.percentile(w, 50), "p99": np.percentile(w, 99), "max": w.max(),
            "read_p50": np.percentile(r, 50), "votes_per_s": len(w) / wall}


def postgres_schema(base: str):
    from sqlalchemy import create_engine, text

    schema = "bench_" + secrets.token_hex(4)
    engine = create_engine(normalize_url(base))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", lambda: _drop(engine, schema)


def _drop(engine, schema: str) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--participants", type=int, default=50)
    ap.add_argument("--trials", type=int, default=20, help="trials per participant (no gold trials)")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--methods", type=int, default=4)
    args = ap.parse_args()
    n = args.participants
    rows: list[tuple[str, int, dict]] = []
    with tempfile.TemporaryDirectory(prefix="vote-latency-") as tmp:
        root = Path(tmp)
        config = make_study_files(root, args.samples, args.methods)
        cases = [("sqlite wal", 1, {}), ("sqlite wal", n, {}), ("sqlite delete-journal", n, {"journal_mode": "delete"})]
        for i, (name, k, kw) in enumerate(cases):
            rows.append((name, k, run_backend(f"sqlite:///{root / f'db{i}.sqlite'}", config, k, args.trials, **kw)))
        base = os.environ.get(POSTGRES_ENV)
        if base:
            for k in (1, n):
                url, drop = postgres_schema(base)
                try:
                    rows.append(("postgresql", k, run_backend(url, config, k, args.trials)))
                finally:
                    drop()
        else:
            print(f"(PostgreSQL skipped: set {POSTGRES_ENV})")

    head = f"{'backend':<22} {'participants':>12} {'votes':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'read p50':>9} {'votes/s':>8}"
    print(head)
    print("-" * len(head))
    for name, k, r in rows:
        print(f"{name:<22} {k:>12} {r['votes']:>6} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.1f} {r['read_p50']:>9.2f} {r['votes_per_s']:>8.0f}")
    get = {(name, k): r for name, k, r in rows}
    wal1, waln, dele = get[("sqlite wal", 1)], get[("sqlite wal", n)], get[("sqlite delete-journal", n)]
    print(f"\nratios (same run): sqlite {n} at once / alone: p50 x{waln['p50'] / wal1['p50']:.1f}, p99 x{waln['p99'] / wal1['p99']:.1f}")
    print(f"                   delete-journal / WAL at {n}: p50 x{dele['p50'] / waln['p50']:.2f}, p99 x{dele['p99'] / waln['p99']:.2f}, "
          f"throughput x{dele['votes_per_s'] / waln['votes_per_s']:.2f}")
    if ("postgresql", n) in get:
        pg = get[("postgresql", n)]
        print(f"                   postgresql / sqlite WAL at {n}: p50 x{pg['p50'] / waln['p50']:.2f}, p99 x{pg['p99'] / waln['p99']:.2f}, "
              f"throughput x{pg['votes_per_s'] / waln['votes_per_s']:.2f}")


if __name__ == "__main__":
    main()
