"""Clear errors for inputs that break the results or study contract, and for bad flags."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from lb_fixtures import results_frame, write_results, write_study

from leaderboard import LeaderboardConfig, build, inputs
from void.app.cli import main
from void.errors import ConfigError, VoidError


def _build(results, out, **kw):
    return build(LeaderboardConfig(results=str(results), out=str(out), quiet=True, **kw))


def test_missing_parquet_names_the_directory_and_the_file(tmp_path):
    (tmp_path / "r").mkdir()
    with pytest.raises(VoidError, match=r"no results\.parquet.*void evaluate"):
        _build(tmp_path / "r", tmp_path / "site")
    pd.DataFrame({"method": ["a"]}).to_csv(tmp_path / "r" / "results.csv")
    with pytest.raises(VoidError, match=r"results\.csv is there, but the leaderboard reads the parquet"):
        _build(tmp_path / "r", tmp_path / "site")
    assert not (tmp_path / "site" / "index.html").exists()


@pytest.mark.parametrize("column", ["higher_is_better", "family", "value"])
def test_missing_column_names_the_file_and_the_column(tmp_path, column):
    df = results_frame().drop(columns=[column])
    write_results(tmp_path / "r", df, summary=False)
    with pytest.raises(inputs.InputError) as err:
        inputs.load_results(tmp_path / "r")
    message = str(err.value)
    assert str(tmp_path / "r" / "results.parquet") in message
    assert f"missing column {column} " in message


def test_wrong_values_are_reported_with_the_offending_value(tmp_path):
    df = results_frame()
    df["value"] = df["value"].astype(object)
    df.loc[5, "value"] = "oops"
    df["value"] = df["value"].astype(str)
    write_results(tmp_path / "a", df, summary=False)
    with pytest.raises(inputs.InputError, match=r"column value must be numeric, found 'oops'"):
        inputs.load_results(tmp_path / "a")

    df = results_frame()
    df.loc[(df["metric"] == "psnr") & (df["method"] == "lama"), "higher_is_better"] = False
    write_results(tmp_path / "b", df, summary=False)
    with pytest.raises(inputs.InputError, match=r"higher_is_better differs between rows of metric psnr"):
        inputs.load_results(tmp_path / "b")

    df = results_frame()
    dup = df.iloc[3]
    write_results(tmp_path / "c", pd.concat([df, df.iloc[[3]]]), summary=False)
    expected = rf"1 duplicate rows .*\({dup['method']}, {dup['sample_id']}, {dup['metric']}, {dup['region']}\)"
    with pytest.raises(inputs.InputError, match=expected):
        inputs.load_results(tmp_path / "c")

    write_results(tmp_path / "d", df.iloc[:0], summary=False)
    with pytest.raises(inputs.InputError, match=r"no rows"):
        inputs.load_results(tmp_path / "d")


def test_damaged_files_are_named(tmp_path):
    write_results(tmp_path / "r")
    (tmp_path / "r" / "summary.json").write_text("{not json")
    with pytest.raises(inputs.InputError, match=r"summary\.json: not valid JSON"):
        inputs.load_results(tmp_path / "r")
    (tmp_path / "r" / "results.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(inputs.InputError, match=r"results\.parquet: cannot be read as parquet"):
        inputs.load_results(tmp_path / "r")


def test_missing_family_becomes_unknown_and_infinities_are_reported(tmp_path):
    df = results_frame()
    df.loc[df["sample_id"] == "support_001", "family"] = None
    df.loc[(df["metric"] == "psnr") & (df["region"] == "keep") & (df["method"] == "identity"), "value"] = np.inf
    write_results(tmp_path / "r", df, summary=False)
    res = inputs.load_results(tmp_path / "r")
    assert (res.table.loc[res.table["sample_id"] == "support_001", "family"] == "unknown").all()
    assert np.isnan(res.table.loc[np.isinf(df["value"].to_numpy()), "value"]).all()
    assert any("infinite values" in n and "psnr/keep: 24" in n for n in res.notes)
    assert any("summary.json not found" in n for n in res.notes)


def test_study_without_preference_csv_or_with_a_missing_column(tmp_path, results_dir):
    (tmp_path / "study").mkdir()
    with pytest.raises(inputs.InputError, match=r"no preference\.csv; .*void study analyze"):
        build(LeaderboardConfig(results=str(results_dir), study=str(tmp_path / "study"), out=str(tmp_path / "s"), quiet=True))
    write_study(tmp_path / "study")
    pref = pd.read_csv(tmp_path / "study" / "preference.csv").drop(columns=["bt_ci_high"])
    pref.to_csv(tmp_path / "study" / "preference.csv", index=False)
    with pytest.raises(inputs.InputError) as err:
        inputs.load_study(tmp_path / "study")
    assert str(tmp_path / "study" / "preference.csv") in str(err.value)
    assert "missing column bt_ci_high" in str(err.value)


def test_config_flags_are_checked(tmp_path, results_dir):
    with pytest.raises(ConfigError, match=r"--results .*no such directory"):
        LeaderboardConfig(results=str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match=r"--study .*no such directory"):
        LeaderboardConfig(results=str(results_dir), study=str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match=r"--resamples"):
        LeaderboardConfig(results=str(results_dir), resamples=10)
    with pytest.raises(ConfigError, match=r"--confidence"):
        LeaderboardConfig(results=str(results_dir), confidence=1.0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"--out .*is a file, expected a folder"):
        LeaderboardConfig(results=str(results_dir), out=str(tmp_path / "file"))
    with pytest.raises(ConfigError, match=r"--sort fid: no metric 'fid' in the results \(available: cf_win, cf_margin, psnr"):
        _build(results_dir, tmp_path / "site", sort="fid")
    with pytest.raises(ConfigError, match=r"--sort psnr/face: metric psnr has no region 'face'"):
        _build(results_dir, tmp_path / "site", sort="psnr/face")


def test_cli_prints_input_errors_without_traceback(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    code = main(["leaderboard", "--results", str(tmp_path / "r"), "--out", str(tmp_path / "site")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("void leaderboard: error: ") and "results.parquet" in err
    assert "Traceback" not in err


def test_summary_runtime_wins_over_methods_csv(tmp_path):
    write_results(tmp_path / "r")
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    summary["methods"]["lama"]["seconds_per_frame"] = 0.5
    summary["methods"]["propainter"]["peak_memory_mb"] = None  # falls back to methods.csv
    (tmp_path / "r" / "summary.json").write_text(json.dumps(summary))
    res = inputs.load_results(tmp_path / "r")
    assert res.runtime["lama"]["seconds_per_frame"] == 0.5
    assert res.runtime["propainter"]["peak_memory_mb"] == 2300.0
    assert res.runtime["identity"]["seconds_per_frame"] is None
    assert res.unavailable["lpips"].startswith("LPIPS weights")
    assert res.problems["lama"] == ["2 predictions were 1 frame short; padded by repeating the last frame"]
