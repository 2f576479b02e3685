"""CPU per frame of each scoring stage (decoding, every metric), for one or more checkouts side by side.

    python benchmarks/score_stages.py --bench bench/v1 --pred subs/opencv-inpaint --clips 6
    python benchmarks/score_stages.py --bench bench/v1 --pred subs/x --roots /src/old /src/new

Each checkout (``--roots``; default: this one) scores the same clips in its own process, all
of them at the same time, so a busy machine weighs on each alike; the table gives CPU
milliseconds per frame (this process and its ffmpeg children): decoding the ground truth and
the prediction, then the suite's clock per metric (``MetricSuite.seconds``). Scores are not
compared here: the tests hold them bit for bit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, resource, sys, time
from pathlib import Path
root, bench, pred, clips = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4])
sys.path.insert(0, root)
import cv2
from void import formats, video
from evaluate.metrics.registry import MetricSuite
cv2.setNumThreads(1)  # as a scoring worker
if hasattr(video, "set_decode_threads"):
    video.set_decode_threads(1)
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
out, frames = {}, 0
for clip in clips:
    subset, sid = clip.split("/")
    ref = formats.SampleRef(bench / subset / sid, sid)
    c0 = cpu()
    removed = ref.load_video("removed")
    hidden = video.read_video(ref.video_path("hidden"))
    mask = ref.load_mask(strict=True)
    p = video.read_video(pred / subset / f"{sid}.mp4")
    out["decode"] = out.get("decode", 0.0) + cpu() - c0
    suite = MetricSuite(clock=time.process_time)
    for i in range(0, p.shape[0], 16):
        suite.update(p[i:i + 16], removed[i:i + 16], hidden[i:i + 16], mask[i:i + 16])
    for k, v in suite.seconds.items():
        out[k] = out.get(k, 0.0) + v
    frames += p.shape[0]
print(json.dumps({"frames": frames, "ms": {k: 1000 * v / frames for k, v in out.items()}}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", required=True, help="a benchmark build (void bench build)")
    ap.add_argument("--pred", required=True, help="a submission folder of that build (PRED/<subset>/<clip>.mp4)")
    ap.add_argument("--clips", type=int, default=6, help="how many clips of the main subset, in order")
    ap.add_argument("--roots", nargs="+", default=[str(HERE)], help="source checkouts to compare")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from void import bench_format

    clips = [c for c in bench_format.Bench(args.bench).clips() if (Path(args.pred) / f"{c}.mp4").is_file()][: args.clips]
    if not clips:
        raise SystemExit(f"{args.pred}: no videos of {args.bench}'s clips")
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, r, args.bench, args.pred, json.dumps(clips)], stdout=subprocess.PIPE, text=True)
             for r in args.roots]
    runs = [json.loads(p.communicate()[0]) for p in procs]
    stages = list(dict.fromkeys(k for r in runs for k in r["ms"]))
    print(f"CPU-ms per frame over {len(clips)} clips ({runs[0]['frames']} frames), checkouts run at the same time")
    print(f"{'stage':<16}" + "".join(f"{Path(r).name[-22:]:>24}" for r in args.roots))
    for s in stages + ["total"]:
        vals = [sum(r["ms"].values()) if s == "total" else r["ms"].get(s, float("nan")) for r in runs]
        print(f"{s:<16}" + "".join(f"{v:>24.2f}" for v in vals))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
