"""Run independent tasks on one machine (process pool) or a Ray cluster, with a progress bar.

Both ``simulate`` and ``evaluate`` use this. A task is ``fn(task)`` with ``fn`` a module-level
function and ``task`` picklable; results come back as they finish. A failed task is retried
up to ``retries`` times and then reported in its :class:`TaskResult`, never dropped. Ray is
imported here only, and only for ``executor="ray"``.

Pool workers exit with their parent, however it ends: a parent killed with ``kill -9`` runs
no cleanup, and workers left behind would keep writing samples into its output folder. On
Linux the kernel delivers SIGKILL to a worker whose parent dies (``PR_SET_PDEATHSIG``);
everywhere, a watchdog thread in each worker exits once its parent process is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from void import deps
from void.constants import EXECUTORS  # noqa: F401 (re-exported)


@dataclass
class TaskResult:
    index: int
    task: Any
    value: Any = None
    error: str | None = None  # formatted traceback of the last attempt
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


def _call(fn: Callable, task: Any) -> tuple[bool, Any]:
    try:
        return True, fn(task)
    except Exception:  # reported to the parent, which decides on retries
        return False, traceback.format_exc()


WATCHDOG_PERIOD_S = 0.5
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: end this process when ``parent_pid`` ends."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl (unusual libc): the watchdog still runs
            pass
    # The parent may have died before prctl took effect; then the kernel sends nothing.
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_PERIOD_S)
            if os.getppid() != parent_pid:  # re-parented: the parent is gone
                os._exit(1)

    threading.Thread(target=watch, name="void-parent-watchdog", daemon=True).start()


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="task", disable=not enabled, dynamic_ncols=True, smoothing=0.1)


def run_tasks(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    executor: str = "local",
    workers: int = 1,
    ray_address: str | None = None,
    retries: int = 1,
    desc: str = "tasks",
    progress: bool = True,
    unit: str = "task",
) -> Iterator[TaskResult]:
    """Yield a :class:`TaskResult` per task, in completion order.

    ``workers=1`` with the local executor runs in this process (easy to debug, no pickling).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; expected one of {EXECUTORS}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    tasks = list(tasks)
    if not tasks:
        return
    bar = _progress(len(tasks), desc, progress)
    bar.unit = unit
    try:
        if executor == "ray":
            gen = _run_ray(fn, tasks, workers, ray_address, retries)
        elif workers == 1:
            gen = _run_inline(fn, tasks, retries)
        else:
            gen = _run_pool(fn, tasks, workers, retries)
        for result in gen:
            bar.update(1)
            if not result.ok:
                bar.write(f"[{desc}] task {result.index} failed after {result.attempts} attempt(s)")
            yield result
    finally:
        bar.close()


def _run_inline(fn, tasks, retries) -> Iterator[TaskResult]:
    for i, task in enumerate(tasks):
        for attempt in range(1, retries + 2):
            ok, value = _call(fn, task)
            if ok:
                yield TaskResult(i, task, value=value, attempts=attempt)
                break
        else:
            yield TaskResult(i, task, error=value, attempts=retries + 1)


def _run_pool(fn, tasks, workers, retries) -> Iterator[TaskResult]:
    # spawn, not fork: workers create GL contexts, torch thread pools and Blender state, none
    # of which survive a fork of a parent that may already hold them.
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_die_with_parent, initargs=(os.getpid(),))
    with pool:
        attempts = {}
        pending = {}
        for i, task in enumerate(tasks):
            pending[pool.submit(_call, fn, task)] = i
            attempts[i] = 1
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    ok, value = fut.result()
                except Exception:  # a worker died (killed, out of memory)
                    ok, value = False, traceback.format_exc()
                if ok:
                    yield TaskResult(i, tasks[i], value=value, attempts=attempts[i])
                elif attempts[i] <= retries:
                    attempts[i] += 1
                    pending[pool.submit(_call, fn, tasks[i])] = i
                else:
                    yield TaskResult(i, tasks[i], error=value, attempts=attempts[i])


def _run_ray(fn, tasks, workers, address, retries) -> Iterator[TaskResult]:
    ray = deps.require("ray")
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_call)
        attempts = {i: 1 for i in range(len(tasks))}
        pending = {remote.remote(fn, task): i for i, task in enumerate(tasks)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                i = pending.pop(ref)
                try:
                    ok, value = ray.get(ref)
                except Exception:  # the worker process died
                    ok, value = False, traceback.format_exc()
                if ok:
                    yield TaskResult(i, tasks[i], value=value, attempts=attempts[i])
                elif attempts[i] <= retries:
                    attempts[i] += 1
                    pending[remote.remote(fn, tasks[i])] = i
                else:
                    yield TaskResult(i, tasks[i], error=value, attempts=attempts[i])
    finally:
        if started:
            ray.shutdown()


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 2))
