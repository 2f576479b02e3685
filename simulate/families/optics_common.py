"""Helpers the optics families (``reflection``, ``light``, ``glass``) share.

A *fixture* is static scene furniture (a mirror, a pool of water, a table): ``mass_kg`` 0
makes pybullet treat it as immovable, ``role`` "fixture" keeps it out of the captions' list
of objects, and touching it is no interaction (a fixed body cannot change anything).
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.scene import ObjectSpec, SceneSpec, project


def fixture(oid: int, name: str, shape: str, size, color, position, orientation=(0.0, 0.0, 0.0, 1.0), **kw) -> ObjectSpec:
    return ObjectSpec(
        id=oid, name=name, shape=shape, size=[float(v) for v in size], color=[float(c) for c in color],
        position=[float(v) for v in position], orientation=[float(v) for v in orientation],
        mass_kg=0.0, friction=0.6, restitution=0.2, role="fixture", **kw,
    )


def dim_lights(rng: np.random.Generator, scene: SceneSpec) -> None:
    """An evening scene: a weak sun and little ambient light, so a lamp's light shows."""
    scene.light.sun_intensity = float(rng.uniform(0.12, 0.3))
    scene.light.ambient = float(rng.uniform(0.08, 0.16))


def toward(azimuth: float) -> np.ndarray:
    return np.array([math.cos(azimuth), math.sin(azimuth)])


def view_axes(rng: np.random.Generator) -> tuple[float, np.ndarray, np.ndarray]:
    """The camera's azimuth, the floor direction towards it, and a random side direction."""
    azimuth = float(rng.uniform(0, 2 * math.pi))
    to_cam = toward(azimuth)
    return azimuth, to_cam, np.array([-to_cam[1], to_cam[0]]) * (1 if rng.random() < 0.5 else -1)


def min_pixels(mask: np.ndarray) -> int:
    T, H, W = mask.shape
    return max(4, int(1e-3 * H * W))


def frames_with(count_per_frame: np.ndarray, mask: np.ndarray) -> int:
    return int((count_per_frame >= min_pixels(mask)).sum())


def affected_frames(views, mask: np.ndarray) -> int:
    """Frames with a visible 127/63 area (the side effect itself, not the object's pixels)."""
    T = mask.shape[0]
    return frames_with(((mask == 127) | (mask == 63)).reshape(T, -1).sum(axis=1), mask)


def reflected_on_screen(scene: SceneSpec, views, poses: np.ndarray, object_id: int) -> int:
    """Frames in which the mirror image of ``object_id``'s centre lands on the mirror's pixels
    (analytic geometry: the centre reflected about the mirror plane, projected, and looked up
    in the exact id pass of the full view)."""
    mirror = scene.mirrors[0]
    k = scene.index_of(object_id)
    ids, depth = views.full.ids, views.full.depth
    T, H, W = ids.shape
    count = 0
    for t in range(T):
        p = poses[t, k, :3]
        if not np.isfinite(p).all() or mirror.side(p) <= 0:
            continue
        px = project(mirror.reflect(p)[None], scene.camera, t, scene.num_frames, W, H)[0]
        x, y = int(px[0]), int(px[1])
        if px[2] <= 0 or not (0 <= x < W and 0 <= y < H):
            continue
        if ids[t, y, x] != mirror.object_id:
            continue
        if mirror.object_id == 0 and depth is not None and depth[t, y, x] >= 0.99 * scene.camera.far_m:
            continue  # the sky, not the floor
        count += 1
    return count


def lamp_color(rng: np.random.Generator) -> tuple[str, list[float]]:
    name = sampling.choice(rng, ["warm white", "yellow", "orange", "cool white"])
    rgb = {"warm white": [1.0, 0.85, 0.65], "yellow": [1.0, 0.8, 0.35], "orange": [1.0, 0.55, 0.25],
           "cool white": [0.85, 0.92, 1.0]}[name]
    return name, rgb


def roll_across(rng: np.random.Generator, obj: ObjectSpec, lateral: np.ndarray, clip_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Set a ball rolling along ``lateral`` so it crosses its path in about the clip; returns
    the path's start and end on the floor (centred on the origin)."""
    length = float(rng.uniform(0.35, 0.55))
    start = -lateral * length / 2
    obj.rolling_friction = 0.001
    speed = length / (clip_s * float(rng.uniform(1.0, 1.2)))
    obj.velocity = [float(v) for v in np.r_[lateral * speed, 0.0]]
    obj.angular_velocity = [float(v) for v in np.cross([0, 0, 1.0], np.r_[lateral, 0.0]) * speed / obj.size[0]]
    return start, start + lateral * length
