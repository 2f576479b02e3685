"""Configuration of ``void bench build`` and ``void bench verify`` (stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulate.config import EXECUTORS, RENDERERS
from void.configutil import check_folder, check_writable
from void.errors import ConfigError


@dataclass
class BenchBuildConfig:
    out: str = field(default="", metadata={"help": "benchmark folder to write (resumes when it exists)", "positional": True, "required": True})
    version: str = field(default="v1", metadata={"help": "benchmark version: a definition shipped in simulate/bench/"})
    renderer: str = field(default="raster", metadata={"help": "raster (the reference build) or cycles", "choices": RENDERERS})
    executor: str = field(default="local", metadata={"help": "local process pool or a Ray cluster", "choices": EXECUTORS})
    ray_address: str | None = field(default=None, metadata={"help": "Ray cluster address (auto or HOST:PORT)"})
    workers: int = field(default=1, metadata={"help": "parallel worker processes (or Ray CPUs); the build is the same for any count"})
    limit: int = field(
        default=0,
        metadata={"help": "build only the first N clips of each family and subset (0: all); a limited build is a "
                          "prefix of the full one, so its checksums are a subset of the full build's"},
    )
    # A definition file instead of a shipped version: for tests at small sizes, and for
    # checking a candidate definition before it ships. Not on the command line.
    definition_file: str | None = field(default=None, metadata={"cli": False})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self):
        if not self.out:
            raise ConfigError("bench build needs an OUT folder")
        check_writable(self.out, "OUT")
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}")
        if self.limit < 0:
            raise ConfigError(f"--limit must be 0 (all) or more, got {self.limit}")
        if self.renderer not in RENDERERS:
            raise ConfigError(f"--renderer must be one of {', '.join(RENDERERS)}, got {self.renderer!r}")
        if self.executor not in EXECUTORS:
            raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}")


@dataclass
class BenchVerifyConfig:
    dir: str = field(default="", metadata={"help": "a benchmark folder written by `void bench build`", "positional": True, "required": True})
    workers: int = field(default=1, metadata={"help": "parallel processes recomputing checksums"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar"})

    def __post_init__(self):
        if not self.dir:
            raise ConfigError("bench verify needs a benchmark folder")
        check_folder(self.dir, "DIR", "write it with `void bench build`")
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {self.workers}")
