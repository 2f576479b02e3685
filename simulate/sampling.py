"""Random helpers shared by the scenario families: shapes, colours, materials, camera, light.

Every draw comes from the ``numpy.random.Generator`` passed in, in a fixed order, so a scene
depends only on its seed. Names ("small blue rubber sphere") are built here from the same
draws, which is what captions are made of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulate import meshes
from simulate.rotation import quat_mul, quat_rotate, quat_z
from simulate.scene import CameraSpec, FloorSpec, LightSpec, ObjectSpec, SceneSpec

# Linear RGB. Names are what captions say.
COLORS = {
    "red": (0.70, 0.06, 0.05),
    "orange": (0.85, 0.30, 0.04),
    "yellow": (0.85, 0.70, 0.06),
    "green": (0.10, 0.50, 0.10),
    "teal": (0.04, 0.40, 0.38),
    "blue": (0.06, 0.16, 0.70),
    "purple": (0.35, 0.08, 0.55),
    "pink": (0.90, 0.35, 0.50),
    "white": (0.85, 0.85, 0.82),
    "gray": (0.32, 0.32, 0.32),
    "black": (0.04, 0.04, 0.04),
    "brown": (0.30, 0.15, 0.06),
}


@dataclass(frozen=True)
class Material:
    friction: tuple[float, float]
    restitution: tuple[float, float]
    density_kg_m3: float
    roughness: float
    metallic: float


# caption adjective of each material
MATERIAL_WORDS = {"rubber": "rubber", "plastic": "plastic", "metal": "metal", "wood": "wooden"}

MATERIALS = {
    "rubber": Material((0.8, 1.0), (0.5, 0.75), 1100.0, 0.85, 0.0),
    "plastic": Material((0.4, 0.6), (0.3, 0.5), 900.0, 0.45, 0.0),
    "metal": Material((0.2, 0.4), (0.1, 0.3), 2700.0, 0.3, 1.0),
    "wood": Material((0.5, 0.7), (0.2, 0.4), 600.0, 0.7, 0.0),
}

# pybullet_data meshes: path, caption noun, quaternion that stands the mesh upright (z up).
_X90 = (math.sin(math.pi / 4), 0.0, 0.0, math.cos(math.pi / 4))
NAMED_MESHES = {
    "duck": ("duck.obj", "duck", _X90),
    "teddy": ("teddy2_VHACD_CHs.obj", "teddy bear", _X90),
    "mug": ("objects/mug.obj", "mug", (0.0, 0.0, 0.0, 1.0)),
    "torus": ("torus/torus_textured.obj", "ring", _X90),
    "bunny": ("bunny.obj", "bunny", (0.0, 0.0, 0.0, 1.0)),
    "brick": ("lego/lego.obj", "toy brick", _X90),
}
NUM_RANDOM_MESHES = 1000  # pybullet_data/random_urdfs/000 ... 999
SHAPE_WEIGHTS = {"box": 0.3, "sphere": 0.2, "cylinder": 0.2, "mesh": 0.3}


def choice(rng: np.random.Generator, items, p=None):
    items = list(items)
    return items[int(rng.choice(len(items), p=p))]


def color(rng: np.random.Generator, avoid: set[str] = frozenset()) -> tuple[str, list[float]]:
    names = [n for n in COLORS if n not in avoid] or list(COLORS)
    name = choice(rng, names)
    jitter = rng.uniform(-0.04, 0.04, size=3)
    return name, [float(np.clip(c + j, 0.0, 1.0)) for c, j in zip(COLORS[name], jitter)]


def color_name(obj: ObjectSpec) -> str:
    """The colour word in an object's name ("" if none)."""
    return next((w for w in obj.name.split() if w in COLORS), "")


def size_word(extent_m: float) -> str:
    if extent_m < 0.16:
        return "small"
    if extent_m > 0.34:
        return "large"
    return ""


def _volume(shape: str, size: list[float], mesh: str | None) -> float:
    if shape == "box":
        return 8 * size[0] * size[1] * size[2]
    if shape == "sphere":
        return 4 / 3 * math.pi * size[0] ** 3
    if shape == "cylinder":
        return math.pi * size[0] ** 2 * size[1]
    from scipy.spatial import ConvexHull

    return float(ConvexHull(meshes.hull_points(mesh)).volume) * size[0] ** 3


def make_object(
    rng: np.random.Generator,
    object_id: int,
    *,
    role: str = "distractor",
    shape: str | None = None,
    extent_m: tuple[float, float] = (0.12, 0.3),
    material: str | None = None,
    avoid_colors: set[str] = frozenset(),
    mesh_key: str | None = None,
) -> ObjectSpec:
    """A random object resting upright at the origin (callers move it into place).

    ``extent_m`` bounds the object's largest dimension. Meshes start upright but not settled;
    call :func:`simulate.physics.settle` for a resting pose.
    """
    shape = shape or choice(rng, SHAPE_WEIGHTS, p=list(SHAPE_WEIGHTS.values()))
    extent = float(rng.uniform(*extent_m))
    material = material or choice(rng, MATERIALS)
    mat = MATERIALS[material]
    color_name, rgb = color(rng, avoid_colors)
    orientation = [0.0, 0.0, 0.0, 1.0]
    mesh_path, offset = None, [0.0, 0.0, 0.0]
    if shape == "box":
        dims = extent / 2 * rng.uniform(0.55, 1.0, size=3)
        dims[int(rng.integers(3))] = extent / 2
        size = [float(v) for v in dims]
        noun = "cube" if dims.min() > 0.85 * dims.max() else "box"
        z = size[2]
    elif shape == "sphere":
        size = [extent / 2]
        noun, z = "sphere", extent / 2
    elif shape == "cylinder":
        radius = extent / 2 * float(rng.uniform(0.5, 1.0))
        height = extent * float(rng.uniform(0.5, 1.0))
        size = [radius, height]
        noun, z = "cylinder", height / 2
    else:
        if mesh_key is None:
            mesh_key = choice(rng, list(NAMED_MESHES) + ["random"], p=[0.12] * 6 + [0.28])
        if mesh_key == "random":
            k = int(rng.integers(NUM_RANDOM_MESHES))
            while not meshes.usable(f"random_urdfs/{k:03d}/{k:03d}.obj"):
                k = (k + 1) % NUM_RANDOM_MESHES  # deterministic: the next mesh, no extra draw
            mesh_path, noun, upright = f"random_urdfs/{k:03d}/{k:03d}.obj", "rock", (0.0, 0.0, 0.0, 1.0)
        else:
            mesh_path, noun, upright = NAMED_MESHES[mesh_key]
        scale = extent / float(meshes.mesh_extent(mesh_path).max())
        size = [scale]
        offset = meshes.mesh_centering(mesh_path, scale)
        orientation = list(upright)
        pts = meshes.hull_points(mesh_path) * scale + np.asarray(offset)
        z = float(_lowest(pts, orientation))
    yaw = float(rng.uniform(0, 2 * math.pi))
    orientation = quat_mul(quat_z(yaw), orientation)
    words = [w for w in (size_word(extent), color_name, MATERIAL_WORDS[material], noun) if w]
    return ObjectSpec(
        id=object_id,
        name=" ".join(words),
        shape=shape,
        size=size,
        color=rgb,
        position=[0.0, 0.0, z + 1e-3],
        orientation=orientation,
        mesh=mesh_path,
        mesh_offset=offset,
        material=material,
        roughness=mat.roughness,
        metallic=mat.metallic,
        mass_kg=float(np.clip(mat.density_kg_m3 * _volume(shape, size, mesh_path), 0.05, 30.0)),
        friction=float(rng.uniform(*mat.friction)),
        restitution=float(rng.uniform(*mat.restitution)),
        rolling_friction=0.002 if shape in ("sphere", "cylinder", "mesh") else 0.0,
        spinning_friction=0.002,
        role=role,
    )


def _lowest(pts: np.ndarray, q) -> float:
    return -float(quat_rotate(q, pts)[:, 2].min())


def rest_height(obj: ObjectSpec) -> float:
    """Height of the body origin when the object, in its current orientation, touches z = 0."""
    if obj.shape == "sphere":
        return float(obj.size[0])
    if obj.shape == "box":
        x, y, z = obj.size
        corners = np.array([[sx * x, sy * y, sz * z] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
        return _lowest(corners, obj.orientation)
    if obj.shape == "cylinder":
        r, h = obj.size
        ang = np.linspace(0, 2 * math.pi, 32, endpoint=False)
        ring = np.c_[r * np.cos(ang), r * np.sin(ang), np.zeros_like(ang)]
        pts = np.r_[ring + [0, 0, h / 2], ring - [0, 0, h / 2]]
        return _lowest(pts, obj.orientation)
    pts = meshes.hull_points(obj.mesh) * float(obj.size[0]) + np.asarray(obj.mesh_offset)
    return _lowest(pts, obj.orientation)


def top_height(obj: ObjectSpec) -> float:
    """Height of the object's highest point above its body origin (current orientation)."""
    flipped = ObjectSpec(**{**obj.__dict__})
    # the highest point is the lowest point of the shape seen upside down
    flipped.orientation = quat_mul([1.0, 0.0, 0.0, 0.0], obj.orientation)
    return rest_height(flipped)


def footprint_radius(obj: ObjectSpec) -> float:
    """Horizontal radius about the body origin that contains the object."""
    return meshes.bounding_radius(obj)


# --------------------------------------------------------------------------- stage


def floor(rng: np.random.Generator) -> FloorSpec:
    pattern = choice(rng, ["checker", "plain", "noise"], p=[0.6, 0.25, 0.15])
    base = rng.uniform(0.15, 0.6, size=3)
    base = base * rng.uniform(0.6, 1.0) + base.mean() * 0.4  # muted
    base = np.clip(base / max(base.max(), 1e-6) * rng.uniform(0.3, 0.6), 0, 1)
    other = np.clip(base * rng.uniform(0.5, 0.8) if rng.random() < 0.5 else base + rng.uniform(0.15, 0.35), 0, 1)
    return FloorSpec(
        color=[float(v) for v in base],
        color2=[float(v) for v in other],
        pattern=pattern,
        tile_m=float(rng.uniform(0.2, 0.5)),
        roughness=float(rng.uniform(0.6, 0.95)),
        friction=float(rng.uniform(0.4, 0.8)),
        restitution=float(rng.uniform(0.2, 0.5)),
    )


def light(rng: np.random.Generator) -> LightSpec:
    elevation = math.radians(rng.uniform(35, 70))
    azimuth = rng.uniform(0, 2 * math.pi)
    direction = -np.array([math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation)])
    tint = rng.uniform(-0.06, 0.06)
    return LightSpec(
        sun_direction=[float(v) for v in direction],
        sun_intensity=float(rng.uniform(0.8, 1.1)),
        sun_color=[float(1.0 + tint), 1.0, float(1.0 - tint)],
        ambient=float(rng.uniform(0.25, 0.42)),
        softness_deg=float(rng.uniform(1.0, 4.0)),
    )


def camera(
    rng: np.random.Generator,
    points: np.ndarray,
    motion: str = "random",
    *,
    elevation_deg: tuple[float, float] = (22, 50),
    azimuth: float | None = None,
    aspect: float = 1.0,
) -> CameraSpec:
    """A camera that frames ``points`` (world, (K, 3)) tightly, and its motion.

    The distance is searched so that every point projects inside the central part of the
    picture (smaller when the camera zooms in), so scenes fill the frame whatever their size.
    """
    points = np.asarray(points, dtype=np.float64)
    center = (points.min(0) + points.max(0)) / 2
    fov = float(rng.uniform(35, 50))
    elevation = math.radians(rng.uniform(*elevation_deg))
    azimuth = float(rng.uniform(0, 2 * math.pi)) if azimuth is None else azimuth
    look_at = center + np.r_[rng.uniform(-0.03, 0.03, size=2), 0.0]
    look_at[2] = max(look_at[2], 0.05)
    if motion == "random":
        motion = choice(rng, ["static", "pan", "zoom"], p=[0.5, 0.3, 0.2])
    amount = 0.0
    if motion == "pan":
        amount = float(rng.uniform(8, 25)) * (1 if rng.random() < 0.5 else -1)
    elif motion == "zoom":
        amount = float(rng.uniform(0.08, 0.2))
    fill = float(rng.uniform(0.7, 0.88)) * (1.0 - amount if motion == "zoom" else 1.0)
    direction = np.array(
        [math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation)]
    )
    distance = _fit_distance(points, look_at, direction, fov, aspect, fill)
    return CameraSpec(
        position=[float(v) for v in look_at + distance * direction],
        look_at=[float(v) for v in look_at],
        fov_deg=fov,
        near_m=0.05,
        far_m=float(distance * 4 + 20),
        motion=motion,
        motion_amount=amount,
    )


def _fit_distance(points, look_at, direction, fov, aspect, fill) -> float:
    """Smallest camera distance at which all points lie within ``fill`` of the half-frame."""
    from simulate.scene import look_at_matrix, perspective_matrix

    proj = perspective_matrix(fov, aspect, 0.05, 100.0)
    pts = np.c_[points, np.ones(len(points))]

    def fits(d: float) -> bool:
        view = look_at_matrix(look_at + d * direction, look_at, np.array([0.0, 0.0, 1.0]))
        clip = pts @ view.T @ proj.T
        if (clip[:, 3] <= 0.05).any():
            return False
        ndc = clip[:, :2] / clip[:, 3:4]
        return bool(np.abs(ndc).max() <= fill)

    lo, hi = 0.3, 2.0
    while not fits(hi) and hi < 100:
        hi *= 2
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


def background(rng: np.random.Generator) -> list[float]:
    sky = np.array([0.45, 0.55, 0.70]) + rng.uniform(-0.12, 0.12, size=3)
    return [float(v) for v in np.clip(sky, 0, 1)]


def scene(
    rng: np.random.Generator,
    config,
    family: str,
    seed: int,
    objects: list[ObjectSpec],
    removed_ids: list[int],
    focus: np.ndarray,
    *,
    camera_azimuth: float | None = None,
    elevation_deg: tuple[float, float] = (22, 50),
    extras: dict | None = None,
) -> SceneSpec:
    """Wrap objects into a scene with a random floor, sun and a camera framing ``focus``."""
    w, h = config.resolution
    return SceneSpec(
        family=family,
        seed=int(seed),
        objects=objects,
        removed_ids=list(removed_ids),
        camera=camera(rng, focus, config.camera_motion, elevation_deg=elevation_deg, azimuth=camera_azimuth, aspect=w / h),
        light=light(rng),
        floor=floor(rng),
        fps=int(config.fps),
        num_frames=int(config.frames),
        width=int(w),
        height=int(h),
        background=background(rng),
        extras=dict(extras or {}),
    )
