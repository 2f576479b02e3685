"""The mask track on a simulated test set: the local predictor against the baselines.

    python benchmarks/mask_track.py                       # simulate 30 clips, 64x64x16
    python benchmarks/mask_track.py --data data/test --out /tmp/masks --num-samples 0

Writes object-only, dilated, oracle and local predictions for every clip, scores them with
``void evaluate --task masks`` and prints, per method, IoU of the affected class (127) and
the changed region's precision and recall with 95% bootstrap intervals over clips, IoU
affected per family, and seconds per frame (measured here, side by side in one run).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from evaluate.config import EvaluateConfig
from evaluate.masks.config import MaskBaselineConfig, MaskPredictConfig
from evaluate.masks.run import predict, run_mask_baseline
from evaluate.masks.score import score_masks


def _fmt(iv: dict | None) -> str:
    if not iv or iv["mean"] is None:
        return "-"
    return f"{iv['mean']:.3f} [{iv['ci_low']:.3f}, {iv['ci_high']:.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/void_mask_track")
    ap.add_argument("--data", default="", help="an existing dataset (default: simulate one under OUT/data)")
    ap.add_argument("--num-samples", type=int, default=30)
    ap.add_argument("--resolution", default="64x64")
    ap.add_argument("--frames", type=int, default=16)
    args = ap.parse_args()
    out = Path(args.out)
    data = Path(args.data) if args.data else out / "data"
    if not args.data:
        from simulate.config import SimulateConfig
        from simulate.generate import generate

        generate(SimulateConfig(out=str(data), num_samples=args.num_samples, split="test", resolution=args.resolution,
                                frames=args.frames, progress=False))  # fmt: skip
    pred = out / "pred"
    seconds = {}
    for name in ("object-only", "dilated", "oracle"):
        t0 = time.perf_counter()
        run_mask_baseline(MaskBaselineConfig(name=name, input=str(data), out=str(pred), overwrite=True, progress=False))
        seconds[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    predict(MaskPredictConfig(input=str(data), out=str(pred), layout="pred", overwrite=True, progress=False))
    seconds["local"] = time.perf_counter() - t0
    score_masks(EvaluateConfig(data=str(data), pred=str(pred), out=str(out / "results"), task="masks", rescore=True, progress=False))

    summary = json.loads((out / "results" / "summary.json").read_text())
    print()
    print(f"{'method':12s}  {'IoU affected':24s}  {'precision (changed)':24s}  {'recall (changed)':24s}  {'s/clip (write)':>14s}")
    for method, s in sorted(summary["methods"].items(), key=lambda kv: -(kv[1]["means"].get("iou/affected") or 0)):
        iv = s["intervals"]
        per_clip = seconds.get(method, 0) / max(s["n_samples"], 1)
        print(f"{method:12s}  {_fmt(iv.get('iou/affected')):24s}  {_fmt(iv.get('precision/changed')):24s}  {_fmt(iv.get('recall/changed')):24s}  {per_clip:14.3f}")
    families = sorted(next(iter(summary["methods"].values()))["families"])
    print()
    print("IoU affected per family: " + "  ".join(families))
    for method, s in summary["methods"].items():
        print(f"{method:12s}  " + "  ".join(_fmt(s["families"][f].get("iou/affected")) for f in families))
    base = seconds["object-only"] or 1e-9
    print(f"\nlocal predictor time / object-only time (both include decoding and writing): {seconds['local'] / base:.1f}x")


if __name__ == "__main__":
    main()
