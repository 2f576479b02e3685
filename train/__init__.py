"""Training: the quadmask-conditioned video diffusion model, with DeepSpeed.

``import train`` is light; the loop (torch, DeepSpeed, diffusers) loads on first use of
:func:`train`.
"""

from train.config import TrainConfig

__all__ = ["TrainConfig", "train"]


def __getattr__(name):
    if name == "train":
        from train.loop import train

        return train
    raise AttributeError(f"module 'train' has no attribute {name!r}")
