"""Text conditioning: a T5 encoder from a local directory, when one is installed.

Nothing is ever downloaded: the encoder loads with ``local_files_only`` from a path (a
CogVideoX-style model dir with ``text_encoder/`` and ``tokenizer/``, or a plain T5 dir).
Without one the transformer uses its learned null embedding
(:meth:`void.model.VoidTransformer.null_text_embedding`).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from void.errors import ConfigError, VoidError

log = logging.getLogger(__name__)


class TextEncoderUnavailable(VoidError):
    """A text encoder was asked for but cannot be loaded offline; the message says why."""


def _subdir(root: Path, name: str) -> Path:
    return root / name if (root / name).is_dir() else root


def find_text_encoder(path: str | Path | None) -> Path | None:
    """The directory holding a T5 encoder under ``path`` (``text_encoder/`` or itself), or None."""
    if not path:
        return None
    root = Path(path)
    enc = _subdir(root, "text_encoder")
    return root if (enc / "config.json").is_file() else None


@dataclass
class T5Text:
    """A local T5 encoder and its tokenizer; ``encode`` gives ``(B, L, D)`` embeddings."""

    tokenizer: object
    encoder: torch.nn.Module
    max_length: int

    @classmethod
    def load(
        cls, path: str | Path, max_length: int, device: str | torch.device = "cpu", dtype=torch.float32,
        tokenizer: str | Path | None = None,
    ) -> "T5Text":
        """``tokenizer``: the tokenizer's dir when it is not ``path/tokenizer`` (or ``path``)."""
        root = Path(path)
        if find_text_encoder(root) is None:
            raise ConfigError(f"{root}: no T5 text encoder here (expected text_encoder/config.json or config.json)")
        try:
            transformers = importlib.import_module("transformers")
        except ImportError as exc:
            raise TextEncoderUnavailable(
                f"{root}: a T5 text encoder is on disk but the 'transformers' package is not installed "
                f"({exc}); install it with: pip install transformers sentencepiece"
            ) from exc
        tok_dir = Path(tokenizer) if tokenizer else _subdir(root, "tokenizer")
        enc_dir = _subdir(root, "text_encoder")
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(tok_dir), local_files_only=True)
        encoder = transformers.T5EncoderModel.from_pretrained(str(enc_dir), local_files_only=True, torch_dtype=dtype)
        encoder.requires_grad_(False)
        encoder.eval()
        return cls(tokenizer, encoder.to(device), max_length)

    @torch.no_grad()
    def encode(self, prompts: list[str], device=None) -> torch.Tensor:
        """``device``: where the token ids go (default: the encoder's weights'; with offloading
        hooks the weights sit on the CPU while the work runs on the GPU)."""
        ids = self.tokenizer(
            prompts,
            padding="max_length",
            max_length=self.max_length,
            truncation=True,
            add_special_tokens=True,
            return_tensors="pt",
        ).input_ids
        device = device or next(self.encoder.parameters()).device
        return self.encoder(ids.to(device))[0]


def load_text_encoder(
    path: str | Path | None, max_length: int, device="cpu", dtype=torch.float32, *, required: bool = False,
    tokenizer: str | Path | None = None,
) -> T5Text | None:
    """A :class:`T5Text` when ``path`` holds one and transformers is importable; else None.

    With nothing on disk the null embedding is the answer. An encoder that is on disk but
    cannot be loaded (transformers missing) is an error when ``required`` (a model trained
    with prompts would silently lose them) and a logged warning otherwise.
    """
    if find_text_encoder(path) is None:
        return None
    try:
        return T5Text.load(path, max_length, device=device, dtype=dtype, tokenizer=tokenizer)
    except TextEncoderUnavailable as exc:
        if required:
            raise
        log.warning("%s; using the null text embedding instead", exc)
        return None
