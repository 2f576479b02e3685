"""VOID-bench v1 at its working size: build cost per family, scoring speed, merging bundles.

    python benchmarks/bench_v1.py --work /tmp/bench_v1                   # all three parts
    python benchmarks/bench_v1.py --work /tmp/bench_v1 --bench BENCH     # reuse a build
    python benchmarks/bench_v1.py --work /tmp/w --parts merge --bundle identity.zip --clips 306
    python benchmarks/bench_v1.py --work /tmp/w --bench BENCH --parts warp

1. Build: a ``--limit 1`` raster build of v1 at 672x384 (49 frames, and the 85-frame long
   subset) with the v1 families this install registers (a derived definition, labelled as
   such; the shipped v1 refuses to build until all nine exist). Prints each clip's CPU seconds
   (from its metadata: physics, render, mask, caption, encode) and the checksum time, and
   extrapolates the full build: clips x CPU-s per clip / cores. Families not yet registered
   are counted at the registered families' mean (an assumption the table says).
2. ``void bench score`` of an identity submission (the input copied) with ``--workers`` 2:
   frames per second (target: 30 or more on 2 cores), with and without gallery previews.
3. ``void leaderboard --bundles`` over 20 bundles (one scored bundle copied under 20 names):
   seconds to build the site (target: under 10 s), without ``--bench``. ``--bundle FILE``
   merges a given bundle (the full v1's), ``--clips 306`` repeats a ``--limit`` bundle's clips
   to full v1 size.
4. ``--parts warp``: the warping error of metric suite 1 (DIS MEDIUM) and suite 2
   (ULTRAFAST) on every clip of ``--bench``, and the CPU each costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluate.bundle import copy_with  # noqa: E402
from evaluate.config import BenchScoreConfig  # noqa: E402
from evaluate.submission import score_submission  # noqa: E402
from leaderboard import LeaderboardConfig, build as build_site  # noqa: E402
from simulate.bench import BenchBuildConfig, build, definition  # noqa: E402
from simulate.bench.builder import compute_checksums  # noqa: E402
from simulate.config import FAMILIES  # noqa: E402
from void import bench_format  # noqa: E402

CPU_KEYS = ("physics_s", "render_s", "mask_s", "caption_s", "encode_s")


def cpu_now() -> float:
    import resource

    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def build_part(work: Path, workers: int) -> Path:
    v1, _ = definition.load("v1")
    derived = dict(v1, version="v1-registered", families=[f for f in v1["families"] if f in FAMILIES])
    missing = [f for f in v1["families"] if f not in FAMILIES]
    path = work / "v1-registered.json"
    path.write_text(json.dumps(derived))
    out = work / "bench"
    t0, c0 = time.perf_counter(), cpu_now()
    assert build(BenchBuildConfig(out=str(out), limit=1, workers=workers, definition_file=str(path), progress=False)) == 0
    wall, cpu = time.perf_counter() - t0, cpu_now() - c0
    bench = bench_format.Bench(out)
    t1, c1 = time.perf_counter(), cpu_now()
    compute_checksums(bench, 1, False)
    ck_wall, ck_cpu = time.perf_counter() - t1, cpu_now() - c1
    per = {}
    print(f"\n1. --limit 1 raster build at {v1['resolution'][0]}x{v1['resolution'][1]}, {workers} worker(s): "
          f"{wall:.1f} s wall, {cpu:.1f} CPU-s (this process and its children)")
    print(f"{'subset':<6} {'family':<10} {'frames':>6} {'CPU-s':>7} {'wall s':>7}")
    for clip, ref in bench.clips().items():
        meta = ref.metadata()
        t = meta["timings_cpu_s"]
        c = sum(t.get(k, 0.0) for k in CPU_KEYS)
        subset = clip.split("/")[0]
        per.setdefault(subset, []).append(c)
        print(f"{subset:<6} {meta['family']:<10} {meta['num_frames']:>6} {c:>7.1f} {t.get('total_wall_s', 0):>7.1f}")
    n_clips = len(bench.clips())
    print(f"checksums of {n_clips} clips: {ck_wall:.1f} s wall, {ck_cpu:.1f} CPU-s ({ck_cpu / n_clips:.2f} CPU-s a clip)")
    total_cpu = 0.0
    print("\nextrapolated full v1 build (CPU-s per clip x clips; unregistered families at the registered mean):")
    for subset, sub in v1["subsets"].items():
        mean = sum(per[subset]) / len(per[subset])
        clips = sub["clips_per_family"] * len(v1["families"])
        cost = clips * (mean + ck_cpu / n_clips)
        total_cpu += cost
        print(f"  {subset}: {clips} clips x {mean:.1f} CPU-s (+{ck_cpu / n_clips:.2f} checksum) = {cost:.0f} CPU-s")
    cores = os.cpu_count() or 1
    print(f"  total {total_cpu:.0f} CPU-s = {total_cpu / 60 / cores:.1f} min on {cores} cores at full use"
          f"{f'; families assumed at the mean: {chr(44).join(missing)}' if missing else ''}")
    return out


def score_part(work: Path, bench_dir: Path, workers: int) -> Path:
    bench = bench_format.Bench(bench_dir)
    sub = work / "identity"
    for clip, ref in bench.clips().items():
        (sub / clip).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ref.root / "rgb_full.mp4", sub / f"{clip}.mp4")
    (sub / "method.json").write_text(json.dumps({
        "name": "identity", "version": "1", "link": "-", "parameters": {}, "hardware": "-", "runtime": "0 s",
        "mask_input": "object-mask",
    }))
    frames = sum(ref.metadata()["num_frames"] for ref in bench.clips().values())
    print(f"\n2. bench score, identity submission, {len(bench.clips())} clips, {frames} frames, --workers {workers}")
    # a shared machine's wall clock says little; CPU seconds (this process and its reaped
    # workers and ffmpeg children) give what the same work takes on idle cores
    rows = []
    out = work / "identity.zip"
    for previews in (False, True):
        t0, c0 = time.perf_counter(), cpu_now()
        score_submission(BenchScoreConfig(bench=str(bench_dir), pred=str(sub), out=str(out), workers=workers, previews=previews, progress=False))
        dt, cpu = time.perf_counter() - t0, cpu_now() - c0
        rows.append((previews, dt, cpu))
    print(f"{'previews':<9} {'wall s':>7} {'frames/s':>9} {'CPU-s':>7} {'frames/CPU-s':>12} {'frames/s on ' + str(workers) + ' idle cores':>26}")
    for previews, dt, cpu in rows:
        print(f"{str(previews):<9} {dt:>7.1f} {frames / dt:>9.1f} {cpu:>7.1f} {frames / cpu:>12.2f} {workers * frames / cpu:>26.1f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return out


def scaled_bundle(bundle: Path, clips: int, dst: Path) -> Path:
    """A bundle whose clips are the given bundle's repeated under new ids up to ``clips``
    (rows, families and previews copied): full-size merging measured on a ``--limit`` build."""
    import zipfile

    from evaluate.bundle import BUNDLE_JSON, PREVIEWS

    with zipfile.ZipFile(bundle) as zin:
        data = json.loads(zin.read(BUNDLE_JSON))
        previews = {n[len(PREVIEWS) + 1:-4]: zin.read(n) for n in zin.namelist() if n.startswith(PREVIEWS + "/")}
    base = sorted(data["clips"])
    col = data["rows"]["columns"].index("sample_id")
    by_clip: dict[str, list] = {}
    for row in data["rows"]["data"]:
        by_clip.setdefault(row[col], []).append(row)
    names = {c if i < len(base) else f"{c}-r{i // len(base):03d}": c for i, c in ((i, base[i % len(base)]) for i in range(clips))}
    data["clips"] = {n: data["clips"][c] for n, c in names.items()}
    data["rows"]["data"] = [[n if j == col else v for j, v in enumerate(row)] for n, c in names.items() for row in by_clip[c]]
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        zout.writestr(BUNDLE_JSON, json.dumps(data))
        for n, c in names.items():
            if c in previews:
                zout.writestr(f"{PREVIEWS}/{n}.mp4", previews[c], compress_type=zipfile.ZIP_STORED)
    return dst


def merge_part(work: Path, bundle: Path, n: int = 20, clips: int = 0) -> None:
    folder = work / "bundles"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    if clips:
        bundle = scaled_bundle(bundle, clips, work / "scaled.zip")
    copies = [copy_with(bundle, folder / f"m{i:02d}.zip", name=f"method-{i:02d}") for i in range(n)]
    n_clips = len(json.loads(__import__("zipfile").ZipFile(copies[0]).read("bundle.json"))["clips"])
    site = work / "site"
    shutil.rmtree(site, ignore_errors=True)
    t0, c0 = time.perf_counter(), cpu_now()
    report = build_site(LeaderboardConfig(bundles=[str(c) for c in copies], out=str(site), quiet=True))
    dt, cpu = time.perf_counter() - t0, cpu_now() - c0
    split = ", ".join(f"{k} {v:.2f}" for k, v in report.timings_s.items())
    print(f"\n3. leaderboard from {n} bundles of {n_clips} clips each{' (clips repeated from ' + bundle.name + ')' if clips else ''}: "
          f"{dt:.2f} s wall, {cpu:.2f} CPU-s ({split}); load average {os.getloadavg()[0]:.1f}")


def warp_part(bench_dir: Path, frames_max: int = 0) -> None:
    """Metric suite 1 against suite 2 on the same clips: the warping error with DIS MEDIUM and
    with ULTRAFAST, of the input (identity) and of the true counterfactual, and each one's cost."""
    import cv2

    from evaluate.metrics.temporal import WarpError
    from void import video

    cv2.setNumThreads(1)
    bench = bench_format.Bench(bench_dir)
    cpu = {"MEDIUM": 0.0, "ULTRAFAST": 0.0}
    pairs = 0
    diffs = []
    print(f"\nwarping error, suite 1 (DIS MEDIUM) and suite 2 (DIS ULTRAFAST), 8-bit levels{f', first {frames_max} frames' if frames_max else ''}")
    print(f"{'clip':<26} {'identity s1':>11} {'s2':>7} {'truth s1':>9} {'s2':>7}")
    for clip, ref in bench.clips().items():
        row = []
        # the identity submission of part 2 (the H.264 input) and the lossless counterfactual
        for path in (ref.video_path("full", lossless=False), ref.video_path("removed")):
            frames = video.read_video(path)
            frames = frames[:frames_max] if frames_max else frames
            for preset in ("MEDIUM", "ULTRAFAST"):
                m = WarpError(preset)
                c0 = time.process_time()
                m.update(frames)
                cpu[preset] += time.process_time() - c0
                row.append(m.compute()["all"])
            pairs += frames.shape[0] - 1
        diffs += [row[1] - row[0], row[3] - row[2]]
        print(f"{clip:<26} {row[0]:>11.3f} {row[1]:>7.3f} {row[2]:>9.3f} {row[3]:>7.3f}")
    n = len(diffs)
    mean = sum(diffs) / n
    print(f"suite 2 minus suite 1 over {n} videos: mean {mean:+.3f}, min {min(diffs):+.3f}, max {max(diffs):+.3f}")
    print("CPU ms per frame pair (two flows, warp, sums): " + ", ".join(f"{k} {v / pairs * 1000:.1f}" for k, v in cpu.items())
          + f"; ratio {cpu['MEDIUM'] / cpu['ULTRAFAST']:.1f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", required=True, help="scratch folder")
    p.add_argument("--bench", help="an existing benchmark build to score against (skips part 1)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--bundle", help="merge this results bundle (e.g. a full v1 identity bundle) instead of scoring one")
    p.add_argument("--warp-frames", type=int, default=0, help="warp: only the first N frames of each clip (0: all)")
    p.add_argument("--clips", type=int, default=0, help="merge: repeat the bundle's clips up to this many per bundle (306: full v1 size)")
    p.add_argument("--parts", default="build,score,merge", help="comma list of the parts to run (merge needs score or --bundle); "
                   "warp: suite 1 against suite 2's warping error on the bench's clips")
    args = p.parse_args()
    parts = set(args.parts.split(","))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    bench_dir = Path(args.bench) if args.bench else build_part(work, args.workers) if "build" in parts else None
    if "warp" in parts and bench_dir is not None:
        warp_part(bench_dir, args.warp_frames)
    bundle = Path(args.bundle) if args.bundle else None
    if "score" in parts and bench_dir is not None:
        bundle = score_part(work, bench_dir, args.workers)
    if "merge" in parts and bundle is not None:
        merge_part(work, bundle, clips=args.clips)


if __name__ == "__main__":
    main()
