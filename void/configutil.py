"""Checks shared by the stages' config dataclasses (stdlib only, like the configs)."""

from __future__ import annotations

import os
from pathlib import Path

from void.errors import ConfigError


def parse_resolution(text: str | tuple | list, flag: str = "--resolution") -> tuple[int, int]:
    """``"256x128"`` -> ``(256, 128)`` as (width, height); tuples and lists pass through."""
    if isinstance(text, (tuple, list)):
        return tuple(int(v) for v in text)  # type: ignore[return-value]
    try:
        w, h = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise ConfigError(f"{flag} must look like WxH (e.g. 256x256), got {text!r}") from None
    return (w, h)


def check_writable(out: str | Path, flag: str = "--out") -> None:
    """Fail at once, naming the flag, if ``out`` cannot be created or written."""
    out = Path(out)
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"{flag} {out}: {probe} exists and is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {out}: {probe} is not writable")
