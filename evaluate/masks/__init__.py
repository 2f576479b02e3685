"""The mask track: score quadmask predictors against exact ground truth, and a local predictor.

``void masks predict|baseline|command`` write predicted quadmasks;
``void evaluate --task masks`` scores them (``docs/mask-track.md``).
Exports load on first use, so ``import evaluate.masks`` stays light.
"""

__all__ = ["MaskPredictConfig", "MaskBaselineConfig", "MaskCommandConfig", "predict", "score_masks"]


def __getattr__(name):
    if name in ("MaskPredictConfig", "MaskBaselineConfig", "MaskCommandConfig"):
        from evaluate.masks import config

        return getattr(config, name)
    if name == "predict":
        from evaluate.masks.run import predict

        return predict
    if name == "score_masks":
        from evaluate.masks.score import score_masks

        return score_masks
    raise AttributeError(f"module 'evaluate.masks' has no attribute {name!r}")
