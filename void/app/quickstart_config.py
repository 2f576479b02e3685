"""Configuration of ``void quickstart`` (stdlib only): the whole pipeline on embedded defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from void.configutil import check_writable, format_resolution, parse_resolution as _parse_resolution
from void.errors import ConfigError


@dataclass
class QuickstartConfig:
    out: str = field(default="runs/quickstart", metadata={"help": "output directory for everything", "short": "-o"})
    budget_minutes: float = field(
        default=24.0,
        metadata={"help": "wall-clock budget for the whole run; training gets what data, baselines and scoring leave"},
    )
    samples: int = field(default=96, metadata={"help": "training samples to simulate"})
    test_samples: int = field(default=30, metadata={"help": "held-out benchmark samples (test seed range)"})
    resolution: tuple[int, int] = field(default=(32, 32), metadata={"help": "frame size WxH", "parse": _parse_resolution, "show": format_resolution, "metavar": "WxH"})
    frames: int = field(default=8, metadata={"help": "frames per video"})
    renderer: str = field(default="raster", metadata={"help": "raster or cycles", "choices": ("raster", "cycles")})
    config: str = field(default="tiny", metadata={"help": "model/training preset"})
    seed: int = field(default=0, metadata={"help": "seed for data, training and sampling"})
    workers: int = field(default=2, metadata={"help": "worker processes for simulation and scoring"})
    ablations: bool = field(default=True, metadata={"help": "also train the binary-object and binary-union ablations"})

    def __post_init__(self):
        if isinstance(self.resolution, str):
            self.resolution = _parse_resolution(self.resolution)
        if self.budget_minutes <= 0:
            raise ConfigError(f"--budget-minutes must be positive, got {self.budget_minutes}")
        if self.samples < 2 or self.test_samples < 2:
            raise ConfigError("--samples and --test-samples must be at least 2")
        if self.frames < 2:
            raise ConfigError(f"--frames must be at least 2, got {self.frames}")
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}")
        check_writable(self.out)
