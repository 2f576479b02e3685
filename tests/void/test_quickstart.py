import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from void.app.quickstart import BASELINES, ENCODINGS, paired_comparison, quickstart
from void.app.quickstart_config import QuickstartConfig
from void.errors import ConfigError


def _results(tmp_path, ours, other, metric="psnr", region="affected", higher=True):
    rows = []
    for i, (a, b) in enumerate(zip(ours, other)):
        rows.append(("void-quad", f"s{i}", "toy", metric, region, a, higher))
        rows.append(("other", f"s{i}", "toy", metric, region, b, higher))
    df = pd.DataFrame(rows, columns=["method", "sample_id", "family", "metric", "region", "value", "higher_is_better"])
    path = tmp_path / "results.parquet"
    df.to_parquet(path)
    return path


def test_paired_comparison_verdicts(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.normal(20, 3, 40)
    better = paired_comparison(_results(tmp_path, base + 1.0 + rng.normal(0, 0.1, 40), base), "void-quad")
    r = better["psnr/affected"]["vs"]["other"]
    assert r["verdict"] == "better" and r["ci_low"] > 0 and abs(r["mean_diff"] - 1.0) < 0.1 and r["n"] == 40
    # lower is better: a higher value is worse
    worse = paired_comparison(_results(tmp_path, base + 1.0, base, metric="warp_error", region="all", higher=False), "void-quad")
    assert worse == {}  # warp_error is not one of the claim metrics
    same = paired_comparison(_results(tmp_path, base + rng.normal(0, 1, 40), base), "void-quad")
    assert same["psnr/affected"]["vs"]["other"]["verdict"] == "no clear difference"


def test_bad_config():
    with pytest.raises(ConfigError, match="budget"):
        QuickstartConfig(budget_minutes=0)
    with pytest.raises(ConfigError, match="samples"):
        QuickstartConfig(samples=1)


@pytest.mark.slow
def test_quickstart_end_to_end_small(tmp_path):
    out = tmp_path / "qs"
    cfg = QuickstartConfig(out=str(out), samples=4, test_samples=3, budget_minutes=1.0, workers=1)
    assert quickstart(cfg) == 0
    df = pd.read_parquet(out / "results" / "results.parquet")
    methods = set(df.method)
    assert methods == set(BASELINES) | {f"void-{e}" for e in ENCODINGS}
    assert (out / "site" / "index.html").is_file()
    summary = json.loads((out / "quickstart.json").read_text())
    assert set(summary["training"]) == set(ENCODINGS)
    assert "psnr/affected" in summary["claim"]
    text = (out / "summary.md").read_text()
    assert "void-quad minus each other method" in text and "oracle-hidden" in text

    # the README's follow-up commands on what quickstart produced, as a user runs them
    def run(*args):
        done = subprocess.run([sys.executable, "-m", "void.app.cli", *args], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    run("check", str(out / "data" / "test"))
    run("preview", str(out / "data" / "test"), "--max-samples", "1")
    assert list((out / "data" / "test" / "preview").glob("*.png"))
    example = (Path(__file__).resolve().parents[2] / "configs" / "study.yaml").read_text()
    (tmp_path / "study.yaml").write_text(example.replace("../runs/quickstart", str(out)))
    run("study", "init", "--config", str(tmp_path / "study.yaml"), "--db", f"sqlite:///{tmp_path / 'study.db'}")
    run("study", "analyze", "--db", f"sqlite:///{tmp_path / 'study.db'}", "--out", str(tmp_path / "study"))
    run("leaderboard", "--results", str(out / "results"), "--study", str(tmp_path / "study"), "--out", str(tmp_path / "site2"))
    assert (tmp_path / "site2" / "index.html").is_file()

    # the same command again resumes: finished models are kept, not trained further
    assert quickstart(cfg) == 0
    again = json.loads((out / "quickstart.json").read_text())
    assert again["training"] == summary["training"]
    assert again["timings_s"]["train_s"] < 5.0
