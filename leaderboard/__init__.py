"""The leaderboard: tables with bootstrap intervals and tie-aware ranks, plots, a static site.

pandas and matplotlib load only when :func:`build` runs. ``build`` is imported eagerly
because the entry module shares its name: importing ``leaderboard.build`` later would
otherwise leave the package attribute ``build`` pointing at the module, not the function.
"""

from leaderboard.build import build
from leaderboard.config import LeaderboardConfig

__all__ = ["LeaderboardConfig", "build"]
