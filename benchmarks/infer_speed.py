"""Inference speed of VoidPipeline: seconds per frame of pass 1 and of pass 2, side by side.

    python benchmarks/infer_speed.py                     # CPU, tiny and small configs
    python benchmarks/infer_speed.py --device cuda --frames 48 --steps 50

Per config, two-pass runs are timed (median of ``--repeats`` after a warm-up); the pipeline
clocks pass 1 and pass 2 inside each call, so the pass-2/pass-1 ratio compares work done
side by side on the same inputs. Pass 2 includes the optical flow and noise warping, also
shown on its own. The models are randomly initialised:
speed does not depend on the weights. Also prints the forward+backward time of one training
step of the tiny model (8 frames x 32x32), which should be well under a second on a CPU.

    python benchmarks/infer_speed.py --void-estimate      # VOID's 5B weights: ESTIMATED table

``--void-estimate`` prints peak GPU memory and seconds per frame of VOID's released model per
memory option and working size, ESTIMATED (no GPU measured it): weights from parameter counts
of the real architectures (built on the meta device, nothing downloaded), activations from
tensor sizes, time from FLOPs scaled by the throughput implied by CogVideoX1.5-5B's published
H100 figure (50 steps, 81 frames at 1360x768, guidance on: ~550 s). docs/void-parity.md shows
the table and the assumptions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from void.model import VoidTransformer
from void.model import latents as lat
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
    vae = None
    if kwargs.get("latent") == "vae":  # the pipeline's VAE component; the transformer learns its shape
        vae = torch.nn.Module.to(lat.build_vae(lat.TINY_VAE_CONFIG), device=device, dtype=dtype)
        kwargs.update(lat.vae_transformer_kwargs(lat.TINY_VAE_CONFIG))
    model = torch.nn.Module.to(VoidTransformer(**kwargs).eval(), device=device, dtype=dtype)
    pipe = VoidPipeline(model, make_scheduler(), vae=vae)
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


# --------------------------------------------------------------------------- VOID estimate

GiB = 2**30
# CogVideoX-Fun-V1.5-5b-InP's transformer (CogVideoX1.5-5B's shape) with VOID's 48 input channels.
COGVIDEOX15_5B = dict(
    num_attention_heads=48, attention_head_dim=64, in_channels=48, out_channels=16, time_embed_dim=512,
    text_embed_dim=4096, num_layers=42, patch_size=2, patch_size_t=2, sample_height=96, sample_width=170,
    sample_frames=81, max_text_seq_length=226, use_rotary_positional_embeddings=True, patch_bias=False,
)
# T5 v1.1 XXL encoder (CogVideoX's text encoder): vocab 32128, d_model 4096, 24 layers of
# attention (4 x 4096^2) and gated-GELU FFN (3 x 4096 x 10240).
T5_XXL_PARAMS = 32128 * 4096 + 24 * (4 * 4096 * 4096 + 3 * 4096 * 10240 + 2 * 4096) + 4096
TEXT_TOKENS = 226
# Calibration: CogVideoX1.5-5B, 81 frames at 1360x768, 50 steps with guidance (batch 2), H100 ~550 s.
ANCHOR_H100_S, ANCHOR_TOKENS, ANCHOR_STEPS = 550.0, 11 * (768 // 16) * (1360 // 16) + TEXT_TOKENS, 50
PCIE_GBPS = 12.0  # host-to-device copies of pageable tensors (PCIe 4/5, measured range 10-25)


def _meta_params(cls, **config) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in cls(**config).parameters())


def _flops(params: int, tokens: int, layers: int, width: int) -> float:
    # 2 FLOPs per weight per token, plus attention's QK^T and AV (2 x 2 N^2 D per layer)
    return 2 * params * tokens + 4 * layers * tokens**2 * width


def void_estimate(height: int, width: int, frames: int = 85) -> list[dict]:
    from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel

    p_tr = _meta_params(CogVideoXTransformer3DModel, **COGVIDEOX15_5B)
    p_vae = _meta_params(AutoencoderKLCogVideoX, latent_channels=16)
    layers, dim = COGVIDEOX15_5B["num_layers"], 48 * 64
    latents = (frames - 1) // 4 + 1
    tokens = (latents + 1) // 2 * (height // 16) * (width // 16) + TEXT_TOKENS
    per_fwd = _flops(p_tr, tokens, layers, dim)
    anchor = _flops(p_tr, ANCHOR_TOKENS, layers, dim) * 2 * ANCHOR_STEPS  # guidance: batch 2
    tflops = anchor / ANCHOR_H100_S  # effective H100 throughput the anchor implies
    pass1_s = 30 * per_fwd / tflops  # VOID: 30 steps, guidance 1 (batch 1)
    pass2_s = 50 * 2 * per_fwd / tflops  # 50 steps, guidance 6 (batch 2)
    vae_s = 2 * 3 * frames * height * width / (1360 * 768 * 81) * 8.0  # encode x2 + decode, ~8 s per anchor clip
    # activations: the transformer's widest moment (qkv, attention out, 4x FFN, residuals)
    act_tr = lambda batch: batch * tokens * dim * 2 * 10  # noqa: E731
    # the VAE decoder's full-resolution stage: 128 channels x 8 frames per chunk, ~8 tensors live
    act_vae = 8 * 128 * 8 * height * width * 2
    w_tr, w_t5, w_vae = p_tr * 2, T5_XXL_PARAMS * 2, p_vae * 2
    fp8_tr = p_tr * 1 + 0.03 * p_tr * 2  # linear weights in 1 byte; norms/embeddings/head stay bf16
    largest_layer = (4 * dim * dim + 2 * dim * 4 * dim) * 2  # one block on the GPU: attention + FFN, bf16
    rows = []

    def row(option, peak, extra_s, passes=2):
        compute = pass1_s + (pass2_s if passes == 2 else 0) + vae_s
        rows.append({
            "option": option, "size": f"{height}x{width}", "passes": passes, "peak_gib": peak / GiB,
            "s_per_frame": (compute + extra_s) / frames, "fits_24": peak < 24 * GiB * 0.95,
            "fits_40": peak < 40 * GiB * 0.95,
        })

    both = 2 * w_tr + w_t5 + w_vae
    row("all on GPU, bf16, pass 1 only", w_tr + w_t5 + w_vae + max(act_vae, act_tr(1)), 0, 1)
    row("all on GPU, bf16 (both transformers)", both + max(act_vae, act_tr(2)), 0)
    move = lambda nbytes: nbytes / (PCIE_GBPS * 1e9)  # noqa: E731
    row("--offload model, bf16", max(w_t5, w_tr + w_vae + max(act_vae, act_tr(2))), move(2 * w_tr + w_t5 + w_vae))
    row("--offload model --fp8-weights", max(w_t5, fp8_tr + w_vae + max(act_vae, act_tr(2))), move(2 * fp8_tr + w_t5 + w_vae))
    forwards = 30 + 50  # each forward streams every weight once (pass 2's guidance shares one batch)
    row("--offload sequential, bf16", largest_layer + max(act_vae, act_tr(2)), move(forwards * w_tr + w_t5))
    row("--offload sequential --fp8-weights", largest_layer + max(act_vae, act_tr(2)), move(forwards * fp8_tr + w_t5))
    for r in rows:
        r.update(transformer_params_B=p_tr / 1e9, t5_params_B=T5_XXL_PARAMS / 1e9, vae_params_M=p_vae / 1e6,
                 tokens=tokens, effective_tflops=tflops / 1e12)
    return rows


def print_void_estimate(sizes: list[tuple[int, int]]) -> list[dict]:
    rows = [r for h, w in sizes for r in void_estimate(h, w)]
    r0 = rows[0]
    print(f"ESTIMATED, not measured: transformer {r0['transformer_params_B']:.2f}B params (x2 passes), T5-XXL "
          f"{r0['t5_params_B']:.2f}B, VAE {r0['vae_params_M']:.0f}M; H100 at {r0['effective_tflops']:.0f} effective "
          f"TFLOP/s (CogVideoX1.5-5B's published ~550 s); PCIe {PCIE_GBPS:.0f} GB/s; 85-frame clip, VOID's steps")
    print(f"{'option':<40}{'size':>10}{'peak GiB':>10}{'s/frame':>9}{'24 GB':>7}{'40 GB':>7}")
    for r in rows:
        print(f"{r['option']:<40}{r['size']:>10}{r['peak_gib']:>10.1f}{r['s_per_frame']:>9.2f}"
              f"{'yes' if r['fits_24'] else 'no':>7}{'yes' if r['fits_40'] else 'no':>7}")
    return rows


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
    ap.add_argument("--void-estimate", action="store_true", help="print the ESTIMATED memory/speed table of VOID's weights")
    ap.add_argument("--void-sizes", default="384x672,480x720,256x448", help="working sizes for --void-estimate")
    args = ap.parse_args(argv)
    if args.void_estimate:
        sizes = [tuple(int(v) for v in s.split("x")) for s in args.void_sizes.split(",")]
        rows = print_void_estimate(sizes)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump({"estimated": True, "rows": rows}, fh, indent=2)
        return 0
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
