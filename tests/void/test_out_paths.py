"""Every command with ``--out`` checks it before any work: an existing file or a folder it
cannot write to stops the command with exit 2 and one line naming the path.

Inputs are real (a toy dataset, a predictions folder holding a method), so only the ``--out``
check stands between each command and its work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from void import formats

ROOT = Path(__file__).resolve().parents[2]


def _cannot_create_in(folder: Path) -> bool:
    try:
        fd, name = tempfile.mkstemp(dir=folder)
    except OSError:
        return True
    os.close(fd)
    os.unlink(name)
    return False


@pytest.fixture
def read_only_folder(tmp_path) -> Path:
    """A folder in which this process really cannot create a file.

    A mode-0555 folder for an ordinary user. Root ignores permission bits, so as root the
    folder is writable and the test takes a filesystem that refuses new files to everyone
    (sysfs, procfs) - checked by trying, never assumed.
    """
    ro = tmp_path / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    for cand in (ro, Path("/sys"), Path("/proc")):
        if cand.is_dir() and _cannot_create_in(cand):
            yield cand
            break
    else:
        pytest.skip("no folder this user cannot write to (root without sysfs or procfs)")
    ro.chmod(0o755)


@pytest.fixture(scope="module")
def inputs(toy_dataset, tmp_path_factory) -> dict[str, Path]:
    pred = tmp_path_factory.mktemp("pred")
    ds = formats.Dataset(toy_dataset)
    (pred / "identity").mkdir()
    for sid in ds.sample_ids():
        (pred / "identity" / f"{sid}.mp4").write_bytes(ds.sample(sid).video_path("full").read_bytes())
    results = tmp_path_factory.mktemp("results")
    return {"data": toy_dataset, "pred": pred, "results": results}


COMMANDS = {
    "simulate": lambda p: ["simulate", "--num-samples", "2", "--resolution", "32x32", "--frames", "8"],
    "preview": lambda p: ["preview", str(p["data"])],
    "train": lambda p: ["train", "--data", str(p["data"])],
    "infer": lambda p: ["infer", "--model", str(p["data"]), "--input", str(p["data"])],
    "baseline": lambda p: ["baseline", "identity", "--input", str(p["data"])],
    "evaluate": lambda p: ["evaluate", "--data", str(p["data"]), "--pred", str(p["pred"])],
    "leaderboard": lambda p: ["leaderboard", "--results", str(p["results"])],
    "quickstart": lambda p: ["quickstart"],
    "study analyze": lambda p: ["study", "analyze", "--db", "sqlite:///" + str(p["results"] / "none.db")],
    "export": lambda p: ["export", str(p["data"])],
    "masks predict": lambda p: ["masks", "predict", "--input", str(p["data"])],
    "masks baseline": lambda p: ["masks", "baseline", "dilated", "--input", str(p["data"])],
    "masks command": lambda p: ["masks", "command", "--name", "tool", "--cmd", "true {out}", "--input", str(p["data"])],
}


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "void", *args], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_is_an_existing_file(command, inputs, tmp_path):
    out = tmp_path / "taken.txt"
    out.write_text("keep me")
    res = _run([*COMMANDS[command](inputs), "--out", str(out)])
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and "is a file" in lines[0], res.stderr
    assert out.read_text() == "keep me"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_is_a_read_only_folder(command, inputs, read_only_folder):
    before = sorted(os.listdir(read_only_folder)) if read_only_folder.name == "read-only" else None
    res = _run([*COMMANDS[command](inputs), "--out", str(read_only_folder)])
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and str(read_only_folder) in lines[0] and "not writable" in lines[0], res.stderr
    if before is not None:
        assert sorted(os.listdir(read_only_folder)) == before


def test_a_new_folder_under_a_read_only_one_is_refused(inputs, read_only_folder):
    out = read_only_folder / "new" / "deeper"
    res = _run([*COMMANDS["evaluate"](inputs), "--out", str(out)])
    assert res.returncode == 2
    assert res.stderr.strip() == f"void evaluate: error: --out {out}: {read_only_folder} is not writable"


@pytest.mark.parametrize("flag", ["--data", "--pred"])
def test_a_file_given_as_an_input_folder(flag, inputs, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    args = {"--data": str(inputs["data"]), "--pred": str(inputs["pred"]), flag: str(blocker)}
    res = _run(["evaluate", *(v for kv in args.items() for v in kv), "--out", str(tmp_path / "r")])
    assert res.returncode == 2
    assert res.stderr.strip() == f"void evaluate: error: {flag} {blocker}: is a file, expected a folder"
