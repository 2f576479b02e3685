"""Checks shared by the stages' config dataclasses (stdlib only, like the configs).

Every command validates its paths here, in its config's ``__post_init__``, so a bad path
stops the command with one line naming it before any work starts.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from void.errors import ConfigError


def parse_resolution(text: str | tuple | list, flag: str = "--resolution") -> tuple[int, int]:
    """``"256x128"`` -> ``(256, 128)`` as (width, height); tuples and lists pass through."""
    if isinstance(text, (tuple, list)):
        return tuple(int(v) for v in text)  # type: ignore[return-value]
    try:
        w, h = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise ConfigError(f"{flag} must be WxH, width and height in pixels (e.g. 256x256), got {text!r}") from None
    return (w, h)


def format_resolution(size: tuple[int, int] | list[int]) -> str:
    """``(256, 128)`` -> ``"256x128"``: the form :func:`parse_resolution` reads."""
    return "x".join(str(int(v)) for v in size)


def _can_create_in(folder: Path) -> bool:
    """Create and delete a file in ``folder``: the only test that also holds for root.

    ``os.access`` answers from the permission bits, which root ignores, and it knows nothing
    of read-only mounts; a real write answers both.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=".void-write-test-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def check_writable(out: str | Path, flag: str = "--out") -> None:
    """Fail at once, naming the flag and the path, if ``out`` cannot be created or written."""
    out = Path(out)
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == out else f"lies under {probe}, which is a file"
        raise ConfigError(f"{flag} {out}: {where}, expected a folder")
    if not os.access(probe, os.W_OK | os.X_OK) or not _can_create_in(probe):
        where = "" if probe == out else f"{probe} "
        raise ConfigError(f"{flag} {out}: {where}is not writable")


def check_folder(path: str | Path, flag: str, hint: str = "") -> None:
    """Fail, naming the flag and the path, unless ``path`` is an existing folder."""
    path = Path(path)
    if path.is_dir():
        return
    if path.exists():
        raise ConfigError(f"{flag} {path}: is a file, expected a folder")
    raise ConfigError(f"{flag} {path}: no such directory" + (f" ({hint})" if hint else ""))
