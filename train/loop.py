"""Train the quadmask-conditioned video diffusion model with DeepSpeed.

One process (CPU or one GPU)::

    void train --data data/train --out runs/tiny --config tiny
    void train --data data/train --val-data data/test --out runs/tiny --time-budget-minutes 20
    void train --data data/train --out runs/tiny --resume          # after a kill, continue exactly
    python -m train --data data/train --out runs/tiny               # the same, as a module

Data parallel on one machine (the same script, no code change; ZeRO-2 shards the optimizer
state and gradients across the processes)::

    deepspeed --num_gpus 8 --module train --data data/train --out runs/small --config small --bf16
    torchrun --nproc_per_node 8 -m train --data data/train --out runs/small --config small --bf16
    DS_ACCELERATOR=cpu deepspeed --num_gpus 2 --module train --data ... --out ...   # 2 CPU procs, gloo

Several machines (a hostfile lists ``host slots=N``; the run directory must be on a shared
filesystem)::

    deepspeed --hostfile hosts --num_nodes 2 --num_gpus 8 --module train --data ... --out ...
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 -m train ...

The step, in order: draw this rank's clips for the step (a pure function of seed, step and
rank: ``train/data.py``), encode input, target and mask, add noise at random timesteps,
predict v, weighted MSE (``train/objective.py``), ``engine.backward``/``engine.step``
(DeepSpeed reduces the gradients, clips them, steps AdamW and the LR schedule); every N steps
log, validate (``train/validation.py``), checkpoint and export (``train/checkpoint.py``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from train import checkpoint, data, engine, objective, validation
from train.config import TrainConfig
from train.logger import RunLogger
from void import atomic
from void.errors import ConfigError, VoidError


@dataclass
class TrainResult:
    run_dir: Path
    model_dir: Path
    start_step: int
    steps: int  # the step reached (== config.steps unless the time budget stopped it)
    final_loss: float
    stopped_by_budget: bool
    wall_s: float
    validation: dict[str, float] = field(default_factory=dict)  # last model PSNR per region


def lr_lambda(warmup_steps: int, total_steps: int, min_ratio: float):
    """Linear warm-up, then cosine decay to ``min_ratio`` of the peak (VOID: warm-up + cosine)."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        span = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / span)
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


# Keys of the preset's ``model`` dict that name the VAE component rather than a transformer
# argument: ``vae_path`` (a local AutoencoderKLCogVideoX dir) or ``vae_config`` (its
# constructor arguments; randomly initialised). A VAE-latent model with neither gets the tiny VAE.
VAE_KEYS = ("vae_path", "vae_config")


def build_vae(cfg: TrainConfig):
    """The frozen VAE component of a VAE-latent model, None for pixel latents."""
    from void.model import latents as lat

    if cfg.model.get("latent", "pixel") != "vae":
        return None
    if cfg.model.get("vae_path"):
        return lat.build_vae(path=cfg.model["vae_path"])
    return lat.build_vae(cfg.model.get("vae_config") or lat.TINY_VAE_CONFIG)


def build_model(cfg: TrainConfig, vae=None):
    """The transformer (DeepSpeed's module); a VAE-latent one takes its latent channels and
    compression factors from ``vae`` (:func:`build_vae`)."""
    from void.model import VoidTransformer
    from void.model import latents as lat

    kwargs = {k: v for k, v in cfg.model.items() if k not in VAE_KEYS}
    if vae is not None:
        kwargs.update(lat.vae_transformer_kwargs(dict(vae.config)))
    model = VoidTransformer(
        **kwargs, mask_encoding=cfg.mask_encoding, sample_size=(cfg.frames, cfg.height, cfg.width)
    )
    if model.valid_frames(cfg.frames) != cfg.frames:
        raise ConfigError(
            f"--frames {cfg.frames}: this model encodes clips of {model.valid_frames(cfg.frames)} frames "
            f"(a multiple of its temporal compression); use that"
        )
    return model


# Settings that fix the model's shape or the meaning of its inputs: a resumed run must match.
RESUME_FIXED = ("config", "model", "mask_encoding", "frames", "resolution")


def _prepare_run_dir(cfg: TrainConfig, dist: engine.DistInfo) -> tuple[Path, tuple[int, Path] | None]:
    run_dir = Path(cfg.out)
    latest = checkpoint.latest_checkpoint(run_dir)
    if latest is not None and not cfg.resume:
        raise VoidError(
            f"{run_dir}: already holds a training run (checkpoint at step {latest[0]}); pass --resume to "
            "continue it or choose another --out"
        )
    saved_path = run_dir / checkpoint.CONFIG_JSON
    if latest is not None and saved_path.is_file():
        saved = json.loads(saved_path.read_text(encoding="utf-8"))
        now = cfg.to_dict()
        diff = [k for k in RESUME_FIXED if k in saved and saved[k] != now[k]]
        if diff:
            shown = "; ".join(f"{k}: {saved[k]} -> {now[k]}" for k in diff)
            raise VoidError(f"{saved_path}: cannot resume with a different model or input: {shown}")
    engine.barrier()  # every rank has read the old config before rank 0 replaces it
    if dist.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint.recover_export(run_dir)
        atomic.write_json(saved_path, cfg.to_dict())
    engine.barrier()
    return run_dir, (latest if cfg.resume else None)


def _datasets(cfg: TrainConfig):
    spec = data.ClipSpec(cfg.frames, cfg.stride, cfg.height, cfg.width, cfg.flip_prob, cfg.crop_min_scale)
    train_ds = data.ClipDataset(cfg.data, spec, seed=cfg.seed, augment=True)
    eval_spec = data.ClipSpec(cfg.frames, cfg.stride, cfg.height, cfg.width)
    if cfg.val_data:
        return train_ds, data.ClipDataset(cfg.val_data, eval_spec, augment=False), "val"
    # No held-out set given: score a few training clips (labelled split=train) so the
    # curve is still there; pass --val-data for a real held-out score.
    return train_ds, data.ClipDataset(cfg.data, eval_spec, augment=False), "train"


def train(config: TrainConfig) -> TrainResult:
    """Run (or resume) one training run; see the module docstring."""
    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        dist = engine.setup_distributed(config.local_rank)
        return _train(config, dist, t0)
    finally:  # leave a calling process (a notebook, a test session) as it was
        torch.set_num_threads(threads)
        engine.restore_env()


def _train(cfg: TrainConfig, dist: engine.DistInfo, t0: float) -> TrainResult:
    from void.model.io import make_scheduler

    run_dir, resume_from = _prepare_run_dir(cfg, dist)
    train_ds, val_ds, val_split = _datasets(cfg)

    # Model and optimizer. The same seed on every rank gives the same initial weights.
    torch.manual_seed(cfg.seed)
    vae = build_vae(cfg)  # a pipeline component beside the transformer: frozen, not DeepSpeed's
    if vae is not None:
        vae.to(dist.device)
    model = build_model(cfg, vae).to(dist.device)
    scheduler = make_scheduler(cfg.num_train_timesteps)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, betas=(0.9, 0.999), eps=1e-10, weight_decay=cfg.weight_decay)
    ds_cfg = engine.ds_config(
        micro_batch=cfg.batch_size,
        world_size=dist.world_size,
        zero_stage=cfg.zero_stage,
        bf16=cfg.bf16,
        grad_clip=cfg.grad_clip,
        cuda=dist.device.type == "cuda",
    )
    eng = engine.build_engine(model, optimizer, lr_lambda(cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio), ds_cfg)
    module = eng.module
    dtype = torch.bfloat16 if cfg.bf16 else torch.float32

    start_step = 0
    if resume_from is not None:
        step, ckpt_dir = resume_from
        state = engine.load_checkpoint(eng, str(checkpoint.checkpoints_dir(run_dir)), ckpt_dir.name)
        checkpoint.check_compatible(
            state, world_size=dist.world_size, batch_size=cfg.batch_size, seed=cfg.seed, path=ckpt_dir
        )
        checkpoint.restore_rng(state.get("rng", {}))
        start_step = int(state["step"])

    log = RunLogger(run_dir, enabled=dist.is_main, start_step=start_step, total_steps=cfg.steps, progress=cfg.progress)
    if resume_from is not None:
        log.write(f"resumed {run_dir} at step {start_step}")
    elif cfg.resume:
        log.write(f"{run_dir}: no complete checkpoint to resume from; starting at step 0")
    val_note = f"validation on {len(val_ds)} {val_split} clips" if cfg.val_data else "validation on training clips (no --val-data)"
    log.write(
        f"training {sum(p.numel() for p in params):,} parameters on {len(train_ds)} samples, "
        f"{dist.world_size} process(es) on {dist.device.type}, ZeRO-{cfg.zero_stage}"
        f"{', bf16' if cfg.bf16 else ''}; {val_note}"
    )

    def run_validation(step: int) -> dict[str, float]:
        scores: dict[str, float] = {}
        if dist.is_main:
            module.eval()
            render = validation.pipeline_renderer(module, scheduler, steps=cfg.inference_steps, seed=cfg.seed, vae=vae)
            scores, rows = validation.validate(
                render, val_ds, num_samples=cfg.val_samples, step=step, run_dir=run_dir, split=val_split
            )
            module.train()
            log.log_validation(step, rows)
            removed = next(r for r in rows if r["region"] == "removed")
            log.write(
                f"step {step}: {val_split} PSNR removed {removed['model_psnr_db']:.2f} dB "
                f"(input copy {removed['identity_psnr_db']:.2f}), all {scores['all']:.2f} dB"
            )
        engine.barrier()
        return scores

    def save(step: int) -> None:
        state = checkpoint.client_state(
            step, step * cfg.batch_size * dist.world_size, dist.world_size, cfg.batch_size, cfg.seed,
            time.perf_counter() - t0,
        )
        state["param_fingerprints"] = engine.check_in_sync(module)  # one per rank, all equal
        engine.save_checkpoint(eng, str(checkpoint.checkpoints_dir(run_dir)), checkpoint.tag_for(step), state)
        weights = engine.full_state_dict(eng)
        engine.barrier()  # every rank's shard is on disk before the checkpoint counts
        if dist.is_main:
            export = module
            if cfg.bf16:
                export = module.__class__.from_config(module.config)
                export.load_state_dict(weights)
            info = {"train_steps": step, "inference_steps": cfg.inference_steps, "train_config": cfg.to_dict(), "run_dir": str(run_dir.resolve())}
            checkpoint.export_model(run_dir, export, scheduler, info, vae=vae)
            checkpoint.mark_complete(checkpoint.checkpoints_dir(run_dir) / checkpoint.tag_for(step), step)
            checkpoint.prune(run_dir)
        engine.barrier()

    # The loop.
    module.train()
    loader = data.train_loader(
        train_ds, cfg.batch_size, dist.rank, dist.world_size, start_step, cfg.steps, cfg.num_workers
    )
    budget_s = cfg.time_budget_minutes * 60 if cfg.time_budget_minutes else math.inf
    # The final validation + checkpoint must fit in the budget too: keep their measured cost.
    val_cost_s = ckpt_cost_s = 0.0
    step, loss_value, last_val, last_saved = start_step, math.nan, -1, start_step
    scores: dict[str, float] = {}
    stopped = False
    step_s, n_log = 0.0, 0  # time in training steps since the last log row (not val, not saves)
    t_step = time.perf_counter()
    for step, batch in enumerate(loader, start=start_step):
        gen = objective.step_generator(cfg.seed, step, dist.rank)
        loss, stats = objective.training_loss(
            module, eng, scheduler, batch, gen, device=dist.device, dtype=dtype, mask_loss_weight=cfg.mask_loss_weight,
            vae=vae,
        )
        lr = engine.current_lr(eng)  # the rate this step uses (the schedule moves in step())
        eng.backward(loss)
        eng.step()
        step += 1  # steps done
        n_log += 1
        step_s += time.perf_counter() - t_step
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise VoidError(f"step {step}: the loss is {loss_value}; lower --lr or check the data")
        log.progress(step, loss_value, lr)

        row: dict[str, float] = {}
        if step % cfg.log_every == 0 or step == cfg.steps:
            row.update(loss=loss_value, lr=lr, **stats)
            row["samples_per_s"] = n_log * cfg.batch_size * dist.world_size / max(step_s, 1e-9)
            step_s, n_log = 0.0, 0
        if cfg.val_every and step % cfg.val_every == 0:
            t_val = time.perf_counter()
            scores = run_validation(step)
            row.update({f"val_psnr_{k}": v for k, v in scores.items()})
            last_val, val_cost_s = step, time.perf_counter() - t_val
        log.log(step, row)
        if cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
            t_ck = time.perf_counter()
            save(step)
            last_saved, ckpt_cost_s = step, time.perf_counter() - t_ck
        spent = time.perf_counter() - t0 + val_cost_s + ckpt_cost_s
        if engine.any_rank(spent >= budget_s, dist.device) and step < cfg.steps:
            stopped = True
            log.write(f"time budget of {cfg.time_budget_minutes:g} min spent: stopping at step {step}")
            break
        t_step = time.perf_counter()  # includes loading the next batch

    if last_val != step:
        scores = run_validation(step)
        log.log(step, {f"val_psnr_{k}": v for k, v in scores.items()})
    if last_saved != step or resume_from is None and step == 0:
        save(step)
    wall = time.perf_counter() - t0
    log.write(f"done: step {step}, loss {loss_value:.4f}, {wall / 60:.1f} min; model at {run_dir / checkpoint.MODEL_DIR}")
    log.close()
    return TrainResult(
        run_dir=run_dir,
        model_dir=run_dir / checkpoint.MODEL_DIR,
        start_step=start_step,
        steps=step,
        final_loss=loss_value,
        stopped_by_budget=stopped,
        wall_s=wall,
        validation=scores,
    )
