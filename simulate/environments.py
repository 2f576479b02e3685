"""Environments as data: rooms, tabletops and outdoor ground dressed around a family's action.

:func:`dress` takes a scene a family sampled (its objects, camera and floor) and returns it
inside a set: static fixtures (walls with a window or doorway, skirting, a table, a backdrop,
trees), resting clutter (5 to 30 objects from pybullet_data's meshes and primitives), and
sometimes an occluder that passes between the camera and the action. Everything it adds is
an ordinary :class:`~simulate.scene.ObjectSpec` (static bodies have mass 0), so physics,
both renderers and the exact id passes take it as they take the family's objects; the
roles ``fixture``, ``clutter`` and ``occluder`` tell captions and checks it is set dressing.

Placement is conservative: nothing added comes within a gap of the action (every object's
start, its keyframes and a margin for what moves), of another added object, or of the
camera's path; clutter lies inside the picture at the middle frame and outside the corridor
between the camera and the action. Draws come from their own generator, so the family's
scene is the same with or without an environment.

Tabletop: the family's floor becomes the table top (the floor plane is where the action
stands, and physics builds it ``half_extent_m`` wide), with legs, an apron and the room's
floor ``height`` below; an object that falls off the table falls out of the action and the
draw is rejected as unstable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulate import camerawork, sampling, textures
from simulate.config import SETS
from simulate.rotation import quat_z
from simulate.scene import SET_ROLES, FloorSpec, ObjectSpec, SceneSpec, camera_at

ENVIRONMENTS = SETS
ENV_WEIGHTS = (0.45, 0.3, 0.25)
WALL_HALF_THICKNESS_M = 0.05
GAP_M = 0.08  # between anything added and the action, and between added things
CLUTTER_RANGE = (5, 30)
ROOM_FLOORS = ("wood", "tiles", "marble")
WALL_FINISHES = ("plaster", "plaster", "plaster", "tiles", "paper")
TABLE_TOPS = ("wood", "wood", "marble", "tiles", "plastic")
OUTDOOR_GROUNDS = ("grass", "gravel", "tiles")
CLUTTER_TEXTURES = ("", "", "wood", "fabric", "plastic", "paper", "brushed_metal")


@dataclass
class Setting:
    """Where the action happens, in the camera's horizontal frame."""

    center: np.ndarray  # (2,) look-at point on the floor
    toward_camera: np.ndarray  # (2,) unit, from center to the camera
    side: np.ndarray  # (2,) unit, the camera's right
    radius: float  # the action fits in this disc about center
    camera_xy: np.ndarray  # (T, 2) camera positions over the clip
    camera_z: float


def _ids(scene: SceneSpec):
    k = max((o.id for o in scene.objects), default=0)
    while True:
        k += 1
        yield k


def action_radius(scene: SceneSpec, center: np.ndarray, moving_margin_m: float = 0.35) -> float:
    """Radius about ``center`` that holds every object's start and keyframes, with room to move."""
    r = 0.3
    if scene.people:  # a person's whole walk, arms' reach included
        from simulate import humanoid

        times = np.arange(scene.num_frames) / scene.fps
        for person in scene.people:
            path = humanoid.root_path(person, times)[:, :2]
            r = max(r, float(np.linalg.norm(path - center, axis=1).max()) + 0.6 * person.scale + moving_margin_m)
    for o in scene.objects:
        if o.role in SET_ROLES:
            continue
        pts = [np.asarray(o.position[:2], float)] + [np.asarray(k.position[:2], float) for k in (o.keyframes or [])]
        reach = sampling.footprint_radius(o)
        moving = o.kinematic or any(abs(v) > 1e-9 for v in (*o.velocity, *o.angular_velocity))
        for p in pts:
            r = max(r, float(np.linalg.norm(p - center)) + reach + (moving_margin_m if moving else 0.1))
    return r


def setting_of(scene: SceneSpec) -> Setting:
    center = np.asarray(scene.camera.look_at[:2], float)
    eyes = np.array([camera_at(scene.camera, t, scene.num_frames)[0] for t in range(scene.num_frames)])
    mid = eyes[len(eyes) // 2, :2] - center
    toward = mid / max(np.linalg.norm(mid), 1e-9)
    side = np.array([toward[1], -toward[0]])
    return Setting(center, toward, side, action_radius(scene, center), eyes[:, :2], float(eyes[:, 2].max()))


def _along(setting: Setting, xy) -> tuple[float, float]:
    """(distance towards the camera, distance to the camera's right) of a floor point."""
    d = np.asarray(xy, float) - setting.center
    return float(d @ setting.toward_camera), float(d @ setting.side)


def _to_world(setting: Setting, a: float, s: float) -> np.ndarray:
    return setting.center + a * setting.toward_camera + s * setting.side


def _yaw_of(vec2) -> float:
    return math.atan2(float(vec2[1]), float(vec2[0]))


def box(ids, name: str, center_xyz, half, yaw: float, color, texture: str, variant: int,
        texture_m: float = 1.0, role: str = "fixture", roughness: float | None = None) -> ObjectSpec:
    """A static textured box (a wall, a table leg, a step)."""
    finish = textures.FINISHES.get(texture)
    return ObjectSpec(
        id=next(ids), name=name, shape="box", size=[float(h) for h in half], color=[float(c) for c in color],
        position=[float(v) for v in center_xyz], orientation=quat_z(yaw), material="wood",
        roughness=float(roughness if roughness is not None else (finish.roughness if finish else 0.8)),
        metallic=float(finish.metallic if finish else 0.0), mass_kg=0.0, friction=0.6, restitution=0.2,
        role=role, texture=texture, texture_variant=int(variant), texture_m=float(texture_m),
    )


def _tint(rng, kind: str, variant: int, amount: float = 0.12) -> list[float]:
    base = np.asarray(textures.mean_color(kind, variant, 64))
    return [float(v) for v in np.clip(base * rng.uniform(1 - amount, 1 + amount, 3), 0, 1)]


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


# --------------------------------------------------------------------------- walls


def wall(ids, setting: Setting, a0: float, s0: float, a1: float, s1: float, z0: float, height: float,
         finish: tuple[str, int, list[float]], opening: dict | None = None) -> list[ObjectSpec]:
    """A wall from (a0, s0) to (a1, s1) (camera frame, metres), ``z0`` to ``z0 + height``.

    ``opening``: ``{"at": fraction along, "width", "bottom", "top"}`` (metres above z0): the
    wall is built as the boxes around the hole (a window when bottom > 0, else a doorway).
    """
    p0, p1 = _to_world(setting, a0, s0), _to_world(setting, a1, s1)
    length = float(np.linalg.norm(p1 - p0))
    u = (p1 - p0) / length
    yaw = _yaw_of(u)
    kind, variant, color = finish
    pieces = []  # (start, end along the wall, bottom, top)
    if opening is None:
        pieces.append((0.0, length, 0.0, height))
    else:
        mid = opening["at"] * length
        lo, hi = mid - opening["width"] / 2, mid + opening["width"] / 2
        pieces += [(0.0, lo, 0.0, height), (hi, length, 0.0, height), (lo, hi, opening["top"], height)]
        if opening["bottom"] > 0:
            pieces.append((lo, hi, 0.0, opening["bottom"]))
    out = []
    for start, end, bottom, top in pieces:
        if end - start < 0.02 or top - bottom < 0.02:
            continue
        c = p0 + u * (start + end) / 2
        out.append(box(ids, "wall", [c[0], c[1], z0 + (bottom + top) / 2],
                       [(end - start) / 2, WALL_HALF_THICKNESS_M, (top - bottom) / 2], yaw, color, kind, variant, 1.2))
    return out


def _skirting(ids, setting, a0, s0, a1, s1, z0, inward, finish, door: dict | None) -> list[ObjectSpec]:
    """A skirting board along a wall's foot, on the room side (``inward``: unit, camera frame)."""
    p0, p1 = _to_world(setting, a0, s0), _to_world(setting, a1, s1)
    length = float(np.linalg.norm(p1 - p0))
    u = (p1 - p0) / length
    n = inward[0] * setting.toward_camera + inward[1] * setting.side
    height, depth = 0.08, 0.012
    spans = [(0.0, length)]
    if door is not None:
        mid = door["at"] * length
        spans = [(0.0, mid - door["width"] / 2), (mid + door["width"] / 2, length)]
    out = []
    for start, end in spans:
        if end - start < 0.05:
            continue
        c = p0 + u * (start + end) / 2 + n * (WALL_HALF_THICKNESS_M + depth)
        out.append(box(ids, "skirting board", [c[0], c[1], z0 + height / 2], [(end - start) / 2, depth, height / 2],
                       _yaw_of(u), finish[2], finish[0], finish[1], 0.5))
    return out


def room(ids, rng, setting: Setting, z0: float, *, inner_radius: float) -> tuple[list[ObjectSpec], dict]:
    """Back wall, one or two side walls (a corner behind the action), skirting, an opening."""
    back = inner_radius + float(rng.uniform(0.3, 1.2))
    cam_side = np.abs([_along(setting, p)[1] for p in setting.camera_xy]).max()
    cam_front = max(_along(setting, p)[0] for p in setting.camera_xy)
    left = max(inner_radius + float(rng.uniform(0.4, 1.5)), cam_side + 0.4)
    right = max(inner_radius + float(rng.uniform(0.4, 1.5)), cam_side + 0.4)
    front = cam_front + float(rng.uniform(0.6, 1.5))
    height = float(rng.uniform(2.4, 3.0))
    kind = _pick(rng, WALL_FINISHES)
    variant = int(rng.integers(textures.VARIANTS))
    finish = (kind, variant, _tint(rng, kind, variant, 0.25))
    skirt_kind = _pick(rng, ("plaster", "wood"))
    skirt_variant = int(rng.integers(textures.VARIANTS))
    skirt = (skirt_kind, skirt_variant, _tint(rng, skirt_kind, skirt_variant, 0.05))
    walls = [("back", (-back, -right, -back, left), (1.0, 0.0))]
    sides = ["left", "right"] if rng.random() < 0.5 else [_pick(rng, ("left", "right"))]
    if "left" in sides:
        walls.append(("left", (-back, left, front, left), (0.0, -1.0)))
    if "right" in sides:
        walls.append(("right", (front, -right, -back, -right), (0.0, 1.0)))
    opening_wall = _pick(rng, [w[0] for w in walls])
    is_door = rng.random() < 0.35
    opening = {
        "at": float(rng.uniform(0.25, 0.75)),
        "width": float(rng.uniform(0.8, 1.0) if is_door else rng.uniform(0.8, 1.6)),
        "bottom": 0.0 if is_door else float(rng.uniform(0.8, 1.0)),
        "top": float(rng.uniform(2.0, min(2.2, height - 0.15))),
    }
    objects = []
    for name, (a0, s0, a1, s1), inward in walls:
        hole = opening if name == opening_wall else None
        objects += wall(ids, setting, a0, s0, a1, s1, z0, height, finish, hole)
        objects += _skirting(ids, setting, a0, s0, a1, s1, z0, inward, skirt, hole if hole and is_door else None)
    info = {
        "walls": [w[0] for w in walls], "back_m": back, "left_m": left, "right_m": right, "front_m": front,
        "height_m": height, "wall_texture": kind,
        "opening": {"wall": opening_wall, "kind": "doorway" if is_door else "window", **opening},
    }
    return objects, info


# --------------------------------------------------------------------------- settings


def _floor(rng, base: FloorSpec, kinds, tile_range=(0.6, 1.6)) -> FloorSpec:
    kind = _pick(rng, kinds)
    variant = int(rng.integers(textures.VARIANTS))
    mean = _tint(rng, kind, variant, 0.08)
    return FloorSpec(color=mean, color2=mean, pattern=kind, tile_m=float(rng.uniform(*tile_range)),
                     roughness=textures.FINISHES[kind].roughness, half_extent_m=base.half_extent_m,
                     friction=base.friction, restitution=base.restitution, texture_variant=variant)


TABLE_SPARE_M = (0.35, 0.8)  # table beyond the action disc: room for props
MAX_TABLE_HALF_M = 1.6


def _table_half_extent(setting: Setting, spare: float) -> float:
    """Half side of a square table about the origin that holds the action with room to spare."""
    return float(np.abs(setting.center).max() + setting.radius + spare)


def tabletop(ids, rng, scene: SceneSpec, setting: Setting, he: float) -> tuple[list[ObjectSpec], FloorSpec, dict, float]:
    height = float(rng.uniform(0.72, 0.78))
    top = _floor(rng, scene.floor, TABLE_TOPS, (0.5, 1.0))
    top.half_extent_m = he
    kind, variant = top.pattern, top.texture_variant
    objects = [box(ids, "table edge", [0, 0, -0.0205], [he, he, 0.02], 0.0, top.color, kind, variant, top.tile_m)]
    inset, leg = 0.08, 0.035
    for sx in (-1, 1):
        for sy in (-1, 1):
            objects.append(box(ids, "table leg", [sx * (he - inset), sy * (he - inset), -(height + 0.041) / 2],
                               [leg, leg, (height - 0.041) / 2], 0.0, top.color, kind, variant, 0.5))
    room_floor = _floor(rng, scene.floor, ROOM_FLOORS)
    reach = math.hypot(he, he) + 0.3
    size = reach + 6.0
    objects.append(box(ids, "floor", [0, 0, -height - 0.05], [size, size, 0.05], 0.0, room_floor.color,
                       room_floor.pattern, room_floor.texture_variant, room_floor.tile_m))
    info = {"table_half_extent_m": he, "table_height_m": height, "table_texture": kind,
            "room_floor_texture": room_floor.pattern}
    return objects, top, info, -height


def outdoor(ids, rng, setting: Setting) -> tuple[list[ObjectSpec], dict]:
    """A backdrop behind the action: a hedge or a facade, and a few trees."""
    out = []
    back = setting.radius + float(rng.uniform(1.0, 3.0))
    width = setting.radius * 2 + float(rng.uniform(4.0, 8.0))
    facade = rng.random() < 0.5
    if facade:
        kind = _pick(rng, ("plaster", "tiles"))
        height = float(rng.uniform(3.0, 6.0))
    else:
        kind, height = "grass", float(rng.uniform(1.0, 1.8))
    variant = int(rng.integers(textures.VARIANTS))
    color = _tint(rng, kind, variant, 0.2)
    if not facade:
        color = [c * 0.6 for c in color]  # a hedge is darker than the lawn
    c = _to_world(setting, -back - 0.5, 0.0)
    out.append(box(ids, "facade" if facade else "hedge", [c[0], c[1], height / 2], [width / 2, 0.5, height / 2],
                   _yaw_of(setting.side), color, kind, variant, 1.5))
    for _ in range(int(rng.integers(1, 4))):
        a = -back + float(rng.uniform(-0.3, 1.0))
        s = float(rng.uniform(-width / 2, width / 2))
        if abs(s) < setting.radius + 0.8 and a > -setting.radius - 0.8:
            continue  # keep trees off the action
        p = _to_world(setting, a, s)
        trunk_h = float(rng.uniform(1.5, 2.5))
        r = float(rng.uniform(0.06, 0.12))
        wood_v = int(rng.integers(textures.VARIANTS))
        out.append(ObjectSpec(id=next(ids), name="tree trunk", shape="cylinder", size=[r, trunk_h],
                              color=_tint(rng, "wood", wood_v), position=[p[0], p[1], trunk_h / 2],
                              mass_kg=0.0, role="fixture", material="wood", roughness=0.9,
                              texture="wood", texture_variant=wood_v, texture_m=0.4))
        crown = float(rng.uniform(0.6, 1.1))
        leaf_v = int(rng.integers(textures.VARIANTS))
        out.append(ObjectSpec(id=next(ids), name="tree crown", shape="sphere", size=[crown],
                              color=[v * 0.7 for v in _tint(rng, "grass", leaf_v)],
                              position=[p[0], p[1], trunk_h + crown * 0.7], mass_kg=0.0, role="fixture",
                              material="rubber", roughness=0.95, texture="grass", texture_variant=leaf_v, texture_m=0.8))
    return out, {"backdrop": "facade" if facade else "hedge", "backdrop_m": back}


# --------------------------------------------------------------------------- clutter


def floor_point(scene: SceneSpec, u: float, v: float, z: float, frame: int | None = None) -> np.ndarray | None:
    """Where the ray through pixel fraction ``(u, v)`` (0..1, y down) meets the plane at height ``z``."""
    from simulate.scene import look_at_matrix

    t = scene.num_frames // 2 if frame is None else frame
    eye, target, up, fov = camera_at(scene.camera, t, scene.num_frames)
    view = look_at_matrix(eye, target, up)
    tan = math.tan(math.radians(fov) / 2)
    d_cam = np.array([(2 * u - 1) * tan * scene.width / scene.height, (1 - 2 * v) * tan, -1.0])
    d = view[:3, :3].T @ d_cam
    if d[2] >= -1e-6:
        return None  # at or above the horizon
    return eye + d * (z - eye[2]) / d[2]


def clutter(ids, rng, scene: SceneSpec, setting: Setting, count: int, *, z0: float, bounds: float,
            avoid: list[tuple[np.ndarray, float]], tries_per_object: int = 12) -> list[ObjectSpec]:
    """Up to ``count`` resting objects around the action, inside the picture.

    Spots are drawn in the picture (a pixel, then where its ray meets the floor), so every
    prop is in view at the middle frame. ``bounds``: how far from the action centre they may
    lie (the room or table edge); ``avoid``: discs (centre, radius) already taken. A prop with
    no free spot is dropped, so a tight set gets fewer objects, never overlapping ones.
    """
    from simulate.families.common import _segment_distance, rest_on_floor

    taken = [(setting.center, setting.radius)] + list(avoid)
    eye = setting.camera_xy[len(setting.camera_xy) // 2]
    corridor = (eye, setting.center, min(setting.radius, 0.6))
    out = []
    for _ in range(count):
        obj = sampling.make_object(rng, 0, role="clutter", extent_m=(0.06, 0.22))
        r = sampling.footprint_radius(obj)
        spot = None
        for _ in range(tries_per_object):
            p = floor_point(scene, float(rng.uniform(0.08, 0.92)), float(rng.uniform(0.1, 0.95)), z0)
            if p is None:
                continue
            xy = p[:2]
            if np.linalg.norm(xy - setting.center) > bounds - r:
                continue
            if any(np.linalg.norm(xy - q) < r + rq + GAP_M for q, rq in taken):
                continue
            if _segment_distance(xy, corridor[0], corridor[1]) < r + corridor[2] + GAP_M:
                continue
            spot = xy
            break
        if spot is None:
            continue
        rest_on_floor(obj, spot)
        obj.position[2] += z0
        obj.id = next(ids)
        tex = _pick(rng, CLUTTER_TEXTURES)
        if tex:
            obj.texture, obj.texture_variant, obj.texture_m = tex, int(rng.integers(textures.VARIANTS)), 0.0
        taken.append((spot, r))
        out.append(obj)
    return out


def occluder(ids, rng, scene: SceneSpec, setting: Setting, z0: float) -> ObjectSpec | None:
    """A tall post carried across the picture between the camera and the action (or None)."""
    from simulate.scene import Keyframe

    eye_a = min(_along(setting, p)[0] for p in setting.camera_xy)
    radius = float(rng.uniform(0.08, 0.18))
    lo, hi = setting.radius + radius + GAP_M, eye_a - radius - 0.35
    if hi <= lo:
        return None
    a = float(rng.uniform(lo, hi))
    span = a * math.tan(math.radians(scene.camera.fov_deg) * scene.width / scene.height / 2) + 0.8
    height = float(rng.uniform(1.4, 1.9))
    clip = scene.num_frames / scene.fps
    t0 = float(rng.uniform(0.0, 0.5)) * clip
    t1 = t0 + float(np.clip(2 * span / rng.uniform(0.8, 1.6), 0.3 * clip, clip))  # walking pace
    sign = 1.0 if rng.random() < 0.5 else -1.0
    start, end = _to_world(setting, a, -sign * span), _to_world(setting, a, sign * span)
    z = z0 + height / 2 + 1e-3
    kind = _pick(rng, ("fabric", "plastic", "wood"))
    variant = int(rng.integers(textures.VARIANTS))
    return ObjectSpec(
        id=next(ids), name="passer-by", shape="cylinder", size=[radius, height], color=_tint(rng, kind, variant, 0.3),
        position=[start[0], start[1], z], mass_kg=50.0, role="occluder", material="rubber", roughness=0.8,
        keyframes=[Keyframe(t0, [start[0], start[1], z]), Keyframe(t1, [end[0], end[1], z])],
        texture=kind, texture_variant=variant, texture_m=0.5,
    )


def indoor_light(scene: SceneSpec, rng: np.random.Generator, setting: Setting) -> None:
    """Sun through the open side of the set (from the camera's half), brighter fill (in place).

    The set has no wall on the camera's side and no ceiling, like a studio set: light from
    there reaches the action, while a sun behind the back wall would leave it in shadow.
    """
    toward = math.atan2(setting.toward_camera[1], setting.toward_camera[0])
    azimuth = toward + math.radians(float(rng.uniform(-70, 70)))
    elevation = math.radians(float(rng.uniform(30, 60)))
    light = scene.light
    light.sun_direction = [-math.cos(elevation) * math.cos(azimuth), -math.cos(elevation) * math.sin(azimuth),
                           -math.sin(elevation)]
    light.ambient = float(rng.uniform(0.3, 0.45))
    light.sun_intensity = float(rng.uniform(0.7, 1.0))


# --------------------------------------------------------------------------- camera


def reshoot(scene: SceneSpec, rng: np.random.Generator, motion: str = "random", extra=()) -> None:
    """Re-frame ``scene``'s camera as a filmed shot (in place): a lens from 20 to 85 mm, the
    action filling about half the picture so the set shows, a lower eye line, camera work.

    The family's look-at point and azimuth stay (some families aim across the action), so
    does its motion when the dataset asks for one (``motion`` not ``random``). ``extra``:
    more points the shot must hold (a bystander's reach).
    """
    from simulate.families.common import focus_points

    cam = scene.camera
    shot = camerawork.sample_shot(rng, motion)
    look_at = np.asarray(cam.look_at, float)
    rel = np.asarray(cam.position, float) - look_at
    azimuth = math.atan2(rel[1], rel[0])
    old_elev = math.degrees(math.atan2(rel[2], math.hypot(rel[0], rel[1])))
    elevation = math.radians(min(old_elev, float(rng.uniform(12, 35))))
    fill = float(rng.uniform(0.45, 0.7))
    if shot["motion"] == "zoom":
        fill *= 1.0 - shot["motion_amount"]
    direction = np.array([math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth),
                          math.sin(elevation)])
    pts = focus_points([o for o in scene.objects if o.role not in SET_ROLES], extra)
    distance = sampling._fit_distance(pts, look_at, direction, shot["fov_deg"], scene.width / scene.height, fill)
    cam.position = [float(v) for v in look_at + distance * direction]
    cam.fov_deg = shot["fov_deg"]
    cam.far_m = float(distance * 4 + 30)
    cam.motion, cam.motion_amount = shot["motion"], shot["motion_amount"]
    cam.shake_m, cam.shake_deg, cam.shake_seed = shot["shake_m"], shot["shake_deg"], shot["shake_seed"]
    cam.frame_s = 1.0 / scene.fps
    cam.exposure_ev = shot["exposure_ev"]
    cam.vignette = shot["vignette"]
    cam.grain = shot["grain"]


# --------------------------------------------------------------------------- entry


def dress(scene: SceneSpec, rng: np.random.Generator, kind: str | None = None, *,
          kinds=ENVIRONMENTS, clutter_range: tuple[int, int] = CLUTTER_RANGE, occluder_p: float = 0.3,
          camera_motion: str | None = "random", bystander_p: float = 0.0,
          bystander_rng: np.random.Generator | None = None) -> SceneSpec:
    """``scene`` inside an environment (a new spec; the input is not changed).

    ``kind``: one of :data:`ENVIRONMENTS`, or None to draw one of ``kinds`` (their weights in
    :data:`ENV_WEIGHTS`, renormalised). A tabletop whose table would
    have to be wider than 3.2 m to hold the action becomes a room. ``camera_motion``: the
    shot :func:`reshoot` films (None keeps the family's camera). ``bystander_p``: the chance
    of a kept person dancing behind the action (:mod:`simulate.bystanders`; rooms and outdoor
    sets), drawn from ``bystander_rng``; 0 draws nothing.
    """
    import copy

    scene = copy.deepcopy(scene)
    if kind is None:
        weights = np.array([w if k in kinds else 0.0 for k, w in zip(ENVIRONMENTS, ENV_WEIGHTS)])
        kind = ENVIRONMENTS[int(rng.choice(len(ENVIRONMENTS), p=weights / weights.sum()))]
    if kind not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {kind!r}; choose from {', '.join(ENVIRONMENTS)}")
    extra, bystander = (), None
    if bystander_p > 0 and kind != "tabletop" and len(scene.people) < 2:
        from simulate import bystanders

        if bystander_rng.random() < bystander_p:
            placed = bystanders.add_bystander(bystander_rng, scene)
            if placed is not None:
                bystander, extra = placed
    if camera_motion is not None:
        reshoot(scene, rng, camera_motion, extra)
    setting = setting_of(scene)
    ids = _ids(scene)
    table_half = _table_half_extent(setting, float(rng.uniform(*TABLE_SPARE_M)))
    if kind == "tabletop" and table_half > MAX_TABLE_HALF_M:
        kind = "room"
    added: list[ObjectSpec] = []
    info: dict = {"environment": kind}
    z0 = 0.0
    if kind == "room":
        scene.floor = _floor(rng, scene.floor, ROOM_FLOORS)
        walls, room_info = room(ids, rng, setting, 0.0, inner_radius=setting.radius + GAP_M)
        added += walls
        info.update(room_info)
        bounds = min(room_info["back_m"], room_info["left_m"], room_info["right_m"]) - WALL_HALF_THICKNESS_M - 0.1
    elif kind == "tabletop":
        table, top, table_info, z_room = tabletop(ids, rng, scene, setting, table_half)
        scene.floor = top
        added += table
        info.update(table_info)
        walls, room_info = room(ids, rng, setting, z_room, inner_radius=table_half * math.sqrt(2) + float(np.abs(setting.center).max()) + 0.3)
        added += walls
        info["room"] = room_info
        # props stay on the table: inside its edge seen from the action centre
        bounds = table_info["table_half_extent_m"] - float(np.abs(setting.center).max()) - 0.05
    else:
        scene.floor = _floor(rng, scene.floor, OUTDOOR_GROUNDS, (0.8, 2.0))
        backdrop, out_info = outdoor(ids, rng, setting)
        added += backdrop
        info.update(out_info)
        bounds = out_info["backdrop_m"] - 0.3
    if kind != "outdoor":
        indoor_light(scene, rng, setting)
    n = int(rng.integers(clutter_range[0], clutter_range[1] + 1))
    props = clutter(ids, rng, scene, setting, n, z0=z0, bounds=max(bounds, setting.radius), avoid=[])
    added += props
    info["clutter"] = len(props)
    passer = None
    if kind != "tabletop" and rng.random() < occluder_p:
        passer = occluder(ids, rng, scene, setting, z0)
    if passer is not None:
        added.append(passer)
    info["occluder"] = passer is not None
    if bystander_p > 0:  # the key is new: datasets made without the option keep their metadata
        info["bystander"] = bystander
    scene.objects = list(scene.objects) + added
    scene.extras = {**scene.extras, "environment": info}
    return scene
