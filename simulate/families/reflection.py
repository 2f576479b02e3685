"""``reflection``: the removed object is seen twice, directly and in a reflective surface.

Surfaces (``extras["surface"]``): a wall ``mirror`` standing behind the group, a ``glossy``
polished floor, a pool of still ``water`` the objects stand beside, and a ``glass_top``
table plate the removed object stands on. The removed object either rests or rolls past the
group without touching it; its mirror image (and the reflection of its shadow) is 127,
exactly where the renders of the reflective surface differ, and a draw whose mirror image
does not land on the surface on screen is rejected (``reflection_off_screen``).
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.families.common import add_distractors, duration_s, focus_points, free_spot, rest_on_floor
from simulate.families.optics_common import affected_frames, fixture, reflected_on_screen, roll_across, toward, view_axes
from simulate.scene import MirrorSpec, ObjectSpec, SceneSpec

NAME = "reflection"
INTERACTION = False
SURFACES = ("mirror", "glossy", "water", "glass_top")
_ELEVATION = {"mirror": (6, 20), "glossy": (10, 28), "water": (12, 30), "glass_top": (15, 32)}


def _removed(rng, oid: int, roll: bool) -> ObjectSpec:
    if roll:
        return sampling.make_object(rng, oid, role="removed", shape="sphere", extent_m=(0.12, 0.22))
    return sampling.make_object(rng, oid, role="removed", extent_m=(0.12, 0.26))


def sample_scene(rng: np.random.Generator, config) -> SceneSpec:
    clip = duration_s(config)
    surface = sampling.choice(rng, SURFACES)
    azimuth, to_cam, lateral = view_axes(rng)
    roll = surface != "glass_top" and rng.random() < 0.4
    objects: list[ObjectSpec] = []
    taken: list = []
    extra = []
    mover = _removed(rng, 1, roll)
    objects.append(mover)
    start, end = roll_across(rng, mover, lateral, clip) if roll else (np.zeros(2), None)
    if surface == "glass_top":
        top_h = float(rng.uniform(0.22, 0.38))
        half = [float(rng.uniform(0.28, 0.4)), float(rng.uniform(0.22, 0.32)), 0.008]
        yaw = float(rng.uniform(0, 2 * math.pi))
        tint = [float(v) for v in np.clip(np.array([0.55, 0.7, 0.68]) + rng.uniform(-0.1, 0.1, 3), 0, 1)]
        plate = fixture(2, "glass table top", "box", half, tint, [0, 0, top_h - half[2]], sampling.quat_z(yaw),
                        transmission=float(rng.uniform(0.5, 0.75)), roughness=0.05, material="plastic")
        objects.append(plate)
        leg_r = 0.015
        for sx in (-1, 1):
            for sy in (-1, 1):
                c = np.array([sx * (half[0] - 0.04), sy * (half[1] - 0.04)])
                rot = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
                xy = rot @ c
                leg_h = top_h - 2 * half[2]
                objects.append(fixture(len(objects) + 1, "table leg", "cylinder", [leg_r, leg_h], [0.15, 0.15, 0.16],
                                       [xy[0], xy[1], leg_h / 2], material="metal", metallic=1.0, roughness=0.3))
        mover.position = [0.0, 0.0, top_h + sampling.rest_height(mover) + 1e-3]
        if mover.shape == "mesh":
            rest_on_floor(mover, (0.0, 0.0))
            mover.position[2] = top_h + sampling.rest_height(mover) + 1e-3
        mirror = MirrorSpec("glass_top", [0.0, 0.0, top_h], [0.0, 0.0, 1.0], float(rng.uniform(0.25, 0.4)),
                            object_id=plate.id, tint=[0.9, 1.0, 1.0])
        taken.append((np.zeros(2), math.hypot(half[0], half[1]) + 0.05))
        r_range = (0.45, 0.8)
    else:
        rest_on_floor(mover, start)
        taken.append((start, sampling.footprint_radius(mover)))
        if roll:
            extra = [[*end, 0.1]]
            taken.append((end, sampling.footprint_radius(mover)))
        r_range = (0.25, 0.6)
        mirror = None
    if surface == "mirror":
        dist = float(rng.uniform(0.35, 0.6))
        n2 = toward(azimuth + float(rng.uniform(-0.35, 0.35)))
        half = [0.01, float(rng.uniform(0.45, 0.75)), float(rng.uniform(0.28, 0.45))]
        lift = float(rng.uniform(0.0, 0.12))
        face = -to_cam * dist
        center = np.r_[face - n2 * half[0], half[2] + lift]
        frame_color = [0.85, 0.87, 0.9]
        glass = fixture(2, "wall mirror", "box", half, frame_color, center, sampling.quat_z(math.atan2(n2[1], n2[0])),
                        material="metal", roughness=0.05, metallic=1.0)
        objects.append(glass)
        mirror = MirrorSpec("mirror", [float(face[0]), float(face[1]), float(center[2])], [float(n2[0]), float(n2[1]), 0.0],
                            float(rng.uniform(0.8, 0.95)), object_id=glass.id)
        extra.append([*(face + n2 * 0.0), center[2] + half[2]])
        # the group stands in front of the mirror, on the camera's side
        r_range = (0.2, max(0.3, dist - 0.2))
    elif surface == "glossy":
        mirror = MirrorSpec("glossy", [0.0, 0.0, 0.0], [0.0, 0.0, 1.0], float(rng.uniform(0.25, 0.45)), object_id=0)
    elif surface == "water":
        # the pool lies between the camera and the object, so the reflection falls on it
        half = [float(rng.uniform(0.3, 0.45)), float(rng.uniform(0.35, 0.55)), 0.0005]
        center = start + to_cam * (half[0] + sampling.footprint_radius(mover) + 0.02)
        yaw = azimuth
        water = fixture(2, "pool of still water", "box", half, [0.05, 0.16, 0.2], [center[0], center[1], half[2]],
                        sampling.quat_z(yaw), roughness=0.02)
        objects.append(water)
        mirror = MirrorSpec("water", [0.0, 0.0, 2 * half[2]], [0.0, 0.0, 1.0], float(rng.uniform(0.55, 0.75)),
                            object_id=water.id, tint=[0.8, 0.92, 0.95])
        taken.append((center, math.hypot(half[0], half[1])))
        extra.append([center[0], center[1], 0.0])
    n_extra = int(rng.integers(1, 4))
    if surface == "mirror":
        center_group = -to_cam * 0.0
        for _ in range(n_extra):
            obj = sampling.make_object(rng, len(objects) + 1, role="distractor", extent_m=(0.1, 0.24))
            xy = free_spot(rng, sampling.footprint_radius(obj), taken, center=center_group, r_range=r_range)
            if mirror.side([xy[0], xy[1], 0.0]) < sampling.footprint_radius(obj) + 0.05:
                continue  # behind (or in) the mirror
            rest_on_floor(obj, xy)
            taken.append((xy, sampling.footprint_radius(obj)))
            objects.append(obj)
    else:
        add_distractors(rng, objects, n_extra, taken, r_range=r_range, extent_m=(0.1, 0.24))
    focus = focus_points([o for o in objects if o.role != "fixture" or o.name != "table leg"], extra)
    scene = sampling.scene(
        rng, config, NAME, 0, objects, [mover.id], focus,
        camera_azimuth=azimuth + float(rng.uniform(-0.3, 0.3)), elevation_deg=_ELEVATION[surface],
        extras={"surface": surface, "removed_motion": "rolls" if roll else "rests"},
    )
    if surface == "glossy":
        scene.floor.pattern = sampling.choice(rng, ["plain", "checker"])
        scene.floor.roughness = 0.05
    scene.mirrors = [mirror]
    scene.extras["optics"] = {
        "effect": "reflection",
        "surface": surface,
        "mirror_object_id": mirror.object_id,
        "reflectivity": mirror.reflectivity,
    }
    return scene


def check_render(scene: SceneSpec, views, mask: np.ndarray, poses_full: np.ndarray) -> str | None:
    """The removed object's mirror image must land on the reflective surface in a quarter of
    the frames, and the effect must show in the mask."""
    T = mask.shape[0]
    poses = poses_full
    if reflected_on_screen(scene, views, poses, scene.removed_ids[0]) < max(1, T // 4):
        return "reflection_off_screen"
    if affected_frames(views, mask) < max(1, T // 4):
        return "reflection_off_screen"
    return None
