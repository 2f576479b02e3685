"""``void bench score``: check an outside submission against a benchmark build and score it.

    void bench score --bench bench/v1 --pred my_method/ --out my_method.zip

A submission is a folder::

    method.json                      the card: name, version, link, parameters, hardware,
                                     runtime, mask_input (quadmask | object-mask)
    <subset>/<sample_id>.mp4         one video per clip, same size and frame count as the clip

Steps: (1) read the benchmark and its checksums (a build without them is unfinished);
(2) check the card; (3) check every clip's video (missing, unreadable, wrong size, wrong frame
count) and refuse anything that is not a clip; each problem is listed by path; (4) score each
subset with :func:`evaluate.runner.score`; (5) write one results bundle with the card, the
definition hash and the checksums it was scored against.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evaluate import bundle, inputs
from evaluate.config import MASK_INPUTS, METHOD_CARD_FIELDS, BenchScoreConfig, EvaluateConfig, check_method_name
from evaluate.metrics.registry import SUITE_VERSION
from evaluate.results import COLUMNS, RESULTS_PARQUET, SUMMARY_JSON
from void import __version__, bench_format, video
from void.errors import ConfigError, VoidError
from void.executors import run_tasks

METHOD_JSON = "method.json"


class SubmissionError(VoidError, ValueError):
    """A submission that cannot be scored; the message lists every problem by path."""


def read_card(pred: Path) -> tuple[dict[str, Any], list[str]]:
    """The method card and what is wrong with it (empty list: fine)."""
    path = pred / METHOD_JSON
    if not path.is_file():
        return {}, [f"{path}: missing (the method card: {', '.join(METHOD_CARD_FIELDS)})"]
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return {}, [f"{path}: invalid JSON ({exc})"]
    if not isinstance(card, dict):
        return {}, [f"{path}: expected a JSON object"]
    problems = [f"{path}: missing field {f!r}" for f in METHOD_CARD_FIELDS if f not in card or card[f] in (None, "")]
    if "name" in card and card["name"]:
        try:
            check_method_name(str(card["name"]), "name")
        except ConfigError as exc:
            problems.append(f"{path}: {exc}")
    if "parameters" in card and not isinstance(card["parameters"], dict):
        problems.append(f"{path}: 'parameters' must be an object of the settings used")
    if card.get("mask_input") not in (None, "", *MASK_INPUTS):
        problems.append(f"{path}: 'mask_input' must be one of {', '.join(MASK_INPUTS)}, got {card['mask_input']!r}")
    return card, problems


def check_videos(bench: bench_format.Bench, pred: Path, workers: int) -> tuple[dict[str, inputs.Shape], list[str]]:
    """Expected shape of every clip and the problems of the submission's videos."""
    clips = bench.clips()
    expected = {c: inputs.ground_truth_shape(ref) for c, ref in clips.items()}
    paths = {c: pred / f"{c}.mp4" for c in clips}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # each check runs ffmpeg
        # Packets are counted, not decoded: scoring decodes every video next, and a stream that
        # breaks there is refused just the same (runner.finish), without a second full decode.
        found = dict(zip(paths, pool.map(lambda c: inputs.check_prediction(paths[c], expected[c], resize=False, decode=False), paths)))
    problems = [f"{paths[c]}: {msg}" + (" (every clip needs a video)" if msg == "missing" else "") for c, msg in found.items() if msg]
    return expected, problems + stray_videos(bench, pred, clips)


def stray_videos(bench: bench_format.Bench, pred: Path, clips) -> list[str]:
    """A problem for every video in the submission that is not one of the clips."""
    problems, subsets = [], set(bench.subsets)
    for p in sorted(pred.rglob("*.mp4")):
        rel = p.relative_to(pred).with_suffix("").as_posix()
        if rel not in clips and not p.name.startswith("."):
            where = "" if rel.split("/", 1)[0] in subsets else f" (subsets: {', '.join(sorted(subsets))})"
            problems.append(f"{p}: not a clip of {bench.version}{where}")
    return problems


def refuse_problems(what: str, pred: Path, bench: bench_format.Bench, problems: list[str]) -> None:
    """Raise one error listing every problem of a submission at once (nothing when there is none)."""
    if problems:
        raise SubmissionError(
            f"{what} {pred} cannot be scored against {bench.version} ({len(problems)} problem(s)):\n"
            + "\n".join(f"  {p}" for p in problems)
        )


def link_submission(work: Path, subset: str, pred: Path, method: str) -> Path:
    """``work/pred/<subset>/<method>`` -> ``pred/<subset>``: the prediction layout evaluate reads."""
    link_root = work / "pred" / subset
    link_root.mkdir(parents=True)
    os.symlink((pred / subset).resolve(), link_root / method)
    return link_root


def bundle_head(bench: bench_format.Bench, task: str, card: dict[str, Any], clips) -> dict[str, Any]:
    """The bundle fields that say what was scored against what (both tracks)."""
    checksums_path = bench.checksums_path()
    return {
        "format": bundle.BUNDLE_FORMAT,
        "format_version": bundle.BUNDLE_VERSION,
        "task": task,
        "benchmark": bench.info.get("benchmark", "VOID-bench"),
        "version": bench.version,
        "definition_hash": bench.definition_hash,
        "renderer": bench.info["renderer"],
        "limit_per_family": bench.info.get("limit_per_family"),
        "checksums_sha256": bench_format.file_sha256(checksums_path),
        "checksums": checksums_path.read_text(encoding="utf-8"),
        "card": card,
        "clips": {c: bench.clips()[c].family() for c in sorted(clips)},
    }

def bundle_scores(suite: dict[str, int], frames: int, score_s: float, summaries: dict, table) -> dict[str, Any]:
    """The bundle fields that hold the scores (both tracks): when, with which suite, on what
    machine, and the per-clip rows (NaN written as null)."""
    return {
        "scored": {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "void_bench": __version__,
            **suite,
            "frames": frames,
            "score_s": round(score_s, 3),
            "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
        },
        "summaries": summaries,
        "rows": {"columns": list(table.columns), "data": table.astype(object).where(table.notna(), None).values.tolist()},
    }


def report_scored(command: str, method: str, bench: bench_format.Bench, clips: int, frames: int, score_s: float,
                  out: Path, total_s: float) -> None:
    print(
        f"{command}: {method} on {bench.version} ({clips} clips, {frames} frames) scored in {score_s:.1f} s "
        f"({frames / score_s:.1f} frames/s), bundle {out} ({out.stat().st_size / 1e6:.2f} MB) in {total_s:.1f} s",
        file=sys.stderr,
    )



def _preview_task(args: tuple[str, str, float]) -> str:
    src, dst, fps = args
    bundle.write_preview(video.read_video(src), Path(dst), fps)
    return dst


def _score_subsets(bench: bench_format.Bench, pred: Path, method: str, work: Path, workers: int, lpips: bool, progress: bool):
    """Every subset scored by ``void evaluate``'s steps in one pool (one start-up, no idle
    core between subsets); the videos were checked already. Long table and summaries."""
    from evaluate import runner
    import pandas as pd

    plans = {}
    for subset in bench.subsets:
        link_root = link_submission(work, subset, pred, method)
        plans[subset] = runner.plan(EvaluateConfig(
            data=str(bench.root / subset), pred=str(link_root), out=str(work / "results" / subset), methods=[method],
            workers=workers, lpips=lpips, progress=progress,
        ), checked=True)
    runner.run(list(plans.values()), workers=workers, progress=progress)
    tables, summaries = [], {}
    for subset, p in plans.items():
        runner.finish(p)
        res = Path(p.config.out)
        summaries[subset] = json.loads((res / SUMMARY_JSON).read_text(encoding="utf-8"))
        df = pd.read_parquet(res / RESULTS_PARQUET)
        df["sample_id"] = subset + "/" + df["sample_id"].astype(str)
        tables.append(df)
    return tables, summaries


def scorer_of(bench: bench_format.Bench) -> dict[str, Any]:
    """The scorer settings to use on a build (see :func:`simulate.bench.definition.scorer_of`)."""
    from simulate.bench import definition

    return definition.scorer_of(bench)


def score_submission(config: BenchScoreConfig) -> int:
    if config.task == "masks":  # quadmask predictions: the mask track's checks and scorer
        from evaluate.masks.submission import score_mask_submission

        return score_mask_submission(config)
    start = time.perf_counter()
    pred, out = Path(config.pred), Path(config.out)
    workers = config.workers or max(1, os.cpu_count() or 1)
    # 1. the benchmark and what it was checksummed as
    bench = bench_format.Bench(config.bench)
    bench.checksums()  # refuses an unfinished build
    scorer = scorer_of(bench)
    if int(scorer["suite_version"]) != SUITE_VERSION:
        raise SubmissionError(
            f"{config.bench}: {bench.version} is scored with metric suite {scorer['suite_version']}, this install has "
            f"{SUITE_VERSION}; scores would not be comparable"
        )
    if not pred.is_dir():
        raise SubmissionError(f"{pred}: no such submission folder")
    # 2-3. the card and the videos, every problem listed at once
    card, problems = read_card(pred)
    expected, video_problems = check_videos(bench, pred, workers)
    problems += video_problems
    refuse_problems("submission", pred, bench, problems)
    method = str(card["name"])
    # 4. scores, one evaluate run per subset
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix=".bench-score-", dir=out.parent if out.parent.is_dir() else None) as tmp:
        tables, summaries = _score_subsets(bench, pred, method, Path(tmp) / "s", workers, bool(scorer.get("lpips", False)), config.progress)
        score_s = time.perf_counter() - start
        previews = {}
        if config.previews:
            fps = {c: float(bench.clips()[c].metadata().get("fps", 12)) for c in expected}
            tasks = [(str(pred / f"{c}.mp4"), str(Path(tmp) / "previews" / f"{c}.mp4"), fps[c]) for c in sorted(expected)]
            for res in run_tasks(_preview_task, tasks, workers=workers, desc="previews", unit="clip", progress=config.progress):
                if not res.ok:
                    raise RuntimeError(f"preview of {tasks[res.index][0]} failed:\n{res.error}")
                previews[sorted(expected)[res.index]] = Path(res.value)
        table = pd.concat(tables, ignore_index=True)[list(COLUMNS)]
        frames = sum(s.num_frames for s in expected.values())
        # 5. one bundle file
        data = {
            **bundle_head(bench, "removal", card, expected),
            **bundle_scores({"suite_version": SUITE_VERSION}, frames, score_s, summaries, table),
        }
        bundle.write_bundle(out, data, previews)
    report_scored("bench score", method, bench, len(expected), frames, score_s, out, time.perf_counter() - start)
    return 0

