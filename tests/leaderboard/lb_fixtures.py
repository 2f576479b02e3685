"""Results and study directories written in exactly the contracts' schema (see leaderboard/inputs.py).

Four methods with known standing: ``void`` is best on every fidelity metric, ``identity``
(the input copied) is worst on them but best on the warp error (lower is better: a copy of
the input is temporally stable), ``propainter`` and ``lama`` are drawn from the same
distribution so their intervals overlap. One sample per family has no affected region:
its affected-region metrics and cf_win are NaN, as the evaluator writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

METHODS = {
    # method: (psnr dB, ssim, warp_error, cf_win probability, cf_margin)
    "void": (32.0, 0.93, 0.020, 0.90, 0.40),
    "propainter": (27.0, 0.85, 0.030, 0.45, 0.00),
    "lama": (27.0, 0.85, 0.030, 0.45, 0.00),
    "identity": (19.0, 0.60, 0.005, 0.00, -0.50),
}
FAMILIES = {"collision": 12, "support": 8, "domino": 4}
REGIONS = ("all", "removed", "affected", "keep")
LPIPS_REASON = "LPIPS weights are not installed; put alexnet.pth under ~/.cache/torch/hub/checkpoints"


def sample_ids() -> list[tuple[str, str]]:
    out = []
    for family, n in FAMILIES.items():
        out += [(f"{family}_{i:03d}", family) for i in range(n)]
    return out


def results_frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    samples = sample_ids()
    no_affected = {sid for sid, fam in samples if sid.endswith("_000")}
    for method, (psnr, ssim, warp, p_win, margin) in METHODS.items():
        for sid, family in samples:
            empty = sid in no_affected
            for region in REGIONS:
                undefined = empty and region == "affected"
                offset = {"all": 0.0, "removed": -3.0, "affected": -2.0, "keep": 6.0}[region]
                rows.append((method, sid, family, "psnr", region, np.nan if undefined else psnr + offset + rng.normal(0, 1.0), True))
                rows.append((method, sid, family, "ssim", region, np.nan if undefined else float(np.clip(ssim + rng.normal(0, 0.02), 0, 1)), True))
            rows.append((method, sid, family, "warp_error", "all", warp + abs(rng.normal(0, 0.002)), False))
            rows.append((method, sid, family, "cf_margin", "all", np.nan if empty else margin + rng.normal(0, 0.2), True))
            rows.append((method, sid, family, "cf_win", "all", np.nan if empty else float(rng.random() < p_win), True))
    df = pd.DataFrame(rows, columns=["method", "sample_id", "family", "metric", "region", "value", "higher_is_better"])
    return df


def write_results(out: Path, df: pd.DataFrame | None = None, *, summary: bool = True) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    df = results_frame() if df is None else df
    df.to_parquet(out / "results.parquet", index=False)
    df.to_csv(out / "results.csv", index=False)
    runtime = {
        "void": (120.0, 0.52, 9100.0),
        "propainter": (40.0, 0.17, 2300.0),
        "lama": (12.0, 0.05, 1100.0),
        "identity": (0.4, None, None),
    }
    pd.DataFrame(
        [
            {"method": m, "n_samples": len(sample_ids()), "wall_time_s": w, "seconds_per_frame": s, "peak_memory_mb": p}
            for m, (w, s, p) in runtime.items()
        ]
    ).to_csv(out / "methods.csv", index=False)
    if summary:
        means = df.groupby(["method", "metric", "region"])["value"].mean()
        doc = {
            "metrics": {
                "psnr": {"higher_is_better": True, "description": "peak signal-to-noise ratio (dB)", "regions": list(REGIONS)},
                "ssim": {"higher_is_better": True, "description": "structural similarity", "regions": list(REGIONS)},
                "warp_error": {"higher_is_better": False, "description": "flow-warping error", "regions": ["all"]},
                "cf_margin": {"higher_is_better": True, "description": "counterfactual margin", "regions": ["all"]},
                "cf_win": {"higher_is_better": True, "description": "closer to removed than hidden", "regions": ["all"]},
            },
            "methods": {
                m: {
                    "n_samples": len(sample_ids()),
                    "means": {f"{metric}/{region}": float(v) for (metric, region), v in means.loc[m].items()},
                    "cf_win_rate": float(means.loc[(m, "cf_win", "all")]),
                    "wall_time_s": w,
                    "seconds_per_frame": s,
                    "peak_memory_mb": p,
                    "problems": ["2 predictions were 1 frame short; padded by repeating the last frame"] if m == "lama" else [],
                }
                for m, (w, s, p) in runtime.items()
            },
            "unavailable": {"lpips": LPIPS_REASON},
            "data": "data/test",
            "pred": "pred",
            "created": "2026-11-20T10:00:00+00:00",
        }
        (out / "summary.json").write_text(json.dumps(doc, indent=2))
    return out


STUDY_ROWS = [
    # method, judgments, wins, losses, ties, win_rate, lo, hi, bt, bt_lo, bt_hi
    ("void", 240, 170, 60, 10, 0.708, 0.648, 0.762, 1.10, 0.85, 1.35),
    ("propainter", 240, 120, 110, 10, 0.500, 0.437, 0.563, 0.10, -0.12, 0.30),
    ("lama", 240, 105, 125, 10, 0.438, 0.376, 0.501, -0.05, -0.27, 0.16),
    ("identity", 240, 40, 190, 10, 0.167, 0.125, 0.219, -1.15, -1.42, -0.90),
    ("oracle-hidden", 60, 20, 40, 0, 0.333, 0.227, 0.460, -0.50, -0.90, -0.10),
]


def write_study(out: Path, *, best_of_n: bool = False) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for m, j, w, l, t, wr, lo, hi, bt, btl, bth in STUDY_ROWS:
        best = {"void": (65, 100), "propainter": (18, 100), "lama": (12, 100), "identity": (5, 100), "oracle-hidden": (0, 25)}[m]
        rows.append(
            {
                "method": m, "judgments": j, "wins": w, "losses": l, "ties": t,
                "win_rate": wr, "win_ci_low": lo, "win_ci_high": hi,
                "best_selected": best[0] if best_of_n else None, "best_shown": best[1] if best_of_n else None,
                "best_rate": best[0] / best[1] if best_of_n else None,
                "best_ci_low": max(0.0, best[0] / best[1] - 0.09) if best_of_n else None,
                "best_ci_high": min(1.0, best[0] / best[1] + 0.09) if best_of_n else None,
                "bt_score": bt, "bt_ci_low": btl, "bt_ci_high": bth,
            }
        )
    pd.DataFrame(rows).to_csv(out / "preference.csv", index=False)
    analysis = {
        "design": "best-of-n" if best_of_n else "pairwise",
        "counts": {"participants": 24, "excluded": 2, "judgments": 480},
        "agreement": {"krippendorff_alpha": 0.41},
        "exclusions": {"rule": "failed 2 of 3 gold trials", "participants": ["p07", "p19"]},
        "power": {"effect_size": 0.1, "judgments_needed": 194},
    }
    (out / "analysis.json").write_text(json.dumps(analysis, indent=2))
    return out
