"""``light``: the removed object changes the light on the scene, in an evening scene.

Variants (``extras["variant"]``):

* ``lamp``: the removed object is a glowing bulb with a point light inside; its light on the
  floor and the other objects goes with it;
* ``blocker``: a spotlight overhead shines on the floor, the removed object stands in its
  cone; once it is gone the floor it shaded is lit;
* ``carried``: the removed object carries a light (a glowing ball rolling past), so the lit
  patch moves with it.

Every pixel whose illumination changes is 127: in the raster renderer the mask sees the
lamp's exact reach (the lamp has a finite range, and "lit" is a pass of its own), in Cycles
the signature pass carries the lamp's direct light.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.families.common import add_distractors, duration_s, focus_points, rest_on_floor
from simulate.families.optics_common import affected_frames, dim_lights, lamp_color, roll_across, toward, view_axes
from simulate.scene import LampSpec, ObjectSpec, SceneSpec

NAME = "light"
INTERACTION = False
VARIANTS = ("lamp", "blocker", "carried")


def _bulb(rng, oid: int, shape: str, tone: str, rgb: list[float]) -> ObjectSpec:
    obj = sampling.make_object(rng, oid, role="removed", shape=shape, extent_m=(0.1, 0.18), material="plastic")
    obj.color = list(rgb)
    obj.name = f"glowing {tone} {'ball' if shape == 'sphere' else 'lamp'}"
    obj.emission = float(rng.uniform(0.7, 1.0))
    return obj


def sample_scene(rng: np.random.Generator, config) -> SceneSpec:
    clip = duration_s(config)
    variant = sampling.choice(rng, VARIANTS)
    azimuth, to_cam, lateral = view_axes(rng)
    tone, rgb = lamp_color(rng)
    objects: list[ObjectSpec] = []
    taken: list = []
    extra = []
    if variant in ("lamp", "carried"):
        shape = "sphere" if variant == "carried" else sampling.choice(rng, ["sphere", "cylinder"])
        bulb = _bulb(rng, 1, shape, tone, rgb)
        start = np.zeros(2)
        if variant == "carried":
            start, end = roll_across(rng, bulb, lateral, clip)
            extra = [[*end, 0.1]]
            taken.append((end, sampling.footprint_radius(bulb) + 0.05))
        rest_on_floor(bulb, start)
        objects.append(bulb)
        taken.append((start, sampling.footprint_radius(bulb) + 0.05))
        lamp = LampSpec(position=[0.0, 0.0, 0.0], color=rgb, power=float(rng.uniform(0.06, 0.12)), kind="point",
                        range_m=float(rng.uniform(0.35, 0.55)), attached_to=bulb.id, radius_m=0.6 * sampling.footprint_radius(bulb))
        removed = bulb
        r_range = (0.2, 0.5)
    else:
        removed = sampling.make_object(rng, 1, role="removed", extent_m=(0.14, 0.28))
        rest_on_floor(removed, (0.0, 0.0))
        objects.append(removed)
        taken.append((np.zeros(2), sampling.footprint_radius(removed)))
        # the spot hangs above and a little beside the object, so its shadow falls in the pool
        height = float(rng.uniform(0.9, 1.4))
        off = toward(float(rng.uniform(0, 2 * math.pi))) * float(rng.uniform(0.1, 0.3))
        pos = np.r_[off, height]
        aim = np.r_[-off * 0.3, 0.0] - pos
        lamp = LampSpec(position=[float(v) for v in pos], color=rgb, power=float(rng.uniform(0.6, 1.1)), kind="spot",
                        direction=[float(v) for v in aim / np.linalg.norm(aim)], cone_deg=float(rng.uniform(40, 60)),
                        blend=float(rng.uniform(0.15, 0.35)), range_m=height * 2.0, radius_m=0.03)
        r_range = (0.25, 0.55)
    add_distractors(rng, objects, int(rng.integers(1, 4)), taken, r_range=r_range, extent_m=(0.1, 0.24))
    scene = sampling.scene(
        rng, config, NAME, 0, objects, [removed.id], focus_points(objects, extra),
        camera_azimuth=azimuth + float(rng.uniform(-0.4, 0.4)), elevation_deg=(20, 45),
        extras={"variant": variant},
    )
    dim_lights(rng, scene)
    scene.lamps = [lamp]
    scene.extras["optics"] = {
        "effect": "light",
        "variant": variant,
        "lamp": {"kind": lamp.kind, "color": tone, "power": lamp.power, "range_m": lamp.range_m,
                 "carried_by": lamp.attached_to or None},
        "emissive_object_id": removed.id if removed.emission > 0 else None,
    }
    return scene


def check_render(scene: SceneSpec, views, mask: np.ndarray, poses_full: np.ndarray) -> str | None:
    """The light change must show: lit or shaded pixels besides the object's own, in a quarter of the frames."""
    T = mask.shape[0]
    if affected_frames(views, mask) < max(1, T // 4):
        return "no_light_change"
    return None
