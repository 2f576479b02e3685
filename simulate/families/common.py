"""Placement helpers the scenario samplers share."""

from __future__ import annotations

import math

import numpy as np

from simulate import physics, sampling
from simulate.scene import ObjectSpec


class Reject(Exception):
    """A draw that cannot become a valid scene; ``reason`` is counted in dataset.json."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def duration_s(config) -> float:
    return config.frames / config.fps


def rest_on_floor(obj: ObjectSpec, xy, settle_mesh: bool = True) -> ObjectSpec:
    """Put ``obj`` at ``xy`` resting on the floor (meshes in the pose they settle into)."""
    if obj.shape == "mesh" and settle_mesh:
        obj.position = [0.0, 0.0, sampling.rest_height(obj) + 0.01]
        _, orientation = physics.settle(obj)
        obj.orientation = orientation
    obj.position = [float(xy[0]), float(xy[1]), sampling.rest_height(obj) + 1e-3]
    return obj


def rest_on(obj: ObjectSpec, below: ObjectSpec, xy=None) -> ObjectSpec:
    """Put ``obj`` on top of ``below`` (upright primitives and settled meshes)."""
    if obj.shape == "mesh":
        rest_on_floor(obj, (0.0, 0.0))
    x, y = (below.position[0], below.position[1]) if xy is None else xy
    top = below.position[2] + sampling.top_height(below)
    obj.position = [float(x), float(y), top + sampling.rest_height(obj) + 1e-3]
    return obj


def free_spot(
    rng: np.random.Generator,
    radius: float,
    taken: list[tuple[np.ndarray, float]],
    *,
    center=(0.0, 0.0),
    r_range=(0.0, 1.0),
    gap: float = 0.05,
    segments: list[tuple[np.ndarray, np.ndarray, float]] = (),
    tries: int = 60,
) -> np.ndarray:
    """A floor point ``r_range`` from ``center`` whose disc of ``radius`` keeps ``gap`` from the
    discs in ``taken`` and from the corridors ``segments`` ((a, b, half width)); raises Reject."""
    center = np.asarray(center, float)
    for _ in range(tries):
        r = rng.uniform(*r_range)
        a = rng.uniform(0, 2 * math.pi)
        p = center + r * np.array([math.cos(a), math.sin(a)])
        if any(np.linalg.norm(p - q) < radius + rq + gap for q, rq in taken):
            continue
        if any(_segment_distance(p, a_, b_) < radius + w + gap for a_, b_, w in segments):
            continue
        return p
    raise Reject("placement", "no free spot for an object")


def _segment_distance(p, a, b) -> float:
    a, b = np.asarray(a, float)[:2], np.asarray(b, float)[:2]
    ab = b - a
    s = float(np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0, 1))
    return float(np.linalg.norm(p - (a + s * ab)))


def add_distractors(
    rng: np.random.Generator,
    objects: list[ObjectSpec],
    count: int,
    taken: list[tuple[np.ndarray, float]],
    *,
    center=(0.0, 0.0),
    r_range=(0.4, 0.8),
    segments=(),
    extent_m=(0.12, 0.28),
) -> None:
    """Append ``count`` resting distractors that keep clear of ``taken`` and ``segments``."""
    for _ in range(count):
        obj = sampling.make_object(rng, len(objects) + 1, role="distractor", extent_m=extent_m)
        xy = free_spot(rng, sampling.footprint_radius(obj), taken, center=center, r_range=r_range, segments=segments)
        rest_on_floor(obj, xy)
        taken.append((xy, sampling.footprint_radius(obj)))
        objects.append(obj)


def ballistic_velocity(start, target, t: float, gravity: float = -9.81) -> list[float]:
    """Initial velocity that carries a point from ``start`` to ``target`` in ``t`` seconds."""
    start, target = np.asarray(start, float), np.asarray(target, float)
    v = (target - start) / t
    v[2] -= 0.5 * gravity * t
    return [float(x) for x in v]


def focus_points(objects: list[ObjectSpec], extra=()) -> np.ndarray:
    """Points the camera must see: each object's centre and top."""
    pts = []
    for o in objects:
        p = np.asarray(o.position, float)
        pts += [p, p + [0, 0, sampling.top_height(o)]]
    pts += [np.asarray(e, float) for e in extra]
    return np.asarray(pts)
