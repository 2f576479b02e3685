"""VOID-bench core: quadmask semantics, video I/O, on-disk formats, the model and inference.

``import void`` is light; the inference entry point and its config load on first use.
"""

__version__ = "0.1.0"
__all__ = ["InferConfig", "infer", "__version__"]


def __getattr__(name):
    if name == "InferConfig":
        from void.config import InferConfig

        return InferConfig
    if name == "infer":
        from void.infer import infer

        return infer
    raise AttributeError(f"module 'void' has no attribute {name!r}")
