"""``void quickstart``: the whole pipeline, on embedded defaults, inside a time budget.

Steps, each calling a stage's own entry function (the same ones the CLI calls):

1. simulate a training set, a small validation set and a held-out benchmark (test seeds);
2. run the classic baselines on the benchmark (identity, opencv-inpaint, clean-plate,
   oracle-hidden);
3. train the quadmask model and its two ablations (binary-object, binary-union) with
   DeepSpeed, splitting what is left of the budget between them;
4. run each model on the benchmark (``void infer``);
5. score every method (``void evaluate``) and build the leaderboard site;
6. test VOID's central claim on this data: paired bootstrap differences, quadmask model
   minus every other method, on affected-region PSNR and the counterfactual margin;
   print a summary table and where to open the site.

Re-running the same command resumes: every stage skips work that is already on disk, and a
model whose training finished is kept rather than trained further.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from void import atomic
from void.app.quickstart_config import QuickstartConfig
from void.constants import MASK_ENCODINGS as ENCODINGS
from void.errors import VoidError

BASELINES = ("identity", "opencv-inpaint", "clean-plate", "oracle-hidden")
OURS = "void-quad"
TRAINED_JSON = "quickstart_trained.json"  # in a run dir: training finished, with its numbers
# (metric, region) pairs the research question is about, in the order they are reported.
CLAIM_METRICS = (("cf_margin", "all"), ("cf_win", "all"), ("psnr", "affected"), ("psnr", "removed"))
# Wall-clock minutes kept back for inference, scoring and the site after training.
_RESERVE_MIN_PER_MODEL = 1.2
_RESERVE_MIN_FIXED = 1.5


@dataclass
class Paths:
    root: Path

    @property
    def train(self) -> Path:
        return self.root / "data" / "train"

    @property
    def val(self) -> Path:
        return self.root / "data" / "val"

    @property
    def test(self) -> Path:
        return self.root / "data" / "test"

    @property
    def preds(self) -> Path:
        return self.root / "preds"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def site(self) -> Path:
        return self.root / "site"

    def run(self, encoding: str) -> Path:
        return self.root / "runs" / encoding


def _banner(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def _check(status, what: str) -> None:
    if isinstance(status, int) and not isinstance(status, bool) and status != 0:
        raise VoidError(f"quickstart: {what} failed (exit status {status}); see the messages above")


def _check_data(status, path: Path, wanted: int, what: str) -> None:
    """A few failed samples (listed by simulate) do not stop the run; most missing does."""
    if status == 0:
        return
    from void import formats

    have = len(formats.Dataset(path)) if formats.is_dataset_dir(path) else 0
    if have < max(2, wanted // 2):
        _check(status, what)
    print(f"quickstart: continuing with {have}/{wanted} samples in {path} (failures listed in its dataset.json)")


def stage(name: str):
    """``(config class, entry function)`` of ``void <name>``: exactly what the CLI runs.

    Taken from the CLI's command table, so the quickstart and the command line cannot drift
    apart (and a package attribute shadowed by a same-named submodule cannot bite).
    """
    from void.app import cli

    cmd = next(c for c in cli.COMMANDS if c.name == name)
    return cli._load(cmd.config), cli._load(cmd.entry)


def quickstart(config: QuickstartConfig) -> int:
    from evaluate.results import RESULTS_PARQUET
    from train.checkpoint import checkpoints_dir

    SimulateConfig, generate = stage("simulate")
    BaselineConfig, run_baseline = stage("baseline")
    TrainConfig, train = stage("train")
    InferConfig, infer = stage("infer")
    EvaluateConfig, score = stage("evaluate")
    LeaderboardConfig, build = stage("leaderboard")

    t0 = time.monotonic()
    paths = Paths(Path(config.out))
    paths.root.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    def elapsed_min() -> float:
        return (time.monotonic() - t0) / 60.0

    # 1. data
    _banner(f"1/6 simulate: {config.samples} train, {config.test_samples} test samples "
            f"({config.resolution[0]}x{config.resolution[1]}x{config.frames}, {config.renderer})")
    t = time.monotonic()
    common = dict(resolution=config.resolution, frames=config.frames, renderer=config.renderer, workers=config.workers)
    _check_data(generate(SimulateConfig(out=str(paths.train), num_samples=config.samples, seed=config.seed, split="train", **common)), paths.train, config.samples, "simulate (train)")
    # validation: training seed range, another dataset seed, so it shares no sample with train
    _check_data(generate(SimulateConfig(out=str(paths.val), num_samples=8, seed=config.seed + 1, split="train", **common)), paths.val, 8, "simulate (val)")
    _check_data(generate(SimulateConfig(out=str(paths.test), num_samples=config.test_samples, seed=config.seed, split="test", **common)), paths.test, config.test_samples, "simulate (test)")
    timings["simulate_s"] = time.monotonic() - t

    # 2. baselines
    _banner("2/6 baselines: " + ", ".join(BASELINES))
    t = time.monotonic()
    for name in BASELINES:
        _check(run_baseline(BaselineConfig(name=name, input=str(paths.test), out=str(paths.preds))), f"baseline {name}")
    timings["baselines_s"] = time.monotonic() - t

    # 3. training, the budget split evenly between the models still to train
    encodings = ENCODINGS if config.ablations else ENCODINGS[:1]
    _banner("3/6 train: " + ", ".join(encodings) + " (DeepSpeed, config " + config.config + ")")
    t = time.monotonic()
    trained = {}
    for i, enc in enumerate(encodings):
        done_file = paths.run(enc) / TRAINED_JSON
        if done_file.is_file():  # a finished model is kept as it is: a rerun does not train it further
            trained[enc] = json.loads(done_file.read_text())
            print(f"--- {enc}: trained already ({trained[enc]['steps']} steps, {done_file}); kept", flush=True)
            continue
        left = config.budget_minutes - elapsed_min() - _RESERVE_MIN_FIXED - _RESERVE_MIN_PER_MODEL * len(encodings)
        share = max(left / (len(encodings) - i), 0.5)
        print(f"--- {enc}: up to {share:.1f} min", flush=True)
        result = train(
            TrainConfig(
                data=str(paths.train),
                val_data=str(paths.val),
                out=str(paths.run(enc)),
                config=config.config,
                mask_encoding=enc,
                seed=config.seed,
                time_budget_minutes=share,
                resume=checkpoints_dir(paths.run(enc)).is_dir(),
            )
        )
        trained[enc] = {
            "steps": result.steps,
            "final_loss": result.final_loss,
            "stopped_by_budget": result.stopped_by_budget,
            "wall_s": result.wall_s,
        }
        atomic.write_json(done_file, trained[enc])
    timings["train_s"] = time.monotonic() - t

    # 4. inference
    _banner("4/6 infer: each model on the benchmark")
    t = time.monotonic()
    for enc in encodings:
        _check(
            infer(InferConfig(model=str(paths.run(enc)), input=str(paths.test), out=str(paths.preds), method=f"void-{enc}", seed=config.seed)),
            f"infer {enc}",
        )
    timings["infer_s"] = time.monotonic() - t

    # 5. scores and site
    _banner("5/6 evaluate and build the leaderboard")
    t = time.monotonic()
    _check(score(EvaluateConfig(data=str(paths.test), pred=str(paths.preds), out=str(paths.results), workers=config.workers)), "evaluate")
    report = build(LeaderboardConfig(results=str(paths.results), out=str(paths.site), quiet=True))
    timings["evaluate_and_site_s"] = time.monotonic() - t

    # 6. the research question
    _banner("6/6 does the quadmask model beat the ablations and the baselines?")
    claim = paired_comparison(paths.results / RESULTS_PARQUET, OURS, seed=config.seed) if OURS in report.methods else {}
    summary = {
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(config).items()},
        "training": trained,
        "timings_s": timings,
        "total_minutes": elapsed_min(),
        "claim": claim,
        "site": str(report.index),
    }
    atomic.write_json(paths.root / "quickstart.json", summary)
    text = summary_text(report.markdown.read_text(encoding="utf-8"), claim, trained, elapsed_min())
    atomic.write_text(paths.root / "summary.md", text)
    print(text)
    print(f"Leaderboard: file://{report.index.resolve()}")
    print(f"Summary:     {paths.root / 'summary.md'}  (all numbers: {paths.root / 'quickstart.json'})")
    return 0


def paired_comparison(results_path: Path, ours: str, *, seed: int = 0, resamples: int = 4000) -> dict:
    """Per metric, ``ours`` minus every other method on the samples both have a value for:
    mean difference with a 95% percentile bootstrap interval over samples (paired), and a
    verdict (better / worse / no clear difference, in the metric's direction)."""
    import pandas as pd

    from leaderboard import stats

    df = pd.read_parquet(results_path)
    out: dict[str, dict] = {}
    for metric, region in CLAIM_METRICS:
        sub = df[(df.metric == metric) & (df.region == region)]
        if sub.empty:
            continue
        higher = bool(sub.higher_is_better.iloc[0])
        wide = sub.pivot_table(index="sample_id", columns="method", values="value", aggfunc="first")
        if ours not in wide:
            continue
        rows = {}
        for other in wide.columns:
            if other == ours:
                continue
            rng = stats.rng_for(seed, metric, region, ours, other)
            mean, lo, hi, n = stats.paired_bootstrap(
                wide[ours].to_numpy(dtype=float), wide[other].to_numpy(dtype=float), resamples=resamples, rng=rng
            )
            if n < 2:
                continue
            verdict = _verdict(lo, hi, higher)
            rows[other] = {"mean_diff": mean, "ci_low": lo, "ci_high": hi, "n": n, "verdict": verdict}
        out[f"{metric}/{region}"] = {"higher_is_better": higher, "vs": rows}
    return out


def _verdict(lo: float, hi: float, higher: bool) -> str:
    better = lo > 0 if higher else hi < 0
    worse = hi < 0 if higher else lo > 0
    return "better" if better else "worse" if worse else "no clear difference"


def summary_text(leaderboard_md: str, claim: dict, trained: dict, minutes: float) -> str:
    lines = ["# VOID-bench quickstart", "", f"Finished in {minutes:.1f} minutes.", ""]
    if trained:
        lines.append("Training: " + "; ".join(
            f"{enc} {t['steps']} steps (final loss {t['final_loss']:.4f})" for enc, t in trained.items()
        ) + ".")
        lines.append("")
    lines += ["## Leaderboard", "", leaderboard_md.strip(), ""]
    if claim:
        lines += [
            f"## {OURS} minus each other method (paired over samples, 95% bootstrap interval)",
            "",
            "| metric | vs | mean difference | 95% CI | n | verdict |",
            "|---|---|---|---|---|---|",
        ]
        for key, block in claim.items():
            for other, r in block["vs"].items():
                lines.append(
                    f"| {key} | {other} | {r['mean_diff']:+.3f} | [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] | {r['n']} | {r['verdict']} |"
                )
        lines.append("")
    return "\n".join(lines)
