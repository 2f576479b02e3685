"""Configuration of the preference study commands (stdlib only).

``void study init|serve|analyze`` are built from these dataclasses. The study itself (methods,
samples, design, gold trials, completion codes) is described in a YAML file that
:mod:`evaluate.study.design` parses; these configs only say where things are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from void.configutil import check_writable
from void.errors import ConfigError

DEFAULT_DB = "sqlite:///study.db"
# `void study serve` hands the app its database and admin token through these variables.
DB_ENV = "VOID_STUDY_DB"
ADMIN_ENV = "VOID_STUDY_ADMIN_TOKEN"
DB_SCHEMES = ("sqlite", "postgresql")
# Win rates against 0.5 for which the power analysis reports the judgments needed.
DEFAULT_EFFECTS = [0.55, 0.6, 0.65, 0.7]


def check_db_url(url: str, flag: str = "--db") -> str:
    """Accept ``sqlite:///path`` and ``postgresql[+driver]://...``; name the flag otherwise."""
    url = str(url).strip()
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme.split("+", 1)[0] not in DB_SCHEMES:
        raise ConfigError(
            f"{flag} {url!r}: expected a database URL such as sqlite:///study.db or "
            "postgresql://user:password@host/dbname"
        )
    if scheme.startswith("sqlite") and url in ("sqlite://", "sqlite:///", "sqlite:///:memory:"):
        # Every Streamlit session and the analysis must see the same votes: a file is needed.
        raise ConfigError(f"{flag} {url!r}: an in-memory SQLite database cannot hold a study; name a file")
    return url


@dataclass
class StudyInitConfig:
    config: str = field(metadata={"help": "study config (YAML): methods, samples, design, gold trials"})
    db: str = field(default=DEFAULT_DB, metadata={"help": "database URL (sqlite:///file.db or postgresql://...)"})
    check_videos: bool = field(
        default=True,
        metadata={"help": "decode every video's header and frame count (catches unreadable or mismatched exports)"},
    )

    def __post_init__(self):
        if not Path(self.config).is_file():
            raise ConfigError(f"--config {self.config}: no such file")
        self.db = check_db_url(self.db)


@dataclass
class StudyServeConfig:
    db: str = field(default=DEFAULT_DB, metadata={"help": "database URL of an initialised study"})
    port: int = field(default=8501, metadata={"help": "port of the Streamlit server"})
    address: str = field(
        default="127.0.0.1",
        metadata={"help": "address to bind; keep loopback and put a TLS reverse proxy in front for a public study"},
    )

    def __post_init__(self):
        self.db = check_db_url(self.db)
        if not 1 <= int(self.port) <= 65535:
            raise ConfigError(f"--port must be in 1..65535, got {self.port}")
        if not str(self.address).strip():
            raise ConfigError("--address must not be empty")


@dataclass
class StudyAnalyzeConfig:
    db: str = field(default=DEFAULT_DB, metadata={"help": "database URL of the study"})
    out: str = field(default="results/study", metadata={"help": "output directory (preference.csv, analysis.json)", "short": "-o"})
    bootstrap: int = field(
        default=1000, metadata={"help": "bootstrap resamples over participants for the Bradley-Terry intervals"}
    )
    seed: int = field(default=0, metadata={"help": "bootstrap seed; the same seed gives the same intervals"})
    include_incomplete: bool = field(
        default=False, metadata={"help": "count participants who left before answering every trial (excluded by default)"}
    )
    include_duplicates: bool = field(
        default=False, metadata={"help": "count later sessions of a platform id that already had one (excluded by default)"}
    )
    include_failed_gold: bool = field(
        default=False, metadata={"help": "count participants whose gold-trial accuracy is below the threshold (excluded by default)"}
    )
    include_flagged: bool = field(
        default=False, metadata={"help": "count participants with answer-quality flags: position bias, straight-lining, too fast"}
    )
    flag_min_answers: int = field(default=6, metadata={"help": "decisive answers needed before position bias is judged"})
    flag_position_p: float = field(
        default=0.001, metadata={"help": "position-bias flag: binomial p-value of the most used screen position against chance"}
    )
    flag_run_length: int = field(default=10, metadata={"help": "straight-lining flag: the same answer this many times in a row"})
    flag_fast_share: float = field(
        default=0.5, metadata={"help": "too-fast flag: share of answers given sooner than the clip's length after playback start"}
    )
    gold_min_accuracy: float | None = field(
        default=None, metadata={"help": "override the study's gold accuracy threshold (0..1)"}
    )
    alpha: float = field(default=0.05, metadata={"help": "significance level of the power analysis"})
    power: float = field(default=0.8, metadata={"help": "target power of the power analysis"})
    effect_win_rates: list[float] = field(
        default_factory=lambda: list(DEFAULT_EFFECTS),
        metadata={"help": "win rates (vs 0.5) for which to report the judgments needed"},
    )
    quiet: bool = field(default=False, metadata={"help": "do not print the table"})

    def __post_init__(self):
        self.db = check_db_url(self.db)
        check_writable(self.out)
        # Fewer resamples than this leave the 2.5% tails resting on a handful of draws.
        if self.bootstrap != 0 and self.bootstrap < 200:
            raise ConfigError(f"--bootstrap must be 0 (no intervals) or at least 200, got {self.bootstrap}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be >= 0, got {self.seed}")
        if not 0.0 < self.flag_position_p < 1.0:
            raise ConfigError(f"--flag-position-p must be in (0, 1), got {self.flag_position_p}")
        if not 0.0 < self.flag_fast_share <= 1.0:
            raise ConfigError(f"--flag-fast-share must be in (0, 1], got {self.flag_fast_share}")
        if self.flag_min_answers < 1 or self.flag_run_length < 2:
            raise ConfigError("--flag-min-answers must be >= 1 and --flag-run-length >= 2")
        if self.gold_min_accuracy is not None and not 0.0 <= self.gold_min_accuracy <= 1.0:
            raise ConfigError(f"--gold-min-accuracy must be in [0, 1], got {self.gold_min_accuracy}")
        if not 0.0 < self.alpha < 0.5:
            raise ConfigError(f"--alpha must be in (0, 0.5), got {self.alpha}")
        if not 0.0 < self.power < 1.0:
            raise ConfigError(f"--power must be in (0, 1), got {self.power}")
        for p in self.effect_win_rates:
            if not 0.0 < p < 1.0 or p == 0.5:
                raise ConfigError(f"--effect-win-rates: {p} must be in (0, 1) and differ from 0.5")
