"""A stand-in for an outside removal tool, for the command-baseline tests.

Reads ``--frames DIR`` and ``--masks DIR`` (PNG sequences as ProPainter-style tools take them),
paints the masked pixels mid-grey and writes ``--out DIR/result/<n>.png`` (unpadded numbers,
in a subfolder, as real tools do). ``--drop N`` writes N frames fewer, ``--fail`` exits 3
with a message on stderr, ``--sleep S`` sleeps first, ``--video`` writes one mp4 instead.
"""

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", required=True)
    ap.add_argument("--masks", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--drop", type=int, default=0)
    ap.add_argument("--fail", action="store_true")
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--video", action="store_true")
    args = ap.parse_args()
    time.sleep(args.sleep)
    if args.fail:
        print("loading weights...", file=sys.stderr)
        print("RuntimeError: CUDA out of memory (pretend)", file=sys.stderr)
        return 3
    frames = sorted(Path(args.frames).glob("*.png"))
    masks = sorted(Path(args.masks).glob("*.png"))
    assert len(frames) == len(masks) > 0, (len(frames), len(masks))
    out = []
    for f, m in zip(frames, masks):
        img = cv2.imread(str(f), cv2.IMREAD_COLOR)
        mask = cv2.imread(str(m), cv2.IMREAD_GRAYSCALE)
        img[mask > 127] = 128
        out.append(img)
    out = out[: len(out) - args.drop]
    dest = Path(args.out) / "result"
    dest.mkdir(parents=True, exist_ok=True)
    if args.video:
        from void import video

        video.write_video(dest / "inpaint_out.mp4", np.stack([cv2.cvtColor(o, cv2.COLOR_BGR2RGB) for o in out]), 12.0, codec="lossless")
        return 0
    for i, img in enumerate(out):
        cv2.imwrite(str(dest / f"{i}.png"), img)
    return 0


if __name__ == "__main__":
    sys.exit(main())
