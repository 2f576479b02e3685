"""The command baseline, driving a small stand-in remover (grey_remover.py) as a real child
process: layout, collection, validation, failures, timeout, resource accounting."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ev_support import baseline, grey_cmd, moving_square_video, write_void_seq

from evaluate.baselines.command import CommandError
from evaluate.config import BaselineConfig
from evaluate.metrics.fidelity import psnr
from void import formats, video
from void.app import cli


@pytest.fixture
def void_root(tmp_path):
    """12 frames (so '10.png' must sort after '9.png'), in VOID's inference layout."""
    vid, mask, _ = moving_square_video(frames=12, size=24)
    write_void_seq(tmp_path / "in", "square", vid, mask)
    return tmp_path / "in"


def test_command_output_is_collected_in_order_and_recorded(void_root, tmp_path):
    pred = tmp_path / "pred"
    folder = baseline("command", void_root, pred, method="grey", cmd=grey_cmd(), dilate_px=0)
    src = video.read_video(void_root / "square" / formats.VOID_INPUT)
    mask = video.read_mask(void_root / "square" / "quadmask_0.mp4")
    out = video.read_video(folder / "square.mp4")
    assert out.shape == src.shape
    expected = src.copy()
    expected[mask == 0] = 128  # what the tool does: the object painted grey
    assert psnr(out, expected) > 28
    assert psnr(out, expected) > psnr(out, src) + 5
    # frame order survived the tool's unpadded names (0, 1, ..., 9, 10, 11)
    assert psnr(out, expected) > psnr(out, expected[::-1]) + 5
    run = json.loads((folder / formats.RUN_JSON).read_text())
    rec = run["samples"]["square"]
    assert rec["frames"] == 12 and rec["command_wall_time_s"] > 0
    assert 5 < rec["peak_memory_mb"] < 2000  # a Python child with numpy and OpenCV
    assert run["peak_memory_source"].startswith("peak RSS of the command")
    assert not (folder / ".work").exists()  # cleaned up after success


def test_command_writing_one_video_works(void_root, tmp_path):
    folder = baseline("command", void_root, tmp_path / "pred", method="grey", cmd=grey_cmd("--video"))
    assert video.read_video(folder / "square.mp4").shape == (12, 24, 24, 3)


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--fail",), r"exited with status 3(.|\n)*CUDA out of memory \(pretend\)"),
        (("--drop", "2"), r"wrote 10 frames, the input has 12"),
    ],
)
def test_command_failures_name_the_sample_command_and_stderr(void_root, tmp_path, extra, message):
    with pytest.raises(CommandError, match=message) as info:
        baseline("command", void_root, tmp_path / "pred", method="grey", cmd=grey_cmd(*extra))
    text = str(info.value)
    assert text.startswith("sample square:") and "grey_remover.py" in text
    assert not (tmp_path / "pred" / "grey" / "square.mp4").exists()


def test_command_timeout_kills_the_child(void_root, tmp_path):
    with pytest.raises(CommandError, match=r"did not finish within --timeout-s 0.5"):
        baseline("command", void_root, tmp_path / "pred", method="grey", cmd=grey_cmd("--sleep", "30"), timeout_s=0.5)


def test_command_through_the_cli(void_root, tmp_path, capsys):
    pred = tmp_path / "pred"
    cmd = grey_cmd()
    rc = cli.main(["baseline", "command", "--name", "grey", "--input", str(void_root), "--out", str(pred), "--cmd", cmd, "--no-progress"])
    assert rc == 0 and (pred / "grey" / "square.mp4").is_file()
    rc = cli.main(["baseline", "command", "--name", "grey2", "--input", str(void_root), "--out", str(pred), "--cmd", grey_cmd("--fail"), "--no-progress"])
    assert rc == 2
    assert "sample square: the command exited with status 3" in capsys.readouterr().err


def test_placeholders_are_shell_quoted(tmp_path):
    vid, mask, _ = moving_square_video(frames=3, size=16)
    root = tmp_path / "in with space"
    write_void_seq(root, "s", vid, mask)
    cfg = BaselineConfig(name="command", input=str(root), out=str(tmp_path / "p r e d"), method="grey", cmd=grey_cmd(), progress=False)
    from evaluate.baselines import run_baseline

    assert run_baseline(cfg) == 0
    assert (tmp_path / "p r e d" / "grey" / "s.mp4").is_file()
