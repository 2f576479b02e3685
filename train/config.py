"""Training configuration (stdlib only; ``void train`` is built from :class:`TrainConfig`).

A named preset (``--config tiny``) supplies every hyper-parameter; any flag given on the
command line overrides its preset value. Fields left at ``None`` mean "take the preset's".
The model's own hyper-parameters are the preset's ``model`` dict, passed to
``VoidTransformer(**model)`` (plus the mask encoding and sample size); the exported model's
config is where a trained model records them. For ``latent="vae"`` two keys of it name the
VAE component instead (``vae_path``: a local AutoencoderKLCogVideoX dir; ``vae_config``: its
constructor arguments, randomly initialised), which is built beside the transformer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from void.configutil import check_folder, check_writable as _check_writable, parse_resolution
from void.constants import MASK_ENCODINGS
from void.errors import ConfigError

ZERO_STAGES = (0, 1, 2)

# Presets. ``tiny`` learns something real on 2 CPU cores in well under 30 minutes: on 64
# simulated 32x32x8 samples, 1500 steps took 15 min on a shared, loaded 2-core machine and
# lifted held-out removed-region PSNR from the input copy's 8.1 dB to 12.5 dB. ``small`` is
# a larger pixel-space model for a GPU or a patient CPU. Both stay in exact pixel latents
# (pixel-unshuffle), so no VAE has to be trained or downloaded.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        # One token per 4x4 pixels (patch_size 1 over the 4x pixel-unshuffle): 48 values a
        # token, well under the 128-wide blocks. With 2x2 patches (192 values a token through
        # 64 channels) the model could not even copy the kept pixels and sampled noise.
        "model": {
            "latent": "pixel",
            "patch_pixels": 4,
            "patch_size": 1,
            "num_layers": 2,
            "num_attention_heads": 4,
            "attention_head_dim": 32,
        },
        "frames": 8,
        "stride": 1,
        "resolution": (32, 32),
        "batch_size": 4,
        "steps": 1500,
        "lr": 1e-3,
        "weight_decay": 1e-2,
        "warmup_steps": 50,
        "min_lr_ratio": 0.1,
        "grad_clip": 1.0,
        "mask_loss_weight": 4.0,
        "num_train_timesteps": 1000,
        "inference_steps": 20,
        "checkpoint_every": 250,
        "val_every": 250,
        "val_samples": 8,
        "log_every": 10,
        "flip_prob": 0.5,
        "crop_min_scale": 0.8,
        # The tiny model's ops are too small to gain from intra-op threads, and on a shared
        # 2-core machine extra threads spin against other work: 1 thread measured 0.17 s a
        # step where torch's default 2 took 1-4 s under load.
        "threads": 1,
    },
    "small": {
        "model": {
            "latent": "pixel",
            "patch_pixels": 2,
            "patch_size": 2,
            "num_layers": 6,
            "num_attention_heads": 4,
            "attention_head_dim": 64,
        },
        "frames": 16,
        "stride": 1,
        "resolution": (64, 64),
        "batch_size": 4,
        "steps": 20000,
        "lr": 3e-4,
        "weight_decay": 1e-2,
        "warmup_steps": 500,
        "min_lr_ratio": 0.1,
        "grad_clip": 1.0,
        "mask_loss_weight": 4.0,
        "num_train_timesteps": 1000,
        "inference_steps": 50,
        "checkpoint_every": 1000,
        "val_every": 1000,
        "val_samples": 8,
        "log_every": 20,
        "flip_prob": 0.5,
        "crop_min_scale": 0.8,
        "threads": 0,
    },
}


def _opt(help_text: str, **extra) -> Any:
    return field(default=None, metadata={"help": f"{help_text} (default: the --config preset's)", **extra})


@dataclass
class TrainConfig:
    data: str = field(default="", metadata={"help": "training dataset directory, ours or VOID's manifest layout", "required": True})
    out: str = field(default="", metadata={"help": "run directory: checkpoints, model/, metrics.csv, tensorboard/", "short": "-o", "required": True})
    config: str = field(default="tiny", metadata={"help": "hyper-parameter preset", "choices": tuple(PRESETS)})
    steps: int | None = _opt("optimizer steps in total")
    mask_encoding: str = field(
        default="quad",
        metadata={"help": "mask conditioning: VOID's quadmask or the binary ablations", "choices": MASK_ENCODINGS},
    )
    resume: bool = field(default=False, metadata={"help": "continue from the newest complete checkpoint in --out"})
    bf16: bool = field(default=False, metadata={"help": "bf16 mixed precision (DeepSpeed bf16; fp32 master weights)"})
    zero_stage: int = field(default=2, metadata={"help": "DeepSpeed ZeRO stage", "choices": ZERO_STAGES})
    val_data: str | None = field(default=None, metadata={"help": "held-out dataset for validation (default: a few training samples, marked split=train)"})
    val_every: int | None = _opt("validate every N steps; 0 = only at the end")
    val_samples: int | None = _opt("samples rendered per validation")
    checkpoint_every: int | None = _opt("checkpoint + export every N steps; 0 = only at the end")
    seed: int = field(default=0, metadata={"help": "seed: data order, augmentation, noise and init depend only on it"})
    time_budget_minutes: float | None = field(
        default=None, metadata={"help": "stop cleanly (checkpoint + export) once this much wall time is spent"}
    )
    batch_size: int | None = _opt("clips per optimizer step per process")
    lr: float | None = _opt("peak learning rate (AdamW)")
    frames: int | None = _opt("frames per training clip")
    stride: int | None = _opt("frame stride of a clip (VOID's video_sample_stride)")
    resolution: tuple[int, int] | None = field(
        default=None,
        metadata={"help": "training frame size WxH (default: the --config preset's)", "parse": parse_resolution, "metavar": "WxH"},
    )
    inference_steps: int | None = _opt("DDIM steps when rendering validation samples")
    log_every: int | None = _opt("log loss and learning rate every N steps")
    threads: int | None = _opt("torch intra-op threads per process; 0 = torch's default")
    num_workers: int = field(default=0, metadata={"help": "data-loader worker processes (0: load in the training process)"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})
    local_rank: int | None = field(
        default=None, metadata={"help": "set by the deepspeed launcher (LOCAL_RANK is used otherwise)", "flag": "--local_rank"}
    )
    # Preset-only values (not flags): resolved from --config in __post_init__.
    model: dict[str, Any] = field(default_factory=dict, metadata={"cli": False})
    weight_decay: float | None = field(default=None, metadata={"cli": False})
    warmup_steps: int | None = field(default=None, metadata={"cli": False})
    min_lr_ratio: float | None = field(default=None, metadata={"cli": False})
    grad_clip: float | None = field(default=None, metadata={"cli": False})
    mask_loss_weight: float | None = field(default=None, metadata={"cli": False})
    num_train_timesteps: int | None = field(default=None, metadata={"cli": False})
    flip_prob: float | None = field(default=None, metadata={"cli": False})
    crop_min_scale: float | None = field(default=None, metadata={"cli": False})

    def __post_init__(self):
        if self.config not in PRESETS:
            raise ConfigError(f"--config must be one of {', '.join(PRESETS)}, got {self.config!r}")
        preset = PRESETS[self.config]
        for f in fields(self):
            if f.name == "model":
                self.model = {**preset["model"], **(self.model or {})}
            elif getattr(self, f.name) is None and f.name in preset:
                setattr(self, f.name, preset[f.name])
        self.resolution = parse_resolution(self.resolution)
        self._check()

    def _check(self) -> None:
        if not self.data:
            raise ConfigError("--data is required: a dataset directory (void simulate writes one)")
        check_folder(self.data, "--data")
        if self.val_data is not None:
            check_folder(self.val_data, "--val-data")
        if not self.out:
            raise ConfigError("--out is required: the run directory to write checkpoints and the model to")
        _check_writable(Path(self.out))
        positive = {
            "--steps": self.steps,
            "--batch-size": self.batch_size,
            "--frames": self.frames,
            "--stride": self.stride,
            "--inference-steps": self.inference_steps,
            "--log-every": self.log_every,
            "--val-samples": self.val_samples,
        }
        for flag, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{flag} must be a positive integer, got {value!r}")
        for flag, value in {"--threads": self.threads, "--val-every": self.val_every, "--checkpoint-every": self.checkpoint_every, "--num-workers": self.num_workers}.items():
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{flag} must be an integer >= 0, got {value!r}")
        if not (self.lr and self.lr > 0):
            raise ConfigError(f"--lr must be > 0, got {self.lr!r}")
        w, h = self.resolution
        if self.model.get("latent", "pixel") == "pixel":
            # Pixel-unshuffle factor x transformer patch; a VAE model checks its own sizes.
            p = int(self.model.get("patch_pixels", 4)) * int(self.model.get("patch_size", 2))
            if w < p or h < p or w % p or h % p:
                raise ConfigError(
                    f"--resolution {w}x{h}: width and height must be multiples of {p} "
                    f"(patch_pixels x patch_size of the {self.config!r} model)"
                )
        if self.mask_encoding not in MASK_ENCODINGS:
            raise ConfigError(f"--mask-encoding must be one of {', '.join(MASK_ENCODINGS)}, got {self.mask_encoding!r}")
        if self.zero_stage not in ZERO_STAGES:
            raise ConfigError(
                f"--zero-stage must be one of {ZERO_STAGES}, got {self.zero_stage!r} (ZeRO-3 shards the "
                "parameters themselves, which the model export does not gather)"
            )
        if self.time_budget_minutes is not None and self.time_budget_minutes <= 0:
            raise ConfigError(f"--time-budget-minutes must be > 0, got {self.time_budget_minutes}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be >= 0, got {self.seed}")
        if not 0.0 <= self.flip_prob <= 1.0 or not 0.0 < self.crop_min_scale <= 1.0:
            raise ConfigError("flip_prob must be in [0, 1] and crop_min_scale in (0, 1]")

    @property
    def width(self) -> int:
        return self.resolution[0]

    @property
    def height(self) -> int:
        return self.resolution[1]

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "local_rank"}
        out["resolution"] = list(self.resolution)
        return out
