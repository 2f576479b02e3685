"""Counterfactual data generation: physics scenes to paired videos with exact quadmasks."""

from simulate.config import PreviewConfig, SimulateConfig

__all__ = ["SimulateConfig", "PreviewConfig", "generate", "preview"]


def __getattr__(name):
    if name == "generate":
        from simulate.generate import generate

        return generate
    if name == "preview":
        from simulate.preview import preview

        return preview
    raise AttributeError(f"module 'simulate' has no attribute {name!r}")
