"""Inference speed of VoidPipeline: seconds per frame of pass 1 and of pass 2, side by side.

    python benchmarks/infer_speed.py                     # CPU, tiny and small configs
    python benchmarks/infer_speed.py --device cuda --frames 48 --steps 50

Per config, two-pass runs are timed (median of ``--repeats`` after a warm-up); the pipeline
clocks pass 1 and pass 2 inside each call, so the pass-2/pass-1 ratio compares work done
side by side on the same inputs. Pass 2 includes the optical flow and noise warping, also
shown on its own. The models are randomly initialised:
speed does not depend on the weights. Also prints the forward+backward time of one training
step of the tiny model (8 frames x 32x32), which should be well under a second on a CPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from void.model import VoidTransformer
from void.model.io import make_scheduler
from void.pipeline import VoidPipeline
from void import warped_noise

# Working size (frames, height, width) and transformer size of each benchmarked config.
CONFIGS = {
    "tiny": dict(sample_size=(8, 32, 32), num_layers=2, num_attention_heads=4, attention_head_dim=16),
    "small": dict(sample_size=(16, 64, 64), num_layers=4, num_attention_heads=4, attention_head_dim=32),
    "medium": dict(sample_size=(16, 128, 128), num_layers=8, num_attention_heads=8, attention_head_dim=64),
    # CogVideoX-style latents (random tiny VAE, 3D patches): VAE encode/decode in the timings
    "vae-small": dict(latent="vae", patch_size_t=2, sample_size=(13, 64, 64), num_layers=4, num_attention_heads=4,
                      attention_head_dim=32),
}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, device, repeats: int) -> float:
    fn()  # warm-up: kernels, caches, rotary tables
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_config(name: str, frames: int, steps: int, repeats: int, device, dtype) -> dict:
    torch.manual_seed(0)
    kwargs = dict(CONFIGS[name])
    model = torch.nn.Module.to(VoidTransformer(**kwargs).eval(), device=device, dtype=dtype)
    pipe = VoidPipeline(model, make_scheduler())
    pipe.set_progress_bar_config(disable=True)
    _, h, w = kwargs["sample_size"]
    g = torch.Generator().manual_seed(0)
    video = (torch.rand(1, frames, 3, h, w, generator=g) * 2 - 1).to(device)
    mask = np.full((1, frames, h, w), 255, np.uint8)
    mask[:, :, h // 4 : h // 2, w // 4 : w // 2] = 0
    runs = []
    for i in range(repeats + 1):  # the first is a warm-up
        gen = torch.Generator(device=device).manual_seed(i)
        out = pipe(video, mask, num_inference_steps=steps, pass2=True, generator=gen)
        if i:
            runs.append(out.timings)  # both passes timed inside the same call
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    params = sum(p.numel() for p in model.parameters())
    return {
        "config": name,
        "params_M": params / 1e6,
        "size": f"{frames}x{h}x{w}",
        "steps": steps,
        "pass1_s_per_frame": med["pass1_s"] / frames,
        "pass2_s_per_frame": med["pass2_s"] / frames,
        "ratio_pass2_pass1": med["pass2_s"] / med["pass1_s"],
        "warp_noise_s_per_frame": med["warp_s"] / frames,
    }


def bench_train_step(repeats: int, device) -> float:
    torch.manual_seed(0)
    model = VoidTransformer(**CONFIGS["tiny"]).to(device)
    g = torch.Generator().manual_seed(0)
    video = (torch.rand(1, 8, 3, 32, 32, generator=g) * 2 - 1).to(device)
    mask = torch.full((1, 8, 32, 32), 255, dtype=torch.uint8)
    z, m = model.encode_video(video), model.encode_mask(mask).to(device)
    noisy = torch.randn_like(z)

    def step():
        model.zero_grad(set_to_none=True)
        model(noisy, z, m, torch.tensor([500], device=device)).square().mean().backward()

    return _time(step, device, repeats)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="tiny,small", help="comma-separated: " + ",".join(CONFIGS))
    ap.add_argument("--frames", type=int, default=24, help="video length (longer than a window: exercises blending)")
    ap.add_argument("--steps", type=int, default=10, help="DDIM steps per pass")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    ap.add_argument("--threads", type=int, help="torch CPU threads (on a shared machine 1 avoids spinning)")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"device: {name}, dtype {args.dtype}, torch {torch.__version__}")
    rows = [bench_config(c, args.frames, args.steps, args.repeats, device, dtype) for c in args.configs.split(",")]
    header = f"{'config':<10}{'params':>9}{'video':>14}{'steps':>7}{'pass1 s/f':>12}{'pass2 s/f':>12}{'p2/p1':>8}{'warp s/f':>11}"
    print(header)
    for r in rows:
        print(
            f"{r['config']:<10}{r['params_M']:>8.2f}M{r['size']:>14}{r['steps']:>7}{r['pass1_s_per_frame']:>12.4f}"
            f"{r['pass2_s_per_frame']:>12.4f}{r['ratio_pass2_pass1']:>8.2f}{r['warp_noise_s_per_frame']:>11.4f}"
        )
    fb = bench_train_step(args.repeats, device)
    print(f"tiny forward+backward, 1 x 8 frames x 32x32: {fb * 1000:.1f} ms")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"device": name, "rows": rows, "tiny_forward_backward_s": fb}, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
