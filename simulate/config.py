"""Configuration of dataset generation and preview (stdlib only; the CLI is built from it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from void.configutil import check_folder, check_writable as _check_writable, format_resolution, parse_resolution
from void.constants import EXECUTORS
from void.errors import ConfigError

FAMILIES = ("collision", "support", "domino", "carry", "occlusion", "human", "reflection", "light", "glass")
RENDERERS = ("raster", "cycles")
SPLITS = ("train", "test")
CAMERA_MOTIONS = ("random", "static", "pan", "zoom", "sweep", "dolly", "truck", "handheld")
PLAIN_MOTIONS = ("random", "static", "pan", "zoom")  # what the plain look's camera knows
LOOKS = ("plain", "footage")
SETS = ("room", "tabletop", "outdoor")  # the footage look's sets (simulate.environments)
DEVICES = ("cpu", "gpu")


def _families(value) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


@dataclass
class SimulateConfig:
    out: str = field(default="data/train", metadata={"help": "output dataset directory", "short": "-o"})
    num_samples: int = field(default=200, metadata={"help": "number of paired samples"})
    seed: int = field(default=0, metadata={"help": "dataset seed; sample i depends only on (seed, split, i)"})
    split: str = field(
        default="train",
        metadata={"help": "seed range: train and test sets never share a sample seed", "choices": SPLITS},
    )
    families: list[str] = field(
        default_factory=lambda: list(FAMILIES),
        metadata={"help": "comma list of scenario families"},
    )
    resolution: tuple[int, int] = field(
        default=(256, 256), metadata={"help": "frame size WxH", "parse": parse_resolution, "show": format_resolution, "metavar": "WxH"}
    )
    frames: int = field(default=48, metadata={"help": "frames per video"})
    fps: int = field(default=12, metadata={"help": "frames per second"})
    renderer: str = field(default="raster", metadata={"help": "raster (fast GL) or cycles (Blender)", "choices": RENDERERS})
    camera_motion: str = field(
        default="random", metadata={"help": "camera motion; random picks per sample", "choices": CAMERA_MOTIONS}
    )
    look: str = field(
        default="plain",
        metadata={"help": "plain: objects on a patterned floor under a flat sky; footage: rooms, tabletops or "
                          "outdoor sets with textures, clutter, passers-by and filmed camera work", "choices": LOOKS},
    )
    sets: list[str] = field(
        default_factory=lambda: list(SETS),
        metadata={"help": "comma list of sets the footage look draws from"},
    )
    bystanders: float = field(
        default=0.0,
        metadata={"help": "footage look: fraction of samples with a kept person dancing behind the action "
                          "(any family; rooms and outdoor sets)"},
    )
    workers: int = field(default=1, metadata={"help": "parallel worker processes (or Ray CPUs)"})
    executor: str = field(default="local", metadata={"help": "local process pool or a Ray cluster", "choices": EXECUTORS})
    ray_address: str | None = field(default=None, metadata={"help": "Ray cluster address (auto or HOST:PORT); local if unset"})
    retries: int = field(default=2, metadata={"help": "retries of a failed sample before it is reported"})
    max_attempts: int = field(default=20, metadata={"help": "scene draws per sample before giving up on degenerate scenes"})
    spp: int = field(default=16, metadata={"help": "Cycles samples per pixel"})
    denoiser: bool | None = field(
        default=None,
        metadata={"help": "Cycles: OpenImageDenoise on the RGB (default: on for --look footage, off for plain; "
                          "--no-denoiser turns it off)"},
    )
    film: bool = field(
        default=True,
        metadata={"help": "Cycles, footage look: the camera's tone curve and sensor grain after the denoiser "
                          "(docs/look.md); --no-film leaves the renders as rendered"},
    )
    animated_seed: bool = field(
        default=False,
        metadata={"help": "Cycles: a new noise seed every frame (default: one per sample, as Blender and Kubric "
                          "do; frames showing the same scene then share renders)"},
    )
    device: str = field(default="cpu", metadata={"help": "Cycles compute device", "choices": DEVICES})
    threads: int = field(
        default=0,
        metadata={"help": "Cycles CPU threads per worker process (0: the cores divided by --workers; 1 on Ray, one per task CPU)"},
    )
    overwrite: bool = field(default=False, metadata={"help": "regenerate samples that already exist"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self):
        if isinstance(self.resolution, str):
            self.resolution = parse_resolution(self.resolution)
        self.resolution = tuple(int(v) for v in self.resolution)
        self.families = _families(self.families)
        self.sets = _families(self.sets)
        if self.denoiser is None:  # Cycles' footage look is denoised unless asked not to (docs/look.md)
            self.denoiser = self.renderer == "cycles" and self.look == "footage"
        bad_sets = [s for s in self.sets if s not in SETS]
        if bad_sets or not self.sets:
            raise ConfigError(f"unknown set {', '.join(bad_sets) or '(none given)'}; choose from {', '.join(SETS)}")
        if not 0.0 <= float(self.bystanders) <= 1.0:
            raise ConfigError(f"--bystanders is a fraction of samples, from 0 to 1; got {self.bystanders}")
        if self.bystanders and self.look != "footage":
            raise ConfigError("--bystanders needs --look footage (bystanders stand in its rooms and outdoor sets)")
        for name in ("num_samples",):
            if getattr(self, name) < 1:
                raise ConfigError(f"--num-samples must be at least 1, got {self.num_samples}")
        if self.frames < 2:
            raise ConfigError(f"--frames must be at least 2, got {self.frames}")
        if self.fps < 1:
            raise ConfigError(f"--fps must be at least 1, got {self.fps}")
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}")
        if self.retries < 0 or self.max_attempts < 1 or self.spp < 1:
            raise ConfigError("--retries must be >= 0, --max-attempts and --spp >= 1")
        if self.threads < 0:
            raise ConfigError(f"--threads must be >= 0 (0: automatic), got {self.threads}")
        w, h = self.resolution
        if w < 16 or h < 16 or w % 2 or h % 2:
            raise ConfigError(f"--resolution must be even and at least 16x16, got {w}x{h}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be >= 0, got {self.seed}")
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown or not self.families:
            raise ConfigError(
                f"unknown family {', '.join(unknown) or '(none given)'}; choose from {', '.join(FAMILIES)}"
            )
        for choice, allowed, flag in (
            (self.split, SPLITS, "--split"),
            (self.renderer, RENDERERS, "--renderer"),
            (self.executor, EXECUTORS, "--executor"),
            (self.camera_motion, CAMERA_MOTIONS, "--camera-motion"),
            (self.device, DEVICES, "--device"),
            (self.look, LOOKS, "--look"),
        ):
            if choice not in allowed:
                raise ConfigError(f"{flag} must be one of {', '.join(allowed)}, got {choice!r}")
        if self.look == "plain" and self.camera_motion not in PLAIN_MOTIONS:
            raise ConfigError(
                f"--camera-motion {self.camera_motion} needs --look footage (the plain look knows "
                f"{', '.join(PLAIN_MOTIONS)})"
            )
        _check_writable(Path(self.out))

    @property
    def width(self) -> int:
        return self.resolution[0]

    @property
    def height(self) -> int:
        return self.resolution[1]


@dataclass
class PreviewConfig:
    dataset: str = field(default="", metadata={"help": "dataset directory", "positional": True, "required": True})
    samples: list[str] = field(default_factory=list, metadata={"help": "sample ids (default: the first few)", "positional": True})
    out: str | None = field(default=None, metadata={"help": "output directory (default: DATASET/preview)", "short": "-o"})
    max_samples: int = field(default=4, metadata={"help": "samples to preview when none are named"})
    sheet_frames: int = field(default=4, metadata={"help": "frames per contact sheet"})

    def __post_init__(self):
        if not self.dataset:
            raise ConfigError("preview needs a DATASET directory")
        if self.max_samples < 1 or self.sheet_frames < 1:
            raise ConfigError("--max-samples and --sheet-frames must be at least 1")
        check_folder(self.dataset, "DATASET")
        _check_writable(self.out if self.out else Path(self.dataset) / "preview")
