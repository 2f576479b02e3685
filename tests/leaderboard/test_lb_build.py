"""Building the site from fixture results (+ study): the files, their rows, ranks and content."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest
from lb_fixtures import LPIPS_REASON, METHODS, STUDY_ROWS, results_frame, sample_ids, write_results, write_study
from PIL import Image

from leaderboard import LeaderboardConfig, build, inputs, tables
from void.app.cli import main
from void.errors import ConfigError

KEYS = [("psnr", r) for r in ("all", "removed", "affected", "keep")] + [
    ("ssim", r) for r in ("all", "removed", "affected", "keep")
] + [("warp_error", "all"), ("cf_margin", "all"), ("cf_win", "all")]
FAMILIES = ["all", "collision", "domino", "support"]


@pytest.fixture(scope="module")
def board_csv(built_site):
    return pd.read_csv(built_site.csv)


def test_writes_the_three_files_and_figures(built_site):
    site = built_site.index.parent
    assert built_site.index.name == "index.html" and built_site.index.stat().st_size > 10_000
    assert (site / "leaderboard.csv").is_file() and (site / "leaderboard.md").is_file()
    assert sorted(p.name for p in (site / "figures").iterdir()) == ["families.png", "preference.png", "psnr_regions.png"]
    assert set(built_site.timings_s) == {"load", "bootstrap", "plots", "html"}


def test_csv_has_one_row_per_method_metric_region_family(board_csv):
    assert list(board_csv.columns) == list(tables.LONG_COLUMNS)
    auto = board_csv[~board_csv["metric"].str.startswith("human_")]
    assert len(auto) == len(METHODS) * len(KEYS) * len(FAMILIES)
    got = set(zip(auto["method"], auto["metric"], auto["region"], auto["family"]))
    assert got == {(m, k, r, f) for m in METHODS for k, r in KEYS for f in FAMILIES}
    human = board_csv[board_csv["metric"].str.startswith("human_")]
    # a pairwise study: win rate and Bradley-Terry, no best-of-n rows
    assert sorted(set(human["metric"])) == ["human_bt_score", "human_win_rate"]
    assert len(human) == 2 * len(STUDY_ROWS)


def test_means_and_counts_match_the_results(board_csv):
    df = results_frame()
    expected = df.groupby(["method", "metric", "region", "family"])["value"].agg(["mean", "count"])
    overall = df.groupby(["method", "metric", "region"])["value"].agg(["mean", "count"])
    got = board_csv.set_index(["method", "metric", "region", "family"])
    for (m, k, r, f), row in expected.iterrows():
        assert got.loc[(m, k, r, f), "mean"] == pytest.approx(row["mean"], rel=1e-5)
        assert got.loc[(m, k, r, f), "n"] == row["count"]
    for (m, k, r), row in overall.iterrows():
        assert got.loc[(m, k, r, "all"), "mean"] == pytest.approx(row["mean"], rel=1e-5)
        assert got.loc[(m, k, r, "all"), "n"] == row["count"]
    # NaN values (samples without an affected region) are not counted
    assert got.loc[("void", "psnr", "affected", "all"), "n"] == len(sample_ids()) - 3
    assert got.loc[("void", "psnr", "keep", "all"), "n"] == len(sample_ids())
    finite = board_csv.dropna(subset=["ci_low"])
    assert (finite["ci_low"] <= finite["mean"] + 1e-9).all() and (finite["mean"] <= finite["ci_high"] + 1e-9).all()


def test_ranks_follow_the_overlap_rule_and_direction(board_csv):
    for _, group in board_csv.groupby(["metric", "region", "family"]):
        hib = bool(group["higher_is_better"].iloc[0])
        for _, row in group.iterrows():
            beaten_by = sum(
                (other["ci_low"] > row["ci_high"]) if hib else (other["ci_high"] < row["ci_low"])
                for _, other in group.iterrows()
            )
            assert row["rank"] == 1 + beaten_by
    at = board_csv[board_csv["family"] == "all"].set_index(["metric", "region", "method"])["rank"]
    assert at[("psnr", "all", "void")] == 1 and at[("psnr", "all", "identity")] == 4
    # propainter and lama come from one distribution: overlapping intervals share a rank
    assert at[("psnr", "all", "propainter")] == at[("psnr", "all", "lama")] == 2
    # warp error is lower-is-better: the copied input is the most stable
    assert at[("warp_error", "all", "identity")] == 1 and at[("warp_error", "all", "void")] == 2


def test_markdown_main_table(built_site):
    md = built_site.markdown.read_text()
    header = next(line for line in md.splitlines() if line.startswith("| Rank"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    # the counterfactual-physics score comes first and orders the table
    assert cols[:4] == ["Rank", "Method", "CF win rate ↑", "CF margin ↑"]
    assert "Warp error ↓" in cols and "LPIPS" in cols
    assert cols[-5:] == ["Human win rate", "Bradley-Terry", "s/frame", "Peak memory (MB)", "Samples"]
    assert "Best-of-n rate" not in cols  # pairwise study: no best-of-n column
    rows = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| Rank")]
    methods = [r.strip("|").split("|")[1].strip() for r in rows]
    assert methods[0] == "void" and methods[-1] == "identity"
    assert set(methods[1:3]) == {"lama", "propainter"}
    void = [c.strip() for c in rows[0].strip("|").split("|")]
    assert void[0] == "1" and void[cols.index("LPIPS")] == "unavailable"
    assert re.fullmatch(r"\d+(\.\d)?% \[\d+(\.\d)?, \d+(\.\d)?\]", void[2])
    assert void[cols.index("Human win rate")] == "71% [65, 76]"
    assert void[cols.index("s/frame")] == "0.520" and void[cols.index("Peak memory (MB)")] == "9100"
    identity = [c.strip() for c in rows[-1].strip("|").split("|")]
    assert identity[cols.index("s/frame")] == "n/a"
    assert f"LPIPS - unavailable: {LPIPS_REASON}" in md
    assert "in the study but not in the results: oracle-hidden" in md
    assert "Ranks tie where intervals overlap" in md


def test_html_is_self_contained_with_tables_and_images(built_site):
    page = built_site.index.read_text()
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert refs and all(r.startswith("data:image/png;base64,") or r in ("leaderboard.csv", "leaderboard.md") for r in refs)
    assert "<link" not in page and "<script" not in page and "@import" not in page and "url(" not in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3
    for data in images:
        with Image.open(io.BytesIO(base64.b64decode(data))) as img:
            assert img.format == "PNG" and img.width > 200 and img.height > 100
    board = page[page.index('<table id="board">'):]
    board = board[: board.index("</table>")]
    assert board.count("<tr>") == 2 + len(METHODS)  # two header rows
    for table_id in ("families", "metrics", "human", "runtime", "analysis"):
        assert f"id='{table_id}'" in page or f'id="{table_id}"' in page
    assert "lama: 2 predictions were 1 frame short" in page
    assert "krippendorff_alpha" in page and "0.41" in page
    assert f"LPIPS - unavailable: {LPIPS_REASON}" in page


def test_cli_builds_and_prints_where_to_open_it(tmp_path, results_dir, capsys):
    code = main(["leaderboard", "--results", str(results_dir), "--out", str(tmp_path / "site"), "--resamples", "400"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"open {(tmp_path / 'site' / 'index.html').resolve().as_uri()}" in out
    md = (tmp_path / "site" / "leaderboard.md").read_text()
    assert "Human win rate" not in md  # no --study: no human columns
    assert "preference.png" not in {p.name for p in (tmp_path / "site" / "figures").iterdir()}


def test_same_seed_same_intervals_and_methods_do_not_disturb_each_other(results_dir, tmp_path):
    res = inputs.load_results(results_dir)
    a = tables.score(res, resamples=500, confidence=0.95, seed=3)
    b = tables.score(res, resamples=500, confidence=0.95, seed=3)
    c = tables.score(res, resamples=500, confidence=0.95, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ci_low"].fillna(0), c["ci_low"].fillna(0))
    # dropping a method leaves every other method's intervals exactly as they were
    df = results_frame()
    write_results(tmp_path / "r", df[df["method"] != "lama"], summary=False)
    fewer = tables.score(inputs.load_results(tmp_path / "r"), resamples=500, confidence=0.95, seed=3)
    cols = ["method", "metric", "region", "family"]
    merged = a.merge(fewer, on=cols, suffixes=("", "_fewer"))
    assert len(merged) == len(fewer)
    np.testing.assert_array_equal(merged["ci_low"], merged["ci_low_fewer"])
    np.testing.assert_array_equal(merged["ci_high"], merged["ci_high_fewer"])


def test_escaping_no_summary_best_of_n_and_another_sort(tmp_path):
    df = results_frame()
    df["method"] = df["method"].replace({"lama": "lama <b>&amp;</b> | v2"})
    write_results(tmp_path / "r", df, summary=False)
    study = write_study(tmp_path / "s", best_of_n=True)
    pref = pd.read_csv(study / "preference.csv")
    pref["method"] = pref["method"].replace({"lama": "lama <b>&amp;</b> | v2"})
    pref.to_csv(study / "preference.csv", index=False)
    report = build(LeaderboardConfig(results=str(tmp_path / "r"), study=str(study), out=str(tmp_path / "site"),
                                     sort="warp_error", resamples=400, quiet=True))
    page = report.index.read_text()
    assert "lama <b>" not in page and "lama &lt;b&gt;&amp;amp;&lt;/b&gt; | v2" in page
    assert "summary.json not found" in page
    md = report.markdown.read_text()
    assert "lama <b>&amp;</b> \\| v2" in md  # the pipe is escaped so the table keeps its shape
    assert "Best-of-n rate" in md
    # sorted by warp error (lower is better): the copied input leads
    assert report.methods[0] == "identity"
    assert "sorted by Warp error ↓" in md


def test_default_sort_falls_back_without_a_counterfactual_and_unavailable_sort_is_explained(tmp_path, results_dir):
    df = results_frame()
    write_results(tmp_path / "r", df[df["metric"] != "cf_win"], summary=False)
    res = inputs.load_results(tmp_path / "r")
    b = tables.board(tables.score(res, resamples=300, confidence=0.95, seed=0), res, sort="cf_win")
    assert (b.sort_column.metric, b.columns[0].metric) == ("cf_margin", "cf_margin")
    assert any("no cf_win in the results" in n for n in b.notes)
    res = inputs.load_results(results_dir)
    with pytest.raises(ConfigError, match=f"--sort lpips: lpips is unavailable in these results: {re.escape(LPIPS_REASON)}"):
        tables.board(tables.score(res, resamples=300, confidence=0.95, seed=0), res, sort="lpips")


def test_every_metric_is_shown_unknown_ones_last(tmp_path):
    """A metric the registry does not know (another suite version) is shown after the known
    ones instead of being dropped; the registered ones take their labels from the registry."""
    from evaluate.metrics.registry import METRICS as REGISTERED

    df = results_frame()
    extra = df[(df["metric"] == "warp_error")].assign(metric="flicker_index", higher_is_better=False)
    write_results(tmp_path / "r", pd.concat([df, extra], ignore_index=True), summary=False)
    report = build(LeaderboardConfig(results=str(tmp_path / "r"), out=str(tmp_path / "site"), resamples=400, quiet=True))
    md = report.markdown.read_text()
    header = next(line for line in md.splitlines() if line.startswith("| Rank"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    assert cols.index("flicker_index ↓") == cols.index("s/frame") - 1  # after every known metric
    assert REGISTERED["warp_error"].label + " ↓" in cols
    assert set(tables.METRIC_ORDER) == set(REGISTERED)


def test_site_follows_the_users_umask(tmp_path, results_dir):
    import os
    import stat
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    site = tmp_path / "site"
    cmd = f"umask 027 && {sys.executable} -m void leaderboard --results {results_dir} --out {site} --resamples 200 --quiet"
    res = subprocess.run(["sh", "-c", cmd], env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert stat.S_IMODE(site.stat().st_mode) == 0o750
    files = [p for p in site.rglob("*") if p.is_file()]
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o640}
