"""The DeepSpeed engine: process-group set-up, the ZeRO config, checkpoint save/load.

The only module that imports deepspeed (inside the functions that need it), so the rest of
the package - and ``void --help`` - loads without it.

One process by default: when no launcher has set ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/
``MASTER_ADDR``/``MASTER_PORT`` we set them for a world of one on a free local port. Under
``deepspeed``, ``torchrun`` or an MPI/hostfile launch they are already set and the same code
runs data parallel. Without CUDA, DeepSpeed picks its CPU accelerator and the gloo backend.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any, Callable

import torch

from void.deps import require


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Variables this process set itself for a world of one; removed again by restore_env() so a
# caller's later subprocesses (and libraries that read RANK) do not inherit them.
_ENV_SET: list[str] = []


def setup_distributed(local_rank: int | None = None) -> DistInfo:
    """Fill in a world of one unless a launcher did, and start the process group."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        single = {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1"}
        single["MASTER_PORT"] = os.environ.get("MASTER_PORT") or str(free_port())
        for key, value in single.items():
            if key not in os.environ:
                os.environ[key] = value
                _ENV_SET.append(key)
    if local_rank is not None:
        os.environ["LOCAL_RANK"] = str(local_rank)
    os.environ.setdefault("LOCAL_RANK", os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK", "0"))
    deepspeed = _deepspeed()
    if not torch.distributed.is_initialized():
        deepspeed.init_distributed(dist_backend="nccl" if torch.cuda.is_available() else "gloo", verbose=False)
        # The group lives as long as the process: DeepSpeed caches its sub-groups globally,
        # so a second run in the same process (tests, notebooks) must find the same group.
        atexit.register(_destroy_process_group)
    rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    local = int(os.environ["LOCAL_RANK"])
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    return DistInfo(rank, world, local, device)


def _deepspeed():
    deepspeed = require("deepspeed")
    # DeepSpeed logs every config key at INFO; keep the run's console to our progress bar.
    from deepspeed.utils import logger as ds_logger

    ds_logger.setLevel(logging.WARNING)
    return deepspeed


def ds_config(
    *, micro_batch: int, world_size: int, zero_stage: int, bf16: bool, grad_clip: float, cuda: bool
) -> dict[str, Any]:
    """A ZeRO config shaped like VOID's ``config/zero_stage2_config.json``, made concrete.

    VOID leaves batch sizes to ``auto`` (filled by accelerate); we run DeepSpeed directly,
    so they are spelt out. ``overlap_comm`` overlaps the gradient reduce with backward on
    CUDA streams; on CPU there are no streams to overlap, so it is off there.
    """
    return {
        "train_micro_batch_size_per_gpu": micro_batch,
        "gradient_accumulation_steps": 1,
        "train_batch_size": micro_batch * world_size,
        "gradient_clipping": grad_clip,
        "bf16": {"enabled": bool(bf16)},
        "zero_optimization": {
            "stage": zero_stage,
            "overlap_comm": bool(cuda),
            "contiguous_gradients": True,
            "sub_group_size": int(1e9),
            "reduce_bucket_size": int(5e8),
        },
        "steps_per_print": 10**9,
        "wall_clock_breakdown": False,
    }


def build_engine(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    lr_lambda: Callable[[int], float],
    config: dict[str, Any],
):
    """``deepspeed.initialize`` with our client optimizer and a LambdaLR schedule.

    The engine steps the schedule inside ``engine.step()`` and saves it in checkpoints.
    """
    deepspeed = _deepspeed()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    engine, _, _, _ = deepspeed.initialize(
        model=model, optimizer=optimizer, lr_scheduler=scheduler, config=config, dist_init_required=False
    )
    return engine


def save_checkpoint(engine, save_dir: str, tag: str, client_state: dict[str, Any]) -> None:
    """Every rank must call this (ZeRO shards the optimizer state across ranks)."""
    engine.save_checkpoint(save_dir, tag=tag, client_state=client_state, save_latest=True)


def load_checkpoint(engine, load_dir: str, tag: str) -> dict[str, Any]:
    path, client_state = engine.load_checkpoint(
        load_dir, tag=tag, load_optimizer_states=True, load_lr_scheduler_states=True
    )
    if path is None:
        raise FileNotFoundError(f"{load_dir}/{tag}: DeepSpeed found no checkpoint to load")
    return client_state or {}


def full_state_dict(engine) -> dict[str, torch.Tensor]:
    """The whole model's weights in float32 on CPU; every rank must call it.

    Without bf16 the module holds fp32 weights already. With bf16 the module holds bf16
    copies and the fp32 master weights live, sharded, in the ZeRO optimizer: gather them
    (a collective) rather than exporting rounded weights. Frozen parameters (the VAE) have
    no master copy and are taken as they are.
    """
    module = engine.module
    bf16 = engine.bfloat16_enabled()
    if bf16:
        from deepspeed.utils import safe_get_full_fp32_param
    out = {}
    for name, p in module.named_parameters():
        full = safe_get_full_fp32_param(p) if (bf16 and p.requires_grad) else None
        out[name] = (full if full is not None else p.detach()).float().cpu().clone()
    for name, b in module.named_buffers():
        out[name] = b.detach().cpu().clone()
    return out


def check_in_sync(module: torch.nn.Module) -> list[float]:
    """Per-rank fingerprints of the parameters; raises if the ranks' copies differ.

    Data parallelism keeps one copy per rank that every step updates identically; a
    difference means a bug (different initial weights, a rank skipping a step), and it
    would silently make the exported rank-0 model not the one trained. The fingerprint is a
    float64 sum per tensor, folded with distinct weights so swapped tensors also show.
    """
    with torch.no_grad():
        sums = torch.stack([p.detach().double().sum() for p in module.parameters()])
        weights = torch.arange(1, sums.numel() + 1, dtype=torch.float64, device=sums.device)
        mine = [float(sums.sum()), float((sums * weights).sum())]
    if not torch.distributed.is_initialized() or torch.distributed.get_world_size() == 1:
        return [mine[0]]
    everyone: list = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(everyone, mine)
    if any(fp != everyone[0] for fp in everyone):
        raise RuntimeError(f"data-parallel ranks hold different parameters: fingerprints {everyone}")
    return [fp[0] for fp in everyone]


def current_lr(engine) -> float:
    return float(engine.get_lr()[0])


def barrier() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.barrier()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank if ``flag`` is true on any (so all ranks stop at the same step)."""
    if not torch.distributed.is_initialized() or torch.distributed.get_world_size() == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not torch.distributed.is_initialized() or torch.distributed.get_world_size() == 1:
        return obj
    holder = [obj]
    torch.distributed.broadcast_object_list(holder, src=0)
    return holder[0]


def restore_env() -> None:
    """Drop the variables :func:`setup_distributed` set (the process group stays up)."""
    while _ENV_SET:
        os.environ.pop(_ENV_SET.pop(), None)


def _destroy_process_group() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
