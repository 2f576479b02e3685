"""Captions: what the scene looks like *after* removal (VOID's ``text``).

Built from the scene spec and the counterfactual trajectories: the camera and floor, what
moves in the removed video (falls, topples, rolls, slides) and what stays put, e.g. "A
static shot of a gray checkered floor. A small blue rubber sphere rests near a red wooden
box; nothing moves." The removed objects are never mentioned.
"""

from __future__ import annotations

import numpy as np

from simulate import humanoid, sampling
from simulate.scene import SET_ROLES, ObjectSpec, SceneSpec
from simulate.validation import rotation_deg

NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
CAMERA = {
    "static": "A static shot of", "pan": "A slowly panning shot of", "zoom": "A slow zoom onto",
    "sweep": "A pan across", "dolly": "A dolly shot of", "truck": "A tracking shot of", "handheld": "A handheld shot of",
}
FLOOR = {
    "checker": "checkered floor", "plain": "plain floor", "noise": "mottled floor",
    "wood": "wooden floor", "tiles": "tiled floor", "marble": "marble floor", "grass": "lawn", "gravel": "gravel yard",
}
# the footage look's sets (simulate.environments): what the shot shows instead of a floor
SETTING = {"room": "{floor} in a room", "tabletop": "{top} table in a room", "outdoor": "{floor} outdoors"}
TABLE_TOP = {"wood": "wooden", "marble": "marble", "tiles": "tiled", "plastic": "plastic"}


def article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def plural(phrase: str) -> str:
    head, _, last = phrase.rpartition(" ")
    if last.endswith(("s", "x", "ch", "sh", "o")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}".strip()


def counted(name: str, n: int) -> str:
    return article(name) if n == 1 else f"{NUMBERS[n] if n < len(NUMBERS) else n} {plural(name)}"


def join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def floor_color(rgb) -> str:
    """A colour word for a (muted) floor: grays by lightness, else the nearest hue."""
    rgb = np.asarray(rgb, float)
    hi, lo = float(rgb.max()), float(rgb.min())
    if hi < 0.08:
        return "black"
    if (hi - lo) / hi < 0.25:  # nearly gray
        return "dark gray" if hi < 0.3 else "light gray" if hi > 0.6 else "gray"
    chroma = rgb / hi
    named = {n: np.asarray(c) / max(c) for n, c in sampling.COLORS.items() if n not in ("white", "gray", "black")}
    return min(named, key=lambda n: float(np.sum((named[n] - chroma) ** 2)))


def motion_verb(obj: ObjectSpec, poses: np.ndarray, family: str, landed_on: ObjectSpec | None = None) -> str | None:
    """How an object moves over ``poses`` (T, 7), or None when it stays put."""
    start = poses[0]
    xy = np.linalg.norm(poses[:, :2] - start[:2], axis=1).max()
    drop = float(start[2] - poses[:, 2].min())
    rot = float(rotation_deg(poses[:, 3:], start[None, 3:]).max())
    elevated = start[2] - sampling.rest_height(obj) > 0.03
    if elevated and drop > 0.03:
        return f"falls onto {article(landed_on.name)}" if landed_on is not None else "falls to the floor"
    if rot > 45 and (family == "domino" or obj.shape == "box" and xy < 0.15):
        return "topples over"
    if xy > 0.03:
        return "rolls across the floor" if obj.shape in ("sphere", "cylinder") and rot > 30 else "slides across the floor"
    if rot > 10:
        return "wobbles"
    return None


def _landed_on(scene: SceneSpec, poses: np.ndarray, k: int) -> ObjectSpec | None:
    """The kept object that ``scene.objects[k]`` ends up resting on, if it ends above the floor."""
    obj = scene.objects[k]
    end = poses[-1, k]
    if end[2] - sampling.rest_height(obj) < 0.03:
        return None
    best, best_z = None, -np.inf
    for j, other in enumerate(scene.objects):
        if j == k or other.part_of or not np.isfinite(poses[-1, j]).all():
            continue
        p = poses[-1, j]
        near = np.linalg.norm(p[:2] - end[:2]) < sampling.footprint_radius(other) + sampling.footprint_radius(obj)
        if near and p[2] < end[2] and p[2] > best_z:
            best, best_z = other, p[2]
    return best


def _support_below(obj: ObjectSpec, others: list[ObjectSpec]) -> ObjectSpec | None:
    if obj.position[2] - sampling.rest_height(obj) < 0.03:
        return None
    below = [
        o for o in others
        if o.position[2] < obj.position[2]
        and np.linalg.norm(np.subtract(o.position[:2], obj.position[:2])) < sampling.footprint_radius(o) + 0.02
    ]
    return max(below, key=lambda o: o.position[2]) if below else None


def caption(scene: SceneSpec, poses_removed: np.ndarray) -> str:
    """The caption of the counterfactual video of ``scene``."""
    # a kept person (a bystander) is one sentence of their own, not a list of body parts;
    # fixtures (mirrors, water, tables of the optics families) are said by optics_sentences,
    # and the footage look's set dressing (simulate.environments) is no subject
    kept = [(k, o) for k, o in enumerate(scene.objects)
            if o.id not in scene.removed_ids and not o.part_of and o.role not in SET_ROLES]
    floor = f"{floor_color(scene.floor.color)} {FLOOR.get(scene.floor.pattern, 'floor')}"
    setting = scene.extras.get("environment", {}).get("environment")
    if setting in SETTING:
        floor = SETTING[setting].format(floor=floor, top=TABLE_TOP.get(scene.floor.pattern, "wooden"))
    parts = [f"{CAMERA.get(scene.camera.motion, 'A shot of')} {article(floor)}."]

    movers: dict[tuple[str, str], int] = {}
    still: list[ObjectSpec] = []
    for k, o in kept:
        verb = motion_verb(o, poses_removed[:, k], scene.family, _landed_on(scene, poses_removed, k))
        if verb:
            movers[(o.name, verb)] = movers.get((o.name, verb), 0) + 1
        else:
            still.append(o)
    for (name, verb), n in movers.items():
        if n > 1:  # "two red dominoes topple over"
            verb = verb.replace("falls", "fall").replace("topples", "topple").replace("rolls", "roll")
            verb = verb.replace("slides", "slide").replace("wobbles", "wobble")
        parts.append(counted(name, n)[0].upper() + counted(name, n)[1:] + f" {verb}.")

    others = [o for _, o in kept]
    if still:
        groups: dict[str, int] = {}
        for o in still:
            groups[o.name] = groups.get(o.name, 0) + 1
        tail = "; nothing moves." if not movers else "."
        if len(still) == 1:
            o = still[0]
            base = _support_below(o, [x for x in others if x is not o])
            near = [x for x in others if x is not o]
            if base is not None:
                text = f"{article(o.name)} rests on {article(base.name)}"
            elif near:
                closest = min(near, key=lambda x: np.linalg.norm(np.subtract(x.position, o.position)))
                text = f"{article(o.name)} rests near {article(closest.name)}"
            else:
                text = f"{article(o.name)} rests on the floor"
        else:
            verb = "stay where they are" if movers else "rest on the floor"
            if scene.family == "domino" and all("domino" in name for name in groups):
                verb = "stay standing" if movers else "stand in a row"
            text = f"{join([counted(n, c) for n, c in groups.items()])} {verb}"
        parts.append(text[0].upper() + text[1:] + tail)
    for person in scene.people:
        if person.description and not set(person.part_ids) & set(scene.removed_ids):
            text = f"{person.description} {humanoid.VERBS.get(person.clip, 'moves')} in the background."
            parts.append(text[0].upper() + text[1:])
    parts += optics_sentences(scene)
    return " ".join(parts)


def action(scene: SceneSpec, poses_full: np.ndarray) -> str | None:
    """What the removed person does in the input video (None for scenes without people):
    the family's sentence plus how the object they acted on moves, from the full run."""
    said = scene.extras.get("action")
    if not scene.people or not said:
        return None
    parts = [said]
    carried = {p.carried_id for p in scene.people}
    target = next((o for o in scene.objects if o.role == "target"), None)
    if target is not None and target.id not in carried:  # a dropped object's fall is in the sentence already
        k = scene.index_of(target.id)
        verb = motion_verb(target, poses_full[:, k], scene.family, _landed_on(scene, poses_full, k))
        if verb:
            parts.append(f"The {target.name} {verb}.")
    return " ".join(parts)


SURFACE_WORDS = {
    "mirror": "A wall mirror behind them reflects the scene.",
    "glossy": "The polished floor reflects everything on it.",
    "water": "A pool of still water beside them mirrors the scene.",
    "glass_top": "A glass table top reflects what stands near it.",
}


def optics_sentences(scene: SceneSpec) -> list[str]:
    """What the mirrors and lamps that stay in the counterfactual do (the optics families)."""
    out = [SURFACE_WORDS[m.kind] for m in scene.mirrors if m.kind in SURFACE_WORDS]
    for lamp in scene.lamps:
        if lamp.attached_to in scene.removed_ids:
            out.append("The scene is lit only by dim evening light.")
        elif lamp.kind == "spot":
            out.append("A spotlight from above lights a pool of the floor.")
        else:
            out.append("A lamp lights the scene.")
    return out
