"""Checkpoints of a run directory and the exported model.

Layout of a run directory (``--out RUN``)::

    RUN/
      train_config.json               the resolved TrainConfig of the run
      checkpoints/step_00000250/      a DeepSpeed checkpoint (module, ZeRO optimizer shards,
                                      LR schedule, our client state: step, RNG, data position)
      checkpoints/step_00000250/void_complete.json   written last, once every rank has saved
      model/                          the newest export (VoidPipeline.save_pretrained layout)
      metrics.csv, validation.csv, tensorboard/, validation/

A checkpoint counts only once its ``void_complete.json`` exists, so a run killed in the
middle of a save resumes from the previous one (DeepSpeed's own ``latest`` file is written
before the slower ranks may have finished). The model export is written into a hidden
temporary directory and renamed into place.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from void import atomic
from void.errors import VoidError
from void.model.io import RUN_CHECKPOINTS_DIR as CHECKPOINTS  # the run-folder names live in void.model.io
from void.model.io import RUN_MODEL_DIR as MODEL_DIR

CONFIG_JSON = "train_config.json"
COMPLETE = "void_complete.json"
TAG_RE = re.compile(r"^step_(\d{8,})$")
KEEP_CHECKPOINTS = 2  # the newest two: one to resume from, one spare if it turns out bad


def tag_for(step: int) -> str:
    return f"step_{step:08d}"


def checkpoints_dir(run_dir: Path) -> Path:
    return Path(run_dir) / CHECKPOINTS


def complete_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """``(step, dir)`` of every complete checkpoint, oldest first."""
    root = checkpoints_dir(run_dir)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = TAG_RE.match(p.name)
        if m and (p / COMPLETE).is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> tuple[int, Path] | None:
    found = complete_checkpoints(run_dir)
    return found[-1] if found else None


# --------------------------------------------------------------------------- client state


def rng_state() -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Put back the global RNGs (our data and noise draws do not use them, but model code
    such as dropout does)."""
    if not state:
        return
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def client_state(step: int, samples_seen: int, world_size: int, batch_size: int, seed: int, wall_s: float) -> dict[str, Any]:
    return {
        "step": step,
        "data_position": samples_seen,  # stream positions consumed by all ranks together
        "world_size": world_size,
        "batch_size": batch_size,
        "seed": seed,
        "wall_s": wall_s,
        "rng": rng_state(),
    }


def check_compatible(state: dict[str, Any], *, world_size: int, batch_size: int, seed: int, path: Path) -> None:
    """The data order of a resumed run is the original only with the same batch, ranks and seed."""
    saved = {k: state.get(k) for k in ("world_size", "batch_size", "seed")}
    now = {"world_size": world_size, "batch_size": batch_size, "seed": seed}
    diff = {k: (saved[k], now[k]) for k in now if saved[k] is not None and saved[k] != now[k]}
    if diff:
        shown = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in diff.items())
        raise VoidError(
            f"{path}: cannot resume exactly: {shown}. Resume with the original settings, or start a "
            "new --out."
        )


# --------------------------------------------------------------------------- save / prune


def mark_complete(ckpt_dir: Path, step: int) -> None:
    atomic.write_json(ckpt_dir / COMPLETE, {"step": step, "tag": ckpt_dir.name})


def prune(run_dir: Path, keep: int = KEEP_CHECKPOINTS) -> None:
    """Delete all but the newest ``keep`` complete checkpoints and any older partial ones."""
    complete = complete_checkpoints(run_dir)
    if not complete:
        return
    newest = complete[-1][0]
    keep_steps = {s for s, _ in complete[-keep:]}
    for p in checkpoints_dir(run_dir).iterdir():
        m = TAG_RE.match(p.name)
        if not m:
            continue
        step = int(m.group(1))
        if step not in keep_steps and (step < newest or (p / COMPLETE).is_file()):
            shutil.rmtree(p, ignore_errors=True)


# --------------------------------------------------------------------------- export


def replace_dir(tmp: Path, final: Path) -> None:
    """Move a finished directory into place, replacing an older one.

    Two renames (POSIX cannot atomically swap non-empty directories): the old one is moved
    aside first and deleted after, so ``final`` is always either the whole old or the whole
    new export, except for the instant between the renames; :func:`recover_export` puts the
    old one back if a kill lands exactly there.
    """
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
        os.rmdir(old)
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover_export(run_dir: Path) -> None:
    """Undo a kill between the two renames of :func:`replace_dir`; drop temporary dirs."""
    run_dir = Path(run_dir)
    final = run_dir / MODEL_DIR
    olds = sorted(run_dir.glob(f".{MODEL_DIR}.old-*"), key=lambda p: p.stat().st_mtime)
    if not final.exists() and olds:
        os.replace(olds[-1], final)
        olds = olds[:-1]
    for p in olds + list(run_dir.glob(f".{MODEL_DIR}.partial-*")):
        shutil.rmtree(p, ignore_errors=True)


def export_model(run_dir: Path, transformer, scheduler, info: dict[str, Any], *, vae=None) -> Path:
    """Write ``RUN/model`` (``void.model.io.save_model_dir`` layout: one folder per component,
    the VAE's beside the transformer's) via a temporary dir.

    ``info`` adds to ``void_model.json`` (``train_steps``, ``sample_size``, the run's config).
    """
    from void.model.io import save_model_dir

    run_dir = Path(run_dir)
    tmp = Path(tempfile.mkdtemp(dir=run_dir, prefix=f".{MODEL_DIR}.partial-"))
    # mkdtemp makes the dir 0700; the export is renamed into place, so give it the mode any
    # directory the user makes would have (0777 less the umask).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        save_model_dir(tmp, transformer, scheduler, vae=vae, info=info)
        replace_dir(tmp, run_dir / MODEL_DIR)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return run_dir / MODEL_DIR
