"""Read and check the two input contracts: a results directory and a study directory.

Results (written by ``void evaluate --out RESULTS``)::

    RESULTS/results.parquet   long table: method, sample_id, family, metric, region, value,
                              higher_is_better (one row per method x sample x metric x region)
    RESULTS/summary.json      metric descriptions, per-method runtime and problems,
                              "unavailable" metrics with the reason       (optional here)
    RESULTS/methods.csv       per-method runtime columns                   (optional here)

Study (written by ``void study analyze --out STUDY``)::

    STUDY/preference.csv      one row per method: win rate (Wilson), best-of-n rate,
                              Bradley-Terry score, each with a 95% interval
    STUDY/analysis.json       agreement, exclusions, power analysis, counts (optional here)

Every problem raises :class:`InputError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# The results contract is owned by the evaluation stage that writes it.
from evaluate.results import COLUMNS as RESULT_COLUMNS
from evaluate.results import METHOD_COLUMNS, METHODS_CSV, RESULTS_CSV, RESULTS_PARQUET, SUMMARY_JSON
from void.constants import REGION_NAMES as REGIONS
from void.deps import require
from void.errors import VoidError

PREFERENCE_CSV = "preference.csv"
ANALYSIS_JSON = "analysis.json"

RUNTIME_COLUMNS = METHOD_COLUMNS[2:]  # wall_time_s, seconds_per_frame, peak_memory_mb
PREFERENCE_COLUMNS = (
    "method", "judgments", "wins", "losses", "ties", "win_rate", "win_ci_low", "win_ci_high",
    "best_selected", "best_shown", "best_rate", "best_ci_low", "best_ci_high",
    "bt_score", "bt_ci_low", "bt_ci_high",
)  # fmt: skip


class InputError(VoidError, ValueError):
    """A results or study directory that does not follow its contract."""


@dataclass
class Results:
    path: Path
    table: Any  # pandas.DataFrame with RESULT_COLUMNS, value float (non-finite -> NaN)
    higher_is_better: dict[str, bool]
    descriptions: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    runtime: dict[str, dict[str, float | None]] = field(default_factory=dict)  # method -> column -> value
    problems: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # things the reader of the site should know
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class Study:
    path: Path
    preference: Any  # pandas.DataFrame with PREFERENCE_COLUMNS (numbers as float)
    analysis: dict[str, Any] = field(default_factory=dict)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None


def _require_columns(path: Path, columns, expected) -> None:
    missing = [c for c in expected if c not in set(columns)]
    if missing:
        raise InputError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(expected {', '.join(expected)})"
        )


def _as_bool(path: Path, series):
    if series.dtype == bool:
        return series
    text = series.astype("string").str.strip().str.lower()
    mapped = text.map({"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False})
    bad = mapped.isna()
    if bad.any():
        raise InputError(
            f"{path}: column higher_is_better must be true/false, found {series[bad].iloc[0]!r}"
        )
    return mapped.astype(bool)


def _check_table(path: Path, df) -> tuple[Any, dict[str, bool], list[str]]:
    pd = require("pandas")
    _require_columns(path, df.columns, RESULT_COLUMNS)
    df = df.loc[:, list(RESULT_COLUMNS)].copy()
    if df.empty:
        raise InputError(f"{path}: no rows (did `void evaluate` find any predictions?)")
    for col in ("method", "sample_id", "metric", "region"):
        if df[col].isna().any():
            raise InputError(f"{path}: column {col} has empty values (row {int(df[col].isna().to_numpy().argmax())})")
        df[col] = df[col].astype(str)
    df["family"] = df["family"].fillna("unknown").astype(str).replace("", "unknown")
    value = pd.to_numeric(df["value"], errors="coerce")
    bad = value.isna() & df["value"].notna()
    if bad.any():
        raise InputError(f"{path}: column value must be numeric, found {df['value'][bad].iloc[0]!r}")
    value = value.astype(np.float64)
    notes = []
    infinite = np.isinf(value.to_numpy())
    if infinite.any():
        # PSNR of an exactly reproduced region is +inf; a mean over it says nothing.
        counts = df.loc[infinite].groupby(["metric", "region"]).size()
        listed = ", ".join(f"{m}/{r}: {n}" for (m, r), n in counts.items())
        notes.append(f"infinite values left out of means and intervals (e.g. PSNR of an exact copy): {listed}")
        value[infinite] = np.nan
    df["value"] = value
    df["higher_is_better"] = _as_bool(path, df["higher_is_better"])
    per_metric = df.groupby("metric")["higher_is_better"].agg(["min", "max"])
    conflicting = per_metric.index[per_metric["min"] != per_metric["max"]].tolist()
    if conflicting:
        raise InputError(f"{path}: higher_is_better differs between rows of metric {', '.join(conflicting)}")
    dup = df.duplicated(["method", "sample_id", "metric", "region"])
    if dup.any():
        first = df.loc[dup].iloc[0]
        raise InputError(
            f"{path}: {int(dup.sum())} duplicate rows for (method, sample_id, metric, region), e.g. "
            f"({first['method']}, {first['sample_id']}, {first['metric']}, {first['region']})"
        )
    hib = {str(m): bool(v) for m, v in per_metric["min"].items()}
    return df, hib, notes


def _runtime(results_dir: Path, summary: dict[str, Any], methods: list[str]) -> dict[str, dict[str, float | None]]:
    pd = require("pandas")
    out: dict[str, dict[str, float | None]] = {m: {c: None for c in ("n_samples", *RUNTIME_COLUMNS)} for m in methods}
    csv_path = results_dir / METHODS_CSV
    if csv_path.is_file():
        try:
            table = pd.read_csv(csv_path)
        except (OSError, ValueError) as exc:
            raise InputError(f"{csv_path}: cannot be read as CSV ({exc})") from None
        _require_columns(csv_path, table.columns, ("method",))
        for row in table.to_dict("records"):
            method = str(row["method"])
            if method in out:
                for col in out[method]:
                    out[method][col] = _number(row.get(col))
    for method, info in (summary.get("methods") or {}).items():
        if method in out and isinstance(info, dict):
            for col in out[method]:
                value = _number(info.get(col))
                if value is not None:  # summary.json wins where it has a value
                    out[method][col] = value
    return out


def _number(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def load_results(results_dir: str | Path) -> Results:
    pd = require("pandas")
    require("pyarrow")
    results_dir = Path(results_dir)
    path = results_dir / RESULTS_PARQUET
    if not path.is_file():
        hint = f" ({RESULTS_CSV} is there, but the leaderboard reads the parquet table)" if (results_dir / RESULTS_CSV).is_file() else ""
        raise InputError(
            f"{results_dir}: no {RESULTS_PARQUET}{hint}; a results directory is written by "
            f"`void evaluate --data DATA --pred PRED --out {results_dir}`"
        )
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise InputError(f"{path}: cannot be read as parquet ({type(exc).__name__}: {exc})") from None
    table, hib, notes = _check_table(path, raw)

    summary: dict[str, Any] = {}
    summary_path = results_dir / SUMMARY_JSON
    if summary_path.is_file():
        summary = _read_json(summary_path)
        if not isinstance(summary, dict):
            raise InputError(f"{summary_path}: expected a JSON object, found {type(summary).__name__}")
    else:
        notes.append(f"{SUMMARY_JSON} not found in {results_dir}: unavailable metrics and runtimes are not reported")
    metrics_info = summary.get("metrics") or {}
    descriptions = {m: str(info.get("description", "")) for m, info in metrics_info.items() if isinstance(info, dict)}
    unavailable = {str(m): str(reason) for m, reason in (summary.get("unavailable") or {}).items()}
    methods = sorted(table["method"].unique().tolist())
    problems = {}
    for method, info in (summary.get("methods") or {}).items():
        if isinstance(info, dict) and info.get("problems"):
            problems[str(method)] = [str(p) for p in info["problems"]]
    return Results(
        path=results_dir,
        table=table,
        higher_is_better=hib,
        descriptions=descriptions,
        unavailable=unavailable,
        runtime=_runtime(results_dir, summary, methods),
        problems=problems,
        notes=notes,
        summary=summary,
    )


def load_study(study_dir: str | Path) -> Study:
    pd = require("pandas")
    study_dir = Path(study_dir)
    path = study_dir / PREFERENCE_CSV
    if not path.is_file():
        raise InputError(
            f"{study_dir}: no {PREFERENCE_CSV}; a study directory is written by "
            f"`void study analyze --db URL --out {study_dir}`"
        )
    try:
        table = pd.read_csv(path, dtype={"method": str})
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot be read as CSV ({exc})") from None
    _require_columns(path, table.columns, PREFERENCE_COLUMNS)
    table = table.loc[:, list(PREFERENCE_COLUMNS)].copy()
    if table["method"].isna().any():
        raise InputError(f"{path}: column method has empty values")
    if table["method"].duplicated().any():
        raise InputError(f"{path}: method {table['method'][table['method'].duplicated()].iloc[0]!r} appears twice")
    for col in PREFERENCE_COLUMNS[1:]:
        # Empty cells are legal (best-of-n columns of a pairwise-only study); text is not.
        numbers = pd.to_numeric(table[col], errors="coerce")
        bad = numbers.isna() & table[col].notna() & (table[col].astype(str).str.strip() != "")
        if bad.any():
            raise InputError(f"{path}: column {col} must be numeric, found {table[col][bad].iloc[0]!r}")
        table[col] = numbers.astype(np.float64)
    analysis: dict[str, Any] = {}
    analysis_path = study_dir / ANALYSIS_JSON
    if analysis_path.is_file():
        loaded = _read_json(analysis_path)
        analysis = loaded if isinstance(loaded, dict) else {"analysis": loaded}
    return Study(path=study_dir, preference=table, analysis=analysis)
