"""Paired samples per CPU-minute of ``void simulate`` with the raster renderer.

    python benchmarks/simulate_throughput.py            # 128x128x24 and 256x256x48
    python benchmarks/simulate_throughput.py --samples 10 --sizes 256x256x48
    python benchmarks/simulate_throughput.py --samples 6 --sizes 256x256x48 --families human
    python benchmarks/simulate_throughput.py --samples 9 --sizes 256x256x48 --families reflection,light,glass
    python benchmarks/simulate_throughput.py --samples 8 --sizes 672x384x49 --looks plain,footage

For each size it generates samples in this process (one worker, every family in turn) and
splits the CPU time (this process, its GL driver threads and its ffmpeg children) into
physics (including rejected draws), rendering, mask and encoding. Next to it stands the
floor: rendering + encoding alone, re-run on the same accepted scenes and trajectories. The
ratio total/floor is what the rest of the pipeline costs on top of pixels and files.
Targets at 256x256x48: >= 10 pairs per CPU-minute and within 2x of the floor (30+ is the aim);
every family (second table) >= 5.
Both columns are measured side by side in one run, so the ratio holds on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from simulate.config import FAMILIES, SimulateConfig
from simulate.generate import sample_id, sample_seed
from simulate.pipeline import SampleTask, cpu_seconds, develop, renderer_for, run_sample
from simulate.scene import SceneSpec
from void import formats

STAGES = ("physics_s", "render_s", "mask_s", "encode_s")


def floor_cpu(out: Path, sid: str, config: SimulateConfig, scratch: Path) -> float:
    """CPU seconds to render the three views of a finished sample and write them."""
    ref = formats.Dataset(out).sample(sid) if (out / formats.MANIFEST).exists() else formats.SampleRef(out / sid, sid)
    meta = ref.metadata()
    scene = SceneSpec.from_dict(meta["scene"])
    traj = ref.trajectories()
    renderer = renderer_for(config)
    c0 = cpu_seconds()
    views = renderer.render_views(scene, traj["full"], traj["removed"])
    develop(views, scene, grain=config.renderer == "raster")  # the footage look's camera response
    mask = np.full(views.full.ids.shape, 255, np.uint8)  # the mask file is encoded, not computed
    formats.write_sample(scratch, formats.Sample(
        sample_id=sid, full=views.full.rgb, removed=views.removed.rgb, hidden=views.hidden.rgb, mask=mask,
        fps=float(config.fps), caption="floor", metadata={},
    ))
    return cpu_seconds() - c0


def run_size(width: int, height: int, frames: int, samples: int, workdir: Path, families=FAMILIES,
             look: str = "plain") -> dict:
    out = workdir / f"bench_{width}x{height}x{frames}_{look}"
    config = SimulateConfig(out=str(out), resolution=(width, height), frames=frames, num_samples=samples,
                            progress=False, look=look)
    # warm up the GL context and imports outside the measurement
    warm = SampleTask(str(workdir / "warm"), "warm", 0, 12345, "collision", config)
    run_sample(warm)
    totals = dict.fromkeys(STAGES, 0.0)
    floor = 0.0
    done = 0
    per_family: dict[str, list[float]] = {}  # family -> [samples, CPU seconds]
    for i in range(samples):
        family = families[i % len(families)]
        task = SampleTask(str(out), sample_id(i, family), i, sample_seed(0, "train", i), family, config)
        result = run_sample(task)
        if result.get("error"):
            print(f"  sample {task.sample_id} rejected: {result['error']}", file=sys.stderr)
            continue
        for k in STAGES:
            totals[k] += result["timings_cpu_s"].get(k, 0.0)
        floor += floor_cpu(out, task.sample_id, config, workdir / "floor")
        done += 1
        fam = per_family.setdefault(family, [0, 0.0])
        fam[0] += 1
        fam[1] += sum(result["timings_cpu_s"].get(k, 0.0) for k in STAGES)
    total = sum(totals.values())
    return {
        "size": f"{width}x{height}x{frames}",
        "look": look,
        "families": ",".join(families),
        "samples": done,
        **{k: totals[k] / max(done, 1) for k in STAGES},
        "total_s": total / max(done, 1),
        "floor_s": floor / max(done, 1),
        "pairs_per_cpu_min": 60.0 * done / total if total else 0.0,
        "floor_pairs_per_cpu_min": 60.0 * done / floor if floor else 0.0,
        "ratio_total_to_floor": total / floor if floor else float("nan"),
        "per_family": {f: {"samples": n, "total_s": c / n, "pairs_per_cpu_min": 60.0 * n / c}
                       for f, (n, c) in per_family.items() if c},
    }


def print_table(rows: list[dict]) -> None:
    head = ["size", "look", "n", "physics", "render", "mask", "encode", "total s", "pairs/CPU-min", "floor pairs/CPU-min", "total/floor"]
    print(f"CPU seconds per paired sample (raster renderer, one worker; families {rows[0]['families']})")
    print(" | ".join(f"{h:>10}" for h in head))
    for r in rows:
        cells = [r["size"], r["look"], r["samples"], *(f"{r[k]:.3f}" for k in STAGES), f"{r['total_s']:.3f}",
                 f"{r['pairs_per_cpu_min']:.1f}", f"{r['floor_pairs_per_cpu_min']:.1f}", f"{r['ratio_total_to_floor']:.2f}x"]
        print(" | ".join(f"{c:>10}" for c in cells))
    print("\nper family (same run)")
    print(" | ".join(f"{h:>12}" for h in ("size", "look", "family", "n", "total s", "pairs/CPU-min")))
    for r in rows:
        for fam, v in r["per_family"].items():
            cells = [r["size"], r["look"], fam, v["samples"], f"{v['total_s']:.3f}", f"{v['pairs_per_cpu_min']:.1f}"]
            print(" | ".join(f"{c:>12}" for c in cells))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10, help="samples per size (families in turn)")
    parser.add_argument("--sizes", default="128x128x24,256x256x48", help="comma list of WxHxT")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma list of families, taken in turn")
    parser.add_argument("--looks", default="plain", help="comma list of looks (plain, footage), each measured per size")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="void-sim-bench-"))
    rows = []
    try:
        for spec in args.sizes.split(","):
            w, h, t = (int(v) for v in spec.lower().split("x"))
            for look in [v.strip() for v in args.looks.split(",") if v.strip()]:
                rows.append(run_size(w, h, t, args.samples, workdir,
                                     [f.strip() for f in args.families.split(",") if f.strip()], look))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows)
    big = [r for r in rows if r["size"] == "256x256x48" and r["look"] == "plain"]
    if big:
        r = big[0]
        ok = r["pairs_per_cpu_min"] >= 10 and r["ratio_total_to_floor"] <= 2
        print(f"target at 256x256x48 (>= 10 pairs/CPU-min, within 2x of the floor): {'met' if ok else 'NOT met'}")
    for r in (r for r in rows if r["size"] == "672x384x49"):
        print(f"target at 672x384x49, {r['look']} look (>= 3 pairs/CPU-min): "
              f"{'met' if r['pairs_per_cpu_min'] >= 3 else 'NOT met'} ({r['pairs_per_cpu_min']:.1f})")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
