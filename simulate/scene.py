"""The scene spec: plain, JSON-able data that physics and every renderer consume.

Physics (``simulate.physics``) turns a :class:`SceneSpec` into per-frame poses; renderers
(``simulate.render``) turn a spec plus poses into pixels. Neither imports the other.

Conventions: metres, seconds, kilograms; world z is up; the floor is the plane z = 0;
quaternions are ``(x, y, z, w)``; colours are linear RGB in [0, 1]. Object ids start at 1
(0 is the floor / background in id passes).

Poses are ``(T, N, 7)`` float arrays ``[x, y, z, qx, qy, qz, qw]``, one row per object in
``SceneSpec.objects`` order, one slice per video frame. Rows of objects that do not exist in
a simulation (removed objects in the counterfactual) are NaN.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulate import camerawork
from simulate.rotation import quat_rotate

SHAPES = ("box", "sphere", "cylinder", "mesh")
ROLES = ("removed", "target", "support", "actor", "distractor", "fixture", "clutter", "occluder")
# roles an environment adds (simulate.environments): set dressing, never what a caption is about
SET_ROLES = ("fixture", "clutter", "occluder")
MATERIALS = ("rubber", "plastic", "metal", "wood")


@dataclass
class Keyframe:
    """A pose of a kinematic actor at ``time_s``; poses between keyframes are interpolated."""

    time_s: float
    position: list[float]
    orientation: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 1.0])


@dataclass
class ObjectSpec:
    id: int
    name: str  # caption noun phrase, e.g. "small red rubber sphere"
    shape: str  # one of SHAPES
    # box: half extents [x, y, z]; sphere: [radius]; cylinder: [radius, height] (axis = body z);
    # mesh: [scale] applied to the OBJ in pybullet_data
    size: list[float]
    color: list[float]
    position: list[float]
    orientation: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 1.0])
    mesh: str | None = None  # path relative to pybullet_data, for shape == "mesh"
    material: str = "plastic"
    roughness: float = 0.5
    metallic: float = 0.0
    mass_kg: float = 1.0  # 0 makes it static
    friction: float = 0.5
    restitution: float = 0.3
    velocity: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    angular_velocity: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    keyframes: list[Keyframe] | None = None  # kinematic actor: moved by keyframes, not forces
    role: str = "distractor"
    # Mesh objects: body-frame vertex = scale * obj_vertex + mesh_offset (OBJ axes as stored, no
    # axis conversion). The offset centres the mesh on its bounding box so the body origin (and
    # centre of mass) sits in the middle of the shape; simulate.meshes.object_mesh applies it.
    mesh_offset: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    rolling_friction: float = 0.0
    spinning_friction: float = 0.0
    # a part of a person's body: {"person": index in SceneSpec.people, "link": rig link index,
    # "offset": [x, y, z, qx, qy, qz, qw] of this shape in the link frame}. Physics makes no
    # body of its own for it and reads its pose from the played rig (simulate.humanoid).
    part_of: dict[str, Any] | None = None
    # Optics (docs/families-optics.md). emission: the object glows in its own colour with this
    # strength (a lamp bulb); transmission: 0 opaque .. 1 clear glass, tinted by ``color``;
    # frosted glass is transmission with a high roughness.
    emission: float = 0.0
    transmission: float = 0.0
    # Surface texture (simulate.textures kind; "" = plain colour): the raster renderer maps the
    # cached image, Cycles builds the matching procedural material. ``texture_m``: metres one
    # image repeat covers (0: the object's own size).
    texture: str = ""
    texture_variant: int = 0
    texture_m: float = 0.0

    @property
    def kinematic(self) -> bool:
        return bool(self.keyframes)


@dataclass
class PersonSpec:
    """An articulated person playing a motion-capture clip kinematically (simulate.humanoid).

    At scene time t the clip shows time ``start_s + speed * max(0, t - hold_s)``; its first
    root position is put at ``position`` (x, y), turned by ``heading_rad`` about z, and the
    whole rig is scaled by ``scale``, its limb segments by ``proportions``. ``part_ids`` are
    the scene objects that draw it. A carried object (``carried_id``) is held in the
    ``hand_link`` at the ``grip`` pose (link frame) from the first frame until ``release_s``
    (None: never let go).
    """

    index: int
    clip: str
    speed: float = 1.0
    start_s: float = 0.0
    hold_s: float = 0.0
    position: list[float] = field(default_factory=lambda: [0.0, 0.0])
    heading_rad: float = 0.0
    scale: float = 1.0
    part_ids: list[int] = field(default_factory=list)
    carried_id: int | None = None
    hand_link: int | None = None
    grip: list[float] | None = None
    release_s: float | None = None
    description: str = ""  # caption phrase, e.g. "a person in a red shirt and blue trousers"
    proportions: dict[str, float] = field(default_factory=dict)  # segment -> length factor (humanoid.SEGMENTS)


@dataclass
class CameraSpec:
    position: list[float]
    look_at: list[float]
    up: list[float] = field(default_factory=lambda: [0.0, 0.0, 1.0])
    fov_deg: float = 45.0  # vertical field of view
    near_m: float = 0.05
    far_m: float = 50.0
    motion: str = "static"  # one of simulate.camerawork.MOTIONS
    # pan: degrees the camera orbits about look_at over the clip; zoom: fraction the fov shrinks;
    # the others: simulate.camerawork's module docstring
    motion_amount: float = 0.0
    # camera work (simulate.camerawork): handheld shake and the camera's response
    shake_m: float = 0.0  # position wobble amplitude
    shake_deg: float = 0.0  # rotation wobble amplitude
    shake_seed: int = 0
    frame_s: float = 0.0  # seconds per frame (1 / fps): the shake's time axis
    exposure_ev: float = 0.0  # linear radiance scaled by 2**ev before display, in every view alike
    vignette: float = 0.0  # fraction of light lost in the picture's corners
    grain: float = 0.0  # sensor noise, fraction of full scale (camerawork.develop)


@dataclass
class LightSpec:
    sun_direction: list[float]  # unit vector from the sun towards the scene
    sun_intensity: float = 1.0
    sun_color: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    ambient: float = 0.35  # sky/ambient fraction
    softness_deg: float = 2.0  # sun angular size, for soft shadows in Cycles


@dataclass
class LampSpec:
    """A point or spot light; with ``attached_to`` it is carried by (and gone with) that object."""

    position: list[float]  # world, or the carrier's body frame
    color: list[float] = field(default_factory=lambda: [1.0, 0.9, 0.75])
    power: float = 1.0  # irradiance at 1 m, in units of a sun of intensity 1
    kind: str = "point"  # point | spot
    direction: list[float] = field(default_factory=lambda: [0.0, 0.0, -1.0])  # spot axis
    cone_deg: float = 60.0  # spot: full cone angle
    blend: float = 0.2  # spot: soft fraction of the cone edge
    range_m: float = 3.0  # no light at all beyond this distance (so "lit" is exact)
    attached_to: int = 0  # object id carrying the lamp, 0 = fixed in the world
    radius_m: float = 0.02  # source size (soft shadows in Cycles)


@dataclass
class MirrorSpec:
    """A planar reflector: the floor (``object_id`` 0) or the face of a static box object
    lying in the plane through ``point`` with normal ``normal`` (pointing to the viewer)."""

    kind: str  # mirror | glossy | water | glass_top
    point: list[float]
    normal: list[float]
    reflectivity: float = 0.8
    object_id: int = 0
    tint: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    roughness: float = 0.0

    def plane(self) -> np.ndarray:
        """``(nx, ny, nz, d)`` with ``n . x + d = 0`` on the mirror, ``n`` unit, to the viewer."""
        n = np.asarray(self.normal, np.float64)
        n = n / np.linalg.norm(n)
        return np.r_[n, -float(n @ np.asarray(self.point, np.float64))]

    def side(self, point) -> float:
        """Signed distance of a world point from the plane (> 0: the side the mirror shows)."""
        plane = self.plane()
        return float(plane[:3] @ np.asarray(point, np.float64) + plane[3])

    def reflect(self, point) -> np.ndarray:
        """The mirror image of a world point."""
        p = np.asarray(point, np.float64)
        return p - 2.0 * self.side(p) * self.plane()[:3]


@dataclass
class FloorSpec:
    color: list[float]
    color2: list[float]
    pattern: str = "checker"  # checker | plain | noise, or a simulate.textures kind (tile_m: one repeat)
    tile_m: float = 0.5
    roughness: float = 0.8
    half_extent_m: float = 20.0
    friction: float = 0.6
    restitution: float = 0.3
    texture_variant: int = 0  # which image of a texture pattern


@dataclass
class SceneSpec:
    family: str
    seed: int
    objects: list[ObjectSpec]
    removed_ids: list[int]
    camera: CameraSpec
    light: LightSpec
    floor: FloorSpec
    fps: int = 12
    num_frames: int = 48
    width: int = 256
    height: int = 256
    physics_hz: int = 240
    gravity: float = -9.81
    background: list[float] = field(default_factory=lambda: [0.55, 0.62, 0.72])
    extras: dict[str, Any] = field(default_factory=dict)
    people: list[PersonSpec] = field(default_factory=list)
    lamps: list[LampSpec] = field(default_factory=list)
    mirrors: list[MirrorSpec] = field(default_factory=list)

    # ------------------------------------------------------------------ helpers
    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    def object(self, object_id: int) -> ObjectSpec:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(f"no object with id {object_id}")

    def index_of(self, object_id: int) -> int:
        for i, obj in enumerate(self.objects):
            if obj.id == object_id:
                return i
        raise KeyError(f"no object with id {object_id}")

    def lamp_world(self, lamp: LampSpec, poses: np.ndarray | None, frame: int) -> tuple[np.ndarray, np.ndarray] | None:
        """World position and spot axis of ``lamp`` at ``frame``; None when its carrier is absent."""
        pos = np.asarray(lamp.position, np.float64)
        axis = np.asarray(lamp.direction, np.float64)
        if lamp.attached_to:
            pose = poses[frame, self.index_of(lamp.attached_to)]
            if not np.isfinite(pose).all():
                return None
            pos, axis = pose[:3] + quat_rotate(pose[3:], pos[None])[0], quat_rotate(pose[3:], axis[None])[0]
        return pos, axis / max(np.linalg.norm(axis), 1e-12)

    def removed_mask(self) -> np.ndarray:
        """Boolean per object (spec order): is it removed in the counterfactual?"""
        return np.array([o.id in self.removed_ids for o in self.objects], dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SceneSpec":
        data = dict(data)
        objects = []
        for o in data.pop("objects"):
            o = dict(o)
            if o.get("keyframes"):
                o["keyframes"] = [Keyframe(**k) for k in o["keyframes"]]
            objects.append(ObjectSpec(**o))
        return cls(
            objects=objects,
            people=[PersonSpec(**p) for p in data.pop("people", [])],
            camera=CameraSpec(**data.pop("camera")),
            light=LightSpec(**data.pop("light")),
            floor=FloorSpec(**data.pop("floor")),
            lamps=[LampSpec(**m) for m in data.pop("lamps", [])],
            mirrors=[MirrorSpec(**m) for m in data.pop("mirrors", [])],
            **data,
        )


# ---------------------------------------------------------------------- camera path


def camera_at(camera: CameraSpec, frame: int, num_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Eye, target, up and vertical fov (degrees) of the camera at ``frame``.

    Every renderer calls this, so camera motion is identical across renderers.
    """
    s = frame / max(num_frames - 1, 1)
    eye, target, fov = camerawork.path(
        camera.position, camera.look_at, camera.fov_deg, camera.motion, camera.motion_amount, s,
        t_s=frame * camera.frame_s, shake_m=camera.shake_m, shake_deg=camera.shake_deg, shake_seed=camera.shake_seed,
    )
    return eye, target, np.asarray(camera.up, dtype=np.float64), fov


def look_at_matrix(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """World-to-camera 4x4 (OpenGL convention: camera looks down -z, y up)."""
    f = target - eye
    f = f / np.linalg.norm(f)
    r = np.cross(f, up)
    r = r / np.linalg.norm(r)
    u = np.cross(r, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = r, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def perspective_matrix(fov_deg: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(math.radians(fov_deg) / 2.0)
    m = np.zeros((4, 4))
    m[0, 0] = f / aspect
    m[1, 1] = f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def project(points: np.ndarray, camera: CameraSpec, frame: int, num_frames: int, width: int, height: int) -> np.ndarray:
    """Pixel coordinates ``(N, 2)`` (x right, y down) and depth ``(N,)`` of world points."""
    eye, target, up, fov = camera_at(camera, frame, num_frames)
    view = look_at_matrix(eye, target, up)
    proj = perspective_matrix(fov, width / height, camera.near_m, camera.far_m)
    pts = np.c_[np.asarray(points, dtype=np.float64), np.ones(len(points))]
    cam = pts @ view.T
    clip = cam @ proj.T
    ndc = clip[:, :3] / clip[:, 3:4]
    px = np.c_[(ndc[:, 0] + 1) * 0.5 * width, (1 - ndc[:, 1]) * 0.5 * height]
    return np.c_[px, -cam[:, 2]]
