"""Quaternions ``(x, y, z, w)`` (pybullet's order): the one home of their math.

Sampling, physics and both renderers turn orientations into matrices here, so they agree on
the convention and all normalise: a quaternion that drifted off unit length (sums of
rotations, values read back from JSON) still gives a rotation, not a scaled one.
"""

from __future__ import annotations

import math

import numpy as np


def quat_matrix(q) -> np.ndarray:
    """``(..., 4)`` quaternions -> ``(..., 3, 3)`` rotation matrices (float64).

    Each quaternion is normalised first; an all-zero one gives the identity and NaN stays NaN
    (renderers mark frames without a pose with NaN rows).
    """
    q = np.asarray(q, dtype=np.float64)
    n = np.sqrt(np.sum(q * q, axis=-1, keepdims=True))
    q = q / np.where(n == 0.0, 1.0, n)
    x, y, z, w = (q[..., i] for i in range(4))
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - z * w)
    m[..., 0, 2] = 2 * (x * z + y * w)
    m[..., 1, 0] = 2 * (x * y + z * w)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - x * w)
    m[..., 2, 0] = 2 * (x * z - y * w)
    m[..., 2, 1] = 2 * (y * z + x * w)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def quat_rotate(q, pts: np.ndarray) -> np.ndarray:
    """Rotate points ``(K, 3)`` by one quaternion."""
    return np.asarray(pts, dtype=np.float64) @ quat_matrix(q).T


def quat_z(yaw: float) -> list[float]:
    """Rotation by ``yaw`` radians about +z."""
    return [0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]


def quat_mul(a, b) -> list[float]:
    """Hamilton product ``a * b``: rotate by ``b``, then by ``a``."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return [
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ]
