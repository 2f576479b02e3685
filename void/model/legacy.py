"""Reading transformer folders saved before the VAE became a pipeline component.

Until model format 2, ``VoidTransformer`` held the VAE as a submodule: its ``config.json``
carried ``vae_config`` (the VAE's constructor arguments; older still, only ``vae_path``) and
``text_encoder_path``, and its weights file held the VAE's weights under ``vae.*``. Every
config of that time has those keys (``null`` for pixel-latent models), which is how such a
folder is told apart. :func:`load_transformer` splits it into what the code has now: the
transformer (its config translated, the ``vae.*`` weights taken out), the VAE as a separate
module and the text encoder's location.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from void.errors import ConfigError
from void.model import io as model_io
from void.model import latents as lat

LEGACY_KEYS = ("vae_path", "vae_config", "text_encoder_path")
VAE_PREFIX = "vae."


@dataclass
class LegacyTransformer:
    transformer: Any
    vae: Any = None  # the AutoencoderKLCogVideoX that was inside, with its saved weights
    text_encoder_path: str | None = None


def _config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the transformer config ({exc})") from None


def is_legacy(folder: str | os.PathLike) -> bool:
    """A ``VoidTransformer`` folder written before format 2 (its config names a VAE or text encoder)."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        return False
    cfg = _config(Path(folder))
    return cfg.get("_class_name") == "VoidTransformer" and any(k in cfg for k in LEGACY_KEYS)


def _vae_config(folder: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    if cfg.get("vae_config"):
        return dict(cfg["vae_config"])
    if cfg.get("vae_path"):  # the oldest configs: only where the VAE was read from
        return lat.vae_public_config(lat.build_vae(path=cfg["vae_path"]))
    # Such a model was built with the tiny random VAE (its weights are in the file).
    return dict(lat.TINY_VAE_CONFIG)


def _load(module, state: dict[str, torch.Tensor], problem: str) -> None:
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConfigError(f"{problem} (missing {sorted(missing)[:6]}, unexpected {sorted(unexpected)[:6]})")


def load_transformer(folder: str | os.PathLike) -> LegacyTransformer:
    """The transformer, VAE and text-encoder path of an old-style ``transformer/`` folder."""
    from void.model.transformer import VoidTransformer

    folder = Path(folder)
    old = _config(folder)
    cfg = {k: v for k, v in old.items() if not k.startswith("_") and k not in LEGACY_KEYS}
    vae_config = None
    if cfg.get("latent") == "vae":
        vae_config = _vae_config(folder, old)
        cfg.update(lat.vae_transformer_kwargs(vae_config))
    state = model_io.read_state_dict(folder)
    vae_state = {k[len(VAE_PREFIX):]: v for k, v in state.items() if k.startswith(VAE_PREFIX)}
    own = {k: v for k, v in state.items() if not k.startswith(VAE_PREFIX)}
    transformer = VoidTransformer.from_config(cfg)
    _load(transformer, own, f"{folder}: the weights do not fit the transformer its config.json describes")
    transformer.eval()
    vae = None
    if vae_config is not None:
        if vae_state:
            vae = lat.build_vae(vae_config)
            _load(vae, vae_state, f"{folder}: the vae.* weights do not fit its vae_config")
        elif old.get("vae_path"):
            vae = lat.build_vae(path=old["vae_path"])
    return LegacyTransformer(transformer, vae, old.get("text_encoder_path") or None)
