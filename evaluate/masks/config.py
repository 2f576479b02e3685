"""Configuration of ``void masks predict | command | baseline`` (stdlib only).

Scoring is ``void evaluate --task masks`` (:class:`evaluate.config.EvaluateConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluate.config import BaselineConfig, check_method_name
from void.configutil import check_folder, check_writable
from void.errors import ConfigError

MASK_BASELINES = ("object-only", "dilated", "oracle")
LAYOUTS = ("void", "pred")
BASELINE_LAYOUTS = ("pred", "bench")
_INPUT_HELP = "dataset directory, or VOID's inference layout (ROOT/<seq>/input_video.mp4 with object_mask.mp4 or a quadmask)"


def _check_common(cmd: str, input_: str, out: str) -> None:
    if not input_:
        raise ConfigError(f"masks {cmd} needs --input")
    if not out:
        raise ConfigError(f"masks {cmd} needs --out")


def _check_paths(input_: str, out: str) -> None:
    """The file-system checks, after every argument check (as in every command's config)."""
    check_folder(input_, "--input")
    check_writable(out)


@dataclass
class MaskPredictConfig:
    input: str = field(default="", metadata={"help": _INPUT_HELP, "short": "-i"})
    out: str = field(default="", metadata={"help": "output: VOID's layout OUT/<seq>/ (--layout void) or OUT/<name>/<seq>.mp4 (--layout pred)", "short": "-o"})
    layout: str = field(
        default="void",
        metadata={"help": "void: input_video.mp4 + quadmask_0.mp4 + prompt.json per clip, ready for `void infer`; pred: the prediction layout `void evaluate --task masks` scores", "choices": LAYOUTS},
    )
    method: str = field(default="local", metadata={"help": "method folder name with --layout pred", "flag": "--name"})
    prompt: str = field(default="", metadata={"help": "scene description after removal, for clips without one (VOID's prompt.json)"})
    samples: list[str] = field(default_factory=list, metadata={"help": "only these sample ids"})
    change_threshold: float = field(default=16.0, metadata={"help": "colour difference (0-255, max over channels) that counts as a change"})
    contact_px: int = field(default=2, metadata={"help": "a change within this many pixels of the object touches it"})
    overwrite: bool = field(default=False, metadata={"help": "redo clips whose output exists (default: skip them, so a killed run resumes)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self):
        _check_common("predict", self.input, self.out)
        if self.layout not in LAYOUTS:
            raise ConfigError(f"--layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        self.method = check_method_name(self.method, "--name")
        if self.change_threshold <= 0 or self.change_threshold >= 255:
            raise ConfigError(f"--change-threshold must be in (0, 255), got {self.change_threshold}")
        if self.contact_px < 0:
            raise ConfigError(f"--contact-px must be 0 or more, got {self.contact_px}")
        _check_paths(self.input, self.out)


@dataclass
class MaskBaselineConfig:
    name: str = field(default="", metadata={"help": f"baseline: {', '.join(MASK_BASELINES)}", "positional": True, "required": True, "choices": MASK_BASELINES})
    input: str = field(default="", metadata={"help": _INPUT_HELP + "; with --layout bench: a `void bench build` folder", "short": "-i"})
    out: str = field(default="", metadata={"help": "predictions directory; writes OUT/<method>/<sample_id>.mp4 (--layout bench: the submission folder)", "short": "-o"})
    method: str = field(default="", metadata={"help": "method folder name (default: the baseline's name)", "flag": "--name"})
    layout: str = field(
        default="pred",
        metadata={"help": "pred: OUT/<method>/<sample_id>.mp4 for `void evaluate --task masks`; bench: a submission for "
                          "`void bench score --task masks` (OUT/method.json, OUT/<subset>/<sample_id>.mp4)", "choices": BASELINE_LAYOUTS},
    )
    dilate_px: int = field(default=4, metadata={"help": "dilated: width of the affected ring around the object in pixels"})
    samples: list[str] = field(default_factory=list, metadata={"help": "only these sample ids"})
    overwrite: bool = field(default=False, metadata={"help": "redo clips whose output exists"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self):
        if self.name not in MASK_BASELINES:
            raise ConfigError(f"unknown mask baseline {self.name!r}; expected one of {', '.join(MASK_BASELINES)}")
        _check_common("baseline", self.input, self.out)
        self.method = check_method_name(self.method or self.name, "--name")
        if self.layout not in BASELINE_LAYOUTS:
            raise ConfigError(f"--layout must be one of {', '.join(BASELINE_LAYOUTS)}, got {self.layout!r}")
        if self.dilate_px < 1:
            raise ConfigError(f"--dilate-px must be at least 1, got {self.dilate_px}")
        _check_paths(self.input, self.out)


@dataclass
class MaskCommandConfig:
    cmd: str = field(
        default="",
        metadata={
            "help": "shell command run per clip with {frames} (RGB PNGs) {masks} (object PNGs, 255 = object) {out} "
            "(and {sample} {fps} {width} {height} {num_frames}) filled in; it writes the quadmask into {out} "
            "as gray PNGs (0/63/127/255) or one lossless video",
        },
    )
    input: str = field(default="", metadata={"help": _INPUT_HELP, "short": "-i"})
    out: str = field(default="", metadata={"help": "predictions directory; writes OUT/<name>/<sample_id>.mp4", "short": "-o"})
    method: str = field(default="", metadata={"help": "method folder name (required)", "flag": "--name"})
    timeout_s: float = field(default=3600.0, metadata={"help": "seconds allowed per clip"})
    samples: list[str] = field(default_factory=list, metadata={"help": "only these sample ids"})
    keep_work: bool = field(default=False, metadata={"help": "keep the per-clip frame/mask/output folders"})
    overwrite: bool = field(default=False, metadata={"help": "redo clips whose output exists"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self):
        _check_common("command", self.input, self.out)
        if not self.method:
            raise ConfigError("masks command needs --name (the method folder to write)")
        self.method = check_method_name(self.method, "--name")
        if not self.cmd.strip():
            raise ConfigError('masks command needs --cmd, e.g. --cmd "python my_masker.py --frames {frames} --masks {masks} --out {out}"')
        if self.timeout_s <= 0:
            raise ConfigError(f"--timeout-s must be positive, got {self.timeout_s}")
        # The same placeholders as `void baseline command`: checked by the same code.
        BaselineConfig._check_cmd_fields(self)
        _check_paths(self.input, self.out)
