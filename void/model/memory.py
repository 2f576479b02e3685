"""Fitting VOID's 5B transformers on smaller cards: weight storage dtype, CPU offload, VAE tiling.

``offload``:

- ``none``        every component lives on the device (fastest; needs the most memory);
- ``model``       each component (pass-1 transformer, pass-2 transformer, text encoder) is moved to
                  the device for its stage and back to CPU after it, so only one is resident at a
                  time (what diffusers' ``enable_model_cpu_offload`` does; written as two ``.to``
                  calls around each stage because that needs the ``accelerate`` package);
- ``sequential``  each layer's weights are copied to the device just before it runs and back after
                  (least memory, slowest), as diffusers' ``enable_sequential_cpu_offload``; written
                  as forward hooks here because diffusers' own (and its group offloading) need
                  ``accelerate``.

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
FP8_SKIP = ("norm", "patch_embed", "time_embedding", "time_proj", "null_text", "proj_out")


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


def _move_own(module, device) -> None:
    # Only the module's own tensors: its children have hooks of their own.
    with torch.no_grad():
        for tensor in list(module._parameters.values()) + list(module._buffers.values()):
            if tensor is not None:
                tensor.data = tensor.data.to(device, non_blocking=True)


def offload_sequential(model, device: torch.device) -> int:
    """Weights stay on CPU; every module that owns tensors gets hooks that bring them to ``device``
    for its forward and send them back after. Returns the number of hooked modules."""
    cpu = torch.device("cpu")
    hooked = 0
    for module in model.modules():
        if not any(t is not None for t in list(module._parameters.values()) + list(module._buffers.values())):
            continue
        _move_own(module, cpu)
        module.register_forward_pre_hook(lambda m, args: _move_own(m, device))
        module.register_forward_hook(lambda m, args, out: _move_own(m, cpu))
        hooked += 1
    return hooked


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
