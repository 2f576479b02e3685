"""The generator as a job: determinism across workers, resume after a kill, failures, arguments."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pybullet")
pytest.importorskip("moderngl")

from simulate.config import SimulateConfig  # noqa: E402
from simulate.config import FAMILIES  # noqa: E402
from simulate.generate import generate  # noqa: E402
from void import formats  # noqa: E402
from void.errors import ConfigError  # noqa: E402

BINARY = [formats.MASK, formats.TRAJECTORIES, *formats.LOSSLESS.values(), *formats.H264.values()]


def _metadata_without_timings(path: Path) -> dict:
    meta = json.loads(path.read_text())
    meta.pop("timings_cpu_s")
    return meta


def assert_same_samples(a: Path, b: Path) -> None:
    """Byte-identical sample files (metadata equal but for the CPU timings); ``b`` may hold
    the first few samples of ``a``."""
    ids_a, ids_b = formats.Dataset(a).sample_ids(), formats.Dataset(b).sample_ids()
    assert ids_b and ids_a[: len(ids_b)] == ids_b
    for sid in ids_b:
        for name in BINARY:
            assert (a / sid / name).read_bytes() == (b / sid / name).read_bytes(), f"{sid}/{name}"
        assert _metadata_without_timings(a / sid / formats.METADATA) == _metadata_without_timings(b / sid / formats.METADATA)
    ma, mb = (json.loads((p / formats.MANIFEST).read_text()) for p in (a, b))
    assert [e["text"] for e in ma[: len(mb)]] == [e["text"] for e in mb]


def test_same_seed_gives_identical_samples_for_one_or_two_workers(tiny_dataset, make_config, tmp_path):
    # same directory name, so manifest file_paths agree too
    out = tmp_path / tiny_dataset.name
    assert generate(make_config(out, workers=2)) == 0
    assert_same_samples(tiny_dataset, out)
    traj_a = formats.Dataset(tiny_dataset).sample(formats.Dataset(out).sample_ids()[0]).trajectories()
    traj_b = formats.Dataset(out).sample(formats.Dataset(out).sample_ids()[0]).trajectories()
    for key in ("full", "removed", "object_ids"):
        np.testing.assert_array_equal(traj_a[key], traj_b[key])


def test_rerun_skips_complete_samples_and_cleans_partials(tiny_dataset, make_config, tmp_path, capsys):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(tiny_dataset, out)
    victim = formats.Dataset(out).sample_ids()[1]
    shutil.rmtree(out / victim)
    (out / f".{victim}.partial-abc123").mkdir()
    (out / f".{victim}.partial-abc123" / "rgb_full.mp4").write_bytes(b"half")
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")}
    assert generate(make_config(out)) == 0
    report = capsys.readouterr().out
    assert f"1 new, {len(FAMILIES) - 1} already there, 1 partial leftovers removed" in report
    assert not list(out.glob(".*partial*"))
    for name, mtime in before.items():
        assert (out / name).stat().st_mtime_ns == mtime  # untouched
    assert_same_samples(tiny_dataset, out)


def _complete(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if formats.is_complete(p)} if out.is_dir() else set()


def test_resume_after_the_run_is_killed(make_config, tmp_path):
    out = tmp_path / "killed"
    args = ["--out", str(out), "--num-samples", "6", "--seed", "3", "--resolution", "32x32", "--frames", "8",
            "--workers", "1", "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "void.app.cli", "simulate", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while len(_complete(out)) < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    killed_with = _complete(out)
    assert 2 <= len(killed_with) < 6
    manifest = json.loads((out / formats.MANIFEST).read_text())
    listed = {Path(e["file_path"]).name for e in manifest}
    assert listed <= killed_with  # never a sample that is not complete
    assert generate(make_config(out, num_samples=6, seed=3)) == 0
    manifest = json.loads((out / formats.MANIFEST).read_text())
    assert [Path(e["file_path"]).name for e in manifest] == sorted(_complete(out))
    assert len(manifest) == 6 and not list(out.glob(".*partial*"))
    header = json.loads((out / formats.HEADER).read_text())
    assert header["counts"] == {**header["counts"], "complete": 6, "failed": 0, "pending": 0}


def test_degenerate_samples_are_reported_and_fail_the_run(make_config, tmp_path, capsys):
    # 2 frames at 60 fps: nothing can touch anything in 1/30 s, so every draw is rejected
    out = tmp_path / "fail"
    code = generate(make_config(out, num_samples=2, frames=2, fps=60, families=["collision", "occlusion"], max_attempts=2))
    assert code == 1
    header = json.loads((out / formats.HEADER).read_text())
    failed = [f["sample_id"] for f in header["failures"]]
    assert "000000_collision" in failed
    assert header["counts"]["failed"] == len(failed)
    assert sum(header["rejections"].values()) >= 2
    listed = [e["file_path"] for e in json.loads((out / formats.MANIFEST).read_text())]
    assert not any(f in p for f in failed for p in listed)
    assert "FAILED" in capsys.readouterr().out


def test_resume_refuses_a_dataset_made_with_other_settings(tiny_dataset, make_config):
    with pytest.raises(ConfigError, match="resolution"):
        generate(make_config(tiny_dataset, resolution=(64, 64)))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"num_samples": -3}, "--num-samples"),
        ({"families": ["collision", "juggling"]}, "unknown family juggling"),
        ({"resolution": "33x32"}, "--resolution"),
        ({"resolution": "big"}, "WxH"),
        ({"frames": 1}, "--frames"),
    ],
)
def test_bad_arguments_raise_a_config_error(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        SimulateConfig(**{"out": str(tmp_path / "d"), **overrides})


def test_unwritable_output_is_a_config_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        SimulateConfig(out=str(blocker / "data"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--num-samples", "-1"], "--num-samples"),
        (["--families", "collision,nope"], "unknown family nope"),
        (["--out", "{file}/sub"], "not a directory"),
    ],
)
def test_cli_exits_2_with_a_clear_message(tmp_path, args, message):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    args = [a.replace("{file}", str(blocker)) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "d")]
    res = subprocess.run([sys.executable, "-m", "void.app.cli", "simulate", *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr


@pytest.mark.ray
def test_ray_executor_writes_the_same_dataset(tiny_dataset, make_config, tmp_path):
    """A local Ray instance (slow to start: kept to one small run) against the in-process run."""
    pytest.importorskip("ray")
    out = tmp_path / "ray"
    assert generate(make_config(out, num_samples=2, workers=2, executor="ray")) == 0
    assert_same_samples(tiny_dataset, out)


def test_cycles_threads_share_the_cores(make_config, tmp_path):
    """``--threads 0``: each worker gets its share of the cores; a Ray task its one CPU."""
    from simulate.pipeline import render_threads

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert render_threads(make_config(tmp_path, workers=1)) == cores
    assert render_threads(make_config(tmp_path, workers=2 * cores)) == 1
    assert render_threads(make_config(tmp_path, workers=1, executor="ray")) == 1
    assert render_threads(make_config(tmp_path, workers=1, threads=3)) == 3
    with pytest.raises(ConfigError, match="--threads"):
        make_config(tmp_path, threads=-1)
