"""Helpers of the training tests (a module with a unique name, importable from test files)."""

from __future__ import annotations

from pathlib import Path

from train.config import TrainConfig

# Smaller than the `tiny` preset so a step costs milliseconds; same code paths.
TEST_MODEL = {"latent": "pixel", "patch_pixels": 4, "num_layers": 1, "num_attention_heads": 4, "attention_head_dim": 16}


def make_config(data: Path, out: Path, **overrides) -> TrainConfig:
    kwargs = dict(
        data=str(data),
        out=str(out),
        config="tiny",
        model=dict(TEST_MODEL),
        steps=4,
        batch_size=2,
        checkpoint_every=2,
        val_every=0,
        val_samples=1,
        inference_steps=2,
        log_every=1,
        warmup_steps=2,
        progress=False,
        threads=1,
    )
    kwargs.update(overrides)
    return TrainConfig(**kwargs)
