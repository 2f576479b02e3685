"""The one command line: ``void <stage> ...``.

Each stage parses into its config dataclass and calls its entry function. Only the chosen
stage's config module is imported, and the entry function's module only when it runs, so
``void --help`` stays fast and works without bpy, deepspeed or a GPU.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass, field

from void import __version__


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    config: str = ""  # "module:Class"
    entry: str = ""  # "module:function"
    subcommands: tuple["Command", ...] = field(default_factory=tuple)
    epilog: str = ""


COMMANDS: tuple[Command, ...] = (
    Command(
        "quickstart",
        "run the whole pipeline on embedded defaults (data, training, baselines, scores, site)",
        "void.app.quickstart_config:QuickstartConfig",
        "void.app.quickstart:quickstart",
    ),
    Command(
        "simulate",
        "generate a paired counterfactual dataset from physics simulation",
        "simulate.config:SimulateConfig",
        "simulate.generate:generate",
    ),
    Command(
        "preview",
        "write side-by-side videos and contact sheets of dataset samples",
        "simulate.config:PreviewConfig",
        "simulate.preview:preview",
    ),
    Command(
        "check",
        "validate a dataset directory (ours or VOID's layout); non-zero exit on problems",
        "void.check:CheckConfig",
        "void.check:check",
    ),
    Command(
        "train",
        "train the quadmask-conditioned video diffusion model with DeepSpeed",
        "train.config:TrainConfig",
        "train.loop:train",
    ),
    Command(
        "infer",
        "remove objects with a trained model (VOID layout or dataset dir in, predictions out)",
        "void.config:InferConfig",
        "void.infer:infer",
    ),
    Command(
        "baseline",
        "run a baseline removal method into the prediction layout",
        "evaluate.config:BaselineConfig",
        "evaluate.baselines:run_baseline",
    ),
    Command(
        "evaluate",
        "score every method under a predictions dir against ground truth",
        "evaluate.config:EvaluateConfig",
        "evaluate.runner:score",
    ),
    Command(
        "masks",
        "the mask track: predict quadmasks locally, run an outside mask tool, write mask baselines",
        subcommands=(
            Command("predict", "predict quadmasks from a video and the object's mask (local, no network)", "evaluate.masks.config:MaskPredictConfig", "evaluate.masks.run:predict"),
            Command("command", "run an installed mask tool per clip and check what it writes", "evaluate.masks.config:MaskCommandConfig", "evaluate.masks.run:run_mask_command"),
            Command("baseline", "write a reference mask predictor: object-only, dilated, oracle", "evaluate.masks.config:MaskBaselineConfig", "evaluate.masks.run:run_mask_baseline"),
        ),
    ),
    Command(
        "study",
        "human preference study: init, serve, analyze",
        subcommands=(
            Command("init", "create a study database from a study config", "evaluate.study.config:StudyInitConfig", "evaluate.study.manage:init_study"),
            Command("serve", "serve the study app (Streamlit) on 127.0.0.1", "evaluate.study.config:StudyServeConfig", "evaluate.study.manage:serve"),
            Command("analyze", "analyse votes: win rates, Bradley-Terry, agreement", "evaluate.study.config:StudyAnalyzeConfig", "evaluate.study.analysis:analyze"),
        ),
    ),
    Command(
        "bench",
        "frozen benchmark versions: build, verify, score a submission",
        subcommands=(
            Command("build", "build a benchmark version (resumable; the same for any worker count)", "simulate.bench.config:BenchBuildConfig", "simulate.bench.builder:build"),
            Command("verify", "recompute a build's checksums and name the clips that differ", "simulate.bench.config:BenchVerifyConfig", "simulate.bench.builder:verify"),
            Command("score", "check and score a submission folder into one results bundle", "evaluate.config:BenchScoreConfig", "evaluate.submission:score_submission"),
            Command("baselines", "run and score the baselines (and our model) on a build: one bundle each", "evaluate.config:BenchBaselinesConfig", "evaluate.bench_baselines:run_bench_baselines"),
        ),
    ),
    Command(
        "export",
        "export a dataset as WebDataset tar shards or a Hugging Face datasets folder",
        "void.config:ExportConfig",
        "void.export:export",
    ),
    Command(
        "leaderboard",
        "build the leaderboard site (tables with intervals, plots) from results",
        "leaderboard.config:LeaderboardConfig",
        "leaderboard.build:build",
    ),
)


def _load(spec: str):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="void",
        description="VOID-bench: interaction-aware video object removal - data, training, "
        "evaluation, preference studies and leaderboards.",
    )
    parser.add_argument("--version", action="version", version=f"void-bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for cmd in COMMANDS:
        sub.add_parser(cmd.name, help=cmd.help, add_help=False)
    return parser


def _command_parser(cmd: Command, prog: str) -> argparse.ArgumentParser:
    from void import cliutil

    parser = argparse.ArgumentParser(prog=prog, description=cmd.help, epilog=cmd.epilog or None)
    if cmd.subcommands:
        sub = parser.add_subparsers(dest="subcommand", metavar="<subcommand>", required=True)
        for child in cmd.subcommands:
            p = sub.add_parser(child.name, help=child.help, description=child.help)
            cliutil.add_arguments(p, _load(child.config))
    else:
        cliutil.add_arguments(parser, _load(cmd.config))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    by_name = {c.name: c for c in COMMANDS}
    if not argv or argv[0] not in by_name:
        args = _top_parser().parse_args(argv)  # prints help / version / the error, and exits
        _top_parser().print_help()
        return 2
    from void import cliutil
    from void.errors import VoidError

    cmd = by_name[argv[0]]
    prog = f"void {cmd.name}"
    parser = _command_parser(cmd, prog)
    args = parser.parse_args(argv[1:])
    if cmd.subcommands:
        cmd = {c.name: c for c in cmd.subcommands}[args.subcommand]
        prog = f"{prog} {cmd.name}"
    try:
        config = cliutil.build_config(_load(cmd.config), args)
        result = _load(cmd.entry)(config)
    except VoidError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
