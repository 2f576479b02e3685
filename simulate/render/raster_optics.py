"""Geometry of the raster renderer's optics: planar mirrors, point/spot lamp shadow maps, glass.

Pure numpy; ``simulate.render.raster`` turns these matrices into GL passes. Everything here
depends only on the scene spec and the poses of the objects a view draws, never on which
view is being rendered, so pixels that nothing changes stay bit-identical across views.
"""

from __future__ import annotations

import math

import numpy as np

from simulate.scene import LampSpec, SceneSpec, look_at_matrix, perspective_matrix

LAMP_NEAR_M = 0.02
# the six faces of a point lamp's shadow atlas (3 x 2 tiles): +x, -x, +y, -y, +z, -z
_CUBE = [
    ((1, 0, 0), (0, 0, 1)), ((-1, 0, 0), (0, 0, 1)),
    ((0, 1, 0), (0, 0, 1)), ((0, -1, 0), (0, 0, 1)),
    ((0, 0, 1), (0, 1, 0)), ((0, 0, -1), (0, 1, 0)),
]


def reflection_matrix(plane: np.ndarray) -> np.ndarray:
    """4x4 world-space reflection about ``plane``; ``view @ R`` is the mirrored camera."""
    n, d = plane[:3], plane[3]
    m = np.eye(4)
    m[:3, :3] -= 2.0 * np.outer(n, n)
    m[:3, 3] = -2.0 * d * n
    return m


def lamp_faces(lamp: LampSpec, position: np.ndarray, axis: np.ndarray) -> list[np.ndarray]:
    """View-projection matrices of a lamp's shadow map: six cube faces, or one for a spot."""
    far = float(lamp.range_m)
    if lamp.kind == "spot":
        up = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.95 else np.array([0.0, 1.0, 0.0])
        fov = min(170.0, float(lamp.cone_deg) + 10.0)
        return [perspective_matrix(fov, 1.0, LAMP_NEAR_M, far) @ look_at_matrix(position, position + axis, up)]
    proj = perspective_matrix(90.0, 1.0, LAMP_NEAR_M, far)
    return [proj @ look_at_matrix(position, position + np.asarray(d, float), np.asarray(u, float)) for d, u in _CUBE]


def lamp_cones(lamp: LampSpec) -> tuple[float, float]:
    """Cosines of the spot's outer and inner (fully lit) half angles."""
    if lamp.kind != "spot":
        return -2.0, -1.0
    outer = math.radians(float(lamp.cone_deg) / 2)
    inner = outer * (1.0 - float(np.clip(lamp.blend, 0.0, 1.0)))
    return math.cos(outer), math.cos(inner)


def lamp_state(scene: SceneSpec, poses: np.ndarray, visible: np.ndarray, frame: int):
    """``(lamp, position, axis)`` of the scene's lamp at ``frame`` in a view drawing ``visible``
    objects, or None when it has no lamp or its carrier is absent (removed, hidden, parked)."""
    if not scene.lamps:
        return None
    lamp = scene.lamps[0]
    if lamp.attached_to and not visible[scene.index_of(lamp.attached_to)]:
        return None
    where = scene.lamp_world(lamp, poses, frame)
    return None if where is None else (lamp, *where)


def glass_filter(obj) -> tuple[float, float, float]:
    """What one face of a glass object lets through of the sun (RGB): its tint, paler the
    clearer it is; frosted (rough) glass scatters some of it away."""
    color = np.asarray(obj.color, np.float64)
    t = float(np.clip(obj.transmission, 0.0, 1.0))
    through = color + (1.0 - color) * 0.55 * t
    through *= 1.0 - 0.35 * float(obj.roughness) * (1.0 - t)
    return tuple(float(v) for v in np.clip(through, 0.0, 1.0))


def glass_alpha(obj) -> float:
    """Opacity of a glass object's surface in the blended colour pass."""
    t = float(np.clip(obj.transmission, 0.0, 1.0))
    return float(np.clip(1.0 - 0.8 * t + 0.45 * float(obj.roughness) * t, 0.08, 1.0))
