"""``void preview``: look at samples before training on them.

Per sample, a side-by-side video (full | removed | hidden | quadmask in false colour) with a
label row on top and a legend of the four mask values below, and a PNG contact sheet of a
few frames with the caption. Written to ``DATASET/preview/`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from simulate.config import PreviewConfig
from void import atomic, formats, quadmask, video
from void.errors import ConfigError

COLUMNS = ("full (input)", "removed (target)", "hidden", "quadmask")
PREVIEW_DIR = "preview"


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _text_strip(width: int, height: int, cells: list[tuple[int, str, tuple]], bg=(16, 16, 16)) -> np.ndarray:
    """A strip of ``height`` pixels with text at x offsets; cells are (x, text, rgb)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    font = _font(max(8, int(height * 0.6)))
    for x, text, rgb in cells:
        draw.text((x + 3, max(0, height // 2)), text, fill=rgb, font=font, anchor="lm")
    return np.asarray(img)


def _legend(width: int, height: int) -> np.ndarray:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), (16, 16, 16))
    draw = ImageDraw.Draw(img)
    font = _font(max(8, int(height * 0.55)))
    cell = width // len(quadmask.VALUES)
    for i, value in enumerate(quadmask.VALUES):
        x = i * cell
        sw = max(4, height - 6)
        draw.rectangle([x + 3, 3, x + 3 + sw, 3 + sw], fill=quadmask.PALETTE[value], outline=(200, 200, 200))
        draw.text((x + sw + 7, height // 2), f"{value} {quadmask.NAMES[value]}", fill=(230, 230, 230), font=font, anchor="lm")
    return np.asarray(img)


def side_by_side(full: np.ndarray, removed: np.ndarray, hidden: np.ndarray, mask: np.ndarray, label: str) -> np.ndarray:
    """``(T, H', 4W, 3)`` frames: a label row, the four panels, a legend strip."""
    T, H, W, _ = full.shape
    panels = np.concatenate([full, removed, hidden, quadmask.colorize(mask)], axis=2)
    bar = max(14, H // 10)
    header = _text_strip(4 * W, bar, [(i * W, name, (235, 235, 235)) for i, name in enumerate(COLUMNS)])
    title = _text_strip(4 * W, bar, [(0, label, (255, 214, 120))])
    legend = _legend(4 * W, bar)
    top = np.concatenate([title, header], axis=0)
    frames = np.concatenate([np.repeat(top[None], T, 0), panels, np.repeat(legend[None], T, 0)], axis=1)
    if frames.shape[1] % 2:  # yuv420p needs even sizes
        frames = np.concatenate([frames, frames[:, -1:]], axis=1)
    return frames


def contact_sheet(full, removed, hidden, mask, frames_idx: list[int], label: str, caption: str) -> np.ndarray:
    """Rows = chosen frames, columns = the four views, with labels and the caption."""
    T, H, W, _ = full.shape
    rows = []
    for t in frames_idx:
        row = np.concatenate([full[t], removed[t], hidden[t], quadmask.colorize(mask[t])], axis=1)
        tag = _text_strip(4 * W, max(12, H // 12), [(0, f"frame {t}", (200, 200, 200))])
        rows += [tag, row]
    bar = max(14, H // 10)
    chars = max(20, int(4 * W / max(bar * 0.33, 1)))
    lines = textwrap.wrap(caption, chars)[:4] or [""]
    cap = np.concatenate([_text_strip(4 * W, bar, [(0, line, (235, 235, 235))]) for line in lines], axis=0)
    head = np.concatenate([
        _text_strip(4 * W, bar, [(0, label, (255, 214, 120))]),
        _text_strip(4 * W, bar, [(i * W, name, (235, 235, 235)) for i, name in enumerate(COLUMNS)]),
    ])
    return np.concatenate([head] + rows + [_legend(4 * W, bar), cap], axis=0)


def preview_sample(ref: formats.SampleRef, out_dir: Path, sheet_frames: int) -> list[Path]:
    sample = ref.load(lossless=True)
    meta = sample.metadata
    label = f"{ref.sample_id}  [{meta.get('family', '?')}]"
    frames = side_by_side(sample.full, sample.removed, sample.hidden, sample.mask, label)
    mp4 = out_dir / f"{ref.sample_id}.mp4"
    video.write_video(mp4, frames, sample.fps, codec="h264")
    T = sample.full.shape[0]
    idx = sorted(set(np.linspace(0, T - 1, min(sheet_frames, T)).round().astype(int).tolist()))
    sheet = contact_sheet(sample.full, sample.removed, sample.hidden, sample.mask, idx, label, sample.caption)
    png = out_dir / f"{ref.sample_id}.png"
    from PIL import Image

    with atomic.atomic_path(png) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
    return [mp4, png]


def preview(config: PreviewConfig) -> int:
    """Write previews of the named samples (default: the first ``max_samples``)."""
    root = Path(config.dataset)
    ds = formats.Dataset(root)
    ids = ds.sample_ids()
    if config.samples:
        missing = [s for s in config.samples if s not in ids and not formats.is_complete(root / s)]
        if missing:
            raise ConfigError(f"{root}: no such sample(s): {', '.join(missing)}")
        chosen = list(config.samples)
    else:
        chosen = ids[: config.max_samples]
    if not chosen:
        raise ConfigError(f"{root}: the dataset lists no samples to preview")
    out_dir = Path(config.out) if config.out else root / PREVIEW_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for sid in chosen:
        written += preview_sample(ds.sample(sid), out_dir, config.sheet_frames)
    print(f"wrote {len(written)} preview files for {len(chosen)} sample(s) to {out_dir}")
    return 0
