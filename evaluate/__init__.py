"""Evaluation harness: region-wise fidelity, temporal and counterfactual-physics metrics,
baselines, and the scoring runner.

``void baseline NAME --input DIR --out PRED`` writes a baseline's predictions;
``void evaluate --data DATA --pred PRED --out RESULTS`` scores every method under PRED.
Exports load on first use, so ``import evaluate`` stays light.
"""

__all__ = ["EvaluateConfig", "BaselineConfig", "score", "run_baseline"]


def __getattr__(name):
    if name in ("EvaluateConfig", "BaselineConfig"):
        from evaluate import config

        return getattr(config, name)
    if name == "score":
        from evaluate.runner import score

        return score
    if name == "run_baseline":
        from evaluate.baselines import run_baseline

        return run_baseline
    raise AttributeError(f"module 'evaluate' has no attribute {name!r}")
