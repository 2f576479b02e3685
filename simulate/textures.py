"""Procedural surface textures for the raster renderer, made with numpy from a seed.

Each kind stands for one of the procedural PBR materials the Cycles renderer builds from
Blender's nodes (wood, tiles, marble, fabric, painted plaster, brushed metal, plastic, paper,
plus grass and gravel for outdoor ground), so both renderers show the same kind of surface.
Nothing is downloaded: an image is a pure function of ``(kind, variant, size)``.

Images tile seamlessly (every random field is periodic: spectral noise made with the FFT,
Voronoi cells measured on a torus), so a surface can repeat one image without seams. They
are linear RGB in [0, 1], stored and returned through 8-bit sRGB so that an image generated
now and one read back from the cache are bit-identical.

Only :data:`VARIANTS` images exist per kind; a sample picks a variant, and the scene varies
colour, scale and rotation on top of it. That keeps the on-disk cache small (a few MB per
kind at 256x256) however many samples a dataset has.
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from void import atomic

VERSION = 1  # bump when an image for the same (kind, variant, size) changes
VARIANTS = 32
DEFAULT_SIZE = 256
CACHE_ENV = "VOID_TEXTURE_CACHE"


@dataclass(frozen=True)
class Finish:
    """How the material reflects: what Cycles' Principled BSDF and the raster shader use."""

    roughness: float
    metallic: float = 0.0
    specular: float = 0.5
    anisotropic: float = 0.0


# kind -> finish; the keys are every texture kind there is
FINISHES = {
    "wood": Finish(0.55),
    "tiles": Finish(0.25, specular=0.6),
    "marble": Finish(0.15, specular=0.7),
    "fabric": Finish(0.95, specular=0.2),
    "plaster": Finish(0.9, specular=0.3),
    "brushed_metal": Finish(0.35, metallic=1.0, anisotropic=0.8),
    "plastic": Finish(0.4, specular=0.5),
    "paper": Finish(0.85, specular=0.3),
    "grass": Finish(0.95, specular=0.2),
    "gravel": Finish(0.9, specular=0.3),
}
KINDS = tuple(FINISHES)


class TextureError(ValueError):
    """An unknown texture kind or a bad size."""


def cache_dir() -> Path:
    """``$VOID_TEXTURE_CACHE``, else ``$XDG_CACHE_HOME/void-bench/textures`` (``~/.cache``)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "void-bench" / "textures"


def cache_path(kind: str, variant: int, size: int = DEFAULT_SIZE) -> Path:
    return cache_dir() / f"{kind}-{int(variant) % VARIANTS:02d}-{size}-v{VERSION}.png"


# ------------------------------------------------------------------------- colour


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(np.asarray(c, np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


# ------------------------------------------------------------------------- periodic fields


def _freqs(size: int) -> tuple[np.ndarray, np.ndarray]:
    f = np.fft.fftfreq(size) * size  # integer cycles per image: periodic by construction
    return np.meshgrid(f, f, indexing="xy")


def spectral_noise(rng: np.random.Generator, size: int, beta: float = 2.0, *, low: float = 1.0,
                   high: float | None = None, stretch: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Tileable fractal noise, zero mean and unit spread: white noise shaped by ``1/f^beta``.

    ``stretch`` scales the frequency axes (x, y): a large x stretch gives streaks along x.
    """
    fx, fy = _freqs(size)
    f = np.hypot(fx * stretch[0], fy * stretch[1])
    amp = np.where(f >= low, np.maximum(f, 1e-9) ** (-beta / 2), 0.0)
    if high is not None:
        amp = amp * np.exp(-((f / high) ** 2))
    spectrum = np.fft.fft2(rng.standard_normal((size, size))) * amp
    field = np.real(np.fft.ifft2(spectrum))
    return (field - field.mean()) / (field.std() + 1e-12)


def voronoi(rng: np.random.Generator, size: int, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tileable Voronoi cells: index of the nearest seed, distance to it and the gap to the next
    nearest (0 on a cell border), distances in pixels on the torus."""
    seeds = rng.uniform(0, size, size=(cells, 2))
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    d = np.empty((cells, size, size))
    for k, (sx, sy) in enumerate(seeds):
        dx = np.abs(x - sx)
        dy = np.abs(y - sy)
        dx = np.minimum(dx, size - dx)
        dy = np.minimum(dy, size - dy)
        d[k] = np.hypot(dx, dy)
    order = np.argsort(d, axis=0)
    d_sorted = np.take_along_axis(d, order[:2], axis=0)
    return order[0], d_sorted[0], d_sorted[1] - d_sorted[0]


def _coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    return x, y


def _mix(a, b, t) -> np.ndarray:
    t = np.clip(np.asarray(t, np.float64), 0.0, 1.0)[..., None]
    return np.asarray(a, np.float64) * (1 - t) + np.asarray(b, np.float64) * t


def _jitter(rng: np.random.Generator, rgb, amount: float = 0.15) -> np.ndarray:
    return np.clip(np.asarray(rgb, np.float64) * rng.uniform(1 - amount, 1 + amount, 3), 0.0, 1.0)


# ------------------------------------------------------------------------- kinds
# Each maker returns linear RGB (size, size, 3). Colours are picked by the variant's rng.


def _wood(rng, size):
    x, y = _coords(size)
    warp = spectral_noise(rng, size, 2.6, stretch=(4.0, 1.0))
    rings = int(rng.integers(6, 14))
    phase = (y * rings + 0.35 * warp) % 1.0
    ring = np.abs(phase - 0.5) * 2  # 0 in the late wood, 1 in the early wood
    grain = spectral_noise(rng, size, 1.2, stretch=(12.0, 1.0))
    base = _jitter(rng, srgb_to_linear([0.62, 0.42, 0.25]), 0.25)
    dark = base * rng.uniform(0.45, 0.65)
    t = ring ** 2.5 * 0.8 + 0.08 * grain
    # planks: boards along x with a thin dark joint
    boards = int(rng.integers(2, 5))
    joint = np.abs(((y * boards) % 1.0) - 0.5) > 0.485
    img = _mix(dark, base, 1 - t)
    img[joint] *= 0.45
    return img


def _tiles(rng, size):
    x, y = _coords(size)
    n = int(rng.choice([2, 4, 4, 8]))
    gx, gy = (x * n) % 1.0, (y * n) % 1.0
    grout_w = rng.uniform(0.03, 0.06)
    grout = (np.minimum(gx, 1 - gx) < grout_w / 2) | (np.minimum(gy, 1 - gy) < grout_w / 2)
    palettes = ([0.85, 0.85, 0.82], [0.55, 0.62, 0.66], [0.70, 0.45, 0.32], [0.25, 0.28, 0.30], [0.80, 0.76, 0.62])
    base = srgb_to_linear(palettes[int(rng.integers(len(palettes)))])
    ix, iy = np.floor(x * n).astype(int) % n, np.floor(y * n).astype(int) % n
    per_tile = rng.uniform(0.88, 1.12, size=(n, n))
    img = base[None, None] * per_tile[iy, ix][..., None]
    img = img * (1 + 0.04 * spectral_noise(rng, size, 1.5))[..., None]
    grout_rgb = srgb_to_linear([0.55, 0.53, 0.50]) * rng.uniform(0.6, 1.1)
    img[grout] = grout_rgb
    return img


def _marble(rng, size):
    x, y = _coords(size)
    turb = spectral_noise(rng, size, 3.4) + 0.3 * spectral_noise(rng, size, 2.6, high=size / 16)
    k = int(rng.integers(2, 5))
    band = np.abs(np.sin(np.pi * (x * k + y * k * rng.choice([-1, 1]) + 0.5 * turb)))
    width = rng.uniform(0.06, 0.14)
    veins = np.clip(band / width, 0.0, 1.0) ** 0.7  # 0 on a vein, 1 between veins
    light = srgb_to_linear(_jitter(rng, [0.9, 0.89, 0.86], 0.05))
    dark = srgb_to_linear(_jitter(rng, [0.45, 0.45, 0.48], 0.2))
    img = _mix(dark, light, veins)
    return img * (1 + 0.02 * spectral_noise(rng, size, 2.0))[..., None]


def _fabric(rng, size):
    x, y = _coords(size)
    threads = int(rng.choice([32, 48, 64]))
    warp = 0.5 + 0.5 * np.sin(2 * np.pi * x * threads)
    weft = 0.5 + 0.5 * np.sin(2 * np.pi * y * threads)
    weave = np.where((np.floor(x * threads) + np.floor(y * threads)) % 2 == 0, warp, weft)
    hue = srgb_to_linear(_jitter(rng, rng.uniform(0.2, 0.75, 3), 0.1))
    mottle = 1 + 0.08 * spectral_noise(rng, size, 2.5)
    return hue[None, None] * (0.75 + 0.25 * weave)[..., None] * mottle[..., None]


def _plaster(rng, size):
    pale = srgb_to_linear(_jitter(rng, [0.88, 0.86, 0.80], 0.06))
    mottle = 0.06 * spectral_noise(rng, size, 2.8) + 0.025 * spectral_noise(rng, size, 0.8, low=20)
    return pale[None, None] * (1 + mottle)[..., None]


def _brushed_metal(rng, size):
    streaks = spectral_noise(rng, size, 1.0, stretch=(40.0, 1.0))
    base = srgb_to_linear([0.72, 0.72, 0.74]) * rng.uniform(0.85, 1.05)
    return base[None, None] * (1 + 0.09 * streaks + 0.03 * spectral_noise(rng, size, 2.5))[..., None]


def _plastic(rng, size):
    base = srgb_to_linear(_jitter(rng, rng.uniform(0.3, 0.9, 3), 0.1))
    speckle = 0.015 * spectral_noise(rng, size, 0.2, low=30) + 0.02 * spectral_noise(rng, size, 3.0)
    return base[None, None] * (1 + speckle)[..., None]


def _paper(rng, size):
    base = srgb_to_linear(_jitter(rng, [0.92, 0.90, 0.84], 0.04))
    fibres = 0.03 * spectral_noise(rng, size, 1.0, stretch=(3.0, 1.0)) + 0.02 * spectral_noise(rng, size, 2.0)
    return base[None, None] * (1 + fibres)[..., None]


def _grass(rng, size):
    base = srgb_to_linear(_jitter(rng, [0.32, 0.45, 0.16], 0.15))
    dry = srgb_to_linear(_jitter(rng, [0.52, 0.50, 0.28], 0.15))
    patches = spectral_noise(rng, size, 3.0)
    blades = spectral_noise(rng, size, 0.4, low=40)
    img = _mix(base, dry, 0.5 + 0.25 * patches)
    return img * (1 + 0.18 * blades)[..., None]


def _gravel(rng, size):
    cells, dist, gap = voronoi(rng, size, int(rng.integers(90, 160)))
    shades = rng.uniform(0.55, 1.0, size=cells.max() + 1)
    stone = srgb_to_linear(_jitter(rng, [0.55, 0.52, 0.48], 0.1))
    edge = np.clip(gap / 2.5, 0.0, 1.0)  # dark cracks between stones
    img = stone[None, None] * (shades[cells] * (0.35 + 0.65 * edge))[..., None]
    return img * (1 + 0.05 * spectral_noise(rng, size, 0.5, low=30))[..., None]


_MAKERS = {
    "wood": _wood, "tiles": _tiles, "marble": _marble, "fabric": _fabric, "plaster": _plaster,
    "brushed_metal": _brushed_metal, "plastic": _plastic, "paper": _paper, "grass": _grass, "gravel": _gravel,
}


def _check(kind: str, size: int) -> None:
    if kind not in _MAKERS:
        raise TextureError(f"unknown texture kind {kind!r}; choose from {', '.join(KINDS)}")
    if size < 16 or size & (size - 1):
        raise TextureError(f"texture size must be a power of two >= 16, got {size}")


def generate(kind: str, variant: int, size: int = DEFAULT_SIZE) -> np.ndarray:
    """The texture as 8-bit sRGB ``(size, size, 3)``, computed (no cache)."""
    _check(kind, size)
    seq = np.random.SeedSequence(entropy=int(variant) % VARIANTS, spawn_key=(KINDS.index(kind), size, VERSION))
    linear = _MAKERS[kind](np.random.default_rng(seq), size)
    return np.round(linear_to_srgb(linear) * 255).astype(np.uint8)


@functools.lru_cache(maxsize=64)
def _load(kind: str, variant: int, size: int) -> np.ndarray:
    from PIL import Image

    path = cache_path(kind, variant, size)
    if path.is_file():
        try:
            with Image.open(path) as im:
                img = np.asarray(im.convert("RGB"))
            if img.shape == (size, size, 3):
                return img
        except OSError:
            pass  # a damaged cache file is made again
    img = generate(kind, variant, size)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, buf.getvalue())
    except OSError:
        pass  # a read-only cache costs time, not correctness: the image is the same
    return img


def texture(kind: str, variant: int, size: int = DEFAULT_SIZE) -> np.ndarray:
    """8-bit sRGB ``(size, size, 3)`` image of ``kind``, from the disk cache when it is there."""
    _check(kind, size)
    img = _load(kind, int(variant) % VARIANTS, int(size))
    img.setflags(write=False)
    return img


def linear(kind: str, variant: int, size: int = DEFAULT_SIZE) -> np.ndarray:
    """The texture as linear RGB float32 in [0, 1]."""
    return srgb_to_linear(texture(kind, variant, size) / 255.0).astype(np.float32)


def mean_color(kind: str, variant: int, size: int = DEFAULT_SIZE) -> list[float]:
    """Mean linear colour: what a flat-shaded surface of this texture would show."""
    return list(_mean_color(kind, int(variant) % VARIANTS, int(size)))


@functools.lru_cache(maxsize=512)
def _mean_color(kind: str, variant: int, size: int) -> tuple[float, ...]:
    return tuple(float(v) for v in linear(kind, variant, size).reshape(-1, 3).mean(0))


def repeat_m(obj) -> float:
    """Metres one image repeat covers on an object spec (its own size when it says 0)."""
    if obj.texture_m > 0:
        return float(obj.texture_m)
    from simulate import meshes

    return max(0.05, 1.5 * meshes.bounding_radius(obj))
