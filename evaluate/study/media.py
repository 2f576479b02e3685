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
