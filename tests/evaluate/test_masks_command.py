"""`void masks command`: an outside mask tool run per clip, its output checked."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from evaluate.baselines.command import CommandError
from evaluate.masks import baselines
from evaluate.masks.config import MaskCommandConfig
from evaluate.masks.run import run_mask_command
from evaluate.masks.task import MaskTaskError, iter_mask_inputs, load_prediction
from void import formats
from void.errors import ConfigError

TOOL = Path(__file__).resolve().parent / "mask_tool.py"


def _cmd(*extra: str) -> str:
    return f"{sys.executable} {TOOL} --masks {{masks}} --out {{out}} " + " ".join(extra)


def _run(data, pred, cmd, **kw):
    return run_mask_command(MaskCommandConfig(cmd=cmd, input=str(data), out=str(pred), method="tool", progress=False, **kw))


def test_command_output_is_the_prediction(toy_dataset, tmp_path):
    pred = tmp_path / "pred"
    assert _run(toy_dataset, pred, _cmd()) == 0
    for inp in iter_mask_inputs(toy_dataset):
        frames, obj, _ = inp.load()
        got = load_prediction(formats.prediction_path(pred, "tool", inp.sample_id), obj.shape)
        # the tool's 1-pixel ring is the dilated baseline with dilate_px=1
        assert np.array_equal(got, baselines.dilated(obj, 1))
    run = formats.read_run_json(pred, "tool")
    assert run["num_samples"] == 2 and run["samples"]["toy_0000"]["command_wall_time_s"] > 0
    assert not (pred / "tool" / ".work").exists()


@pytest.mark.parametrize(
    "extra, error, needle",
    [
        (("--value", "100"), MaskTaskError, "values other than the quadmask's four"),
        (("--drop", "2"), CommandError, "the command wrote 6 frames, the input has 8"),
        (("--sleep", "5"), CommandError, "did not finish within --timeout-s 1"),
    ],
)
def test_bad_output_is_refused_naming_the_clip(toy_dataset, tmp_path, extra, error, needle):
    # 1 s for the tool that sleeps; the others get time to start Python on a loaded machine
    timeout = 1.0 if "--sleep" in extra else 120.0
    with pytest.raises(error) as err:
        _run(toy_dataset, tmp_path / "pred", _cmd(*extra), timeout_s=timeout)
    assert needle in str(err.value) and "toy_0000" in str(err.value)
    assert not formats.prediction_path(tmp_path / "pred", "tool", "toy_0000").exists()


def test_placeholders_are_checked():
    with pytest.raises(ConfigError, match=r"unknown placeholder\(s\) \{mask\}"):
        MaskCommandConfig(cmd="tool {mask} {out}", input="x", out="y", method="t")
    with pytest.raises(ConfigError, match=r"must contain \{out\}"):
        MaskCommandConfig(cmd="tool {masks}", input="x", out="y", method="t")
