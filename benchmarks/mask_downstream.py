"""What an imperfect mask costs downstream: the tiny quad model run with true vs predicted masks.

    python benchmarks/mask_downstream.py                          # simulate, train, compare
    python benchmarks/mask_downstream.py --model RUN --test DIR   # an existing model and test set

Steps, each calling a stage's entry function (what ``void <stage>`` runs):

1. simulate a training set, 8 validation clips and a held-out test set at the quickstart's
   defaults (32x32, 8 frames, raster), unless ``--model`` and ``--test`` are given;
2. train the quadmask model with ``--config tiny`` for a fixed wall-clock budget
   (``--train-minutes``), unless ``--model`` is given;
3. masks for the test set from the clips' video and object mask only: the local predictor
   (``void masks predict --layout pred``), the dilated object and object-only baselines, and
   the oracle (the exact masks, written like a prediction);
4. ``void infer`` on the test set once with the clips' own masks and once per mask folder
   (``--masks MASKS/<method>``); every run uses the same sampling seed, so the mask is the
   only thing that differs. The oracle run checks ``--masks`` itself: its outputs must equal
   the true-mask run's;
5. ``void evaluate`` on the outputs and ``void evaluate --task masks`` on the masks;
6. print per mask source: IoU of the affected class, CF win rate, CF margin and PSNR of the
   removed and affected regions, means with 95% bootstrap intervals over clips; then the
   paired difference true minus each predicted mask (paired bootstrap over clips). All
   numbers go to ``OUT/mask_downstream.json``; ``OUT/sheet.png`` shows the clip where the
   true mask's CF margin gains most over the local predictor's.

Every stage skips work already on disk, so a rerun with the same ``--out`` resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from void import atomic
from void.app.quickstart import TRAINED_JSON, _check, _check_data, stage

# (label, mask folder under MASKS or None for the clips' own masks), in table order.
SOURCES = (("true", None), ("local", "local"), ("dilated", "dilated"), ("object-only", "object-only"))
ORACLE = "oracle"
# (metric, region, heading); the first comes from the mask track, the others from the removal track.
COLUMNS = (
    ("iou", "affected", "mask IoU affected"),
    ("cf_win", "all", "CF win rate"),
    ("cf_margin", "all", "CF margin"),
    ("psnr", "removed", "PSNR removed (dB)"),
    ("psnr", "affected", "PSNR affected (dB)"),
)


def method_of(label: str) -> str:
    """The prediction folder of the quad model run with one mask source."""
    return f"quad+{label}"


def intervals(df, labels, *, seed: int = 0, resamples: int = 2000) -> dict[str, dict[str, tuple]]:
    """``{label: {"metric/region": (mean, low, high, n)}}`` over ``df``'s long rows
    (columns method, sample_id, metric, region, value; ``method`` holds the labels)."""
    from leaderboard import stats

    out: dict[str, dict[str, tuple]] = {}
    for label in labels:
        out[label] = {}
        for metric, region, _ in COLUMNS:
            vals = df[(df.method == label) & (df.metric == metric) & (df.region == region)]["value"].to_numpy(float)
            rng = stats.rng_for(seed, "mask-downstream", metric, region, label)
            mean, lo, hi, n = stats.mean_ci(vals, resamples=resamples, rng=rng)
            out[label][f"{metric}/{region}"] = (float(mean[0]), float(lo[0]), float(hi[0]), int(n[0]))
    return out


def paired(df, ours: str, others, *, seed: int = 0, resamples: int = 2000) -> dict[str, dict[str, tuple]]:
    """``{other: {"metric/region": (mean, low, high, n)}}``: ``ours`` minus ``other`` per clip,
    over the clips both define, with a paired percentile bootstrap interval."""
    from leaderboard import stats

    out: dict[str, dict[str, tuple]] = {}
    for other in others:
        out[other] = {}
        for metric, region, _ in COLUMNS[1:]:
            sub = df[(df.metric == metric) & (df.region == region) & df.method.isin([ours, other])]
            wide = sub.pivot_table(index="sample_id", columns="method", values="value", aggfunc="first", dropna=False)
            if ours not in wide or other not in wide:
                out[other][f"{metric}/{region}"] = (float("nan"),) * 3 + (0,)
                continue
            rng = stats.rng_for(seed, "mask-downstream-paired", metric, region, ours, other)
            out[other][f"{metric}/{region}"] = stats.paired_bootstrap(
                wide[ours].to_numpy(float), wide[other].to_numpy(float), resamples=resamples, rng=rng
            )
    return out


def _cell(v: tuple, signed: bool = False) -> str:
    mean, lo, hi, n = v
    if n == 0 or not np.isfinite(mean):
        return "-"
    f = "{:+.3f}" if signed else "{:.3f}"
    return f"{f.format(mean)} [{f.format(lo)}, {f.format(hi)}]"


def table_markdown(iv: dict, diffs: dict, ours: str = "true") -> str:
    """The two tables (per mask source; true minus each other source) as markdown."""
    keys = [f"{m}/{r}" for m, r, _ in COLUMNS]
    n_clips = max((v[3] for row in iv.values() for v in row.values()), default=0)
    # A score left undefined on some clips (CF: no visible consequence) says on how many it is.
    n_of = {k: max((row[k][3] for row in iv.values()), default=0) for k in keys}
    heads = [h if n_of[k] == n_clips else f"{h} ({n_of[k]} clips)" for k, (_, _, h) in zip(keys, COLUMNS)]
    lines = [f"| masks | {' | '.join(heads)} |", "|---" * (len(heads) + 1) + "|"]
    for label, row in iv.items():
        lines.append(f"| {label} | " + " | ".join(_cell(row[k]) for k in keys) + " |")
    lines += ["", f"Means with 95% bootstrap intervals over {n_clips} test clips.", ""]
    lines += [f"| {ours} minus | {' | '.join(heads[1:])} |", "|---" * len(heads) + "|"]
    for other, row in diffs.items():
        lines.append(f"| {other} | " + " | ".join(_cell(row[k], signed=True) for k in keys[1:]) + " |")
    lines += ["", "Paired over clips (each clip's difference, then a percentile bootstrap of the mean)."]
    return "\n".join(lines)


def _max_output_difference(preds: Path, a: str, b: str) -> tuple[int, int]:
    """(largest |difference| in 8-bit levels between two methods' outputs, clips compared)."""
    from void import formats, video

    worst, n = 0, 0
    for path in sorted((preds / a).glob("*.mp4")):
        if path.name.endswith("_tuple.mp4"):
            continue
        other = formats.prediction_path(preds, b, path.stem)
        x, _ = video.read_video_fps(path)
        y, _ = video.read_video_fps(other)
        worst = max(worst, int(np.abs(x.astype(np.int16) - y.astype(np.int16)).max()))
        n += 1
    return worst, n


def sheet(test: Path, masks: Path, preds: Path, sample_id: str, labels, *, frames: int = 4, scale: int = 4) -> np.ndarray:
    """One clip at a few frames: input, the counterfactual target, then per mask source its
    mask (false colour) and the model's output with it. Rows labelled on the left."""
    from PIL import Image, ImageDraw

    from void import formats, quadmask, video

    ref = formats.Dataset(test).sample(sample_id)
    full, target = ref.load_video("full"), ref.load_video("removed")
    idx = np.linspace(0, len(full) - 1, frames).round().astype(int)
    rows = [("input", full), ("target (counterfactual)", target)]
    for label in labels:
        mask = ref.load_mask() if label == "true" else video.read_mask(masks / label / f"{sample_id}.mp4", strict=False)
        out, _ = video.read_video_fps(formats.prediction_path(preds, method_of(label), sample_id))
        rows += [(f"mask: {label}", quadmask.colorize(mask)), (f"output: {label} mask", out)]
    h, w = full.shape[1] * scale, full.shape[2] * scale
    margin = 190
    img = Image.new("RGB", (margin + frames * w, len(rows) * h), (16, 16, 16))
    draw = ImageDraw.Draw(img)
    for r, (name, clip) in enumerate(rows):
        draw.text((6, r * h + h // 2), name, fill=(235, 235, 235), anchor="lm")
        for c, t in enumerate(idx):
            img.paste(Image.fromarray(clip[t]).resize((w, h), Image.NEAREST), (margin + c * w, r * h))
    return np.asarray(img)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/void_mask_downstream")
    ap.add_argument("--model", default="", help="a trained run or model dir (default: train one under OUT/run)")
    ap.add_argument("--test", default="", help="an existing test dataset (default: simulate one under OUT/data/test)")
    ap.add_argument("--samples", type=int, default=96, help="training clips to simulate")
    ap.add_argument("--test-samples", type=int, default=30)
    ap.add_argument("--resolution", default="32x32")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--train-minutes", type=float, default=8.0, help="wall-clock training budget")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    import pandas as pd
    import torch

    from evaluate.results import RESULTS_PARQUET
    from train.config import PRESETS
    from train.checkpoint import checkpoints_dir

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data, run, masks, preds = out / "data", Path(args.model or out / "run"), out / "masks", out / "preds"
    test = Path(args.test or data / "test")
    timings: dict[str, float] = {}
    t = time.monotonic()

    # 1. data
    SimulateConfig, generate = stage("simulate")
    common = dict(resolution=args.resolution, frames=args.frames, renderer="raster", workers=args.workers, progress=False)
    if not args.model:
        _check_data(generate(SimulateConfig(out=str(data / "train"), num_samples=args.samples, seed=args.seed, split="train", **common)), data / "train", args.samples, "simulate (train)")
        _check_data(generate(SimulateConfig(out=str(data / "val"), num_samples=8, seed=args.seed + 1, split="train", **common)), data / "val", 8, "simulate (val)")
    if not args.test:
        _check_data(generate(SimulateConfig(out=str(test), num_samples=args.test_samples, seed=args.seed, split="test", **common)), test, args.test_samples, "simulate (test)")
    timings["simulate_s"] = time.monotonic() - t

    # 2. the tiny quad model, for a fixed wall-clock budget
    trained: dict = {}
    if not args.model:
        t = time.monotonic()
        done = run / TRAINED_JSON
        if done.is_file():
            trained = json.loads(done.read_text())
        else:
            TrainConfig, train = stage("train")
            result = train(TrainConfig(data=str(data / "train"), val_data=str(data / "val"), out=str(run), config="tiny",
                                       mask_encoding="quad", seed=args.seed, time_budget_minutes=args.train_minutes,
                                       resume=checkpoints_dir(run).is_dir()))  # fmt: skip
            trained = {"steps": result.steps, "final_loss": result.final_loss, "wall_s": result.wall_s,
                       "stopped_by_budget": result.stopped_by_budget}  # fmt: skip
            atomic.write_json(done, trained)
        timings["train_s"] = time.monotonic() - t

    # 3. masks from the video and the object's mask alone
    t = time.monotonic()
    MaskPredictConfig, predict = stage_sub("predict")
    MaskBaselineConfig, run_mask_baseline = stage_sub("baseline")
    _check(predict(MaskPredictConfig(input=str(test), out=str(masks), layout="pred", method="local", progress=False)), "masks predict")
    for name in ("dilated", "object-only", ORACLE):
        _check(run_mask_baseline(MaskBaselineConfig(name=name, input=str(test), out=str(masks), progress=False)), f"masks baseline {name}")
    timings["masks_s"] = time.monotonic() - t

    # 4. the same model and seed with each mask source
    t = time.monotonic()
    InferConfig, infer = stage("infer")
    # The tiny model's ops are too small for intra-op threads; on a shared 2-core machine the
    # default 2 threads spin against other work (measured here: 31 s a clip against 2.4 s).
    torch.set_num_threads(PRESETS["tiny"]["threads"])
    for label, folder in SOURCES + ((ORACLE, ORACLE),):
        _check(infer(InferConfig(model=str(run), input=str(test), out=str(preds), method=method_of(label), seed=args.seed,
                                 masks=str(masks / folder) if folder else None, progress=False)), f"infer {label}")  # fmt: skip
    timings["infer_s"] = time.monotonic() - t
    worst, compared = _max_output_difference(preds, method_of("true"), method_of(ORACLE))

    # 5. scores
    t = time.monotonic()
    EvaluateConfig, score = stage("evaluate")
    labels = [label for label, _ in SOURCES]
    _check(score(EvaluateConfig(data=str(test), pred=str(preds), out=str(out / "results"), methods=[method_of(x) for x in labels],
                                workers=args.workers, lpips=False, progress=False)), "evaluate")  # fmt: skip
    _check(score(EvaluateConfig(data=str(test), pred=str(masks), out=str(out / "mask_results"), task="masks",
                                workers=args.workers, progress=False)), "evaluate --task masks")  # fmt: skip
    timings["evaluate_s"] = time.monotonic() - t

    # 6. one long table keyed by mask source: removal rows, and the mask rows of the mask used
    removal = pd.read_parquet(out / "results" / RESULTS_PARQUET)
    removal = removal[removal.method.isin([method_of(x) for x in labels])].assign(method=lambda d: d.method.str.removeprefix("quad+"))
    mask_rows = pd.read_parquet(out / "mask_results" / RESULTS_PARQUET)
    mask_rows = mask_rows[mask_rows.method.isin([ORACLE, *labels])].replace({"method": {ORACLE: "true"}})
    df = pd.concat([removal, mask_rows], ignore_index=True)
    iv = intervals(df, labels, seed=args.seed)
    diffs = paired(df, "true", labels[1:], seed=args.seed)
    text = table_markdown(iv, diffs)
    summary = {"args": vars(args), "model": str(run), "test": str(test), "training": trained, "timings_s": timings,
               "oracle_check": {"max_abs_difference": worst, "clips": compared},
               "intervals": iv, "true_minus": diffs}  # fmt: skip
    atomic.write_json(out / "mask_downstream.json", summary)
    # the clip where the true mask's CF margin gains most over the local predictor's
    cf = df[(df.metric == "cf_margin") & df.method.isin(["true", "local"])].pivot_table(index="sample_id", columns="method", values="value")
    if {"true", "local"} <= set(cf.columns) and cf.notna().all(axis=1).any():
        shown = (cf["true"] - cf["local"]).idxmax()
        from PIL import Image

        with atomic.atomic_path(out / "sheet.png") as tmp:
            Image.fromarray(sheet(test, masks, preds, shown, ["true", "local", "object-only"])).save(tmp, format="PNG")
        summary["sheet"] = {"path": str(out / "sheet.png"), "sample_id": shown}
        atomic.write_json(out / "mask_downstream.json", summary)
    print()
    if trained:
        print(f"model: {run} ({trained['steps']} steps in {trained['wall_s'] / 60:.1f} min, final loss {trained['final_loss']:.4f})")
    print(f"--masks with the exact (oracle) masks reproduces the true-mask outputs: max |difference| {worst} levels over {compared} clips")
    print("stage wall times: " + ", ".join(f"{k[:-2]} {v:.0f} s" for k, v in timings.items()))
    print()
    print(text)
    print(f"\nall numbers: {out / 'mask_downstream.json'}")
    if "sheet" in summary:
        print(f"one clip ({summary['sheet']['sample_id']}, largest true-minus-local CF margin): {summary['sheet']['path']}")
    return 0


def stage_sub(name: str):
    """``(config class, entry function)`` of ``void masks <name>``, from the CLI's command table."""
    from void.app import cli

    masks = next(c for c in cli.COMMANDS if c.name == "masks")
    cmd = next(c for c in masks.subcommands if c.name == name)
    return cli._load(cmd.config), cli._load(cmd.entry)


if __name__ == "__main__":
    raise SystemExit(main())
