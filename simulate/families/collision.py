"""``collision``: VOID's Kubric recipe. 3-7 objects rest on the floor; 1-2 of them are
launched at a resting target and knock it. Removing the launched objects leaves the target
(and whatever it would have hit) at rest.

Launches are ballistic: each projectile gets the velocity that carries its centre onto the
target's centre after a flight time chosen inside the clip, so it hits unless something is
in the way (the validator then rejects the draw).
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.families.common import add_distractors, ballistic_velocity, duration_s, focus_points, rest_on_floor
from simulate.scene import SceneSpec

NAME = "collision"
INTERACTION = True


def sample_scene(rng: np.random.Generator, config) -> SceneSpec:
    n_total = int(rng.integers(3, 8))
    n_launched = 1 if n_total == 3 or rng.random() < 0.6 else 2
    n_distract = n_total - 1 - n_launched
    clip = duration_s(config)

    target = sampling.make_object(rng, 1, role="target", extent_m=(0.18, 0.35))
    rest_on_floor(target, (0.0, 0.0))
    r_target = sampling.footprint_radius(target)
    objects = [target]
    taken = [(np.zeros(2), r_target)]
    segments = []

    base_angle = rng.uniform(0, 2 * math.pi)
    for k in range(n_launched):
        proj = sampling.make_object(
            rng, len(objects) + 1, role="removed", extent_m=(0.12, 0.26), avoid_colors={sampling.color_name(target)}
        )
        r_proj = sampling.footprint_radius(proj)
        angle = base_angle + k * rng.uniform(0.6 * math.pi, 1.4 * math.pi)
        dist = r_target + r_proj + rng.uniform(0.25, 0.6)
        start_xy = dist * np.array([math.cos(angle), math.sin(angle)])
        rest_on_floor(proj, start_xy)
        # a short throw (apex under half a metre), the second one a little later
        t_hit = float(rng.uniform(0.25, 0.6)) + k * float(rng.uniform(0.1, 0.25)) * clip
        t_hit = float(np.clip(t_hit, 0.15, max(0.3, 0.8 * clip)))
        aim = np.array([0.0, 0.0, target.position[2] + rng.uniform(-0.3, 0.3) * sampling.top_height(target)])
        proj.velocity = ballistic_velocity(proj.position, aim, t_hit)
        proj.angular_velocity = [float(v) for v in rng.normal(0, 2.0, size=3)]
        # heavy enough to move the target: a ping-pong ball bouncing off a steel block
        # changes nothing worth a sample
        proj.mass_kg = float(max(proj.mass_kg, target.mass_kg * rng.uniform(0.6, 1.5)))
        objects.append(proj)
        taken.append((start_xy, r_proj))
        segments.append((start_xy, np.zeros(2), r_proj))

    # distractors stay out of the launch corridors; the target may still knock them
    add_distractors(rng, objects, n_distract, taken, r_range=(0.3, 0.75), segments=segments)
    removed = [o.id for o in objects if o.role == "removed"]
    return sampling.scene(rng, config, NAME, 0, objects, removed, focus_points(objects))
