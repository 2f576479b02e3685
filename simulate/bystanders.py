"""Bystanders in the footage look: a kept person dancing behind the action, in any family.

``void simulate --look footage --bystanders P`` puts, in a fraction ``P`` of samples, one
person behind the action: the ``human`` family's rig (its clothes, proportions and the
``dance_b`` clip), kept in every view and played identically in both simulations, so it is
never in the mask unless the removed object's light, shadow or reflection changes on it.

The person is placed before the set is built and the shot is framed: behind the action as
the family's camera sees it, clear of its reach with every limb in every frame, and the set
(room walls or outdoor backdrop) and the shot are then made around both. Rooms and outdoor
sets only: a tabletop's action is on the table. Human-family samples that already have their
own bystander get no second one.

Draws come from their own random stream (``bystander_rng``), so the family's action is drawn
the same with or without the option (its simulation can differ by the physics solver's
rounding, millimetres, with other bodies in the world); the set and the shot are drawn again
around the larger scene. The default ``P = 0`` draws nothing, so datasets and the frozen benchmark are
unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import humanoid
from simulate.scene import PersonSpec, SceneSpec

STREAM = 0xB75  # spawn key of the bystander's stream, beside the family's and the look's
GAP_M = 0.15  # between the dancer's reach (every link, every frame) and the action's
BEHIND_M = (0.5, 1.2)  # how far behind the action's reach the dancer's reach begins
ASIDE_M = 0.6  # the dancer's sideways offset from the camera's line through the action, at most
# rig links the picture must hold: the head (with its top), the feet and the hands
MARKS = ((2, 0.2), (5, 0.0), (11, 0.0), (8, 0.0), (14, 0.0))


def bystander_rng(seed: int, attempt: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(int(attempt), STREAM)))


def _play(scene: SceneSpec, person: PersonSpec, colors, rough, first_id: int, times):
    from simulate import physics

    parts = humanoid.parts(person, first_id, colors, rough)
    draft = SceneSpec(family=scene.family, seed=0, objects=list(scene.objects) + parts, removed_ids=[],
                      camera=None, light=None, floor=None, people=list(scene.people) + [person])
    links, _, poses = physics.play_person(draft, person.index, times)
    return parts, links, poses


def add_bystander(rng: np.random.Generator, scene: SceneSpec, *, tries: int = 8) -> tuple[dict, np.ndarray] | None:
    """Add one dancing bystander to ``scene`` (in place, before it is dressed).

    Returns what was drawn and the points the shot must frame (head, hands and feet over the
    clip), or None when no spot behind the action keeps the dancer clear of it.
    """
    from simulate.environments import action_radius
    from simulate.families import human

    clip = humanoid.load_clip(human.BYSTANDER_CLIP)
    colors, rough = human._clothes(rng)
    proportions = human._proportions(rng)
    speed, start = float(rng.uniform(0.8, 1.2)), float(rng.uniform(0, clip.duration_s))
    scale = float(rng.uniform(0.9, 1.1))
    center = np.asarray(scene.camera.look_at[:2], float)
    toward = np.asarray(scene.camera.position[:2], float) - center
    toward = toward / max(float(np.linalg.norm(toward)), 1e-9)
    side = np.array([toward[1], -toward[0]])
    reach = action_radius(scene, center)
    times = np.arange(scene.num_frames) / scene.fps
    first_id = max(o.id for o in scene.objects) + 1
    index = len(scene.people)
    facing = math.atan2(toward[1], toward[0])
    for _ in range(tries):
        heading = float(facing + rng.uniform(-0.6, 0.6))
        person = PersonSpec(index=index, clip=human.BYSTANDER_CLIP, speed=speed, start_s=start, scale=scale,
                            heading_rad=heading, description=human._dressed(colors), proportions=proportions)
        # where the dance goes when it starts at the origin: its reach about its own middle
        _, links, _ = _play(scene, person, colors, rough, first_id, times)
        xy = links[:, :, :2].reshape(-1, 2)
        mid = (xy.max(0) + xy.min(0)) / 2
        own = float(np.linalg.norm(xy - mid, axis=1).max())
        spot = center - toward * (reach + own + float(rng.uniform(*BEHIND_M))) + side * float(rng.uniform(-ASIDE_M, ASIDE_M))
        person.position = [float(v) for v in spot - mid]
        parts, links, poses = _play(scene, person, colors, rough, first_id, times)
        if (np.linalg.norm(links[:, :, :2].reshape(-1, 2) - center, axis=1) < reach + GAP_M).any():
            continue
        for o in parts:
            o.role = "distractor"
            o.position = [float(v) for v in poses[o.id][0, :3]]
            o.orientation = [float(v) for v in poses[o.id][0, 3:]]
        scene.objects = list(scene.objects) + parts
        scene.people = list(scene.people) + [person]
        seen = np.array([links[k, j, :3] + [0.0, 0.0, extra * scale] for k in range(0, len(times), 2) for j, extra in MARKS])
        info = {"clip": person.clip, "speed": speed, "start_s": start, "scale": scale,
                "heading_deg": math.degrees(heading), "position": person.position,
                "description": person.description, "proportions": dict(proportions)}
        return info, seen
    return None
