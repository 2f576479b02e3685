"""``void bench score --task masks``: check a mask submission against a benchmark build and score it.

    void bench score --task masks --bench bench/v1 --pred my_masker/ --out my_masker.zip

A mask submission is laid out like a removal submission::

    method.json                      the card (the removal card's fields); mask_input must be
                                     object-mask: a mask predictor is given the object's mask
    <subset>/<sample_id>.mp4         one quadmask video per clip (0/63/127/255, lossless), the
                                     clip's size and frame count

Every problem (card field, missing clip, unreadable video, wrong size or frame count, values
outside the four, a file that is not a clip) is listed by path before anything is scored.
Each subset is then scored by the mask track's scorer (:func:`evaluate.masks.score.score_masks`)
and one bundle is written (``evaluate.bundle``) with ``task: masks`` beside the definition hash
and the checksums; ``void leaderboard --bundles`` puts it in the site's mask-track section.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from evaluate import bundle
from evaluate.config import BenchScoreConfig, EvaluateConfig
from evaluate.masks import metrics
from evaluate.masks.task import MaskTaskError, load_prediction
from evaluate.results import COLUMNS, RESULTS_PARQUET, SUMMARY_JSON
from evaluate.submission import SubmissionError, bundle_head, bundle_scores, link_submission, read_card, refuse_problems, report_scored, stray_videos
from void import bench_format
from void.formats import SampleRef

TASK = "masks"
MASK_INPUT = "object-mask"  # what a mask predictor is given; a quadmask input would be the answer


def _shape(ref: SampleRef) -> tuple[int, int, int]:
    meta = ref.metadata()
    return int(meta["num_frames"]), int(meta["height"]), int(meta["width"])


def _check_one(path: Path, shape: tuple[int, int, int]) -> str | None:
    if not path.is_file():
        return f"{path}: missing (every clip needs a quadmask video)"
    try:
        load_prediction(path, shape)
    except MaskTaskError as exc:
        return str(exc)
    return None


def check_masks(bench: bench_format.Bench, pred: Path, workers: int) -> tuple[dict[str, tuple[int, int, int]], list[str]]:
    """Expected (frames, height, width) per clip and the problems of the submission's masks."""
    clips = bench.clips()
    expected = {c: _shape(ref) for c, ref in clips.items()}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # each check decodes a video
        found = list(pool.map(lambda c: _check_one(pred / f"{c}.mp4", expected[c]), sorted(clips)))
    return expected, [msg for msg in found if msg] + stray_videos(bench, pred, clips)


def _score_subset(bench: bench_format.Bench, subset: str, pred: Path, method: str, work: Path, workers: int, progress: bool):
    import pandas as pd

    from evaluate.masks.score import score_masks

    link_root = link_submission(work, subset, pred, method)
    res = work / "results" / subset
    score_masks(EvaluateConfig(
        data=str(bench.root / subset), pred=str(link_root), out=str(res), methods=[method], task=TASK,
        workers=workers, progress=progress,
    ))  # fmt: skip
    df = pd.read_parquet(res / RESULTS_PARQUET)
    df["sample_id"] = subset + "/" + df["sample_id"].astype(str)
    return df, json.loads((res / SUMMARY_JSON).read_text(encoding="utf-8"))


def score_mask_submission(config: BenchScoreConfig) -> int:
    start = time.perf_counter()
    pred, out = Path(config.pred), Path(config.out)
    workers = config.workers or max(1, os.cpu_count() or 1)
    bench = bench_format.Bench(config.bench)
    bench.checksums()  # refuses an unfinished build
    if not pred.is_dir():
        raise SubmissionError(f"{pred}: no such submission folder")
    card, problems = read_card(pred)
    if card.get("mask_input") not in (None, "", MASK_INPUT) and not any("'mask_input'" in p for p in problems):
        problems.append(
            f"{pred / 'method.json'}: 'mask_input' must be {MASK_INPUT!r} for a mask predictor (it is given the "
            f"object's mask, not the quadmask it predicts), got {card['mask_input']!r}"
        )
    expected, mask_problems = check_masks(bench, pred, workers)
    problems += mask_problems
    refuse_problems("mask submission", pred, bench, problems)
    method = str(card["name"])
    import pandas as pd

    tables, summaries = [], {}
    with tempfile.TemporaryDirectory(prefix=".bench-score-", dir=out.parent if out.parent.is_dir() else None) as tmp:
        for subset in bench.subsets:
            df, summary = _score_subset(bench, subset, pred, method, Path(tmp) / "s", workers, config.progress)
            tables.append(df)
            summaries[subset] = summary
        score_s = time.perf_counter() - start
        table = pd.concat(tables, ignore_index=True)[list(COLUMNS)]
        frames = sum(t for t, _h, _w in expected.values())
        data = {
            **bundle_head(bench, TASK, card, expected),
            **bundle_scores({"mask_suite_version": metrics.SUITE_VERSION}, frames, score_s, summaries, table),
        }
        bundle.write_bundle(out, data, {})
    report_scored("bench score --task masks", method, bench, len(expected), frames, score_s, out, time.perf_counter() - start)
    return 0
