"""``occlusion``: the removed object passes in front of others without touching anything.
Nothing in the scene depends on it, so the mask is its own pixels (0) and its shadow (127):
pure inpainting, the control case for the interaction families.

The object either rolls along the floor (a ball) or is thrown in a low arc, on a line
between the camera and a resting group, far enough from the group that it cannot touch it.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.families.common import ballistic_velocity, duration_s, focus_points, free_spot, rest_on_floor
from simulate.scene import ObjectSpec, SceneSpec

NAME = "occlusion"
INTERACTION = False


def sample_scene(rng: np.random.Generator, config) -> SceneSpec:
    clip = duration_s(config)
    objects: list[ObjectSpec] = []
    taken: list = []
    n_group = int(rng.integers(2, 6))
    group_r = 0.12 * n_group + 0.1
    for k in range(n_group):
        obj = sampling.make_object(rng, k + 1, role="target" if k == 0 else "distractor", extent_m=(0.14, 0.3))
        xy = free_spot(rng, sampling.footprint_radius(obj), taken, r_range=(0.0, group_r), gap=0.03)
        rest_on_floor(obj, xy)
        taken.append((xy, sampling.footprint_radius(obj)))
        objects.append(obj)
    mode = sampling.choice(rng, ["roll", "throw"])
    azimuth = float(rng.uniform(0, 2 * math.pi))
    toward_cam = np.array([math.cos(azimuth), math.sin(azimuth)])
    lateral = np.array([-toward_cam[1], toward_cam[0]]) * (1 if rng.random() < 0.5 else -1)
    if mode == "roll":
        mover = sampling.make_object(rng, n_group + 1, role="removed", shape="sphere", extent_m=(0.1, 0.22))
        mover.rolling_friction = 0.001
    else:
        mover = sampling.make_object(rng, n_group + 1, role="removed", extent_m=(0.1, 0.22))
    r_m = sampling.footprint_radius(mover)
    # the path runs just in front of the group's nearest object, clear of all of them
    front = max(float(np.dot(q, toward_cam)) + r for q, r in taken)
    offset = front + r_m + float(rng.uniform(0.05, 0.15))
    half_path = float(rng.uniform(0.35, 0.6))
    start = toward_cam * offset - lateral * half_path
    end = toward_cam * offset + lateral * half_path
    rest_on_floor(mover, start)
    # the mover reaches the far end of its path around the last frame, not before: what
    # keeps going leaves the picture
    if mode == "roll":
        speed = 2 * half_path / (clip * float(rng.uniform(1.0, 1.15)))
        mover.velocity = [float(v) for v in np.r_[lateral * speed, 0.0]]
        mover.angular_velocity = [float(v) for v in np.cross([0, 0, 1.0], np.r_[lateral, 0.0]) * speed / mover.size[0]]
    else:
        # a short low throw (a long one would be a lob metres high); it lands part-way and
        # slides or rolls on along the path
        landing = np.r_[start + (end - start) * float(rng.uniform(0.45, 0.65)), mover.position[2]]
        flight = min(float(rng.uniform(0.45, 0.8)), 0.8 * clip)
        mover.velocity = ballistic_velocity(mover.position, landing, flight)
        mover.angular_velocity = [float(v) for v in rng.normal(0, 2.0, size=3)]
    objects.append(mover)
    path = [[*start, 0.0], [*end, 0.0], [*(start + end) / 2, 0.5 if mode == "throw" else 0.1]]
    # a low camera on the mover's side of the group, so the mover crosses in front of it
    return sampling.scene(
        rng, config, NAME, 0, objects, [mover.id], focus_points(objects, path),
        camera_azimuth=azimuth + float(rng.uniform(-0.25, 0.25)), elevation_deg=(6, 20), extras={"mode": mode},
    )
