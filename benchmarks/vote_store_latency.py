"""Write latency of the study's vote store with 50 participants voting at once.

    python benchmarks/vote_store_latency.py                      # SQLite (+ PostgreSQL if set)
    VOID_TEST_POSTGRES_URL=postgresql+psycopg://void:void@127.0.0.1:5432/void_test \\
        python benchmarks/vote_store_latency.py --participants 50 --trials 20

Builds a real study (tiny H.264 videos, ``void study init``), then for each backend lets
every participant join (token + trial assignment) and answer all its trials as fast as it
can, all threads released at once - the worst case of a crowd study going live, and how
Streamlit serves sessions (threads of one process). Each vote is ``Store.record_vote``:
token check, ownership check, insert, commit. Measured in one run, side by side:

1. SQLite in WAL mode, the old path (a transaction per vote, queued on a process lock),
   one participant alone, then N at once; with the time split into waiting for the lock
   and the transaction itself (where the p99 goes);
2. SQLite in WAL mode, the new path (group commit, ``evaluate/study/batch.py``: one writer
   thread stores every queued vote in one transaction), alone and N at once, with batch
   sizes and the time a batch takes;
3. SQLite with the rollback journal (``journal_mode=DELETE``), N at once, old path: why WAL;
4. PostgreSQL, alone and N at once, when ``VOID_TEST_POSTGRES_URL`` is set (each run in a
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

from evaluate.study import batch
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


class TimedLock:
    """The old path's process lock, timing how long each writer waited and held it."""

    def __init__(self, lock):
        self.lock, self.waits, self.holds, self._local = lock, [], [], threading.local()

    def __enter__(self):
        t0 = time.perf_counter()
        self.lock.acquire()
        self._local.t = time.perf_counter()
        self.waits.append(self._local.t - t0)
        return self

    def __exit__(self, *exc):
        self.holds.append(time.perf_counter() - self._local.t)
        self.lock.release()


def timed_batches(log: list):
    """Wrap the group-commit writer to record (batch size, seconds) per transaction."""
    original = batch.write_batch

    def timed(store, reqs):
        t0 = time.perf_counter()
        try:
            return original(store, reqs)
        finally:
            log.append((len(reqs), time.perf_counter() - t0))

    return original, timed


def run_backend(url: str, config: Path, participants: int, trials: int, burst: bool = False, **store_kwargs) -> dict[str, float]:
    """``burst``: every round, all participants vote at the same instant (a barrier before each
    vote; the next-trial read happens before it). Otherwise each participant reads and votes
    in a closed loop as fast as it can, so latency = participants / throughput (Little's law)."""
    cfg = yaml.safe_load(config.read_text())
    cfg["trials_per_participant"] = trials
    config.write_text(yaml.safe_dump(cfg))
    with contextlib.redirect_stdout(io.StringIO()):
        init_study(StudyInitConfig(config=str(config), db=url, check_videos=False))
    store = Store(url, pool_size=participants, **store_kwargs)
    timed_lock = None
    batches: list[tuple[int, float]] = []
    original, timed = timed_batches(batches)
    if store._batcher is None and store.is_sqlite:
        timed_lock = store._write_lock = TimedLock(store._write_lock)
    batch.write_batch = timed
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
                if burst:
                    start.wait()
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
        batch.write_batch = original
        store.close()
    w = np.array(writes) * 1000
    r = np.array(reads) * 1000
    out = {"votes": len(w), "p50": np.percentile(w, 50), "p99": np.percentile(w, 99), "max": w.max(),
           "read_p50": np.percentile(r, 50), "votes_per_s": len(w) / wall}
    if timed_lock is not None:  # (the lock also serialises joins; these are all its writes)
        waits, holds = np.array(timed_lock.waits) * 1000, np.array(timed_lock.holds) * 1000
        out["where"] = (f"lock wait p50 {np.percentile(waits, 50):.1f} / p99 {np.percentile(waits, 99):.1f} ms, "
                        f"transaction p50 {np.percentile(holds, 50):.1f} / p99 {np.percentile(holds, 99):.1f} ms")
    if batches:
        sizes, secs = np.array([b[0] for b in batches]), np.array([b[1] for b in batches]) * 1000
        out["where"] = (f"{len(batches)} transactions, batch size mean {sizes.mean():.1f} / max {sizes.max()}, "
                        f"batch time p50 {np.percentile(secs, 50):.1f} / p99 {np.percentile(secs, 99):.1f} ms")
    return out


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
    ap.add_argument("--switch-interval-ms", type=float, default=None,
                    help="Python's GIL switch interval (default 5 ms): shows how much of the burst p99 is threads waiting for the GIL")
    args = ap.parse_args()
    if args.switch_interval_ms:
        import sys

        sys.setswitchinterval(args.switch_interval_ms / 1000)
    n = args.participants
    rows: list[tuple[str, int, dict]] = []
    with tempfile.TemporaryDirectory(prefix="vote-latency-") as tmp:
        root = Path(tmp)
        config = make_study_files(root, args.samples, args.methods)
        old, new = {"batch_votes": False}, {"batch_votes": True}
        cases = [("sqlite wal, old", 1, old), ("sqlite wal, old", n, old), ("sqlite wal, new", 1, new), ("sqlite wal, new", n, new),
                 ("old, burst", n, {**old, "burst": True}), ("new, burst", n, {**new, "burst": True}),
                 ("sqlite delete, old", n, {"journal_mode": "delete", **old})]
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

    head = f"{'backend, write path':<22} {'participants':>12} {'votes':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'read p50':>9} {'votes/s':>8}"
    print(head)
    print("-" * len(head))
    for name, k, r in rows:
        print(f"{name:<22} {k:>12} {r['votes']:>6} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.1f} {r['read_p50']:>9.2f} {r['votes_per_s']:>8.0f}")
    print("\nwhere the write time goes:")
    for name, k, r in rows:
        if "where" in r:
            print(f"  {name:<20} {k:>3}: {r['where']}")
    get = {(name, k): r for name, k, r in rows}
    old1, oldn, new1, newn = (get[(f"sqlite wal, {w}", k)] for w in ("old", "new") for k in (1, n))
    dele = get[("sqlite delete, old", n)]
    ob, nb = get[("old, burst", n)], get[("new, burst", n)]
    print(f"\nburst (all {n} vote at the same instant, {args.trials} rounds): new / old p50 x{nb['p50'] / ob['p50']:.2f}, "
          f"p99 x{nb['p99'] / ob['p99']:.2f}  (old p99 {ob['p99']:.0f} ms -> new p99 {nb['p99']:.0f} ms)")
    print(f"\nratios (same run): new / old at {n}: p50 x{newn['p50'] / oldn['p50']:.2f}, p99 x{newn['p99'] / oldn['p99']:.2f}, "
          f"throughput x{newn['votes_per_s'] / oldn['votes_per_s']:.2f}; alone: p50 x{new1['p50'] / old1['p50']:.2f}")
    print(f"                   old path, {n} at once / alone: p50 x{oldn['p50'] / old1['p50']:.1f}, p99 x{oldn['p99'] / old1['p99']:.1f}")
    print(f"                   delete-journal / WAL at {n} (old path): p50 x{dele['p50'] / oldn['p50']:.2f}, p99 x{dele['p99'] / oldn['p99']:.2f}, "
          f"throughput x{dele['votes_per_s'] / oldn['votes_per_s']:.2f}")
    waln = newn
    if ("postgresql", n) in get:
        pg = get[("postgresql", n)]
        print(f"                   postgresql / sqlite WAL at {n}: p50 x{pg['p50'] / waln['p50']:.2f}, p99 x{pg['p99'] / waln['p99']:.2f}, "
              f"throughput x{pg['votes_per_s'] / waln['votes_per_s']:.2f}")


if __name__ == "__main__":
    main()
