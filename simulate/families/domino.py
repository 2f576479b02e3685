"""``domino``: a chain of standing pieces; the first is tipped and the chain falls in turn.
An early piece is removed: the pieces before it still fall, the chain stops at the gap.

Spacing is drawn between 0.55 and 0.75 piece heights: close enough that a falling piece
reaches the next (spacing < height), far enough that it cannot bridge a missing one
(twice the spacing > height), so removing a piece really stops the chain.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.families.common import add_distractors, duration_s, focus_points
from simulate.scene import ObjectSpec, SceneSpec

NAME = "domino"
INTERACTION = True
SECONDS_PER_PIECE = 0.2  # a rough fall time, to size the chain to the clip


def sample_scene(rng: np.random.Generator, config) -> SceneSpec:
    clip = duration_s(config)
    n = int(np.clip(round(clip / SECONDS_PER_PIECE), 4, 9))
    n = int(rng.integers(max(4, n - 2), n + 1))
    height = float(rng.uniform(0.12, 0.2))
    half = [float(rng.uniform(0.09, 0.13)) * height, float(rng.uniform(0.25, 0.35)) * height, height / 2]
    spacing = float(rng.uniform(0.55, 0.75)) * height
    curvature = float(rng.uniform(-1.5, 1.5)) if rng.random() < 0.5 else 0.0  # 1/m
    yaw0 = float(rng.uniform(0, 2 * math.pi))
    color_name, rgb = sampling.color(rng)
    material = sampling.choice(rng, ["wood", "plastic"])
    mat = sampling.MATERIALS[material]
    friction = float(rng.uniform(0.5, 0.7))

    objects: list[ObjectSpec] = []
    xy = np.zeros(2)
    yaw = yaw0
    start = -(n - 1) / 2 * spacing
    xy = start * np.array([math.cos(yaw0), math.sin(yaw0)])
    for k in range(n):
        if k:
            yaw += curvature * spacing
            xy = xy + spacing * np.array([math.cos(yaw), math.sin(yaw)])
        piece = ObjectSpec(
            id=k + 1,
            name=f"{color_name} {sampling.MATERIAL_WORDS[material]} domino",
            shape="box",
            size=list(half),
            color=[float(np.clip(c + d, 0, 1)) for c, d in zip(rgb, rng.uniform(-0.03, 0.03, size=3))],
            position=[float(xy[0]), float(xy[1]), half[2] + 1e-3],
            orientation=sampling.quat_z(yaw),
            material=material,
            roughness=mat.roughness,
            metallic=mat.metallic,
            mass_kg=float(mat.density_kg_m3 * 8 * np.prod(half)),
            friction=friction,
            restitution=0.05,
            role="target",
        )
        objects.append(piece)

    # tip the first piece towards the chain: rotate about its front bottom edge
    first = objects[0]
    omega = float(rng.uniform(3.0, 5.0))
    fwd = np.array([math.cos(yaw0), math.sin(yaw0), 0.0])
    axis = np.cross([0.0, 0.0, 1.0], fwd)  # tipping forward = rotating about this axis
    pivot = np.asarray(first.position) + fwd * half[0] - np.array([0, 0, half[2]])
    w = axis * omega
    first.angular_velocity = [float(v) for v in w]
    first.velocity = [float(v) for v in np.cross(w, np.asarray(first.position) - pivot)]
    first.role = "distractor"

    k_removed = int(rng.integers(0, min(3, n - 2)))
    objects[k_removed].role = "removed"
    taken = [(np.asarray(o.position[:2]), float(np.hypot(half[0], half[1]))) for o in objects]
    add_distractors(rng, objects, int(rng.integers(0, 3)), taken, center=(0.0, 0.0), r_range=(0.25, 0.6))
    side = yaw0 + math.pi / 2 * (1 if rng.random() < 0.5 else -1) + rng.uniform(-0.7, 0.7)
    # where the last piece lands when the chain reaches it: keep that in the picture too
    last = np.asarray(objects[n - 1].position)
    landing = last + np.array([math.cos(yaw), math.sin(yaw), 0.0]) * height
    return sampling.scene(
        rng, config, NAME, 0, objects, [objects[k_removed].id], focus_points(objects, [landing]),
        camera_azimuth=float(side), elevation_deg=(15, 40), extras={"chain_length": n, "removed_index": k_removed},
    )
