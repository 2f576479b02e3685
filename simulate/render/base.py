"""The renderer interface: a scene spec and poses in, the three views of a sample out.

A renderer never imports physics or families, and families never import a renderer: the
generator hands a :class:`~simulate.scene.SceneSpec` and the poses of the full and the
counterfactual simulations to :meth:`Renderer.render_views` and gets back pixels plus the
exact passes the quadmask is built from.

Contract (what ``simulate.groundtruth`` relies on):

* ``ids``: exact object-id pass, ``(T, H, W)`` int32, 0 = floor/background, else
  ``ObjectSpec.id``;
* ``signature``: a noise-free per-pixel value, ``(T, H, W, K)``; two views are "the same
  here" exactly when signatures and ids are equal. For a rasterizer this is the RGB itself;
  a path tracer supplies a deterministic pass (e.g. albedo x direct shadowing) instead;
* where two views have equal signatures and ids, their ``rgb`` must be bit-identical (a path
  tracer composites to guarantee it), so 255 pixels are identical in input and target.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulate.scene import SceneSpec


@dataclass
class RenderPasses:
    rgb: np.ndarray  # (T, H, W, 3) uint8
    ids: np.ndarray  # (T, H, W) int32
    signature: np.ndarray  # (T, H, W, K) noise-free, compared exactly
    depth: np.ndarray | None = None  # (T, H, W) float32, metres along the view axis


@dataclass
class Views:
    """The three renders of one sample."""

    full: RenderPasses  # all objects, full-simulation poses
    hidden: RenderPasses  # full-simulation poses, removed objects not rendered at all
    removed: RenderPasses  # counterfactual poses (removed objects absent)
    info: dict[str, Any] = field(default_factory=dict)  # how it was made (for metadata.json)
    timings_s: dict[str, float] = field(default_factory=dict)  # CPU seconds by stage


class Renderer(abc.ABC):
    """Base class. Subclasses set ``name`` and implement :meth:`render_views`."""

    name: str = "renderer"

    @abc.abstractmethod
    def render_views(self, scene: SceneSpec, poses_full: np.ndarray, poses_removed: np.ndarray) -> Views:
        """Render full, hidden and removed views of ``scene`` (poses are ``(T, N, 7)``)."""

    def settings(self) -> dict[str, Any]:
        """Renderer settings recorded in metadata.json."""
        return {"renderer": self.name}

    def close(self) -> None:
        """Release contexts / processes."""
