"""Running VOID's released weights: the CogVideoX-Fun InP layout on disk -> VoidTransformer.

What a VOID user has on disk (see VOID's README)::

    ROOT/
      CogVideoX-Fun-V1.5-5b-InP/         the base model
        transformer/config.json (+ weights)   CogVideoXTransformer3DModel config
        vae/                                  AutoencoderKLCogVideoX (16 latent channels)
        scheduler/scheduler_config.json
        text_encoder/, tokenizer/             T5
      void_pass1.safetensors              VOID's transformer (state dict), pass 1
      void_pass2.safetensors              pass 2 (warped-noise refinement)

``--model`` may name ROOT, the base dir, or a ``void_pass1.safetensors`` beside the base dir;
``--base`` and ``--pass1`` name them apart (:func:`explicit_layout`). A checkpoint that does not
fit its base config is refused with a key-by-key report (:func:`key_report`).

VOID's transformer takes ``concat(noisy | mask | video)`` latents (48 channels for a
16-channel VAE; the mask is a 3-channel image encoded by the VAE); ours orders
``noisy | video | mask``, so the input projection's columns are permuted on load. Every other
weight keeps its name: VoidTransformer is built from the same diffusers blocks under the same
attribute names. VOID's inference conditions pass 1 on a "trimask" (remove and overlap as one
class, affected, keep) and pass 2 on a binary edit mask (``vae_mask_style``), and noises the
reference video slightly when the base config says ``add_noise_in_inpaint_model``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from void.errors import ConfigError
from void.model import io as model_io
from void.model import latents as lat

log = logging.getLogger(__name__)

BASE_DIR_NAME = "CogVideoX-Fun-V1.5-5b-InP"
PASS_FILES = {1: "void_pass1.safetensors", 2: "void_pass2.safetensors"}
# VOID's inference defaults (config/quadmask_cogvideox.py): 85-frame windows at 384x672.
VOID_SAMPLE_SIZE = (85, 384, 672)
# The reference-video noise of CogVideoX-Fun's inpaint pipeline (its noise_aug_strength).
VOID_COND_NOISE_STD = 0.0563
VOID_STEPS = 50

# CogVideoX config keys that VoidTransformer takes under the same name.
SHARED_KEYS = (
    "num_attention_heads", "attention_head_dim", "time_embed_dim", "text_embed_dim", "num_layers",
    "dropout", "attention_bias", "patch_size", "patch_size_t", "max_text_seq_length", "activation_fn",
    "timestep_activation_fn", "norm_elementwise_affine", "norm_eps", "spatial_interpolation_scale",
    "temporal_interpolation_scale", "use_rotary_positional_embeddings", "flip_sin_to_cos", "freq_shift",
    "patch_bias",
)


@dataclass(frozen=True)
class VoidLayout:
    base: Path  # the CogVideoX-Fun base model dir
    pass1: Path | None  # VOID's pass-1 state dict; None when base/transformer already holds it
    pass2: Path | None


def _is_cogvideox_base(path: Path) -> bool:
    cfg = path / "transformer" / "config.json"
    if not cfg.is_file():
        return False
    try:
        data = json.loads(cfg.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return data.get("_class_name") != "VoidTransformer" and "in_channels" in data


def find_void_layout(path: str | Path) -> VoidLayout | None:
    """VOID's layout at ``path`` (ROOT, the base dir, or a pass-1 file), or None."""
    p = Path(path)
    if p.is_file() and p.suffix == ".safetensors":
        roots, ckpt = [p.parent], p
    else:
        roots, ckpt = [p], None
    for root in roots:
        bases = [root] if _is_cogvideox_base(root) else []
        bases += [root / BASE_DIR_NAME] if _is_cogvideox_base(root / BASE_DIR_NAME) else []
        if not bases and root.is_dir():
            bases = sorted(c for c in root.iterdir() if c.is_dir() and _is_cogvideox_base(c))
        if not bases:
            continue
        base = bases[0]

        def find(name: str) -> Path | None:
            for d in (root, base, base.parent):
                if (d / name).is_file():
                    return d / name
            return None

        return VoidLayout(base, ckpt or find(PASS_FILES[1]), find(PASS_FILES[2]))
    return None


def explicit_layout(base: str | Path | None, pass1: str | Path | None, path: str | Path | None = None) -> VoidLayout:
    """VOID's layout from ``--base`` / ``--pass1`` (either may be left to discovery from
    ``path``, ``--model``); each named path is checked and a wrong one is named in the error."""
    found = find_void_layout(pass1 or path) if (pass1 or path) else None
    if base:
        base = Path(base)
        if not _is_cogvideox_base(base):
            raise ConfigError(
                f"--base {base}: not a CogVideoX-Fun base model dir (expected transformer/config.json of a "
                f"CogVideoXTransformer3DModel, vae/, scheduler/; VOID's is {BASE_DIR_NAME})"
            )
    elif found is not None:
        base = found.base
    else:
        raise ConfigError(f"no CogVideoX-Fun base dir beside {pass1 or path}: name it with --base")
    if pass1:
        pass1 = Path(pass1)
        if not pass1.is_file():
            raise ConfigError(f"--pass1 {pass1}: no such file (VOID's pass-1 weights, {PASS_FILES[1]})")
    else:
        pass1 = found.pass1 if found is not None else None
        if pass1 is None:
            for d in (base.parent, base):
                if (d / PASS_FILES[1]).is_file():
                    pass1 = d / PASS_FILES[1]
    pass2 = found.pass2 if found is not None else None
    if pass2 is None:
        for d in (base.parent, base):
            if (d / PASS_FILES[2]).is_file():
                pass2 = d / PASS_FILES[2]
    return VoidLayout(base, pass1, pass2)


def key_report(source: Path, base: Path, missing: list[str], unexpected: list[str], limit: int = 12) -> str:
    """Why a checkpoint does not fit the model its base config describes, key by key."""
    lines = [f"{source}: the weights do not match the transformer described by {base / 'transformer' / 'config.json'}."]

    def layer_hint(keys: list[str]) -> str:
        layers = sorted({int(k.split(".")[1]) for k in keys if k.startswith("transformer_blocks.") and k.split(".")[1].isdigit()})
        return f" (transformer_blocks {layers[0]}..{layers[-1]})" if layers else ""

    if missing:
        lines.append(f"  missing {len(missing)} key(s){layer_hint(missing)}: " + ", ".join(sorted(missing)[:limit])
                     + (" ..." if len(missing) > limit else ""))
        lines.append("    -> the checkpoint lacks weights the config asks for: a different num_layers / width, or a "
                     "partial or LoRA-only file. VOID itself loads with strict=False and would leave them random.")
    if unexpected:
        foreign = [k for k in unexpected if k.split(".")[0] in ("vae", "text_encoder", "encoder", "decoder")]
        lines.append(f"  unexpected {len(unexpected)} key(s){layer_hint(unexpected)}: " + ", ".join(sorted(unexpected)[:limit])
                     + (" ..." if len(unexpected) > limit else ""))
        lines.append("    -> " + ("some belong to another component (VAE / text encoder): pass the transformer's "
                                   "own state dict" if foreign else
                                   "the checkpoint has weights this config has no place for: a bigger model, or "
                                   "another architecture (is --base the CogVideoX-Fun V1.5 5b InP dir?)"))
    lines.append("  We refuse to run with silently random or dropped weights; fix --base / --pass1 / --pass2-model.")
    return "\n".join(lines)


def void_to_ours(state: dict[str, torch.Tensor], latent_channels: int, patch_volume: int, source: Path) -> dict[str, torch.Tensor]:
    """Reorder the input projection from VOID's ``noisy | mask | video`` to ``noisy | video | mask``."""
    key = "patch_embed.proj.weight"
    if key not in state:
        raise ConfigError(f"{source}: not a CogVideoX transformer state dict (no {key})")
    w = state[key]
    block = latent_channels * (patch_volume if w.ndim == 2 else 1)  # Linear: (c, pt, p, p) columns
    if w.shape[1] != 3 * block:
        raise ConfigError(
            f"{source}: the input projection takes {w.shape[1] // max(block // latent_channels, 1)} latent "
            f"channels; VOID's layout is {3 * latent_channels} (noisy | mask | video latents of a "
            f"{latent_channels}-channel VAE). Is this the CogVideoX-Fun base model rather than VOID's weights?"
        )
    noisy, mask, video = w[:, :block], w[:, block : 2 * block], w[:, 2 * block :]
    out = dict(state)
    out[key] = torch.cat([noisy, video, mask], dim=1).contiguous()
    return out


def transformer_kwargs(base: Path, pass_index: int) -> dict[str, Any]:
    cfg_path = base / "transformer" / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    if cfg.get("use_learned_positional_embeddings") or cfg.get("ofs_embed_dim"):
        raise ConfigError(f"{cfg_path}: learned positional / ofs embeddings (image-to-video models) are not supported")
    kwargs = {k: cfg[k] for k in SHARED_KEYS if k in cfg}
    kwargs.update(
        latent="vae",
        mask_encoding="quad" if pass_index == 1 else "binary-union",
        vae_mask_style="void-trimask" if pass_index == 1 else "void-binary",
        sample_size=VOID_SAMPLE_SIZE,
        rope_base_size=(cfg.get("sample_height", 60), cfg.get("sample_width", 90)),
        use_text=True,  # the T5 encoder is the pipeline's component (info["text_encoder"])
        cond_noise_std=VOID_COND_NOISE_STD if cfg.get("add_noise_in_inpaint_model") else 0.0,
    )
    return kwargs


def load_void_transformer(base: Path, checkpoint: Path | None, pass_index: int = 1, vae=None):
    """A VoidTransformer holding VOID's weights (``checkpoint``, or the base dir's own). The
    VAE (``vae``, else read from ``base/vae``) only tells it the latent channels and factors;
    it stays the pipeline's component."""
    from void.model.transformer import VoidTransformer

    kwargs = transformer_kwargs(base, pass_index)
    if vae is not None:
        vae_config = dict(vae.config)
    else:  # only its config is needed here
        vae_config = json.loads((base / "vae" / "config.json").read_text(encoding="utf-8"))
    kwargs.update(lat.vae_transformer_kwargs(vae_config))
    source = checkpoint or base / "transformer"
    state = model_io.read_state_dict(source)
    # Build on the meta device and adopt the loaded tensors: a 5B model is not initialised twice.
    with torch.device("meta"):
        model = VoidTransformer(**kwargs)
    latent_channels = model.latent_channels
    patch_volume = model.config.patch_size**2 * (model.config.patch_size_t or 1)
    state = void_to_ours(state, latent_channels, patch_volume, source)
    out_ch = state["proj_out.weight"].shape[0] // patch_volume
    if out_ch != latent_channels:
        raise ConfigError(f"{source}: predicts {out_ch} channels but the VAE in {base / 'vae'} has {latent_channels}")
    dtype = state["proj_out.weight"].dtype
    state["null_text"] = torch.zeros(tuple(model.null_text.shape), dtype=dtype)  # prompts come from T5
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    if missing or unexpected:
        raise ConfigError(key_report(source, base, list(missing), list(unexpected)))
    still_meta = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if still_meta:
        raise ConfigError(f"{source}: no weights for {still_meta[:5]}")
    model.eval()
    return model


def load_void(layout: VoidLayout, *, load_pass2: bool = True) -> model_io.LoadedModel:
    """Pass-1 (and, when present and wanted, pass-2) transformers and the scheduler of a VOID
    layout. The pass-2 transformer is another ~11 GB: skip it unless pass 2 runs."""
    from diffusers import DDIMScheduler

    vae = lat.build_vae(path=str(layout.base / "vae"))
    transformer = load_void_transformer(layout.base, layout.pass1, 1, vae=vae)
    transformer_2 = None
    if load_pass2 and layout.pass2:
        transformer_2 = load_void_transformer(layout.base, layout.pass2, 2, vae=vae)
    sched_dir = layout.base / "scheduler"
    if (sched_dir / "scheduler_config.json").is_file():
        scheduler = DDIMScheduler.from_pretrained(str(sched_dir))
    else:
        scheduler = model_io.make_scheduler()
    info = {
        "format": "void-released",
        "mask_encoding": "quad",
        "latent": "vae",
        "sample_size": list(VOID_SAMPLE_SIZE),
        "inference_steps": VOID_STEPS,
        "base": str(layout.base),
        "text_encoder": str(layout.base),
        "pass1_checkpoint": str(layout.pass1) if layout.pass1 else None,
        "pass2_checkpoint": str(layout.pass2) if transformer_2 is not None else None,
    }
    return model_io.LoadedModel(
        transformer, scheduler, transformer_2, info, layout.base, vae=vae, text_encoder=str(layout.base)
    )


def load_pass2_model(path: str | Path, loaded: model_io.LoadedModel):
    """A separate pass-2 transformer: our model dir / run dir, or a VOID checkpoint file."""
    from void.model.transformer import VoidTransformer

    p = Path(path)
    if p.is_file() and p.suffix == ".safetensors":
        layout = find_void_layout(p)
        base = layout.base if layout else Path(loaded.info.get("base", ""))
        if not (base / "transformer" / "config.json").is_file():
            raise ConfigError(f"{p}: a VOID checkpoint needs its CogVideoX-Fun base dir ({BASE_DIR_NAME}) beside it")
        return load_void_transformer(base, p, 2, vae=loaded.vae)
    model_dir = model_io.resolve_model_dir(p)
    model = VoidTransformer.from_pretrained(model_dir / model_io.TRANSFORMER_DIR).eval()
    if model.config.latent == "vae" and loaded.vae is not None:
        theirs = lat.vae_transformer_kwargs(dict(loaded.vae.config))
        if any(getattr(model.config, k) != v for k, v in theirs.items()):
            raise ConfigError(
                f"{p}: its transformer expects a VAE with {model.config.vae_latent_channels} latent channels, but the "
                f"pass-1 model's VAE has {theirs['vae_latent_channels']}: both passes share one VAE"
            )
    return model


def pass2_scheduler(base: str | Path | None):
    """VOID's pass-2 sampler: diffusers' ``CogVideoXDDIMScheduler`` from the base model's scheduler
    config (pass 1 uses plain ``DDIMScheduler`` from the same config)."""
    from diffusers import CogVideoXDDIMScheduler

    sched_dir = Path(base) / "scheduler" if base else None
    if sched_dir is not None and (sched_dir / "scheduler_config.json").is_file():
        return CogVideoXDDIMScheduler.from_pretrained(str(sched_dir))
    return CogVideoXDDIMScheduler.from_config(model_io.make_scheduler().config)
