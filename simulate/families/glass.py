"""``glass``: the removed object is transparent or translucent: ``clear`` glass, ``tinted``
plastic or ``frosted`` glass (``extras["variant"]``).

What is seen through it lies inside its own pixels (0, and 63 where the scene behind it
changes). Its tinted shadow on the floor and on the objects beside it is 127: with the glass
gone the sun reaches them unfiltered. The object rests, or (a glass ball) rolls past the
others without touching them. Objects stand behind it, so there is something to see through.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.families.common import add_distractors, duration_s, focus_points, free_spot, rest_on_floor
from simulate.families.optics_common import affected_frames, roll_across, view_axes
from simulate.scene import ObjectSpec, SceneSpec

NAME = "glass"
INTERACTION = False
VARIANTS = ("clear", "tinted", "frosted")
_SHAPES = ("sphere", "cylinder", "box")


def _glass(rng, oid: int, variant: str, roll: bool) -> ObjectSpec:
    shape = "sphere" if roll else sampling.choice(rng, _SHAPES, p=[0.3, 0.45, 0.25])
    obj = sampling.make_object(rng, oid, role="removed", shape=shape, extent_m=(0.16, 0.3), material="plastic")
    noun = {"sphere": "ball", "cylinder": "jar", "box": "block"}[shape]
    if variant == "clear":
        obj.color = [float(v) for v in np.clip(0.88 + rng.uniform(-0.05, 0.05, 3), 0, 1)]
        obj.transmission, obj.roughness = float(rng.uniform(0.85, 0.95)), 0.03
        obj.name = f"clear glass {noun}"
    elif variant == "tinted":
        tone, rgb = sampling.color(rng, {"white", "gray", "black", "brown"})
        obj.color = rgb
        obj.transmission, obj.roughness = float(rng.uniform(0.6, 0.85)), 0.1
        obj.name = f"{tone} tinted plastic {noun}"
    else:
        obj.color = [float(v) for v in np.clip(0.82 + rng.uniform(-0.06, 0.06, 3), 0, 1)]
        obj.transmission, obj.roughness = float(rng.uniform(0.45, 0.65)), float(rng.uniform(0.6, 0.9))
        obj.name = f"frosted glass {noun}"
    obj.metallic = 0.0
    return obj


def sample_scene(rng: np.random.Generator, config) -> SceneSpec:
    clip = duration_s(config)
    variant = sampling.choice(rng, VARIANTS)
    azimuth, to_cam, lateral = view_axes(rng)
    roll = rng.random() < 0.3
    objects: list[ObjectSpec] = []
    taken: list = []
    extra = []
    item = _glass(rng, 1, variant, roll)
    start = np.zeros(2)
    if roll:
        start, end = roll_across(rng, item, lateral, clip)
        extra = [[*end, 0.1]]
        taken.append((end, sampling.footprint_radius(item) + 0.03))
    rest_on_floor(item, start)
    objects.append(item)
    taken.append((start, sampling.footprint_radius(item) + 0.03))
    # one object right behind it (seen through it), others around
    behind = sampling.make_object(rng, 2, role="distractor", extent_m=(0.12, 0.26))
    xy = free_spot(rng, sampling.footprint_radius(behind), taken, center=-to_cam * 0.3, r_range=(0.0, 0.12))
    rest_on_floor(behind, xy)
    taken.append((xy, sampling.footprint_radius(behind)))
    objects.append(behind)
    add_distractors(rng, objects, int(rng.integers(0, 3)), taken, r_range=(0.3, 0.6), extent_m=(0.1, 0.22))
    scene = sampling.scene(
        rng, config, NAME, 0, objects, [item.id], focus_points(objects, extra),
        camera_azimuth=azimuth + float(rng.uniform(-0.3, 0.3)), elevation_deg=(12, 35),
        extras={"variant": variant},
    )
    scene.light.sun_intensity = float(rng.uniform(1.0, 1.25))
    scene.extras["optics"] = {
        "effect": "transmission",
        "variant": variant,
        "glass_object_id": item.id,
        "transmission": item.transmission,
        "roughness": item.roughness,
        "tint": item.color,
    }
    return scene


def check_render(scene: SceneSpec, views, mask: np.ndarray, poses_full: np.ndarray) -> str | None:
    """Something must be seen through the glass (an object or the floor behind it), and its
    shadow must show, each in a quarter of the frames."""
    T = mask.shape[0]
    gone = np.isin(views.full.ids, np.asarray(scene.removed_ids, views.full.ids.dtype))
    behind = gone & (views.hidden.depth < 0.99 * scene.camera.far_m) if views.hidden.depth is not None else gone
    through = behind.reshape(T, -1).sum(axis=1)
    min_px = max(4, int(1e-3 * mask.shape[1] * mask.shape[2]))
    if int((through >= min_px).sum()) < max(1, T // 4) or affected_frames(views, mask) < max(1, T // 4):
        return "no_glass_effect"
    return None
