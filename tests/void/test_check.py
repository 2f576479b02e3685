import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from toydata import make_toy_dataset
from void import check, formats, video


@pytest.fixture()
def dataset(tmp_path):
    return make_toy_dataset(tmp_path / "ds", n=2, frames=6, size=32)


def problems(path):
    return check.run_checks(path).problems


def test_good_dataset_passes(dataset):
    report = check.run_checks(dataset)
    assert report.ok, report.problems
    assert report.checked == 2 and report.layout == "void-bench dataset"


def test_void_inference_layout_passes(void_samples):
    report = check.run_checks(void_samples)
    assert report.ok, report.problems
    assert report.layout == "VOID inference layout"


def test_missing_file(dataset):
    (dataset / "toy_0000" / formats.RGB_REMOVED).unlink()
    assert any("toy_0000/rgb_removed.mp4: missing file" in p for p in problems(dataset))


def test_corrupt_video(dataset):
    path = dataset / "toy_0001" / formats.RGB_FULL
    path.write_bytes(path.read_bytes()[:300])
    assert any("toy_0001/rgb_full.mp4" in p and "corrupt" in p for p in problems(dataset))


def test_mask_values_outside_the_four(dataset):
    bad = np.full((6, 32, 32), 255, np.uint8)
    bad[:, :4, :4] = 100
    path = dataset / "toy_0000" / formats.MASK
    video._write(path, bad, 12, "gray", "libx264", ["-qp", "0", "-color_range", "pc"], "gray")
    assert any("toy_0000/mask.mp4: mask values outside" in p and "100" in p for p in problems(dataset))


def test_frame_count_and_size_mismatch(dataset):
    video.write_video(dataset / "toy_0000" / formats.RGB_HIDDEN, np.zeros((4, 32, 32, 3), np.uint8), 12)
    video.write_video(dataset / "toy_0001" / formats.RGB_HIDDEN, np.zeros((6, 32, 48, 3), np.uint8), 12)
    found = problems(dataset)
    assert any("toy_0000: frame-count mismatch" in p and "hidden 4" in p for p in found)
    assert any("toy_0001: size mismatch" in p for p in found)


def test_manifest_entry_without_folder(dataset):
    manifest = json.loads((dataset / formats.MANIFEST).read_text())
    manifest.append({"file_path": "ds/ghost", "text": "x", "type": "video_mask_tuple"})
    (dataset / formats.MANIFEST).write_text(json.dumps(manifest))
    assert any("entry 2" in p and "ds/ghost not found" in p for p in problems(dataset))


def test_void_layout_missing_prompt(void_samples, tmp_path):
    seq = tmp_path / "root" / "BigBen"
    shutil.copytree(void_samples / "BigBen", seq)
    (seq / "prompt.json").unlink()
    assert any("prompt.json" in p and "missing prompt" in p for p in problems(tmp_path / "root"))


def test_cli_exit_status(dataset, tmp_path):
    ok = subprocess.run([sys.executable, "-m", "void.app.cli", "check", str(dataset)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    shutil.rmtree(dataset / "toy_0001")
    bad = subprocess.run([sys.executable, "-m", "void.app.cli", "check", str(dataset)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "toy_0001 not found" in bad.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = subprocess.run([sys.executable, "-m", "void.app.cli", "check", str(empty)], capture_output=True, text=True)
    assert none.returncode == 1 and "not a dataset" in none.stderr
