"""Fitting VOID's 5B transformers on smaller cards: weight storage dtype, CPU offload, VAE tiling.

``offload``:

- ``none``        every component lives on the device (fastest; needs the most memory);
- ``model``       each component (pass-1 transformer, pass-2 transformer, text encoder) is moved to
                  the device for its stage and back to CPU after it, so only one is resident at a
                  time (what diffusers' ``enable_model_cpu_offload`` does; written as two ``.to``
                  calls around each stage because that needs the ``accelerate`` package);
- ``sequential``  diffusers' leaf-level group offloading: each layer's weights are copied to the
                  device just before it runs (least memory, slowest), as ``enable_sequential_cpu_offload``.

``weights``: ``bf16`` stores and computes in bfloat16; ``fp8`` stores the transformer's linear and
attention weights in float8 (e4m3) and casts each layer up to the compute dtype as it runs
(diffusers' layerwise casting; VOID's default ``model_cpu_offload_and_qfloat8`` does the same).
Storage only, so it works on any GPU (and on CPU); norms, embeddings and the output head stay in
the compute dtype.
"""

from __future__ import annotations

import contextlib
import logging

import torch

from void.errors import ConfigError

log = logging.getLogger(__name__)

OFFLOAD_MODES = ("none", "model", "sequential")
WEIGHT_STORAGE = ("auto", "float32", "bfloat16", "fp8")
# Kept in the compute dtype under fp8 storage: small, and sensitive to rounding.
FP8_SKIP = ("vae", "norm", "patch_embed", "time_embedding", "time_proj", "null_text", "proj_out")


def store_weights(model, storage: str, compute_dtype: torch.dtype) -> None:
    """Set ``model``'s weight storage (see the module docstring)."""
    if storage not in WEIGHT_STORAGE:
        raise ConfigError(f"weights storage must be one of {WEIGHT_STORAGE}, got {storage!r}")
    if storage == "fp8":
        if not hasattr(torch, "float8_e4m3fn"):
            raise ConfigError(f"fp8 weights need torch with float8 support (this is torch {torch.__version__})")
        model.enable_layerwise_casting(
            storage_dtype=torch.float8_e4m3fn, compute_dtype=compute_dtype, skip_modules_pattern=FP8_SKIP
        )


def offload_sequential(model, device: torch.device) -> None:
    """Leaf-level group offloading: weights stay on CPU, each layer is onloaded when it runs."""
    model.enable_group_offload(onload_device=device, offload_device=torch.device("cpu"), offload_type="leaf_level")


@contextlib.contextmanager
def resident(module, device: torch.device, offload: str):
    """``module`` on ``device`` inside the block; with ``offload == "model"`` back on CPU after."""
    if module is None or offload != "model":
        yield module
        return
    torch.nn.Module.to(module, device)
    try:
        yield module
    finally:
        torch.nn.Module.to(module, "cpu")
        if device.type == "cuda":
            torch.cuda.empty_cache()


def enable_vae_tiling(vae, tiling: bool, slicing: bool) -> None:
    """diffusers' tiled (spatial tiles) and sliced (one clip of the batch at a time) VAE passes."""
    if vae is None:
        return
    if tiling:
        vae.enable_tiling()
    if slicing:
        vae.enable_slicing()
