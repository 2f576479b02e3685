"""The results bundle: one file carrying a scored submission, portable between machines.

A bundle is a zip archive (written by ``void bench score``, read by ``void leaderboard
--bundles``)::

    bundle.json                      format, benchmark version, definition hash, renderer,
                                     the checksums scored against (text and its sha256), the
                                     method card, scoring facts, the long results table
    previews/<subset>/<sample>.mp4   small H.264 encodes of the method's videos (gallery)

The results table has the columns of ``evaluate.results.COLUMNS``; its ``sample_id`` is the
clip id ``<subset>/<sample_id>``.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluate.results import COLUMNS
from void import atomic, video
from void.errors import VoidError

BUNDLE_FORMAT = "void-bench-results-bundle"
BUNDLE_VERSION = 1
BUNDLE_JSON = "bundle.json"
PREVIEWS = "previews"
PREVIEW_MAX_WIDTH = 336  # half of v1's 672: a gallery row of five videos fits a screen
REQUIRED = ("format", "format_version", "version", "definition_hash", "renderer", "checksums", "checksums_sha256", "card", "rows")


class BundleError(VoidError, ValueError):
    """A bundle file that cannot be read or does not follow the format."""


@dataclass
class Bundle:
    path: Path
    data: dict[str, Any]

    @property
    def method(self) -> str:
        return str(self.data["card"]["name"])

    @property
    def task(self) -> str:
        """``removal`` or ``masks`` (bundles written before the mask track carry none: removal)."""
        return str(self.data.get("task") or "removal")

    @property
    def definition_hash(self) -> str:
        return str(self.data["definition_hash"])

    def table(self):
        import pandas as pd

        rows = self.data["rows"]
        return pd.DataFrame(rows["data"], columns=rows["columns"])

    def previews(self) -> list[str]:
        with zipfile.ZipFile(self.path) as zf:
            return [n for n in zf.namelist() if n.startswith(PREVIEWS + "/") and n.endswith(".mp4")]

    def extract_previews(self, dest: Path) -> dict[str, Path]:
        """Write the previews under ``dest/<subset>/<sample>.mp4``; clip id -> path."""
        out = {}
        with zipfile.ZipFile(self.path) as zf:
            for name in zf.namelist():
                if not (name.startswith(PREVIEWS + "/") and name.endswith(".mp4")):
                    continue
                clip = name[len(PREVIEWS) + 1:-4]
                target = dest / f"{clip}.mp4"
                data = zf.read(name)
                if not (target.is_file() and target.stat().st_size == len(data)):
                    atomic.write_bytes(target, data)
                out[clip] = target
        return out


def preview_frames(frames: np.ndarray, max_width: int = PREVIEW_MAX_WIDTH) -> np.ndarray:
    """Frames scaled down (area filter) to at most ``max_width``, even sizes for yuv420p."""
    import cv2

    t, h, w = frames.shape[:3]
    scale = min(1.0, max_width / w)
    nw, nh = max(2, int(round(w * scale / 2)) * 2), max(2, int(round(h * scale / 2)) * 2)
    if (nw, nh) == (w, h):
        return frames
    return np.stack([cv2.resize(f, (nw, nh), interpolation=cv2.INTER_AREA) for f in frames])


def write_preview(frames: np.ndarray, path: Path, fps: float) -> None:
    """A small browser-playable H.264 (yuv420p, faststart) of ``(T, H, W[, 3])`` frames."""
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    video.write_video(path, preview_frames(frames), fps, codec="h264")


def write_bundle(path: Path, data: dict[str, Any], previews: dict[str, Path]) -> None:
    """Write the bundle atomically; ``previews`` maps clip ids to encoded files."""
    with atomic.atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(BUNDLE_JSON, json.dumps(data, allow_nan=False, default=_plain))
            for clip, file in sorted(previews.items()):
                zf.write(file, f"{PREVIEWS}/{clip}.mp4", compress_type=zipfile.ZIP_STORED)


def _plain(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # numpy scalars from the results table
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_bundle(path: str | os.PathLike) -> Bundle:
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"{path}: no such bundle file (write one with `void bench score`)")
    try:
        with zipfile.ZipFile(path) as zf:
            data = json.loads(zf.read(BUNDLE_JSON))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: not a results bundle ({type(exc).__name__}: {exc})") from None
    if data.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path}: not a results bundle (format {data.get('format')!r})")
    if int(data.get("format_version", 0)) > BUNDLE_VERSION:
        raise BundleError(f"{path}: bundle format {data['format_version']} is newer than this tool reads; upgrade void-bench")
    if data.get("task", "removal") not in ("removal", "masks"):
        raise BundleError(f"{path}: unknown task {data['task']!r} (removal or masks)")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise BundleError(f"{path}: missing {', '.join(missing)}")
    if list(data["rows"].get("columns", [])) != list(COLUMNS):
        raise BundleError(f"{path}: results columns {data['rows'].get('columns')} are not {list(COLUMNS)}")
    col = COLUMNS.index("method")
    others = {str(r[col]) for r in data["rows"]["data"]} - {str(data["card"].get("name"))}
    if others:
        raise BundleError(f"{path}: results rows name method(s) {', '.join(sorted(others))}, the card names {data['card'].get('name')!r}")
    return Bundle(path, data)


def copy_with(src: str | os.PathLike, dst: str | os.PathLike, *, name: str | None = None, **fields: Any) -> Path:
    """A copy of a bundle with top-level fields of ``bundle.json`` (and the card's name) replaced.

    For relabelling a submission (the same method with other settings kept apart) and for
    making bundles to test the leaderboard's refusals; previews are copied unchanged.
    """
    dst = Path(dst)
    with atomic.atomic_path(dst) as tmp, zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == BUNDLE_JSON:
                body = json.loads(data)
                body.update(fields)
                if name is not None:
                    body["card"]["name"] = name
                    col = body["rows"]["columns"].index("method")
                    for row in body["rows"]["data"]:
                        row[col] = name
                data = json.dumps(body, allow_nan=False).encode()
            zout.writestr(item, data)
    return dst
