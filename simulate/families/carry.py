"""``carry``: a kinematic actor (a paddle, tray or arm standing in for a hand) moves along
keyframes and carries or pushes an object. The actor is removed: a carried object falls
from where it was held, a pushed one stays put. This is the open-data stand-in for VOID's
human-object (HUMOTO) scenes.

Modes: ``lift`` (a tray raises the object and moves it aside), ``tip`` (a tray holds the
object, then tilts and lets it slide off) and ``push`` (an upright paddle sweeps along the
floor through the object's spot).
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.families.common import add_distractors, duration_s, focus_points, rest_on, rest_on_floor
from simulate.scene import Keyframe, ObjectSpec, SceneSpec

NAME = "carry"
INTERACTION = True
MODES = ("lift", "tip", "push")
_HELD_SHAPES = ("box", "cylinder", "mesh")
_HELD_MESHES = ("duck", "mug", "teddy", "brick", "bunny")


def _actor(rng, oid: int, half: list[float], noun: str) -> ObjectSpec:
    name, rgb = sampling.color(rng)
    return ObjectSpec(
        id=oid, name=f"{name} {noun}", shape="box", size=[float(v) for v in half], color=rgb,
        position=[0.0, 0.0, 0.0], material="plastic", roughness=0.5, mass_kg=1.0,
        friction=1.0, restitution=0.0, role="removed",
    )


def _held(rng, oid: int, max_extent: float, avoid) -> ObjectSpec:
    shape = sampling.choice(rng, _HELD_SHAPES, p=[0.35, 0.3, 0.35])
    mesh_key = sampling.choice(rng, _HELD_MESHES) if shape == "mesh" else None
    obj = sampling.make_object(rng, oid, role="target", shape=shape, mesh_key=mesh_key,
                               extent_m=(0.08, max_extent), avoid_colors=avoid)
    obj.friction = max(obj.friction, 0.8)
    obj.restitution = min(obj.restitution, 0.3)
    return obj


def _q(yaw: float, tilt: float = 0.0) -> list[float]:
    # yaw about z, then tilt about the actor's own x axis
    return sampling.quat_mul(sampling.quat_z(yaw), [math.sin(tilt / 2), 0.0, 0.0, math.cos(tilt / 2)])


def sample_scene(rng: np.random.Generator, config) -> SceneSpec:
    clip = duration_s(config)
    mode = sampling.choice(rng, MODES)
    yaw = float(rng.uniform(0, 2 * math.pi))
    fwd = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    t_start = clip * float(rng.uniform(0.05, 0.2))
    t_end = clip * float(rng.uniform(0.75, 0.95))
    objects: list[ObjectSpec] = []
    extra_focus = []

    if mode in ("lift", "tip"):
        tray = _actor(rng, 1, [float(rng.uniform(0.1, 0.15)), float(rng.uniform(0.1, 0.14)), 0.015], "tray")
        h0 = float(rng.uniform(0.15, 0.35))
        tray.position = [0.0, 0.0, h0]
        tray.orientation = _q(yaw)
        objects.append(tray)
        held = _held(rng, 2, 1.6 * min(tray.size[:2]), avoid={sampling.color_name(tray)})
        rest_on(held, tray, xy=(0.0, 0.0))
        objects.append(held)
        if mode == "lift":
            up = h0 + float(rng.uniform(0.08, 0.2))
            side = fwd * float(rng.uniform(0.25, 0.45))
            mid = t_start + (t_end - t_start) * 0.4
            keys = [
                Keyframe(0.0, [0.0, 0.0, h0], _q(yaw)),
                Keyframe(t_start, [0.0, 0.0, h0], _q(yaw)),
                Keyframe(mid, [0.0, 0.0, up], _q(yaw)),
                Keyframe(t_end, [float(side[0]), float(side[1]), up], _q(yaw)),
            ]
            extra_focus = [[side[0], side[1], up + 0.2]]
        else:
            tilt = math.radians(float(rng.uniform(35, 55))) * (1 if rng.random() < 0.5 else -1)
            keys = [
                Keyframe(0.0, [0.0, 0.0, h0], _q(yaw)),
                Keyframe(t_start, [0.0, 0.0, h0], _q(yaw)),
                Keyframe(t_start + (t_end - t_start) * 0.5, [0.0, 0.0, h0], _q(yaw, tilt)),
            ]
        tray.keyframes = keys
        tray.position = list(keys[0].position)
        removed = [tray.id]
    else:
        held = sampling.make_object(rng, 2, role="target", extent_m=(0.1, 0.22))
        rest_on_floor(held, (0.0, 0.0))
        r = sampling.footprint_radius(held)
        paddle = _actor(rng, 1, [0.02, float(rng.uniform(0.1, 0.16)), float(rng.uniform(0.06, 0.1))], "paddle")
        z = paddle.size[2] + 0.005
        start = -fwd * (r + float(rng.uniform(0.15, 0.3)))
        stop = fwd * float(rng.uniform(0.15, 0.35))
        paddle.keyframes = [
            Keyframe(0.0, [float(start[0]), float(start[1]), z], _q(yaw)),
            Keyframe(t_start, [float(start[0]), float(start[1]), z], _q(yaw)),
            Keyframe(t_end, [float(stop[0]), float(stop[1]), z], _q(yaw)),
        ]
        paddle.position = list(paddle.keyframes[0].position)
        paddle.orientation = _q(yaw)
        objects += [paddle, held]
        extra_focus = [[stop[0] + fwd[0] * r, stop[1] + fwd[1] * r, 0.1]]
        removed = [paddle.id]

    taken = [(np.zeros(2), 0.35)]
    if extra_focus:
        taken.append((np.asarray(extra_focus[0][:2]), 0.3))
    add_distractors(rng, objects, int(rng.integers(1, 4)), taken, r_range=(0.3, 0.65))
    # the camera looks across the motion so it is seen side-on
    azimuth = yaw + math.pi / 2 * (1 if rng.random() < 0.5 else -1) + float(rng.uniform(-0.6, 0.6))
    return sampling.scene(
        rng, config, NAME, 0, objects, removed, focus_points(objects, extra_focus),
        camera_azimuth=azimuth, elevation_deg=(12, 35), extras={"mode": mode},
    )
