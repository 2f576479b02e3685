"""The model directory: what training writes and inference reads (``VoidPipeline``'s components).

::

    MODEL/
      model_index.json   the components: {"_class_name": "VoidPipeline", "transformer":
                         ["void.model", "VoidTransformer"], "vae": ["diffusers",
                         "AutoencoderKLCogVideoX"] or [null, null], "scheduler": [...],
                         "transformer_2": [...], "text_encoder": {"path", "tokenizer"}}
      transformer/config.json + diffusion_pytorch_model.safetensors   VoidTransformer (no VAE inside)
      vae/config.json + diffusion_pytorch_model.safetensors           AutoencoderKLCogVideoX (VAE latents only)
      scheduler/scheduler_config.json                                 DDIMScheduler (v-prediction)
      transformer_2/ ...                                              optional pass-2 checkpoint
      void_model.json    {"format", "mask_encoding", "latent", "sample_size": [T, H, W],
                          "train_steps", ...}: readable without torch (evaluate, leaderboard)

The text encoder (T5, ~9.5 GB) is not copied: ``model_index.json`` records where it is
(``text_encoder.path``: a dir with ``text_encoder/`` and ``tokenizer/``, or a T5 dir;
``text_encoder.tokenizer`` when the tokenizer lives elsewhere).

Format 1 folders (no ``model_index.json``; a VAE-latent transformer held the VAE and saved its
weights as ``vae.*``) still load: :mod:`void.model.legacy` splits them.

A training run directory holds the newest export as ``RUN/model`` (see ``train/checkpoint.py``);
:func:`resolve_model_dir` accepts either.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from void import atomic
from void.errors import ConfigError, VoidError

VOID_MODEL_JSON = "void_model.json"
TRANSFORMER_DIR = "transformer"
TRANSFORMER_2_DIR = "transformer_2"
SCHEDULER_DIR = "scheduler"
VAE_DIR = "vae"
MODEL_INDEX_JSON = "model_index.json"
RUN_MODEL_DIR = "model"
RUN_CHECKPOINTS_DIR = "checkpoints"
MODEL_FORMAT = "void-bench-model"
MODEL_FORMAT_VERSION = 2  # 2: the VAE is a component of its own (model_index.json, vae/)

# The noise schedule every model is trained and sampled with (CogVideoX's: scaled-linear
# betas rescaled to zero terminal SNR, trailing timesteps, v-prediction).
SCHEDULER_DEFAULTS: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "prediction_type": "v_prediction",
    "rescale_betas_zero_snr": True,
    "timestep_spacing": "trailing",
    "clip_sample": False,
    "set_alpha_to_one": True,
    "steps_offset": 0,
}


class ModelDirError(VoidError, FileNotFoundError):
    """A model path that holds no model; the message names it and what was looked for."""


def make_scheduler(num_train_timesteps: int = 1000, **overrides):
    """The project's ``DDIMScheduler`` (v-prediction); training and sampling share it."""
    from diffusers import DDIMScheduler

    config = dict(SCHEDULER_DEFAULTS, num_train_timesteps=num_train_timesteps)
    config.update(overrides)
    return DDIMScheduler(**config)


def model_info(transformer, **extra: Any) -> dict[str, Any]:
    """The ``void_model.json`` fields that follow from the transformer's config."""
    cfg = transformer.config
    info: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "mask_encoding": cfg.mask_encoding,
        "latent": cfg.latent,
        "sample_size": [int(v) for v in cfg.sample_size],
        "use_text": bool(cfg.use_text),
        "num_parameters": int(sum(p.numel() for p in transformer.parameters())),
    }
    info.update(extra)
    return info


def _entry(module) -> list[str | None]:
    """``[library, class]`` of a component, as diffusers' ``model_index.json`` lists them."""
    if module is None:
        return [None, None]
    lib = type(module).__module__.split(".")[0]
    return ["void.model" if lib == "void" else lib, type(module).__name__]


def save_model_dir(
    path: str | os.PathLike,
    transformer,
    scheduler=None,
    *,
    transformer_2=None,
    vae=None,
    text_encoder: str | os.PathLike | None = None,
    tokenizer: str | os.PathLike | None = None,
    info: dict[str, Any] | None = None,
) -> Path:
    """Write the model directory (see the module docstring), one folder per component.
    ``info`` adds to ``void_model.json`` (``train_steps``, ``sample_size`` if it differs from
    the model's, a run name, ...)."""
    for model in (transformer, transformer_2):
        if model is not None and model.config.latent == "vae" and vae is None:
            raise ConfigError("save_model_dir: a VAE-latent transformer needs its VAE saved beside it (vae=)")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    scheduler = scheduler if scheduler is not None else make_scheduler()
    transformer.save_pretrained(path / TRANSFORMER_DIR)
    if transformer_2 is not None:
        transformer_2.save_pretrained(path / TRANSFORMER_2_DIR)
    if vae is not None:
        vae.save_pretrained(path / VAE_DIR)
    scheduler.save_pretrained(path / SCHEDULER_DIR)
    text = {"path": str(text_encoder) if text_encoder else None, "tokenizer": str(tokenizer) if tokenizer else None}
    index = {
        "_class_name": "VoidPipeline",
        "_format_version": MODEL_FORMAT_VERSION,
        "transformer": _entry(transformer),
        "transformer_2": _entry(transformer_2),
        "vae": _entry(vae),
        "scheduler": _entry(scheduler),
        "text_encoder": text,
    }
    atomic.write_json(path / MODEL_INDEX_JSON, index)
    meta = model_info(transformer, has_pass2_model=transformer_2 is not None)
    if text["path"]:
        meta["text_encoder"] = text["path"]
    # ``info`` adds to what the components say of themselves, never overrides it (a pipeline
    # loaded from an older folder carries that folder's format_version in its info).
    meta.update({k: v for k, v in (info or {}).items() if k not in meta or k == "sample_size"})
    atomic.write_json(path / VOID_MODEL_JSON, meta)
    return path


def read_model_index(path: str | os.PathLike) -> dict[str, Any]:
    """``model_index.json`` of a model dir ({} for a format-1 dir, which has none)."""
    p = Path(path) / MODEL_INDEX_JSON
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelDirError(f"{p}: invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelDirError(f"{p}: expected a JSON object")
    return data


def read_model_info(path: str | os.PathLike) -> dict[str, Any]:
    """``void_model.json`` of a model dir ({} when absent). Needs no torch."""
    p = Path(path) / VOID_MODEL_JSON
    if not p.is_file():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelDirError(f"{p}: invalid JSON ({exc})") from None


def is_model_dir(path: str | os.PathLike) -> bool:
    path = Path(path)
    return (path / TRANSFORMER_DIR / "config.json").is_file() and (
        (path / VOID_MODEL_JSON).is_file() or _is_void_transformer_config(path / TRANSFORMER_DIR / "config.json")
    )


def _is_void_transformer_config(config_path: Path) -> bool:
    try:
        return json.loads(config_path.read_text(encoding="utf-8")).get("_class_name") == "VoidTransformer"
    except (OSError, json.JSONDecodeError):
        return False


def _newest_export(run_dir: Path) -> Path | None:
    # Checkpoint exports inside checkpoints/<step>/ (any depth up to 2), newest step first.
    root = run_dir / RUN_CHECKPOINTS_DIR
    if not root.is_dir():
        return None
    found = []
    for meta in list(root.glob(f"*/{VOID_MODEL_JSON}")) + list(root.glob(f"*/*/{VOID_MODEL_JSON}")):
        d = meta.parent
        if any(part.startswith(".") for part in d.relative_to(run_dir).parts):
            continue  # a partial export
        steps = read_model_info(d).get("train_steps", -1)
        found.append((int(steps) if isinstance(steps, (int, float)) else -1, d.stat().st_mtime, d))
    return max(found)[2] if found else None


def resolve_model_dir(path: str | os.PathLike) -> Path:
    """A model dir from ``path``: the dir itself, ``RUN/model``, or the newest checkpoint export.

    VOID's own layout (a CogVideoX-Fun base dir and ``void_pass*.safetensors``) is recognised
    by :mod:`void.model.void_compat`, not here.
    """
    path = Path(path)
    if not path.exists():
        raise ModelDirError(f"{path}: model directory not found")
    if is_model_dir(path):
        return path
    if is_model_dir(path / RUN_MODEL_DIR):
        return path / RUN_MODEL_DIR
    newest = _newest_export(path)
    if newest is not None and is_model_dir(newest):
        return newest
    raise ModelDirError(
        f"{path}: no model here: expected {TRANSFORMER_DIR}/config.json with {VOID_MODEL_JSON} "
        f"(a model dir), {RUN_MODEL_DIR}/ (a training run), or a checkpoint export under "
        f"{RUN_CHECKPOINTS_DIR}/"
    )


def read_state_dict(path: str | os.PathLike) -> dict:
    """Tensors of a ``.safetensors`` file or of a (possibly sharded) diffusers weights dir."""
    from safetensors.torch import load_file

    path = Path(path)
    if path.is_dir():  # a (possibly sharded) diffusers weights dir
        files = sorted(path.glob("*.safetensors"))
        if not files:
            raise ConfigError(f"{path}: no .safetensors weights")
        state: dict = {}
        for f in files:
            state.update(load_file(str(f)))
        return state
    state = load_file(str(path))
    return state.get("state_dict", state) if isinstance(state.get("state_dict"), dict) else state


@dataclass
class LoadedModel:
    transformer: Any
    scheduler: Any
    transformer_2: Any = None
    info: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    vae: Any = None
    text_encoder: str | None = None  # where the T5 encoder is (a path), not the module
    tokenizer: str | None = None


def _load_transformer(folder: Path):
    """(transformer, VAE it held or None, its text-encoder path or None); format 1 included."""
    from void.model import legacy
    from void.model.transformer import VoidTransformer

    if legacy.is_legacy(folder):
        old = legacy.load_transformer(folder)
        return old.transformer, old.vae, old.text_encoder_path
    return VoidTransformer.from_pretrained(folder), None, None


def load_model_dir(path: str | os.PathLike, *, device=None, dtype=None) -> LoadedModel:
    """Load a model dir written by :func:`save_model_dir` (after :func:`resolve_model_dir`),
    or one written in format 1 (the VAE inside the transformer)."""
    from diffusers import DDIMScheduler

    path = resolve_model_dir(path)
    index = read_model_index(path)
    transformer, vae, text_path = _load_transformer(path / TRANSFORMER_DIR)
    transformer_2 = None
    if (path / TRANSFORMER_2_DIR / "config.json").is_file():
        transformer_2, vae_2, text_2 = _load_transformer(path / TRANSFORMER_2_DIR)
        vae, text_path = vae or vae_2, text_path or text_2
    if (path / VAE_DIR / "config.json").is_file():
        from void.model import latents as lat

        vae = lat.build_vae(path=str(path / VAE_DIR))
    needs_vae = any(m is not None and m.config.latent == "vae" for m in (transformer, transformer_2))
    if needs_vae and vae is None:
        raise ModelDirError(f"{path}: the transformer works in VAE latents but there is no {VAE_DIR}/ component")
    if (path / SCHEDULER_DIR / "scheduler_config.json").is_file():
        scheduler = DDIMScheduler.from_pretrained(path / SCHEDULER_DIR)
    else:
        scheduler = make_scheduler()
    info = read_model_info(path)
    text = index.get("text_encoder") if isinstance(index.get("text_encoder"), dict) else {}
    text_path = text.get("path") or text_path or info.get("text_encoder")
    for model in (transformer, transformer_2, vae):
        if model is not None:
            model.eval()
            if device is not None or dtype is not None:
                model.to(device=device, dtype=dtype)
    return LoadedModel(transformer, scheduler, transformer_2, info, path, vae, text_path, text.get("tokenizer"))
