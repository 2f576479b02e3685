"""Serving study videos: by id, and only from the study's own folders.

The app never puts a path in a URL or in session state; it asks for a video id that the
store assigned to the participant's trial. This module turns the id back into a file and
refuses anything that resolves (after symlinks and ``..``) outside the folders the study
was created with - the predictions of its methods and its inputs - or that is not a video.
"""

from __future__ import annotations

import os
from pathlib import Path

from void.errors import VoidError

VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm"}
MAX_BYTES = 512 * 1024 * 1024  # a study clip is a few MB; refuse to load anything absurd


class MediaError(VoidError, PermissionError):
    """A video id that does not exist or a path outside the study's folders."""


def contained(path: str | os.PathLike, roots: list[str]) -> Path:
    """``path`` resolved, if it is a video file inside one of ``roots``; else MediaError."""
    try:
        resolved = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):
        raise MediaError(f"video not found: {path}") from None
    for root in roots:
        try:
            root_resolved = Path(root).resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if resolved.is_relative_to(root_resolved):
            break
    else:
        raise MediaError(f"refused: {path} is outside the study's video folders")
    if resolved.suffix.lower() not in VIDEO_TYPES or not resolved.is_file():
        raise MediaError(f"refused: {path} is not a video file")
    return resolved


def parse_id(video_id: object) -> int:
    """Accept only a positive integer id (an int, or digits); never a path or a name."""
    if isinstance(video_id, bool):
        raise MediaError(f"invalid video id {video_id!r}")
    if isinstance(video_id, int):
        value = video_id
    elif isinstance(video_id, str) and video_id.isascii() and video_id.isdigit() and len(video_id) < 19:
        value = int(video_id)
    else:
        raise MediaError(f"invalid video id {video_id!r}")
    if value <= 0:
        raise MediaError(f"invalid video id {video_id!r}")
    return value


def resolve(store, video_id: object) -> Path:
    """The file behind a video id of ``store``'s study, checked for containment."""
    vid = parse_id(video_id)
    path = store.video_path(vid)
    if path is None:
        raise MediaError(f"no video with id {vid}")
    return contained(path, store.definition().roots)


def read(store, video_id: object) -> tuple[bytes, str]:
    """The bytes and MIME type of a study video."""
    path = resolve(store, video_id)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise MediaError(f"refused: {path} is {size / 2**20:.0f} MiB, above the {MAX_BYTES // 2**20} MiB limit")
    return path.read_bytes(), VIDEO_TYPES[path.suffix.lower()]


def salted(data: bytes, mime: str, rng=None) -> bytes:
    """``data`` with a random, randomly sized trailer that players skip.

    Each participant gets every video under its own bytes, so two byte-identical files (a
    baseline that copies the input, two methods that agree) never share bytes, size or an
    address: a gold trial cannot be told from its URLs. MP4 gets a trailing ``free`` box
    (ISO/IEC 14496-12 section 8.1.2, ignored by every reader, offsets of the boxes before it
    unchanged); WebM a trailing EBML ``Void`` element (ID 0xEC), which Matroska readers skip.
    """
    import secrets

    rng = rng or secrets.SystemRandom()
    payload = secrets.token_bytes(16 + rng.randrange(0, 4096))
    if mime == "video/mp4":
        return data + (8 + len(payload)).to_bytes(4, "big") + b"free" + payload
    if mime == "video/webm":
        # 8-byte size vint: 0x01 marker then 7 bytes of length
        return data + b"\xec" + bytes([0x01]) + len(payload).to_bytes(7, "big") + payload
    raise MediaError(f"cannot salt {mime}: only {', '.join(VIDEO_TYPES.values())}")


def session_name() -> str:
    """A random file name for one participant's copy of a video: no method, sample or hash."""
    import secrets

    return secrets.token_urlsafe(12)


OVERLAY_RGB = (255, 40, 40)  # the tint and outline of the region to remove
OVERLAY_ALPHA = 0.35
OUTLINE_PX = 2


def mark_region(frames, mask):
    """``frames`` (T, H, W, 3) uint8 with the quadmask's 0 region (the object to remove)
    tinted and outlined, so a participant sees what "the object" is."""
    import numpy as np

    from void import quadmask

    region = mask == quadmask.REMOVE
    inner = region.copy()
    # two 4-neighbour erosions: what stays is the interior; the rest, a 2 px band, the outline
    for _ in range(OUTLINE_PX):
        shrunk = inner.copy()
        shrunk[:, 1:, :] &= inner[:, :-1, :]
        shrunk[:, :-1, :] &= inner[:, 1:, :]
        shrunk[:, :, 1:] &= inner[:, :, :-1]
        shrunk[:, :, :-1] &= inner[:, :, 1:]
        inner = shrunk
    edge = region & ~inner
    out = frames.astype(np.float32)
    color = np.array(OVERLAY_RGB, np.float32)
    out[region] = (1 - OVERLAY_ALPHA) * out[region] + OVERLAY_ALPHA * color
    out[edge] = color
    return out.round().clip(0, 255).astype(np.uint8)


def overlay(store, video_id: object) -> bytes:
    """An H.264 copy of a source video with its object marked (see :func:`mark_region`)."""
    import tempfile

    from void import video

    src = resolve(store, video_id)
    mask_path = store.mask_path(parse_id(video_id))
    if mask_path is None:
        raise MediaError(f"video {video_id} has no quadmask to outline")
    mask_file = contained(mask_path, store.definition().roots)
    frames, fps = video.read_video_fps(src)
    mask = video.read_mask(mask_file)
    if mask.shape != frames.shape[:3]:
        raise MediaError(f"{mask_file}: mask {mask.shape} does not match the video {frames.shape[:3]} of {src}")
    with tempfile.TemporaryDirectory(prefix="void-study-overlay-") as tmp:
        out = Path(tmp) / "marked.mp4"
        video.write_video(out, mark_region(frames, mask), fps)
        return out.read_bytes()

