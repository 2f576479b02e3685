"""Configuration of ``void evaluate`` and ``void baseline`` (stdlib only).

Each dataclass is the single description of its command: the CLI is built from the fields
and their metadata (``void/cliutil.py``), tests build the dataclass directly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from evaluate.baselines.registry import BASELINES as REGISTERED_BASELINES
from void.configutil import check_folder, check_writable
from void.constants import EXECUTORS
from void.errors import ConfigError

BASELINES = tuple(REGISTERED_BASELINES)  # registered once, in evaluate/baselines/registry.py
# Which quadmask pixels a mask-based baseline fills: the object only (0 and 63, what ordinary
# removal methods are given) or every pixel that changes in the counterfactual (all but 255).
MASK_REGIONS = ("removed", "edit")
COMMAND_FIELDS = ("frames", "masks", "out", "sample", "fps", "width", "height", "num_frames")
# What `void evaluate` scores: removed videos, or predicted quadmasks (the mask track).
TASKS = ("removal", "masks")

_METHOD_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def _inside(child: str, parent: str) -> bool:
    try:
        Path(os.path.abspath(child)).relative_to(os.path.abspath(parent))
    except ValueError:
        return False
    return True


def check_method_name(name: str, flag: str) -> str:
    if not _METHOD_RE.match(name):
        raise ConfigError(f"{flag} {name!r}: a method name is a folder name; use letters, digits, '_', '-', '.', '+'")
    return name


@dataclass
class EvaluateConfig:
    data: str = field(default="", metadata={"help": "dataset directory with the ground truth (ours or VOID's training layout)", "required": True})
    pred: str = field(default="", metadata={"help": "predictions directory: PRED/<method>/<sample_id>.mp4", "required": True})
    out: str = field(default="", metadata={"help": "results directory (results.parquet/csv, summary.json, methods.csv)", "short": "-o", "required": True})
    methods: list[str] = field(default_factory=list, metadata={"help": "score only these method folders (default: all under --pred)"})
    samples: list[str] = field(default_factory=list, metadata={"help": "score only these sample ids (default: all in --data)"})
    allow_missing: bool = field(
        default=False,
        metadata={"help": "score what can be scored and record missing/unreadable/mismatched predictions in summary.json instead of failing"},
    )
    resize: bool = field(default=False, metadata={"help": "resize predictions whose frame size differs from the ground truth (otherwise a problem)"})
    lpips: bool = field(default=True, metadata={"help": "compute LPIPS where the lpips package and its backbone weights are available"})
    workers: int = field(default=0, metadata={"help": "parallel scoring processes (0: one per CPU core)"})
    executor: str = field(default="local", metadata={"help": "local process pool or a Ray cluster", "choices": EXECUTORS})
    ray_address: str | None = field(default=None, metadata={"help": "Ray cluster address (default: start a local Ray instance)"})
    rescore: bool = field(default=False, metadata={"help": "ignore finished parts under OUT/parts and score everything again"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    task: str = field(
        default="removal",
        metadata={"help": "removal: score removed videos; masks: score predicted quadmasks (docs/mask-track.md)", "choices": TASKS},
    )

    def __post_init__(self):
        if self.task not in TASKS:
            raise ConfigError(f"--task must be one of {', '.join(TASKS)}, got {self.task!r}")
        for flag, value in (("--data", self.data), ("--pred", self.pred), ("--out", self.out)):
            if not value:
                raise ConfigError(f"evaluate needs {flag}")
        if _inside(self.out, self.pred):
            raise ConfigError(f"--out {self.out} lies inside --pred {self.pred}: it would be scored as a method; choose another folder")
        for m in self.methods:
            check_method_name(m, "--methods")
        if self.workers < 0:
            raise ConfigError(f"--workers must be 0 (auto) or more, got {self.workers}")
        if self.executor not in EXECUTORS:
            raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}")
        if self.ray_address and self.executor != "ray":
            raise ConfigError("--ray-address needs --executor ray")
        check_folder(self.data, "--data")  # the file system last, after the arguments
        check_folder(self.pred, "--pred")
        check_writable(self.out)

    @property
    def num_workers(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)


@dataclass
class BaselineConfig:
    name: str = field(default="", metadata={"help": f"baseline: {', '.join(BASELINES)}", "positional": True, "required": True, "choices": BASELINES})
    input: str = field(default="", metadata={"help": "dataset directory, or VOID's inference layout (ROOT/<seq>/input_video.mp4)", "flag": "--input", "short": "-i", "required": True})
    out: str = field(default="", metadata={"help": "predictions directory; writes OUT/<method>/<sample_id>.mp4", "short": "-o", "required": True})
    method: str = field(default="", metadata={"help": "method folder name (default: the baseline's name; required for command)", "flag": "--name"})
    cmd: str = field(
        default="",
        metadata={
            "help": "command baseline: shell command run per sample with {frames} {masks} {out} "
            "(and {sample} {fps} {width} {height} {num_frames}) filled in",
        },
    )
    timeout_s: float = field(default=3600.0, metadata={"help": "command baseline: seconds allowed per sample"})
    samples: list[str] = field(default_factory=list, metadata={"help": "only these sample ids"})
    mask: str = field(default="removed", metadata={"help": "pixels to fill: removed (quadmask 0 and 63) or edit (all but 255)", "choices": MASK_REGIONS})
    dilate_px: int = field(default=4, metadata={"help": "grow the fill mask by this many pixels (0: none)"})
    inpaint_radius: int = field(default=3, metadata={"help": "opencv-inpaint / fallback: cv2.inpaint neighbourhood radius in pixels"})
    neighbors: int = field(default=5, metadata={"help": "clean-plate: median of this many nearest frames where the pixel is unmasked"})
    max_frames: int = field(default=0, metadata={"help": "process only the first N frames (quick looks; 0: all). Scoring reports the shorter output"})
    overwrite: bool = field(default=False, metadata={"help": "redo samples whose prediction already exists (default: skip them, so a killed run resumes)"})
    write_tuple: bool = field(default=True, metadata={"help": "also write the input | mask | output preview (_tuple.mp4)", "flag": "--tuple"})
    keep_work: bool = field(default=False, metadata={"help": "command baseline: keep the per-sample frame/mask/output folders"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self):
        if self.name not in BASELINES:
            raise ConfigError(f"unknown baseline {self.name!r}; expected one of {', '.join(BASELINES)}")
        if not self.input:
            raise ConfigError("baseline needs --input")
        if not self.out:
            raise ConfigError("baseline needs --out")
        if self.name == "command":
            if not self.method:
                raise ConfigError("the command baseline needs --name (the method folder to write)")
            if not self.cmd.strip():
                raise ConfigError("the command baseline needs --cmd, e.g. --cmd \"python inference.py -i {frames} -m {masks} -o {out}\"")
            self._check_cmd_fields()
        elif self.cmd:
            raise ConfigError(f"--cmd is only used by the command baseline, not {self.name}")
        self.method = check_method_name(self.method or self.name, "--name")
        if self.mask not in MASK_REGIONS:
            raise ConfigError(f"--mask must be one of {', '.join(MASK_REGIONS)}, got {self.mask!r}")
        if self.timeout_s <= 0:
            raise ConfigError(f"--timeout-s must be positive, got {self.timeout_s}")
        if self.dilate_px < 0:
            raise ConfigError(f"--dilate-px must be 0 or more, got {self.dilate_px}")
        if self.inpaint_radius < 1:
            raise ConfigError(f"--inpaint-radius must be at least 1, got {self.inpaint_radius}")
        if self.neighbors < 1:
            raise ConfigError(f"--neighbors must be at least 1, got {self.neighbors}")
        if self.max_frames < 0:
            raise ConfigError(f"--max-frames must be 0 (all) or more, got {self.max_frames}")
        check_folder(self.input, "--input")  # the file system last, after the arguments
        check_writable(self.out)

    def _check_cmd_fields(self) -> None:
        import string

        try:
            names = {f for _, f, _, _ in string.Formatter().parse(self.cmd) if f is not None}
        except ValueError as exc:
            raise ConfigError(f"--cmd: {exc} (write literal braces as {{{{ and }}}})") from None
        unknown = sorted(n for n in names if n not in COMMAND_FIELDS)
        if unknown:
            raise ConfigError(f"--cmd: unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; known: {', '.join('{' + n + '}' for n in COMMAND_FIELDS)}")
        if "out" not in names:
            raise ConfigError("--cmd must contain {out}: the folder where the command writes its frames")


MASK_INPUTS = ("quadmask", "object-mask")
BENCH_TASKS = ("removal", "masks")
METHOD_CARD_FIELDS = ("name", "version", "link", "parameters", "hardware", "runtime", "mask_input")


@dataclass
class BenchScoreConfig:
    bench: str = field(default="", metadata={"help": "benchmark folder written by `void bench build`"})
    pred: str = field(default="", metadata={"help": "submission folder: method.json and <subset>/<sample_id>.mp4 per clip"})
    out: str = field(default="", metadata={"help": "results bundle file to write (one .zip)", "short": "-o"})
    workers: int = field(default=0, metadata={"help": "parallel scoring processes (0: one per CPU core)"})
    previews: bool = field(default=True, metadata={"help": "put small H.264 encodes of the videos in the bundle (the leaderboard gallery shows them)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    task: str = field(default="removal", metadata={"help": "removal: videos with the object removed; masks: quadmask videos (the mask track)", "choices": BENCH_TASKS})

    def __post_init__(self):
        if self.task not in BENCH_TASKS:
            raise ConfigError(f"--task must be one of {', '.join(BENCH_TASKS)}, got {self.task!r}")
        for flag, value in (("--bench", self.bench), ("--pred", self.pred), ("--out", self.out)):
            if not value:
                raise ConfigError(f"bench score needs {flag}")
        check_folder(self.bench, "--bench", "write it with `void bench build`")
        check_folder(self.pred, "--pred")
        if Path(self.out).is_dir():
            raise ConfigError(f"--out {self.out} is a directory; a results bundle is one file (e.g. {self.out}/method.zip)")
        check_writable(Path(self.out).parent, "--out")
        if self.workers < 0:
            raise ConfigError(f"--workers must be 0 (auto) or more, got {self.workers}")


OURS = "void-quad"  # our quadmask model, run by `void infer`
# The baselines `void bench baselines` scores: every registered in-process baseline (the
# command baseline needs a user's tool) and our model.
BENCH_BASELINES = tuple(b for b in REGISTERED_BASELINES if b != "command") + (OURS,)


@dataclass
class BenchBaselinesConfig:
    bench: str = field(default="", metadata={"help": "benchmark folder written by `void bench build`", "required": True})
    out: str = field(default="", metadata={"help": "folder for the bundles (OUT/<baseline>.zip) and the baselines' videos (OUT/submissions)", "short": "-o", "required": True})
    model: str = field(default="", metadata={"help": f"trained model or training run dir for {OURS} (`void train`, `void quickstart`); required unless --skip {OURS}"})
    skip: list[str] = field(default_factory=list, metadata={"help": f"baselines to leave out, of {', '.join(BENCH_BASELINES)}"})
    workers: int = field(default=0, metadata={"help": "parallel scoring processes (0: one per CPU core)"})
    previews: bool = field(default=True, metadata={"help": "put small H.264 encodes of the videos in each bundle (the gallery shows them)"})
    overwrite: bool = field(default=False, metadata={"help": "redo baselines whose bundle exists (default: keep them, so a killed run resumes)"})
    progress: bool = field(default=True, metadata={"help": "show progress bars"})

    def __post_init__(self):
        for flag, value in (("--bench", self.bench), ("--out", self.out)):
            if not value:
                raise ConfigError(f"bench baselines needs {flag}")
        unknown = [s for s in self.skip if s not in BENCH_BASELINES]
        if unknown:
            raise ConfigError(f"--skip {', '.join(unknown)}: not a baseline; choose from {', '.join(BENCH_BASELINES)}")
        if not self.baselines:
            raise ConfigError("--skip leaves no baseline to score")
        if OURS in self.baselines and not self.model:
            raise ConfigError(f"{OURS} needs --model (a trained model or training run dir), or pass --skip {OURS}")
        if self.workers < 0:
            raise ConfigError(f"--workers must be 0 (auto) or more, got {self.workers}")
        check_folder(self.bench, "--bench", "write it with `void bench build`")
        if self.model and OURS in self.baselines:
            check_folder(self.model, "--model")
        check_writable(self.out)

    @property
    def baselines(self) -> list[str]:
        return [b for b in BENCH_BASELINES if b not in self.skip]
