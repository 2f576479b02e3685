"""Pool workers exit with their parent: ``kill -9`` of ``void simulate --workers 2`` leaves no
worker running (and nothing more is written into the dataset folder)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")


def _alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie waits for whichever process adopts it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _workers_of(parent: int) -> list[int]:
    """Pool workers (spawned children running ``spawn_main``) of ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _samples(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir()) if out.is_dir() else []


def test_kill_9_of_simulate_leaves_no_worker(tmp_path):
    out = tmp_path / "data"
    # 64x64x24 samples take seconds each, so a worker that outlived its parent would still
    # be busy (and writing) when the check below runs.
    cmd = [sys.executable, "-m", "void", "simulate", "--workers", "2", "--num-samples", "12",
           "--resolution", "64x64", "--frames", "24", "--out", str(out), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.2)
            workers = _workers_of(parent.pid)
        assert len(workers) == 2, "the two pool workers never started"
        time.sleep(1.0)  # let them get into their first samples
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        killed_at = time.monotonic()
        while any(_alive(w) for w in workers) and time.monotonic() - killed_at < 5.0:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "workers outlived their parent"
        written = _samples(out)
        time.sleep(2.0)
        assert _samples(out) == written, "samples were still being written after the parent died"
    finally:
        if parent.poll() is None:
            parent.kill()
        for w in workers:  # only if the test failed: do not leave them running
            try:
                os.kill(w, signal.SIGKILL)
            except OSError:
                pass
