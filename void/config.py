"""Configuration of ``void infer`` (stdlib only): the CLI is built from :class:`InferConfig`."""

from __future__ import annotations

from dataclasses import dataclass, field

from void.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")
FLOW_METHODS = ("dis", "farneback")  # = void.warped_noise.FLOW_METHODS
FITS = ("pad", "stretch")


@dataclass
class InferConfig:
    model: str = field(
        metadata={"help": "model dir, training run dir (uses RUN/model or the newest checkpoint export), "
                  "or VOID's released layout (CogVideoX-Fun base dir + void_pass1.safetensors)"},
    )
    input: str = field(
        metadata={"help": "dataset dir, VOID inference root (ROOT/<seq>/input_video.mp4) or one sequence dir", "short": "-i"}
    )
    out: str = field(metadata={"help": "predictions dir: writes OUT/<method>/<sample>.mp4", "short": "-o"})
    pass2: bool = field(default=False, metadata={"help": "run VOID's warped-noise refinement pass after pass 1"})
    pass2_model: str | None = field(
        default=None, metadata={"help": "separate pass-2 model: a model/run dir or VOID's void_pass2.safetensors"}
    )
    method: str = field(default="", metadata={"help": "method name in the predictions dir (default: void, or void-pass2)"})
    steps: int | None = field(default=None, metadata={"help": "DDIM steps (default: the model's inference_steps, else 50)"})
    pass2_steps: int | None = field(default=None, metadata={"help": "DDIM steps of pass 2 (default: --steps)"})
    guidance_scale: float = field(default=1.0, metadata={"help": "classifier-free guidance (needs a text encoder; 1 = off)"})
    pass2_guidance_scale: float | None = field(
        default=None, metadata={"help": "guidance of pass 2 (default: --guidance-scale; VOID's pass 2 uses 6)"}
    )
    device: str = field(default="auto", metadata={"help": "where to run", "choices": DEVICES})
    dtype: str = field(default="auto", metadata={"help": "weights dtype (auto: bfloat16 on CUDA, float32 on CPU)", "choices": DTYPES})
    samples: list[str] = field(default_factory=list, metadata={"help": "only these sample ids"})
    seed: int = field(default=0, metadata={"help": "sampling seed (each sample's noise depends on it and the sample id)"})
    height: int | None = field(default=None, metadata={"help": "working height in pixels (default: the model's)"})
    width: int | None = field(default=None, metadata={"help": "working width in pixels (default: the model's)"})
    window_frames: int | None = field(default=None, metadata={"help": "temporal window in frames (default: the model's)"})
    window_overlap: int | None = field(default=None, metadata={"help": "overlap of windows in latent frames (default: a quarter)"})
    fit: str = field(default="pad", metadata={"help": "to the working size: keep aspect and pad, or stretch", "choices": FITS})
    flow: str = field(default="dis", metadata={"help": "optical flow for pass 2's warped noise", "choices": FLOW_METHODS})
    noise_upscale: int = field(default=4, metadata={"help": "pass-2 noise is warped at this multiple of the latent resolution"})
    composite: bool = field(default=False, metadata={"help": "paste input pixels back where the quadmask says keep"})
    tuples: bool = field(default=True, metadata={"help": "also write <sample>_tuple.mp4 (input | mask | output)"})
    overwrite: bool = field(default=False, metadata={"help": "redo samples whose output exists (default: skip them, resuming)"})
    progress: bool = field(default=True, metadata={"help": "show progress bars"})

    def __post_init__(self):
        if not self.model:
            raise ConfigError("--model is required (a model dir, a training run dir or VOID's layout)")
        if not self.input:
            raise ConfigError("--input is required (a dataset dir or VOID's inference layout)")
        if not self.out:
            raise ConfigError("--out is required (the predictions dir)")
        for name in ("steps", "pass2_steps", "height", "width", "window_frames"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if self.window_overlap is not None and self.window_overlap < 0:
            raise ConfigError(f"--window-overlap must be >= 0, got {self.window_overlap}")
        if self.noise_upscale < 1:
            raise ConfigError(f"--noise-upscale must be at least 1, got {self.noise_upscale}")
        if self.guidance_scale < 1.0:
            raise ConfigError(f"--guidance-scale must be >= 1 (1 = off), got {self.guidance_scale}")
        if self.pass2_guidance_scale is not None and self.pass2_guidance_scale < 1.0:
            raise ConfigError(f"--pass2-guidance-scale must be >= 1 (1 = off), got {self.pass2_guidance_scale}")
        for name, allowed in (("device", DEVICES), ("dtype", DTYPES), ("flow", FLOW_METHODS), ("fit", FITS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"--{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if isinstance(self.samples, str):
            self.samples = [s for s in self.samples.split(",") if s]
        if self.method and ("/" in self.method or self.method.startswith(".")):
            raise ConfigError(f"--method must be a plain name, got {self.method!r}")
        if self.pass2_model and not self.pass2:
            self.pass2 = True  # a pass-2 model only makes sense with pass 2

    @property
    def method_name(self) -> str:
        return self.method or ("void-pass2" if self.pass2 else "void")


EXPORT_FORMATS = ("webdataset", "hf")


@dataclass
class ExportConfig:
    dataset: str = field(default="", metadata={"help": "dataset directory (ours, e.g. a benchmark subset)", "positional": True, "required": True})
    format: str = field(default="webdataset", metadata={"help": "webdataset (tar shards) or hf (a Hugging Face datasets folder of parquet shards)", "choices": EXPORT_FORMATS})
    out: str = field(default="", metadata={"help": "output folder", "short": "-o"})
    samples_per_shard: int = field(default=64, metadata={"help": "samples per tar or parquet shard"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self):
        if not self.dataset:
            raise ConfigError("export needs a DATASET directory")
        if not self.out:
            raise ConfigError("export needs --out")
        if self.format not in EXPORT_FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {self.format!r}")
        if self.samples_per_shard < 1:
            raise ConfigError(f"--samples-per-shard must be at least 1, got {self.samples_per_shard}")
