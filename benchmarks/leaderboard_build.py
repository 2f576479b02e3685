"""Leaderboard build time on synthetic results: 10 methods x 1,000 samples x 10 metrics.

    python benchmarks/leaderboard_build.py                 # the issue's size, target < 10 s
    python benchmarks/leaderboard_build.py --samples 200   # quicker

The results directory is written in the evaluation contract's schema (results.parquet,
summary.json, methods.csv) with five families, NaNs for empty affected regions and LPIPS
present. Ten metrics: the contract's psnr, ssim, lpips (four regions each), warp_error,
cf_margin, cf_win, plus four synthetic stand-ins (extra_0..extra_3, two region-wise) so the
count matches the issue. Printed: the build's split (load, bootstrap, plots, HTML) and,
side by side in the same run, the interval step done the straightforward way
(``scipy.stats.bootstrap`` per method x metric x region x family group) on a slice of the
data, against the same slice through ``leaderboard.stats`` - a ratio, since absolute times
on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leaderboard import LeaderboardConfig, build  # noqa: E402
from leaderboard import stats  # noqa: E402
from simulate.config import FAMILIES  # noqa: E402
from void.constants import REGION_NAMES as REGIONS  # noqa: E402

# metric: (region-wise, higher_is_better, mean, per-method spread, per-sample noise)
METRICS = {
    "psnr": (True, True, 28.0, 3.0, 2.0),
    "ssim": (True, True, 0.85, 0.05, 0.03),
    "lpips": (True, False, 0.15, 0.05, 0.03),
    "warp_error": (False, False, 0.03, 0.01, 0.005),
    "cf_margin": (False, True, 0.0, 0.3, 0.3),
    "cf_win": (False, True, 0.5, 0.2, 0.0),
    "extra_0": (True, True, 10.0, 1.0, 1.0),
    "extra_1": (True, False, 1.0, 0.2, 0.3),
    "extra_2": (False, True, 0.0, 1.0, 1.0),
    "extra_3": (False, False, 5.0, 1.0, 1.0),
}


def synthetic_results(out: Path, *, methods: int, samples: int, seed: int = 0) -> int:
    """Write a results directory; returns the number of rows."""
    rng = np.random.default_rng(seed)
    sample_ids = np.array([f"s{i:05d}" for i in range(samples)])
    family = np.array(FAMILIES)[rng.integers(0, len(FAMILIES), samples)]
    # About one sample in ten has no affected region: NaN there, as the evaluator writes it.
    no_affected = rng.random(samples) < 0.1
    frames = []
    for m in range(methods):
        name = f"method_{m:02d}"
        for metric, (region_wise, hib, mean, spread, noise) in METRICS.items():
            level = mean + spread * rng.normal()
            for region in REGIONS if region_wise else ("all",):
                if metric == "cf_win":
                    value = (rng.random(samples) < np.clip(level, 0.02, 0.98)).astype(float)
                else:
                    value = level + noise * rng.normal(size=samples)
                if region == "affected" or metric.startswith("cf_"):
                    value = np.where(no_affected, np.nan, value)
                frames.append(pd.DataFrame({
                    "method": name, "sample_id": sample_ids, "family": family, "metric": metric,
                    "region": region, "value": value, "higher_is_better": hib,
                }))
    df = pd.concat(frames, ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    df.to_parquet(out / "results.parquet", index=False)
    names = sorted(df["method"].unique())
    runtime = {n: {"n_samples": samples, "wall_time_s": float(rng.uniform(10, 500)),
                   "seconds_per_frame": float(rng.uniform(0.01, 1)), "peak_memory_mb": float(rng.uniform(500, 20000)),
                   "means": {}, "cf_win_rate": None, "problems": []} for n in names}
    summary = {
        "metrics": {k: {"higher_is_better": v[1], "description": k, "regions": list(REGIONS) if v[0] else ["all"]}
                    for k, v in METRICS.items()},
        "methods": runtime, "unavailable": {}, "data": "synthetic", "pred": "synthetic", "created": "benchmark",
    }
    (out / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame([{"method": n, **{k: v for k, v in r.items() if k not in ("means", "cf_win_rate", "problems")}}
                  for n, r in runtime.items()]).to_csv(out / "methods.csv", index=False)
    return len(df)


def intervals_scipy(df: pd.DataFrame, resamples: int, confidence: float) -> int:
    """The straightforward way: one scipy.stats.bootstrap call per group."""
    from scipy.stats import bootstrap

    groups = 0
    for fam_split in (None, "family"):
        keys = ["method", "metric", "region"] + ([fam_split] if fam_split else [])
        for _, g in df.groupby(keys):
            values = g["value"].to_numpy()
            values = values[np.isfinite(values)]
            if values.size > 1 and np.ptp(values) > 0:
                bootstrap((values,), np.mean, n_resamples=resamples, confidence_level=confidence,
                          method="percentile", vectorized=True, rng=np.random.default_rng(0))
            groups += 1
    return groups


def intervals_ours(df: pd.DataFrame, resamples: int, confidence: float) -> None:
    for method, rows in df.groupby("method"):
        matrix = rows.pivot(index="sample_id", columns=["metric", "region"], values="value")
        family = rows.drop_duplicates("sample_id").set_index("sample_id")["family"].reindex(matrix.index).to_numpy()
        for fam in (None, *sorted(set(family))):
            chosen = matrix.to_numpy() if fam is None else matrix.to_numpy()[family == fam]
            stats.mean_ci(chosen, resamples=resamples, confidence=confidence, rng=stats.rng_for(0, method, str(fam)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", type=int, default=10)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2, help="builds to time (the best is reported)")
    parser.add_argument("--compare-methods", type=int, default=2, help="methods in the side-by-side interval slice")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        rows = synthetic_results(tmp / "results", methods=args.methods, samples=args.samples)
        print(f"synthetic results: {args.methods} methods x {args.samples} samples x {len(METRICS)} metrics "
              f"= {rows:,} rows ({time.perf_counter() - start:.1f} s to write); {os.cpu_count()} CPUs")
        builds = []
        for i in range(args.repeat):
            config = LeaderboardConfig(results=str(tmp / "results"), out=str(tmp / f"site{i}"),
                                       resamples=args.resamples, quiet=True)
            start = time.perf_counter()
            report = build(config)
            builds.append((time.perf_counter() - start, report.timings_s))
        total, split = min(builds, key=lambda b: b[0])
        # The first build also pays for importing matplotlib and pyarrow; later ones do not.
        print(f"\nbuild: first {builds[0][0]:.2f} s (includes importing matplotlib), "
              f"best of {args.repeat} {total:.2f} s; {args.resamples} resamples per interval")
        print(f"  {'step':<12}{'seconds':>9}{'share':>8}")
        for step in ("load", "bootstrap", "plots", "html"):
            print(f"  {step:<12}{split[step]:>9.2f}{split[step] / total:>8.0%}")
        print(f"  {'total':<12}{total:>9.2f}   target 10 s: {'met' if total < 10 else 'MISSED'} ({total / 10:.0%} of it)")
        site = tmp / "site0"
        print(f"  index.html {(site / 'index.html').stat().st_size / 1e6:.2f} MB, "
              f"leaderboard.csv {sum(1 for _ in open(site / 'leaderboard.csv')) - 1:,} rows")

        df = pd.read_parquet(tmp / "results" / "results.parquet")
        slice_ = df[df["method"].isin(sorted(df["method"].unique())[: args.compare_methods])]
        start = time.perf_counter()
        intervals_ours(slice_, args.resamples, 0.95)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        groups = intervals_scipy(slice_, args.resamples, 0.95)
        naive = time.perf_counter() - start
        print(f"\nintervals side by side ({args.compare_methods} methods, {groups} groups, same run)")
        print(f"  leaderboard.stats (shared resample counts, matrix product) {ours:8.2f} s")
        print(f"  scipy.stats.bootstrap per group                             {naive:8.2f} s")
        print(f"  ratio scipy / ours: {naive / ours:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
