"""A stand-in for an outside mask tool, for the `void masks command` tests.

Reads ``--masks DIR`` (the object's binary PNGs, 255 = object) and writes a quadmask per
frame into ``--out DIR``: the object 0, a 1-pixel ring around it 127, the rest 255.
``--value V`` writes V instead of 127 (a wrong value), ``--drop N`` writes N frames fewer,
``--sleep S`` sleeps first.
"""

import argparse
import time
from pathlib import Path

import cv2
import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--masks", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--value", type=int, default=127)
    ap.add_argument("--drop", type=int, default=0)
    ap.add_argument("--sleep", type=float, default=0.0)
    args = ap.parse_args()
    time.sleep(args.sleep)
    files = sorted(Path(args.masks).glob("*.png"))
    cross = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    for i, f in enumerate(files[: len(files) - args.drop]):
        obj = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) > 127
        ring = cv2.dilate(obj.astype(np.uint8), cross).astype(bool) & ~obj
        q = np.full(obj.shape, 255, np.uint8)
        q[ring] = args.value
        q[obj] = 0
        cv2.imwrite(str(Path(args.out) / f"{i}.png"), q)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
