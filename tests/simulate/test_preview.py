"""``void preview``: side-by-side videos and contact sheets of dataset samples."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pybullet")

from simulate.config import PreviewConfig  # noqa: E402
from simulate.preview import preview  # noqa: E402
from void import formats, quadmask, video  # noqa: E402


def test_void_preview_writes_video_and_contact_sheet(tiny_dataset, tmp_path):
    from PIL import Image

    sid = formats.Dataset(tiny_dataset).sample_ids()[0]
    out = tmp_path / "prev"
    res = subprocess.run(
        [sys.executable, "-m", "void.app.cli", "preview", str(tiny_dataset), sid, "--out", str(out), "--sheet-frames", "3"],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    frames = video.read_video(out / f"{sid}.mp4")
    sample = formats.Dataset(tiny_dataset).sample(sid).load()
    T, H, W, _ = sample.full.shape
    assert frames.shape[0] == T and frames.shape[2] == 4 * W and frames.shape[1] > H
    sheet = np.asarray(Image.open(out / f"{sid}.png"))
    assert sheet.shape[1] == 4 * W and sheet.shape[0] > 3 * H
    # the mask panel shows the false colours of the mask (exact in the lossless PNG)
    colours = {tuple(c) for c in sheet.reshape(-1, 3)}
    present = [v for v in quadmask.VALUES if (sample.mask == v).any()]
    assert all(quadmask.PALETTE[v] in colours for v in present)


def test_preview_defaults_to_the_first_samples_under_the_dataset(tiny_dataset):
    assert preview(PreviewConfig(dataset=str(tiny_dataset), max_samples=1)) == 0
    written = sorted(p.name for p in (tiny_dataset / "preview").iterdir())
    first = formats.Dataset(tiny_dataset).sample_ids()[0]
    assert written == [f"{first}.mp4", f"{first}.png"]


def test_preview_of_an_unknown_sample_exits_2(tiny_dataset, tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "void.app.cli", "preview", str(tiny_dataset), "no_such_sample", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 2 and "no_such_sample" in res.stderr
