"""Configuration of ``void infer`` (stdlib only): the CLI is built from :class:`InferConfig`."""

from __future__ import annotations

from dataclasses import dataclass, field

from void.configutil import check_folder, check_writable
from void.constants import FLOW_METHODS
from void.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")
FITS = ("pad", "stretch")


@dataclass
class InferConfig:
    input: str = field(
        metadata={"help": "dataset dir, VOID inference root (ROOT/<seq>/input_video.mp4) or one sequence dir", "short": "-i"}
    )
    out: str = field(metadata={"help": "predictions dir: writes OUT/<method>/<sample>.mp4", "short": "-o"})
    model: str = field(
        default="",
        metadata={"help": "model dir, training run dir (uses RUN/model or the newest checkpoint export), "
                  "or VOID's released layout (CogVideoX-Fun base dir + void_pass1.safetensors); "
                  "may be left out when --base/--pass1 name VOID's files"},
    )
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
    # VOID's released weights and its own inference recipe (docs/void-parity.md).
    void_parity: bool = field(
        default=False,
        metadata={"help": "VOID's inference recipe end to end: stretch + area resize, area-averaged mask thresholds, "
                  "mirror padding to >= 85 frames, 30/50 steps, pass-2 guidance 6 with CogVideoXDDIM, "
                  "Go-with-the-Flow noise, VOID's windows and first-frame decoding (overrides those options)"},
    )
    base: str | None = field(default=None, metadata={"help": "VOID's CogVideoX-Fun base model dir (default: found beside --model)"})
    pass1: str | None = field(default=None, metadata={"help": "VOID's pass-1 weights file (default: void_pass1.safetensors beside the base)"})
    masks: str | None = field(
        default=None,
        metadata={"help": "take each sequence's quadmask from FOLDER/<sample_id>.mp4 (e.g. a mask-prediction "
                  "method's folder) instead of its own; VOID sequences may then come without one"},
    )
    offload: str = field(
        default="none",
        metadata={"help": "CPU offload: none, model (one component on the GPU at a time), sequential (layer by layer)",
                  "choices": ("none", "model", "sequential")},
    )
    fp8_weights: bool = field(
        default=False, metadata={"help": "store transformer weights in float8 (e4m3), computing in --dtype (as VOID's default)"}
    )
    vae_tiling: bool = field(default=False, metadata={"help": "decode/encode with diffusers' spatially tiled VAE (less memory)"})
    vae_slicing: bool = field(default=False, metadata={"help": "run the VAE on one clip of a batch at a time"})
    noise_warp_scale: int | None = field(
        default=None, metadata={"help": "--void-parity: Go-with-the-Flow warp scale inside each noise step (default 8, VOID's)"}
    )

    def __post_init__(self):
        if not self.model and not (self.base or self.pass1):
            raise ConfigError("--model is required (a model dir, a training run dir or VOID's layout), or --base/--pass1")
        if not self.input:
            raise ConfigError("--input is required (a dataset dir or VOID's inference layout)")
        if not self.out:
            raise ConfigError("--out is required (the predictions dir)")
        check_writable(self.out)
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
        if self.offload not in ("none", "model", "sequential"):
            raise ConfigError(f"--offload must be one of none, model, sequential, got {self.offload!r}")
        if self.noise_warp_scale is not None and self.noise_warp_scale < 1:
            raise ConfigError(f"--noise-warp-scale must be at least 1, got {self.noise_warp_scale}")

    @property
    def method_name(self) -> str:
        if self.method:
            return self.method
        if self.void_parity:  # VOID's released weights run by VOID's recipe: the method "void"
            return "void" if self.pass2 else "void-pass1"
        return "void-pass2" if self.pass2 else "void"


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
        check_folder(self.dataset, "DATASET")
        check_writable(self.out)
        if self.samples_per_shard < 1:
            raise ConfigError(f"--samples-per-shard must be at least 1, got {self.samples_per_shard}")
