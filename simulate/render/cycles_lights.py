"""The footage look's practical lights in Cycles: window light, room lamps, a tabletop key.

Where a set is indoors, Cycles adds lights a filmed interior has, placed from the set's own
walls and varied per sample:

* **room** (and the room around a tabletop): window light, a soft rectangular area light
  filling the window or doorway from outside, facing in, daylight-coloured; one or two
  warm point lamps (practicals) near the walls at head height; an overhead soft box;
* **tabletop**: a soft square area key above the table on the camera's side, aimed at the
  action;
* **outdoor**: none (the physical sky and the sun, as before).

All of them are **shadowless fill** (Blender's ``use_shadow`` off): their light on a
surface does not depend on what stands between, so removing an object changes their light
only on the object itself and by bounce light near it, as with the sky. The sun keeps the
shadows; the signature pass (sun only, see :mod:`simulate.render.blender_signature`) and the
change regions then stay exact, and 255 pixels bit-identical. They are beauty-pass only.

Every draw here comes from the sample seed's own stream (``LIGHTS_STREAM``): no scene field
is added or changed, so the scene spec, the family's draws and the raster renderer's output
are the same with or without these lights. Powers are shares of the scene's sun
(irradiance ``blender_scene.SUN_W_M2`` times its intensity): a point lamp of power P gives P / (4 pi d^2) W/m^2 at d metres;
an area light about P / (pi d^2) on its axis.

This module never imports ``bpy``.
"""

from __future__ import annotations

import math

import numpy as np

from simulate.rotation import quat_matrix
from simulate.scene import SceneSpec

LIGHTS_STREAM = 0x119B7  # spawn key of the lights' own random stream (from the sample seed)
DAYLIGHT = (0.85, 0.92, 1.0)
WARM = (1.0, 0.78, 0.52)  # a tungsten practical, about 2900 K


def _rng(scene: SceneSpec) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=int(scene.seed), spawn_key=(LIGHTS_STREAM,)))


def _walls(scene: SceneSpec) -> list:
    return [o for o in scene.objects if o.role == "fixture" and o.name == "wall"]


def _yaw_axis(obj) -> np.ndarray:
    """The wall box's long axis (its body x) in the world, horizontal."""
    axis = quat_matrix(obj.orientation)[:, 0]
    return np.array([axis[0], axis[1], 0.0])


def window(scene: SceneSpec) -> dict | None:
    """The room's opening from its wall pieces: centre, inward normal, width and height.

    The piece above the opening (the lintel) is the wall box whose bottom is far above the
    room's floor; a window also has a sill piece below it at the same place.
    """
    walls = _walls(scene)
    if not walls:
        return None
    bottoms = [o.position[2] - o.size[2] for o in walls]
    floor_z = min(bottoms)
    lintels = [o for o, b in zip(walls, bottoms) if b - floor_z > 1.5]
    if not lintels:
        return None
    lintel = lintels[0]
    c = np.asarray(lintel.position, float)
    top = c[2] - lintel.size[2]
    sill = [o for o in walls if o is not lintel and abs(o.position[0] - c[0]) < 1e-6 and abs(o.position[1] - c[1]) < 1e-6]
    bottom = sill[0].position[2] + sill[0].size[2] if sill else floor_z
    along = _yaw_axis(lintel)
    normal = np.array([-along[1], along[0], 0.0])
    action = np.asarray(scene.camera.look_at, float)
    if (action - c)[:2] @ normal[:2] < 0:
        normal = -normal  # pointing into the room
    centre = np.array([c[0], c[1], (top + bottom) / 2])
    return {"centre": centre, "inward": normal, "width": 2 * float(lintel.size[0]), "height": float(top - bottom),
            "floor_z": floor_z}


def indoors(scene: SceneSpec) -> bool:
    """Whether the scene's set is a room or a tabletop (the sets that get these lights)."""
    return (scene.extras.get("environment") or {}).get("environment") in ("room", "tabletop")


def footage_lights(scene: SceneSpec, sun_w_m2: float) -> list[dict]:
    """The practical lights of a footage-look scene (empty for the plain look and outdoors).

    Each: ``kind`` (``point`` or ``area``), ``position``, ``direction`` (area: where it
    faces), ``size_m`` (area: width, height; point: radius), ``power_w`` (Blender watts),
    ``color``, ``role``. ``sun_w_m2``: the irradiance of a sun of intensity 1.
    """
    if not indoors(scene):
        return []
    rng = _rng(scene)
    sun = sun_w_m2 * float(scene.light.sun_intensity)
    action = np.asarray(scene.camera.look_at, float)
    out = []
    win = window(scene)
    if win is not None:
        # daylight through the opening: about a third to two thirds of the sun at 2 m
        dist = 2.0
        power = float(rng.uniform(0.3, 0.65)) * sun * math.pi * dist * dist
        out.append({"kind": "area", "role": "window", "position": (win["centre"] - 0.25 * win["inward"]).tolist(),
                    "direction": win["inward"].tolist(), "size_m": [win["width"], max(win["height"], 0.3)],
                    "power_w": power, "color": list(DAYLIGHT)})
    walls = _walls(scene)
    floor_z = min((o.position[2] - o.size[2] for o in walls), default=0.0)
    for _ in range(int(rng.integers(1, 3))):  # practicals: near a wall, at head height
        if walls:
            w = walls[int(rng.integers(len(walls)))]
            toward = action[:2] - np.asarray(w.position[:2], float)
            toward = toward / max(np.linalg.norm(toward), 1e-6)
            along = _yaw_axis(w)[:2] * float(rng.uniform(-0.8, 0.8)) * float(w.size[0])
            xy = np.asarray(w.position[:2], float) + along + toward * float(rng.uniform(0.3, 0.6))
        else:
            xy = action[:2] + rng.normal(0.0, 1.0, 2)
        z = floor_z + float(rng.uniform(1.5, 2.1))
        power = float(rng.uniform(0.08, 0.2)) * sun * 4 * math.pi * 4.0  # that share of the sun at 2 m
        tint = np.clip(np.asarray(WARM) * rng.uniform(0.92, 1.08, 3), 0, 1)
        out.append({"kind": "point", "role": "practical", "position": [float(xy[0]), float(xy[1]), z],
                    "direction": [0.0, 0.0, -1.0], "size_m": [float(rng.uniform(0.04, 0.1))], "power_w": power,
                    "color": tint.tolist()})
    if scene.extras["environment"]["environment"] == "tabletop":
        # a soft key above the table on the camera's side, aimed at the action
        cam = np.asarray(scene.camera.position, float)
        side = (cam - action)[:2]
        side = side / max(np.linalg.norm(side), 1e-6)
        turn = math.radians(float(rng.uniform(-60, 60)))
        c, s = math.cos(turn), math.sin(turn)
        side = np.array([c * side[0] - s * side[1], s * side[0] + c * side[1]])
        dist, height = float(rng.uniform(1.0, 1.8)), float(rng.uniform(0.8, 1.5))
        pos = np.array([action[0] + side[0] * dist, action[1] + side[1] * dist, action[2] + height])
        aim = action - pos
        reach = float(np.linalg.norm(aim))
        power = float(rng.uniform(0.3, 0.6)) * sun * math.pi * reach * reach
        edge = float(rng.uniform(0.6, 1.2))
        out.append({"kind": "area", "role": "key", "position": pos.tolist(), "direction": (aim / reach).tolist(),
                    "size_m": [edge, edge], "power_w": power, "color": [1.0, 0.97, 0.92]})
    else:
        # an overhead soft box, as a ceiling fixture or a bounce card would give
        pos = np.array([action[0], action[1], floor_z + float(rng.uniform(2.3, 2.8))])
        reach = float(pos[2] - action[2])
        power = float(rng.uniform(0.15, 0.35)) * sun * math.pi * reach * reach
        edge = float(rng.uniform(0.8, 1.6))
        out.append({"kind": "area", "role": "overhead", "position": pos.tolist(), "direction": [0.0, 0.0, -1.0],
                    "size_m": [edge, edge], "power_w": power, "color": [1.0, 0.95, 0.88]})
    return out
