"""How far generated clips are from real footage, in simple image statistics, old look vs new.

    python benchmarks/realism.py                                   # raster and Cycles, both looks
    python benchmarks/realism.py --renderers raster --samples 12   # raster only
    python benchmarks/realism.py --cycles-samples 3 --cycles-resolution 224x128 --spp 8

It generates small datasets with ``simulate.generate`` (the function ``void simulate``
runs) for each renderer under ``--look plain`` (the old look) and ``--look footage`` (the
new one), reads back every sample's input video, and compares four per-pixel statistics
with the same statistics of real footage (VOID's sample sequences: ``tests/data/void-samples``
BigBen and ``tests/data/footage`` moving_ball, a downscaled copy of the 4K original):

* gradient magnitude of luma (central differences), log-spaced bins;
* local contrast: the standard deviation of luma in 7x7 windows;
* saturation: ``(max - min) / max`` of RGB;
* frame-to-frame change: ``|luma(t) - luma(t-1)|``, log-spaced bins.

Columns, each look at its default settings: ``raster plain``, ``raster footage``, ``cycles
plain`` (not denoised), ``cycles plain denoised`` (like for like with the footage look, which
Cycles denoises), ``cycles footage no film`` (the footage look without the camera's tone curve
and grain, ``--no-film``) and ``cycles footage`` (the default, with them). The last two come
from one render: the film is a post effect (``simulate.render.cycles_film``), applied here to
the lossless copy of the ``--no-film`` render and encoded as the dataset writer does.

Every frame is first resized (box filter) to ``--analysis-height`` pixels tall, keeping its
aspect ratio, so gradients mean the same thing at every source size. Histograms are pooled
over all frames of all clips of a set; the number per statistic is the Jensen-Shannon
distance (``scipy.spatial.distance.jensenshannon``, base 2: 0 = same distribution, 1 =
disjoint) between the set's histogram and the footage's. Lower is closer to footage.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = (ROOT / "tests" / "data" / "void-samples" / "BigBen" / "input_video.mp4",
           ROOT / "tests" / "data" / "footage" / "moving_ball_768x432.mp4")
LOOKS = ("plain", "footage")
BINS = {
    "gradient": np.r_[0.0, np.geomspace(1e-3, 1.0, 40)],
    "local contrast": np.linspace(0.0, 0.35, 41),
    "saturation": np.linspace(0.0, 1.0, 41),
    "frame change": np.r_[0.0, np.geomspace(1e-3, 1.0, 40)],
}
STATS = tuple(BINS)
_LUMA = np.array([0.2126, 0.7152, 0.0722])


def resize(frames: np.ndarray, height: int) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 -> float in [0, 1], ``height`` rows, aspect kept (box filter)."""
    from PIL import Image

    T, H, W, _ = frames.shape
    width = max(2, round(W * height / H))
    out = np.empty((T, height, width, 3), np.float32)
    for t in range(T):
        out[t] = np.asarray(Image.fromarray(frames[t]).resize((width, height), Image.Resampling.BOX)) / 255.0
    return out


def statistics(clip: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pixel samples of each statistic of a ``(T, H, W, 3)`` float clip (flattened)."""
    from scipy import ndimage

    luma = clip @ _LUMA
    gy, gx = np.gradient(luma, axis=(1, 2))
    mean = ndimage.uniform_filter(luma, size=(1, 7, 7))
    sq = ndimage.uniform_filter(luma * luma, size=(1, 7, 7))
    hi, lo = clip.max(axis=-1), clip.min(axis=-1)
    return {
        "gradient": np.hypot(gx, gy).ravel(),
        "local contrast": np.sqrt(np.maximum(sq - mean * mean, 0.0)).ravel(),
        "saturation": np.where(hi > 1e-3, (hi - lo) / np.maximum(hi, 1e-3), 0.0).ravel(),
        "frame change": np.abs(np.diff(luma, axis=0)).ravel(),
    }


class Pooled:
    """Histograms of every statistic, summed over the clips added."""

    def __init__(self):
        self.counts = {k: np.zeros(len(b) - 1) for k, b in BINS.items()}
        self.clips = 0

    def add(self, frames: np.ndarray, height: int) -> None:
        for k, values in statistics(resize(frames, height)).items():
            edges = BINS[k]
            self.counts[k] += np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)[0]
        self.clips += 1

    def distance(self, other: "Pooled") -> dict[str, float]:
        from scipy.spatial.distance import jensenshannon

        return {k: float(jensenshannon(self.counts[k], other.counts[k], base=2)) for k in STATS}


def footage(height: int, paths=FOOTAGE) -> Pooled:
    from void import video

    pooled = Pooled()
    for path in paths:
        if not path.is_file():
            raise SystemExit(f"realism: footage {path} is missing (it ships with the repository's tests/data)")
        pooled.add(video.read_video(path), height)
    return pooled


def generated(renderer: str, look: str, samples: int, resolution: tuple[int, int], frames: int, spp: int,
              workdir: Path, height: int, denoiser: bool | None = None,
              film: bool = True, film_after: bool = False) -> tuple[Pooled, int, bool, Pooled | None]:
    """Pooled statistics of a fresh dataset's input videos, its rejected draws, whether
    Cycles denoised it (``denoiser`` None: the look's default), and with ``film_after`` (Cycles'
    footage look made with ``film=False``) the statistics of the same renders with the film added
    (``simulate.render.cycles_film`` on the lossless copy, encoded as the dataset writer
    does: the bytes the default settings would have written), so both come from one render."""
    from simulate.config import SimulateConfig
    from simulate.generate import generate
    from simulate.render import cycles_film
    from void import formats, video

    out = workdir / f"{renderer}-{look}{'' if denoiser is None else ('-denoised' if denoiser else '-noisy')}"
    config = SimulateConfig(out=str(out), num_samples=samples, resolution=resolution, frames=frames, fps=12,
                            renderer=renderer, look=look, spp=spp, denoiser=denoiser, film=film, progress=False,
                            seed=7)
    generate(config)
    denoised = renderer == "cycles" and bool(config.denoiser)
    filmed = Pooled() if film_after else None
    pooled = Pooled()
    header = json.loads((out / formats.HEADER).read_text())
    for entry in header["samples"]:
        sample = out / entry["sample_id"]
        pooled.add(video.read_video(sample / formats.RGB_FULL), height)
        if filmed is not None:
            seed = json.loads((sample / formats.METADATA).read_text())["seed"]
            frames_ = cycles_film.develop([video.read_video(sample / formats.LOSSLESS["full"])],
                                          cycles_film.film_params(seed))[0]
            encoded = sample / "film_full.mp4"
            video.write_video(encoded, frames_, 12)
            filmed.add(video.read_video(encoded), height)
    return pooled, int(header["counts"]["rejected_draws"]), denoised, filmed


def print_table(columns: dict[str, dict[str, float]], notes: dict[str, str]) -> None:
    names = list(columns)
    width = max(14, *(len(n) for n in names))
    print("Jensen-Shannon distance to real footage (base 2; 0 = same statistics, lower is closer)")
    print(f"{'statistic':<16}" + "".join(f"{n:>{width + 2}}" for n in names))
    for k in STATS:
        print(f"{k:<16}" + "".join(f"{columns[n][k]:>{width + 2}.3f}" for n in names))
    print(f"{'mean':<16}" + "".join(f"{np.mean([columns[n][k] for k in STATS]):>{width + 2}.3f}" for n in names))
    for n in names:
        print(f"  {n}: {notes[n]}")


def main(argv=None) -> int:
    from void.configutil import parse_resolution

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renderers", default="raster,cycles", help="comma list: raster, cycles")
    parser.add_argument("--samples", type=int, default=10, help="raster samples per look")
    parser.add_argument("--resolution", default="336x192", type=parse_resolution, help="raster WxH")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--cycles-samples", type=int, default=3, help="Cycles samples per look")
    parser.add_argument("--cycles-resolution", default="224x128", type=parse_resolution)
    parser.add_argument("--cycles-frames", type=int, default=8)
    parser.add_argument("--spp", type=int, default=8, help="Cycles samples per pixel")
    parser.add_argument("--denoiser", action=argparse.BooleanOptionalAction, default=None,
                        help="Cycles: OpenImageDenoise on the RGB of both looks (--no-denoiser: of neither; "
                             "default: each look's own default, on for footage, off for plain)")
    parser.add_argument("--film", action=argparse.BooleanOptionalAction, default=None,
                        help="Cycles footage look: the film only (--film) or without it only (--no-film); default: "
                             "both columns from one render")
    parser.add_argument("--analysis-height", type=int, default=128, help="rows every frame is resized to")
    parser.add_argument("--json", help="also write the distances to this JSON file")
    parser.add_argument("--keep", help="keep the generated datasets under this directory")
    args = parser.parse_args(argv)
    height = args.analysis_height
    real = footage(height)
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="void-realism-"))
    workdir.mkdir(parents=True, exist_ok=True)
    columns, notes = {}, {}
    try:
        for renderer in [r.strip() for r in args.renderers.split(",") if r.strip()]:
            big = renderer == "raster"
            n = args.samples if big else args.cycles_samples
            res = args.resolution if big else args.cycles_resolution
            frames = args.frames if big else args.cycles_frames
            runs = [(look, None if big else args.denoiser) for look in LOOKS]
            if not big and args.denoiser is None:
                runs.insert(1, ("plain", True))  # like for like with the footage look's denoiser
            for look, denoiser in runs:
                t0 = time.time()
                both = not big and look == "footage" and args.film is None  # film off, then added
                film = big or look != "footage" or args.film is True
                pooled, rejected, denoised, filmed = generated(renderer, look, n, res, frames, args.spp, workdir,
                                                               height, denoiser, film=film, film_after=both)
                what = (f"{pooled.clips} clips {res[0]}x{res[1]}x{frames}"
                        f"{f', {args.spp} spp' if not big else ''}{', denoised' if denoised else ''}, "
                        f"{rejected} rejected draws")
                name = (f"{renderer} {look}{' denoised' if denoised and look == 'plain' else ''}"
                        f"{' no film' if not film and not both else ''}")
                if filmed is not None:
                    columns[f"{name} no film"] = pooled.distance(real)
                    notes[f"{name} no film"] = f"{what}, without the film (--no-film; the look before it)"
                    pooled, what = filmed, f"{what}, the same renders with the film (the default)"
                columns[name] = pooled.distance(real)
                notes[name] = f"{what}, {time.time() - t0:.0f} s wall"
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"footage: {real.clips} clips ({', '.join(p.name for p in FOOTAGE)}), analysed at {height} rows")
    print_table(columns, notes)
    if args.json:
        Path(args.json).write_text(json.dumps({"distances": columns, "notes": notes}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
