"""Scenario families: each module is a sampler ``sample_scene(rng, config) -> SceneSpec``.

A family module defines ``NAME``, ``INTERACTION`` (whether the removed objects must touch
something: false only for ``occlusion``) and ``sample_scene``. Families never import a
renderer; the generator simulates, validates and renders what they sample.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from simulate.config import FAMILIES

__all__ = ["FAMILIES", "get"]


def get(name: str) -> ModuleType:
    """The sampler module of family ``name``."""
    if name not in FAMILIES:
        raise KeyError(f"unknown family {name!r}; expected one of {', '.join(FAMILIES)}")
    return importlib.import_module(f"simulate.families.{name}")
