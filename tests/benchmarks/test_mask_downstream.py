"""The table of benchmarks/mask_downstream.py: intervals per mask source and paired differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.mask_downstream import COLUMNS, intervals, paired, table_markdown


def _rows(label: str, values: dict[str, list[float]]) -> list[dict]:
    rows = []
    for metric, region, _ in COLUMNS:
        for i, v in enumerate(values[f"{metric}/{region}"]):
            rows.append({"method": label, "sample_id": f"{i:06d}", "metric": metric, "region": region, "value": v})
    return rows


def _frame() -> pd.DataFrame:
    true = {"iou/affected": [1, 1, 1, 1], "cf_win/all": [1, 1, 0, np.nan], "cf_margin/all": [0.4, 0.2, -0.1, np.nan],
            "psnr/removed": [20, 22, 24, 26], "psnr/affected": [18, 19, 20, 21]}
    # local: 2 dB lower everywhere, loses clip 1's CF; clip 3 has no CF value for either
    local = {"iou/affected": [0.5, 0.2, 0.0, 0.3], "cf_win/all": [1, 0, 0, np.nan], "cf_margin/all": [0.3, -0.2, -0.1, np.nan],
             "psnr/removed": [18, 20, 22, 24], "psnr/affected": [16, 17, 18, 19]}
    return pd.DataFrame(_rows("true", true) + _rows("local", local))


def test_intervals_are_means_over_defined_clips_and_contain_them():
    iv = intervals(_frame(), ["true", "local"], resamples=500)
    assert iv["true"]["iou/affected"] == (1.0, 1.0, 1.0, 4)
    mean, lo, hi, n = iv["true"]["cf_win/all"]
    assert (mean, n) == (pytest.approx(2 / 3), 3)  # the NaN clip is left out, not counted as a loss
    assert lo <= mean <= hi
    assert iv["local"]["psnr/removed"][0] == pytest.approx(21.0)


def test_paired_difference_is_per_clip_and_its_interval_width_follows_the_spread():
    d = paired(_frame(), "true", ["local"], resamples=500)["local"]
    # every clip is exactly 2 dB better with the true mask: a zero-width interval at +2
    assert d["psnr/removed"] == pytest.approx((2.0, 2.0, 2.0, 4))
    mean, lo, hi, n = d["cf_margin/all"]
    assert n == 3 and mean == pytest.approx((0.1 + 0.4 + 0.0) / 3)
    assert lo <= mean <= hi and hi - lo > 0
    assert "iou/affected" not in d  # the mask's own score is not a downstream difference


def test_table_lists_every_source_and_difference():
    df = _frame()
    text = table_markdown(intervals(df, ["true", "local"], resamples=200), paired(df, "true", ["local"], resamples=200))
    lines = text.splitlines()
    assert lines[0].startswith("| masks | mask IoU affected | CF win rate")
    assert lines[2].startswith("| true | 1.000 [1.000, 1.000] |")
    assert any(line.startswith("| local | +0.333 [") for line in lines)  # CF win rate: 2/3 - 1/3
    assert "over 4 test clips" in text


def test_a_column_undefined_on_some_clips_says_on_how_many():
    df = _frame()
    header = table_markdown(intervals(df, ["true", "local"], resamples=200), paired(df, "true", ["local"], resamples=200)).splitlines()[0]
    assert "| CF win rate (3 clips) | CF margin (3 clips) | PSNR removed (dB) |" in header
