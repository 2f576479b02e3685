"""Baseline removal methods behind ``void baseline NAME`` (identity, opencv-inpaint,
clean-plate, oracle-hidden, command: the list is ``registry.BASELINES``); the entry point is
:func:`run_baseline`, loaded on first use so the registry stays light to import."""

__all__ = ["run_baseline"]


def __getattr__(name):
    if name == "run_baseline":
        from evaluate.baselines.run import run_baseline

        return run_baseline
    raise AttributeError(f"module 'evaluate.baselines' has no attribute {name!r}")
