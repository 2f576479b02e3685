"""Training throughput: the DeepSpeed engine vs a plain PyTorch loop, side by side.

    python benchmarks/train_throughput.py                     # tiny config, ZeRO-2, CPU
    python benchmarks/train_throughput.py --rounds 8 --steps-per-round 20 --zero-stage 2 --bf16
    python benchmarks/train_throughput.py --config small --batch-size 8   # on a GPU

Two worker processes hold the same model (same seed), the same client ``torch.optim.AdamW``,
the same LR schedule, gradient clipping and pre-loaded batches; one steps through
``deepspeed.initialize`` (ZeRO-``--zero-stage``), the other through ``loss.backward()`` /
``clip_grad_norm_`` / ``optimizer.step()``. The parent alternates timed rounds between them, so
both see the same (shared, noisy) machine; medians over rounds give samples/s and their ratio.
A step is the training step only: forward, loss, backward, optimizer (data is pre-loaded).

Memory per method: the worker's peak resident set (whole process: interpreter, libraries,
DeepSpeed's buffers) and its growth from just before the first step; on CUDA also
``torch.cuda.max_memory_allocated``. Target: DeepSpeed overhead <= 10% in samples/s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_OVERHEAD = 0.10
METHODS = ("pytorch", "deepspeed")


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _worker(method: str, conn, args: argparse.Namespace, data_dir: str) -> None:
    import torch

    from train import data, engine, objective
    from train.config import TrainConfig
    from train.loop import build_model, lr_lambda
    from void.model.io import make_scheduler

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as out:
        overrides = {"batch_size": args.batch_size} if args.batch_size else {}
        cfg = TrainConfig(data=data_dir, out=out, config=args.config, bf16=args.bf16, zero_stage=args.zero_stage, **overrides)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    spec = data.ClipSpec(cfg.frames, cfg.stride, cfg.height, cfg.width, cfg.flip_prob, cfg.crop_min_scale)
    ds = data.ClipDataset(cfg.data, spec, seed=cfg.seed)
    n_batches = 8
    batches = list(data.train_loader(ds, cfg.batch_size, 0, 1, 0, n_batches))
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).to(device)
    scheduler = make_scheduler(cfg.num_train_timesteps)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, eps=1e-10, weight_decay=cfg.weight_decay)
    schedule = lr_lambda(cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio)
    dtype = torch.bfloat16 if cfg.bf16 else torch.float32

    if method == "deepspeed":
        dist = engine.setup_distributed()
        ds_cfg = engine.ds_config(
            micro_batch=cfg.batch_size, world_size=1, zero_stage=cfg.zero_stage, bf16=cfg.bf16,
            grad_clip=cfg.grad_clip, cuda=dist.device.type == "cuda",
        )
        eng = engine.build_engine(model, opt, schedule, ds_cfg)
        module, forward = eng.module, eng

        def update(loss):
            eng.backward(loss)
            eng.step()
    else:
        if cfg.bf16:  # the same recipe without DeepSpeed: bf16 autocast over fp32 weights
            forward = lambda *a: torch.autocast(device.type, dtype=torch.bfloat16)(model)(*a)  # noqa: E731
        else:
            forward = model
        module, dtype = model, torch.float32
        lr_sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)

        def update(loss):
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            lr_sched.step()
            opt.zero_grad(set_to_none=True)

    step_no = 0

    def one_step() -> float:
        nonlocal step_no
        batch = batches[step_no % n_batches]
        gen = objective.step_generator(cfg.seed, step_no, 0)
        loss, _ = objective.training_loss(
            module, forward, scheduler, batch, gen, device=device, dtype=dtype, mask_loss_weight=cfg.mask_loss_weight
        )
        update(loss)
        step_no += 1
        return float(loss.detach())

    first_loss = one_step()  # step 0 on identical weights: both methods must agree
    for _ in range(args.warmup - 1):
        one_step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    rss_before = _rss_mib()
    conn.send({"ready": True, "first_loss": first_loss, "params": sum(p.numel() for p in params)})
    while True:
        n = conn.recv()
        if n is None:
            break
        t = time.perf_counter()
        for _ in range(n):
            one_step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        conn.send(time.perf_counter() - t)
    conn.send(
        {
            "peak_rss_mib": _peak_rss_mib(),
            "rss_growth_mib": max(0.0, _peak_rss_mib() - rss_before),
            "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None,
            "batch_size": cfg.batch_size,
            "device": device.type,
        }
    )


def _toy_data(root: Path, n: int) -> str:
    sys.path.append(str(ROOT / "tests"))
    from toydata import make_toy_dataset

    return str(make_toy_dataset(root / "data", n=n, frames=8, size=32))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="tiny")
    p.add_argument("--data", default=None, help="dataset dir (default: a generated toy dataset, 8 x 8 frames x 32x32)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--zero-stage", type=int, default=2)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--steps-per-round", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker (0 = torch's default)")
    args = p.parse_args()

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data or _toy_data(Path(tmp), 8)
        workers, conns, hello = {}, {}, {}
        for method in METHODS:  # one at a time: start-up does not overlap the other's timing
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(method, child, args, data_dir))
            proc.start()
            workers[method], conns[method] = proc, parent
            hello[method] = parent.recv()
        times = {m: [] for m in METHODS}
        for r in range(args.rounds):
            order = METHODS if r % 2 == 0 else METHODS[::-1]  # alternate who goes first
            for m in order:
                conns[m].send(args.steps_per_round)
                times[m].append(conns[m].recv())
        stats = {}
        for m in METHODS:
            conns[m].send(None)
            stats[m] = conns[m].recv()
            workers[m].join()

    bs = stats["pytorch"]["batch_size"]
    sps = {m: bs * args.steps_per_round / statistics.median(times[m]) for m in METHODS}
    print(
        f"\ntraining step, config {args.config!r}, batch {bs}, ZeRO-{args.zero_stage}{', bf16' if args.bf16 else ''}, "
        f"{stats['pytorch']['device']}, {hello['pytorch']['params']:,} parameters; "
        f"{args.rounds} alternating rounds x {args.steps_per_round} steps, medians"
    )
    cuda = stats["pytorch"]["cuda_peak_mib"] is not None
    head = f"{'method':<10} {'samples/s':>10} {'ms/step':>9} {'peak RSS MiB':>13} {'RSS growth MiB':>15}"
    print(head + (f" {'CUDA peak MiB':>14}" if cuda else "") + f" {'loss @ step 0':>14}")
    for m in METHODS:
        line = (
            f"{m:<10} {sps[m]:>10.2f} {1000 * statistics.median(times[m]) / args.steps_per_round:>9.1f} "
            f"{stats[m]['peak_rss_mib']:>13.0f} {stats[m]['rss_growth_mib']:>15.1f}"
        )
        if cuda:
            line += f" {stats[m]['cuda_peak_mib']:>14.1f}"
        print(line + f" {hello[m]['first_loss']:>14.6f}")
    overhead = 1.0 - sps["deepspeed"] / sps["pytorch"]
    verdict = "meets" if overhead <= TARGET_OVERHEAD else "MISSES"
    print(
        f"ratio deepspeed/pytorch samples/s: {sps['deepspeed'] / sps['pytorch']:.3f} "
        f"(overhead {100 * overhead:+.1f}%; {verdict} the <= {100 * TARGET_OVERHEAD:.0f}% target)"
    )


if __name__ == "__main__":
    main()
