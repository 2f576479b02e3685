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


_DECODE_THREADS: int | None = None  # None: ffmpeg's choice (one per core)


def set_decode_threads(threads: int | None) -> None:
    """Threads of each ffmpeg decode from now on in this process (``None``: ffmpeg's choice).

    A pool whose workers already use every core sets 1: frame threads then only add
    switching (about 5% of the CPU a lossless 672x384 decode takes).
    """
    global _DECODE_THREADS
    _DECODE_THREADS = threads


def _ffmpeg():
    import imageio_ffmpeg  # light, but keep `import void` free of subprocess set-up

    return imageio_ffmpeg


def _read(path: str | os.PathLike, pix_fmt: str, channels: int) -> tuple[np.ndarray, float]:
    """Decode every frame with the ffmpeg binary into one ``(T, H, W[, C])`` uint8 array.

    Frames are read from the pipe straight into their rows of the array (at 672x384 the
    per-frame byte strings and the stacking of them cost a tenth of the scorer's time). Size,
    frame rate and duration come from the header ffmpeg writes to stderr before the first
    frame; stderr goes to a temporary file so that no pipe can fill up and stall the decoder.
    """
    import subprocess
    import tempfile

    from imageio_ffmpeg._parsing import parse_ffmpeg_header  # the parser read_frames uses

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file")
    threads = [] if _DECODE_THREADS is None else ["-threads", str(_DECODE_THREADS)]
    cmd = [_ffmpeg().get_ffmpeg_exe(), "-hide_banner", "-nostdin", *threads, "-i", str(path),
           "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]

    def failure(log, exc: Exception | None = None) -> VideoError:
        log.seek(0)
        lines = [ln.strip() for ln in log.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        return VideoError(f"{path}: corrupt or unreadable video ({lines[-1] if lines else type(exc).__name__})")

    with tempfile.TemporaryFile() as log:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        except OSError as exc:
            raise VideoError(f"{path}: corrupt or unreadable video (cannot start ffmpeg: {exc})") from exc
        with proc.stdout as out:
            try:
                if not out.peek(1):  # no frame at all: the log says why
                    proc.wait()
                    log.seek(0)
                    if parse_header_or_none(log.read(), parse_ffmpeg_header) is None:
                        raise failure(log)
                    raise VideoError(f"{path}: corrupt or truncated video (no frames decoded)")
                log.seek(0)
                meta = parse_ffmpeg_header(log.read().decode("utf-8", "replace"))
                width, height = meta["size"]
                fps = float(meta.get("fps") or 0.0)
            except VideoError:
                proc.kill()
                raise
            except (RuntimeError, ValueError, KeyError, IndexError, TypeError) as exc:
                proc.kill()
                raise failure(log, exc) from exc
            frame_bytes = width * height * channels
            # the header's duration gives the frame count (grown if it was short; capped, as a
            # broken container can claim hours)
            estimate = int(round(float(meta.get("duration") or 0.0) * fps)) + 2
            frames = np.empty((min(max(estimate, 8), 512), frame_bytes), dtype=np.uint8)
            n = 0
            while True:
                if n == len(frames):
                    frames = np.concatenate([frames, np.empty_like(frames)])
                row = memoryview(frames[n])
                got = 0
                while got < frame_bytes:
                    k = out.readinto(row[got:])
                    if not k:
                        break
                    got += k
                if got == 0:
                    break
                if got < frame_bytes:
                    proc.wait()
                    raise VideoError(f"{path}: truncated frame {n}")
                n += 1
        proc.wait()
    capacity, frames = len(frames), frames[:n]
    if n * 2 < capacity:  # a far too long estimate: do not keep the slack alive
        frames = frames.copy()
    return frames.reshape((n, height, width) + ((channels,) if channels > 1 else ())), fps


def parse_header_or_none(text: bytes, parse) -> dict | None:
    """ffmpeg's header parsed, or ``None`` when the log has none (the input did not open)."""
    try:
        return parse(text.decode("utf-8", "replace"))
    except (RuntimeError, ValueError, KeyError, IndexError, TypeError):
        return None


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


def video_info(path: str | os.PathLike, *, decode: bool = True) -> VideoInfo:
    """Size, frame rate and frame count.

    One ffmpeg run prints both the header and the count. With ``decode`` (the default) every
    frame is decoded, so the count is exact and a broken stream fails here; without it the
    packets are only counted (no decoding: for a quick check before the frames are decoded
    anyway, as ``void bench score`` does).
    """
    import re
    import subprocess

    from imageio_ffmpeg._parsing import parse_ffmpeg_header

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    cmd = [_ffmpeg().get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path),
           "-map", "0:v:0", *(["-vf", "null"] if decode else ["-c", "copy"]), "-f", "null", "-"]
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as exc:
        raise VideoError(f"{path}: corrupt or unreadable video (cannot start ffmpeg: {exc})") from exc
    text = done.stderr.decode("utf-8", "replace")
    meta = parse_header_or_none(done.stderr, parse_ffmpeg_header)
    counts = re.findall(r"frame=\s*(\d+)", text)
    if done.returncode != 0 or meta is None or not counts:
        raise VideoError(f"{path}: corrupt or unreadable video ({text.strip() or f'ffmpeg exit {done.returncode}'})")
    width, height = meta["size"]
    return VideoInfo(int(width), int(height), float(meta.get("fps") or 0.0), int(counts[-1]))


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
