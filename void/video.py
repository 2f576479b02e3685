"""Video I/O: the only module that converts between files, arrays and tensors.

Layouts, documented once:

* on disk and in numpy: ``(T, H, W, C)`` uint8 (``C`` = 3 RGB), masks ``(T, H, W)`` uint8;
* in the model: ``(B, T, C, H, W)`` float in [-1, 1] (:func:`to_tensor`, :func:`from_tensor`).

Three encodings are written, all through the ffmpeg binary that ``imageio-ffmpeg`` ships:

* ``h264``: libx264 yuv420p crf 18 ``.mp4`` - what people and browsers watch, and what
  VOID's loader reads (``rgb_full.mp4``, predictions);
* ``lossless``: libx264rgb ``-qp 0`` ``.mkv`` - exact RGB ground truth for scoring;
* masks: libx264 gray ``-qp 0`` ``.mp4`` - exact for all 256 levels (see ``docs/dependencies.md``:
  imageio-ffmpeg adds its own ``-crf`` unless ``quality=None``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from void import quadmask
from void.errors import VoidError
from void.atomic import atomic_path

if TYPE_CHECKING:  # pragma: no cover
    import torch

CODECS = ("h264", "lossless")


class VideoError(VoidError, RuntimeError):
    """A video that cannot be read or written; the message names the file."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    num_frames: int  # decoded frame count


def _ffmpeg():
    import imageio_ffmpeg  # light, but keep `import void` free of subprocess set-up

    return imageio_ffmpeg


def _read(path: str | os.PathLike, pix_fmt: str, channels: int) -> tuple[np.ndarray, float]:
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file")
    ffmpeg = _ffmpeg()
    try:
        reader = ffmpeg.read_frames(str(path), pix_fmt=pix_fmt, bpp=channels)
        meta = next(reader)
        width, height = meta["size"]
        frame_bytes = width * height * channels
        frames = []
        for buf in reader:
            if len(buf) != frame_bytes:
                raise VideoError(f"{path}: truncated frame {len(frames)}")
            frames.append(np.frombuffer(buf, dtype=np.uint8))
    except VideoError:
        raise
    except (RuntimeError, OSError, StopIteration, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise VideoError(f"{path}: corrupt or unreadable video ({first})") from exc
    if not frames:
        raise VideoError(f"{path}: corrupt or truncated video (no frames decoded)")
    shape = (len(frames), height, width) + ((channels,) if channels > 1 else ())
    return np.stack(frames).reshape(shape), float(meta.get("fps") or 0.0)


def read_video(path: str | os.PathLike) -> np.ndarray:
    """All frames as ``(T, H, W, 3)`` uint8 RGB."""
    return _read(path, "rgb24", 3)[0]


def read_video_fps(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """Frames and the container's frame rate."""
    return _read(path, "rgb24", 3)


def read_mask(path: str | os.PathLike, *, strict: bool = False) -> np.ndarray:
    """A quadmask video as ``(T, H, W)`` uint8 holding only the four values.

    Reads channel 0 of the RGB decode, as VOID's loader does, so gray and 4:4:4 colour
    masks read alike. Values are quantized with VOID's thresholds; with ``strict`` any value
    that is not exactly one of the four raises :class:`~void.quadmask.QuadmaskError`
    naming the file.
    """
    raw = _read(path, "rgb24", 3)[0][..., 0]
    if strict:
        quadmask.validate(raw, source=str(path))
        return np.ascontiguousarray(raw)
    return quadmask.quantize(raw)


def video_info(path: str | os.PathLike) -> VideoInfo:
    """Size, frame rate and decoded frame count (decodes the stream: exact, not estimated)."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    ffmpeg = _ffmpeg()
    try:
        reader = ffmpeg.read_frames(str(path), pix_fmt="gray", bpp=1)
        meta = next(reader)
        reader.close()
        nframes, _ = ffmpeg.count_frames_and_secs(str(path))
    except (RuntimeError, OSError, StopIteration, KeyError) as exc:
        raise VideoError(f"{path}: corrupt or unreadable video ({exc})") from exc
    width, height = meta["size"]
    return VideoInfo(int(width), int(height), float(meta.get("fps") or 0.0), int(nframes))


def _check_frames(frames: np.ndarray, path: Path, gray: bool) -> np.ndarray:
    frames = np.asarray(frames)
    want = 3 if gray else 4
    if frames.dtype != np.uint8:
        raise VideoError(f"{path}: frames must be uint8, got {frames.dtype}")
    if frames.ndim != want or (not gray and frames.shape[-1] != 3):
        layout = "(T, H, W)" if gray else "(T, H, W, 3)"
        raise VideoError(f"{path}: frames must be {layout}, got shape {frames.shape}")
    if frames.shape[0] == 0:
        raise VideoError(f"{path}: no frames to write")
    return np.ascontiguousarray(frames)


def _write(path: Path, frames: np.ndarray, fps: float, pix_in: str, codec: str, codec_args: list[str], pix_out: str) -> None:
    ffmpeg = _ffmpeg()
    height, width = frames.shape[1:3]
    with atomic_path(path) as tmp:
        writer = ffmpeg.write_frames(
            str(tmp),
            (width, height),
            pix_fmt_in=pix_in,
            pix_fmt_out=pix_out,
            fps=fps,
            codec=codec,
            quality=None,  # otherwise imageio-ffmpeg adds its own -crf (docs/dependencies.md)
            macro_block_size=1,
            # bitexact: no random container ids or dates, so equal frames give equal files
            output_params=[*codec_args, "-fflags", "+bitexact"],
        )
        writer.send(None)
        for frame in frames:
            writer.send(frame.tobytes())
        writer.close()


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float, *, codec: str = "h264") -> None:
    """Write ``(T, H, W, 3)`` uint8 frames atomically.

    ``h264`` is lossy (crf 18) and browser-playable (yuv420p needs even sizes; odd sizes fall
    back to yuv444p); ``lossless`` is exact (libx264rgb ``-qp 0``, use a ``.mkv`` path).
    """
    path = Path(path)
    frames = _check_frames(frames, path, gray=False)
    if codec == "h264":
        even = frames.shape[1] % 2 == 0 and frames.shape[2] % 2 == 0
        pix_out = "yuv420p" if even else "yuv444p"
        args = ["-crf", "18", "-preset", "veryfast", "-movflags", "+faststart"]
    elif codec == "lossless":
        pix_out = "rgb24"
        args = ["-qp", "0", "-preset", "ultrafast"]
    else:
        raise ValueError(f"unknown codec {codec!r}; expected one of {CODECS}")
    _write(path, frames, fps, "rgb24", "libx264" if codec == "h264" else "libx264rgb", args, pix_out)


def write_mask(path: str | os.PathLike, mask: np.ndarray, fps: float) -> None:
    """Write a ``(T, H, W)`` quadmask losslessly (gray libx264 ``-qp 0``, full range)."""
    path = Path(path)
    mask = _check_frames(mask, path, gray=True)
    quadmask.validate(mask, source=str(path))
    args = ["-qp", "0", "-preset", "veryfast", "-color_range", "pc", "-movflags", "+faststart"]
    _write(path, mask, fps, "gray", "libx264", args, "gray")


def to_tensor(frames: np.ndarray) -> "torch.Tensor":
    """``(T, H, W, C)`` uint8 -> ``(T, C, H, W)`` float32 in [-1, 1]."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(frames))
    if t.ndim == 3:
        t = t[..., None]
    return t.permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def from_tensor(video: "torch.Tensor") -> np.ndarray:
    """``(T, C, H, W)`` float in [-1, 1] -> ``(T, H, W, C)`` uint8 (rounded, clipped)."""
    arr = video.detach().float().cpu().clamp(-1, 1).add(1).mul(127.5).round().to(dtype=__import__("torch").uint8)
    return arr.permute(0, 2, 3, 1).numpy()
