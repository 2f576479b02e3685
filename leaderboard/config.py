"""Configuration of the leaderboard build (stdlib only; ``void leaderboard`` is built from it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from void.configutil import check_folder, check_writable
from void.errors import ConfigError


# The counterfactual-physics score orders the board unless --sort says otherwise.
DEFAULT_SORT = "cf_win"


@dataclass
class LeaderboardConfig:
    results: str = field(
        default="",
        metadata={"help": "results directory written by `void evaluate` (results.parquet, summary.json); or --bundles"},
    )
    bundles: list[str] = field(
        default_factory=list,
        metadata={"help": "results bundles written by `void bench score`, merged into one site (all must share one "
                          "benchmark definition); the site gets a video gallery", "nargs": "+"},
    )
    bench: str | None = field(
        default=None,
        metadata={"help": "with --bundles: the benchmark folder, so the gallery shows each clip's input, quadmask and ground truth"},
    )
    study: str | None = field(
        default=None,
        metadata={"help": "study directory written by `void study analyze` (preference.csv); optional"},
    )
    masks: str | None = field(
        default=None,
        metadata={"help": "mask-track results directory written by `void evaluate --task masks`: adds the mask track section; optional"},
    )
    out: str = field(default="site", metadata={"help": "output directory for index.html, leaderboard.csv/.md", "short": "-o"})
    sort: str = field(
        default=DEFAULT_SORT,
        metadata={
            "help": "metric (or metric/region) that orders the main table; without cf_win in the results "
            "the default falls back to cf_margin, then psnr",
            "metavar": "METRIC[/REGION]",
        },
    )
    resamples: int = field(default=2000, metadata={"help": "bootstrap resamples per interval"})
    confidence: float = field(default=0.95, metadata={"help": "confidence level of the intervals"})
    seed: int = field(default=0, metadata={"help": "bootstrap seed; the same seed gives the same intervals"})
    title: str = field(default="VOID-bench leaderboard", metadata={"help": "page title"})
    quiet: bool = field(default=False, metadata={"help": "do not print where the site was written"})

    def __post_init__(self):
        if bool(self.results) == bool(self.bundles):
            raise ConfigError("leaderboard needs either --results (a `void evaluate` folder) or --bundles (`void bench score` files)")
        if self.results:
            check_folder(self.results, "--results", "write it with `void evaluate`")
        missing = [b for b in self.bundles if not Path(b).is_file()]
        if missing:
            raise ConfigError(f"--bundles: no such file {', '.join(missing)} (write bundles with `void bench score`)")
        if self.bench is not None and not self.bundles:
            raise ConfigError("--bench is for the gallery of a site built from --bundles")
        if self.bench is not None:
            check_folder(self.bench, "--bench", "a `void bench build` folder")
        if self.study is not None:
            if str(self.study).strip() == "":
                self.study = None
            else:
                check_folder(self.study, "--study", "write it with `void study analyze`")
        if self.masks is not None:
            check_folder(self.masks, "--masks", "write it with `void evaluate --task masks`")
        check_writable(self.out)
        # Fewer resamples than this make the 2.5% tail rest on a handful of draws.
        if self.resamples < 200:
            raise ConfigError(f"--resamples must be at least 200, got {self.resamples}")
        if not 0.5 <= self.confidence < 1.0:
            raise ConfigError(f"--confidence must be in [0.5, 1), got {self.confidence}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be >= 0, got {self.seed}")
        metric, _, region = str(self.sort).partition("/")
        if not metric or "/" in region:
            raise ConfigError(f"--sort must look like METRIC or METRIC/REGION (e.g. cf_win, psnr/affected), got {self.sort!r}")
