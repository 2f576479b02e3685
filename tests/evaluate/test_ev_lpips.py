"""LPIPS is reported unavailable with a reason and a place for the weights; where it is
available it is checked for real (identical videos are at distance 0)."""

from __future__ import annotations

import numpy as np
import pytest

from evaluate.metrics import lpips as lp
from evaluate.metrics.registry import METRICS
from void import deps


def test_status_explains_where_the_weights_go(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    ok, reason = lp.status()
    if ok:  # pragma: no cover - a machine with lpips and the weights in that empty dir cannot exist
        pytest.fail("weights cannot be found in an empty TORCH_HOME")
    assert str(tmp_path / "th" / "hub" / "checkpoints" / lp.BACKBONE_FILES["alex"]) in reason
    assert "void-bench[lpips]" in reason


def test_metric_refuses_to_run_without_real_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(deps.MissingDependency, match="LPIPS is unavailable"):
        lp.LPIPSMetric()


def test_lpips_is_lower_is_better_and_region_wise():
    assert METRICS["lpips"].higher_is_better is False
    assert METRICS["lpips"].regions == ("all", "removed", "affected", "keep")


@pytest.mark.skipif(not lp.status()[0], reason=f"LPIPS unavailable here: {lp.status()[1]}")
def test_real_lpips_on_identical_and_different_videos():  # pragma: no cover - needs the weights
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(2, 64, 64, 3)).astype(np.uint8)
    mask = np.full((2, 64, 64), 255, np.uint8)
    mask[:, :16] = 127
    m = lp.LPIPSMetric()
    m.update(a, a, mask)
    assert all(abs(v) < 1e-6 for v in m.compute().values() if not np.isnan(v))
    m.reset()
    m.update(255 - a, a, mask)
    assert m.compute()["all"] > 0.1
