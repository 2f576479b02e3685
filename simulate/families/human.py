"""``human``: an articulated person (pybullet_data's DeepMimic rig) plays a motion-capture
clip and acts on the scene; the person is removed. This is the open-data counterpart of
VOID's human-object (HUMOTO) scenes.

Modes:

``kick``   a foot of a walking, running or kicking person meets a ball or a small object
           where the clip's foot moves fastest near the floor: it rolls or slides away;
           without the person it stays put.
``knock``  a standing object (a tall box or cylinder, or a low crate) stands in the path of a
           walking or running person's feet: it is knocked over or pushed along.
``carry``  the person holds an object in one hand from the first frame and lets go of it
           part-way: it falls where it was dropped; without the person it falls at once.
``walk_past`` the person walks past the objects without touching any: a non-interaction
           draw (``scene.extras["interaction"]`` is False), so nothing but the person (0) and
           their shadow (127) changes; rejected if anything is touched (``contact``) or the
           shadow is never on screen (``no_shadow``).

Varied per draw: the clip, its speed and start, the heading, the body scale (0.9-1.1 of the
rig's 1.6 m), the length of each limb segment (torso, upper arm, forearm, thigh, shin: 0.9-1.1
of the rig's, a rewritten URDF per set of factors), clothing colours and roughness.
The person's own shadow is marked 127 like any removed object's.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import captions, humanoid, physics, sampling
from simulate.families.common import Reject, add_distractors, duration_s, focus_points, free_spot, rest_on_floor
from simulate.scene import ObjectSpec, PersonSpec, SceneSpec

NAME = "human"
INTERACTION = True  # per draw: a walk_past scene says ``extras["interaction"] = False``
MODES = ("kick", "knock", "carry", "walk_past")
# running feet send things out of any frame that still shows the person: walking pace only
CLIPS = {"kick": ("walk", "kick", "spinkick"), "knock": ("walk",), "carry": ("walk", "jump"), "walk_past": ("walk",)}
VERBS = humanoid.VERBS
BYSTANDER_P = 0.3  # draws with a second person, kept, dancing behind the scene
BYSTANDER_CLIP = "dance_b"  # stays on the spot (0.14 m of drift over its 2.5 s)
BYSTANDER_CLEARANCE_M = 0.8  # from every object and the acting person's path: dancing arms reach far
TROUSERS = ("blue", "black", "gray", "brown", "teal", "white")
SHOES = ("white", "black", "brown", "red")
SKIN = ((0.80, 0.58, 0.45), (0.62, 0.42, 0.30), (0.42, 0.27, 0.18), (0.25, 0.16, 0.11), (0.90, 0.72, 0.60))
GARMENTS = ("shirt", "sleeve", "trousers", "shoes", "skin")
CONTACT_WINDOW = (0.3, 0.65)  # of the clip length: when the person meets the object
CLEARANCE_M = 0.06  # between the object and the body at the first frame
PROPORTION_RANGE = (0.9, 1.1)  # per limb segment, of the rig's own length
PASS_GAP_M = (0.3, 0.7)  # walk_past: from the walking line to the nearest object's edge
SHADOW_MIN_FRAMES = 0.25  # walk_past: of the frames, with the person's shadow (127) on screen


def _clothes(rng) -> tuple[dict, dict]:
    shirt = sampling.color(rng)
    trousers = sampling.choice(rng, TROUSERS)
    shoes = sampling.choice(rng, SHOES)
    skin = SKIN[int(rng.integers(len(SKIN)))]
    colors = {
        "shirt": shirt,
        "trousers": (trousers, list(sampling.COLORS[trousers])),
        "shoes": (shoes, list(sampling.COLORS[shoes])),
        "skin": ("skin", [float(v) for v in skin]),
    }
    colors["sleeve"] = shirt if rng.random() < 0.5 else colors["skin"]
    rough = {
        "shirt": float(rng.uniform(0.7, 0.95)), "trousers": float(rng.uniform(0.75, 0.95)),
        "shoes": float(rng.uniform(0.3, 0.7)), "skin": float(rng.uniform(0.5, 0.7)),
    }
    rough["sleeve"] = rough["shirt"] if colors["sleeve"] is shirt else rough["skin"]
    return colors, rough


def _person(rng, clip_name: str) -> PersonSpec:
    clip = humanoid.load_clip(clip_name)
    person = PersonSpec(
        index=0, clip=clip_name, speed=float(rng.uniform(0.8, 1.2)),
        heading_rad=float(rng.uniform(0, 2 * math.pi)), scale=float(rng.uniform(0.9, 1.1)),
        proportions=_proportions(rng),
    )
    if clip.loop:
        person.start_s = float(rng.uniform(0, clip.duration_s))
    else:  # a one-shot clip starts after a short wait, so its action falls inside the video
        person.start_s = float(rng.uniform(0.0, 0.15 * clip.duration_s))
        person.hold_s = float(rng.uniform(0.0, 0.4))
    return person


def _proportions(rng) -> dict[str, float]:
    return {seg: round(float(rng.uniform(*PROPORTION_RANGE)), 3) for seg in humanoid.SEGMENTS}


def _target(rng, mode: str, oid: int, avoid: set[str]) -> ObjectSpec:
    if mode == "kick":
        shape = sampling.choice(rng, ("sphere", "cylinder", "box", "mesh"), p=[0.5, 0.15, 0.15, 0.2])
        mesh = sampling.choice(rng, ("duck", "teddy", "mug", "bunny")) if shape == "mesh" else None
        obj = sampling.make_object(rng, oid, role="target", shape=shape, mesh_key=mesh, extent_m=(0.14, 0.26),
                                   avoid_colors=avoid)
        return rest_on_floor(obj, (0.0, 0.0))
    if mode == "knock":
        obj = sampling.make_object(rng, oid, role="target", shape=sampling.choice(rng, ("box", "cylinder")),
                                   extent_m=(0.2, 0.3), avoid_colors=avoid)
        tall = rng.random() < 0.6
        if obj.shape == "box":
            obj.size = [obj.size[0] * 0.7, obj.size[1] * 0.7, float(rng.uniform(0.16, 0.24))] if tall else [
                float(rng.uniform(0.12, 0.18)), float(rng.uniform(0.12, 0.18)), float(rng.uniform(0.08, 0.12))]
        else:
            obj.size = [float(rng.uniform(0.05, 0.08)), float(rng.uniform(0.3, 0.45))] if tall else [
                float(rng.uniform(0.12, 0.16)), float(rng.uniform(0.15, 0.22))]
        obj.mass_kg = float(rng.uniform(0.5, 2.0)) if tall else float(rng.uniform(2.0, 5.0))
        return rest_on_floor(obj, (0.0, 0.0))
    shape = sampling.choice(rng, ("box", "cylinder", "mesh"), p=[0.4, 0.3, 0.3])
    mesh = sampling.choice(rng, ("duck", "mug", "teddy", "bunny")) if shape == "mesh" else None
    if mode == "walk_past":
        shape = sampling.choice(rng, ("box", "cylinder", "sphere", "mesh"), p=[0.35, 0.25, 0.2, 0.2])
        mesh = sampling.choice(rng, ("duck", "teddy", "mug", "bunny")) if shape == "mesh" else None
        obj = sampling.make_object(rng, oid, role="target", shape=shape, mesh_key=mesh, extent_m=(0.16, 0.32),
                                   avoid_colors=avoid)
        return rest_on_floor(obj, (0.0, 0.0))
    obj = sampling.make_object(rng, oid, role="target", shape=shape, mesh_key=mesh, extent_m=(0.1, 0.16),
                               avoid_colors=avoid)
    return rest_on_floor(obj, (0.0, 0.0))


def _foot_parts(scene_parts: list[ObjectSpec]) -> list[int]:
    return [o.id for o in scene_parts if o.part_of["link"] in humanoid.FEET.values() and o.shape == "box"]


def _clear_of_body(obj: ObjectSpec, part_specs: list[ObjectSpec], poses: dict[int, np.ndarray], frame: int) -> bool:
    r = sampling.footprint_radius(obj)
    c = np.asarray(obj.position, float)
    for o in part_specs:
        if np.linalg.norm(poses[o.id][frame, :3] - c) < r + max(o.size) + CLEARANCE_M:
            return False
    return True


def sample_scene(rng: np.random.Generator, config, mode: str | None = None) -> SceneSpec:
    """A human scene; ``mode`` forces one of MODES (the draw is consumed either way)."""
    clip_len = duration_s(config)
    drawn = sampling.choice(rng, MODES)
    mode = mode or drawn
    clip_name = sampling.choice(rng, CLIPS[mode])
    person = _person(rng, clip_name)
    colors, rough = _clothes(rng)
    target = _target(rng, mode, 1, avoid={colors["shirt"][0]})
    parts = humanoid.parts(person, 2, colors, rough)
    objects = [target] + parts
    # the clip at twice the frame rate, to find where a foot or hand is and how it moves
    dt = 0.5 / config.fps
    times = np.arange(0.0, clip_len + 1e-9, dt)
    draft = SceneSpec(family=NAME, seed=0, objects=objects, removed_ids=[], camera=None, light=None, floor=None,
                      people=[person])
    links, _, poses = physics.play_person(draft, 0, times)
    for o in parts:
        o.position = [float(v) for v in poses[o.id][0, :3]]
        o.orientation = [float(v) for v in poses[o.id][0, 3:]]

    lo, hi = (int(f * len(times)) for f in CONTACT_WINDOW)
    if mode == "walk_past":
        # beside the walking line, at the root's position half-way through the video
        mid = len(times) // 2
        root = links[:, 0, :2]
        ahead = root[-1] - root[0]
        if np.linalg.norm(ahead) < 0.3:
            raise Reject("placement", "the person hardly moves: nothing to walk past")
        ahead = ahead / np.linalg.norm(ahead)
        side = np.array([-ahead[1], ahead[0]]) * (1 if rng.random() < 0.5 else -1)
        gap = float(rng.uniform(*PASS_GAP_M)) + sampling.footprint_radius(target)
        rest_on_floor(target, root[mid] + side * gap, settle_mesh=False)
        t_meet = 0.0
        follow = []
        if not all(_clear_of_body(target, parts, poses, k) for k in range(len(times))):
            raise Reject("placement", "the object stands in the walking person's way")
    elif mode in ("kick", "knock"):
        top = sampling.rest_height(target) + sampling.top_height(target)
        candidates = []  # (foot speed, part, time index) of a foot low enough to meet the object
        for pid in _foot_parts(parts):
            path = poses[pid][:, :3]
            speed = np.linalg.norm(np.diff(path[:, :2], axis=0), axis=1) / dt
            for i in range(lo, min(hi, len(speed))):
                if path[i, 2] < 0.8 * top and speed[i] >= 0.5:
                    candidates.append((float(speed[i]), pid, i))
        if not candidates:
            raise Reject("no_contact", "no foot moves fast enough near the floor in the contact window")
        lead = float(rng.uniform(0.0, 0.6))
        # the fastest foot whose meeting point is clear of the body at the first frame (in a
        # short video the person is still near it then)
        for _, pid, i in sorted(candidates, key=lambda c: -c[0]):
            foot = poses[pid][i, :3]
            ahead = poses[pid][i + 1, :2] - poses[pid][i, :2]
            ahead = ahead / max(np.linalg.norm(ahead), 1e-9)
            xy = foot[:2] + ahead * sampling.footprint_radius(target) * lead
            rest_on_floor(target, xy, settle_mesh=False)
            if _clear_of_body(target, parts, poses, 0):
                break
        else:
            raise Reject("placement", "the object would start inside the person")
        t_meet = float(times[i])
        # where a kicked or pushed object is heading, so the camera keeps it in view
        reach = (1.2 if mode == "kick" else 0.6) + sampling.footprint_radius(target)
        follow = [np.r_[xy + ahead * reach, 0.05]]
        target.rolling_friction = max(target.rolling_friction, 0.05)
        target.restitution = min(target.restitution, 0.3)
    else:
        hand = sampling.choice(rng, ("right", "left"))
        link = humanoid.HANDS[hand]
        hand0 = links[0, link]
        wrist = next(o for o in parts if o.part_of["link"] == link)
        below = wrist.size[0] + sampling.top_height(target) + 0.005
        outward = hand0[:2] - links[0, 0, :2]
        outward = outward / max(np.linalg.norm(outward), 1e-9) * 0.3 * sampling.footprint_radius(target)
        held = np.r_[hand0[:2] + outward, hand0[2] - below, target.orientation]
        person.hand_link = link
        person.grip = [float(v) for v in humanoid.compose(humanoid.invert(hand0), held)]
        i = int(rng.integers(lo, hi))
        person.release_s = float(times[i])
        person.carried_id = target.id
        target.position = [float(v) for v in held[:3]]
        t_meet = 0.0
        follow = [links[k, link, :3] - [0, 0, below] for k in range(0, i + 1, 2)]
        # a dropped object keeps the hand's speed for a while on the floor
        drift = (links[i, link, :2] - links[i - 1, link, :2]) / dt * 0.6
        follow.append(np.r_[links[i, link, :2] + drift, 0.05])
        target.friction = max(target.friction, 0.9)
        target.restitution = min(target.restitution, 0.2)
        if target.position[2] - sampling.rest_height(target) < 0.15:
            raise Reject("placement", "the hand is too low to carry the object")

    # the camera sees the person from the start until a little after the interaction
    upto = min(len(times), int((max(t_meet, person.release_s or 0.0) + 0.5) / dt) + 1)
    if mode == "walk_past":  # the whole walk: nothing else happens, the person is the video
        upto = len(times)
    marks = ((2, 0.2 * person.scale), (5, 0.0), (11, 0.0))  # above the head link, the two feet
    body = [links[k, j, :3] + [0, 0, extra] for k in range(0, upto, 2) for j, extra in marks]
    body += follow
    corridor = [(links[0, 0, :2], links[upto - 1, 0, :2], 0.45)]
    taken = [(np.asarray(target.position[:2]), sampling.footprint_radius(target) + 0.2)]
    before = len(objects)  # distractor ids follow the person's parts
    add_distractors(rng, objects, int(rng.integers(0, 3)), taken, center=target.position[:2], r_range=(0.45, 0.9),
                    segments=corridor)
    heading = person.heading_rad
    azimuth = heading + math.pi / 2 * (1 if rng.random() < 0.5 else -1) + float(rng.uniform(-0.5, 0.5))
    frames = np.arange(config.frames) / config.fps
    people = [person]
    if rng.random() < BYSTANDER_P:
        path = [(links[0, 0, :2], links[-1, 0, :2], 0.45)]
        other, seen = _bystander(rng, objects, people, azimuth, target, taken + [], path, times)
        people.append(other)
        body += seen
    extras = {
        "mode": mode,
        "interaction": mode != "walk_past",
        "clip": clip_name,
        "person": {
            "clip": clip_name, "clip_file": f"{humanoid.CLIP_DIR}/humanoid3d_{clip_name}.txt",
            "speed": person.speed, "start_s": person.start_s, "hold_s": person.hold_s, "scale": person.scale,
            "heading_deg": math.degrees(heading),
            "clip_frames": [humanoid.clip_frame_index(person, t) for t in frames],
            "root_path": [[round(float(v), 5) for v in p] for p in humanoid.root_path(person, frames)],
            "clothes": {g: colors[g][0] for g in GARMENTS},
            "hand": None if person.hand_link is None else hand,
            "release_s": person.release_s,
            "proportions": dict(person.proportions),
            "leg_factor": humanoid.leg_factor(person.proportions),
        },
        "bystander": None if len(people) < 2 else {
            "clip": people[1].clip, "speed": people[1].speed, "start_s": people[1].start_s,
            "scale": people[1].scale, "proportions": dict(people[1].proportions),
            "heading_deg": math.degrees(people[1].heading_rad),
            "root_path": [[round(float(v), 5) for v in p] for p in humanoid.root_path(people[1], frames)],
            "description": people[1].description,
        },
        "action": _action(mode, clip_name, colors, target, person),
    }
    scene = sampling.scene(
        rng, config, NAME, 0, objects, [o.id for o in parts], focus_points([target] + objects[before:], body),
        camera_azimuth=azimuth, elevation_deg=(8, 28), extras=extras,
    )
    scene.people = people
    return scene


def _bystander(rng, objects, people, azimuth, target, taken, path, times) -> tuple[PersonSpec, list]:
    """A kept person dancing on the spot behind the scene (from the camera), clear of everything.

    Appends their parts to ``objects``; returns them and points the camera must see."""
    colors, rough = _clothes(rng)
    clip = humanoid.load_clip(BYSTANDER_CLIP)
    other = PersonSpec(
        index=len(people), clip=BYSTANDER_CLIP, speed=float(rng.uniform(0.8, 1.2)),
        start_s=float(rng.uniform(0, clip.duration_s)), scale=float(rng.uniform(0.9, 1.1)),
        heading_rad=float(azimuth + rng.uniform(-0.6, 0.6)),
        description=_dressed(colors), proportions=_proportions(rng),
    )
    back = np.asarray(target.position[:2]) - np.array([math.cos(azimuth), math.sin(azimuth)]) * float(rng.uniform(1.0, 1.6))
    spot = free_spot(rng, BYSTANDER_CLEARANCE_M, taken, center=back, r_range=(0.0, 0.5), segments=path)
    other.position = [float(v) for v in spot]
    parts = humanoid.parts(other, len(objects) + 1, colors, rough)
    for o in parts:
        o.role = "distractor"
    objects += parts
    draft = SceneSpec(family=NAME, seed=0, objects=objects, removed_ids=[], camera=None, light=None, floor=None,
                      people=people + [other])
    links, _, poses = physics.play_person(draft, other.index, times)
    for o in parts:
        o.position = [float(v) for v in poses[o.id][0, :3]]
        o.orientation = [float(v) for v in poses[o.id][0, 3:]]
    marks = ((2, 0.2 * other.scale), (5, 0.0), (11, 0.0), (8, 0.0), (14, 0.0))
    return other, [links[k, j, :3] + [0, 0, extra] for k in range(0, len(times), 2) for j, extra in marks]


def _dressed(colors: dict) -> str:
    return f"a person in {captions.article(colors['shirt'][0] + ' shirt')} and {colors['trousers'][0]} trousers"


def _action(mode: str, clip: str, colors: dict, target: ObjectSpec, person: PersonSpec) -> str:
    who = "A" + _dressed(colors)[1:]
    thing = f"the {target.name}"
    if mode == "kick":
        verb = "kicks" if clip in ("kick", "spinkick") else f"{VERBS[clip]} up and kicks"
        return f"{who} {verb} {thing}."
    if mode == "knock":
        return f"{who} {VERBS[clip]} into {thing} and knocks it along the floor."
    if mode == "walk_past":
        return f"{who} walks past {thing} without touching anything, casting a shadow."
    hand = "right" if person.hand_link == humanoid.HANDS["right"] else "left"
    return f"{who} {VERBS[clip]} carrying {thing} in the {hand} hand and drops it."


def check_render(scene: SceneSpec, views, mask: np.ndarray, poses_full: np.ndarray) -> str | None:
    """A walk_past draw (the only non-interaction one; the pipeline calls this for those only)
    is worth keeping when the person's shadow is on screen: 127 pixels, which in this mode are
    nothing but the shadow (and a reflection of the person, where a scene has one), in a
    quarter of the frames."""
    T, H, W = mask.shape
    min_px = max(4, int(1e-3 * H * W))
    frames = int(((mask == 127).reshape(T, -1).sum(axis=1) >= min_px).sum())
    if frames < max(1, math.ceil(SHADOW_MIN_FRAMES * T)):
        return "no_shadow"
    return None
