import math

import pytest

from void.executors import run_tasks


def test_inline_results_and_failures_are_reported():
    results = sorted(run_tasks(math.sqrt, [4.0, -1.0, 9.0], retries=1, progress=False), key=lambda r: r.index)
    assert [r.value for r in results if r.ok] == [2.0, 3.0]
    bad = results[1]
    assert not bad.ok and bad.attempts == 2 and "math domain error" in bad.error


def test_retries_recover_a_flaky_task():
    calls = {"n": 0}

    def flaky(x):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient")
        return x * 2

    (result,) = run_tasks(flaky, [21], retries=2, progress=False)
    assert result.ok and result.value == 42 and result.attempts == 2


def test_process_pool_matches_inline():
    tasks = [float(i) for i in range(8)] + [-1.0]
    pool = {r.index: (r.value, r.ok) for r in run_tasks(math.sqrt, tasks, workers=2, retries=0, progress=False)}
    inline = {r.index: (r.value, r.ok) for r in run_tasks(math.sqrt, tasks, workers=1, retries=0, progress=False)}
    assert pool.keys() == inline.keys()
    for i in pool:
        assert pool[i][1] == inline[i][1]
        if pool[i][1]:
            assert pool[i][0] == inline[i][0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="executor"):
        list(run_tasks(math.sqrt, [1.0], executor="slurm"))
    with pytest.raises(ValueError, match="workers"):
        list(run_tasks(math.sqrt, [1.0], workers=0))
