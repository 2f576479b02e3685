"""Baseline removal methods behind ``void baseline NAME`` (identity, opencv-inpaint,
clean-plate, oracle-hidden, command); the entry point is :func:`run_baseline`."""

from evaluate.baselines.run import run_baseline

__all__ = ["run_baseline"]
