"""The model: :class:`VoidTransformer` (CogVideoX-style, quadmask-conditioned) and its latents.

Importing this package imports diffusers; ``import void`` does not.
"""

from void.model.transformer import VoidTransformer

__all__ = ["VoidTransformer"]
