"""Where the counterfactual views can differ from the full view, and the render borders.

The Cycles renderer renders its signature pass and re-renders the hidden and removed views
only inside rectangles (Cycles render borders). Both kinds are computed here, pure numpy:

* :func:`change_regions` - *before* rendering, a conservative bound from geometry alone: the
  screen projection of a polyhedron around every changed object (its bounding box, or a
  tighter one for spheres and cylinders; in both of its poses) together with its shadow
  volume (the polyhedron swept along every sun direction inside the sun's cone down to the
  floor), as convex polygons. The signature pass is lit by the sun alone, directly (no
  bounces, black world), so a pixel's rendered signature can only change if its camera ray
  or its sun rays meet a changed object: exactly the pixels inside these projections. That
  is what makes the bound exact rather than heuristic. Separately, the projections of the
  objects grown by their contact band (no shadows) bound where the analytic contact
  proximity can be non-zero; there the signature needs only depth, which the views share
  outside the projections above.
* the rectangles covering those polygons (:mod:`simulate.render.borders`, which also covers,
  *after* the signature pass, the pixels whose signatures actually differ, where the beauty
  pass must be re-rendered).
* :func:`hold_still` and :func:`same_state_as` - which frames of a view show exactly the
  same scene (a static camera, objects at rest): with a seed that does not change from frame
  to frame, Cycles renders them bit for bit alike, so one render serves them all.

Rectangles and their cost model are in :mod:`simulate.render.borders`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from simulate import meshes
from simulate.render.borders import SIGNATURE_OVERHEAD_PX, Rect, mask_rects
from simulate.rotation import quat_rotate
from simulate.scene import LightSpec, ObjectSpec, SceneSpec, camera_at, look_at_matrix, perspective_matrix

# Objects that move less than this many pixels on screen are held still (see hold_still). A
# hundredth of a pixel moves an edge by 1% of a pixel's footprint: at most a few 8-bit levels
# at a black-white edge, well inside 16-spp noise.
HOLD_PX = 0.01


# Samples on the rim of the sun's cone used to sweep shadow volumes.
SUN_RIM_SAMPLES = 8


# --------------------------------------------------------------------------- geometry


def local_bounds(obj: ObjectSpec) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corner of the object's bounding box in its body frame."""
    if obj.shape == "box":
        half = np.asarray(obj.size, dtype=np.float64)
        return -half, half
    if obj.shape == "sphere":
        r = float(obj.size[0])
        return np.full(3, -r), np.full(3, r)
    if obj.shape == "cylinder":
        r, h = float(obj.size[0]), float(obj.size[1])
        return np.array([-r, -r, -h / 2]), np.array([r, r, h / 2])
    if obj.shape == "mesh":
        lo, hi = meshes.load_obj(obj.mesh).bounds
        scale, offset = float(obj.size[0]), np.asarray(obj.mesh_offset, dtype=np.float64)
        return lo * scale + offset, hi * scale + offset
    raise ValueError(f"object {obj.id}: unknown shape {obj.shape!r}")


CYLINDER_RIM = 16  # sides of the polygon around a cylinder's cross-section
SPHERE_POINTS = 32  # directions of the polyhedron around a sphere


def local_bound_points(obj: ObjectSpec, pad_m: float = 0.0) -> np.ndarray:
    """Points ``(K, 3)`` in the object's body frame whose convex hull contains the object
    grown by ``pad_m`` metres on every side, plus a little slack (tessellation, float error):
    the bound must never be tight.

    Boxes and meshes: the 8 corners of the grown bounding box. Spheres and cylinders: a
    polyhedron around the grown primitive (a sphere's or cylinder's box has up to twice its
    screen area, and every pixel of the difference would be rendered twice in the signature
    pass for nothing).
    """
    lo, hi = local_bounds(obj)
    pad = pad_m + 1e-3 + 0.01 * float(np.max(hi - lo))
    if obj.shape == "sphere":
        return _sphere_directions() * (float(obj.size[0]) + pad)
    if obj.shape == "cylinder":
        # Blender's cylinder is a 48-gon inside the circle; a 16-gon around the grown circle.
        r = (float(obj.size[0]) + pad) / math.cos(math.pi / CYLINDER_RIM)
        z = float(obj.size[1]) / 2 + pad
        phi = 2 * math.pi * np.arange(CYLINDER_RIM) / CYLINDER_RIM
        ring = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)
        return np.concatenate([np.column_stack([ring, np.full(CYLINDER_RIM, -z)]),
                               np.column_stack([ring, np.full(CYLINDER_RIM, z)])])
    return box_corners(lo - pad, hi + pad)


def _cached_bound_points(obj: ObjectSpec, pad_m: float, cache: dict | None) -> np.ndarray:
    """:func:`local_bound_points`, remembered in ``cache`` (one per change_regions call:
    people have dozens of parts, and their points are the same in every frame)."""
    if cache is None:
        return local_bound_points(obj, pad_m)
    key = (obj.id, float(pad_m))
    if key not in cache:
        cache[key] = local_bound_points(obj, pad_m)
    return cache[key]


def box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The 8 corners ``(8, 3)`` of the box with corners ``lo`` and ``hi``."""
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


@functools.lru_cache(maxsize=1)
def _sphere_directions() -> np.ndarray:
    """``SPHERE_POINTS`` directions (a Fibonacci sphere) scaled so that their convex hull
    contains the unit ball: divided by the smallest distance from the centre to a hull facet."""
    from scipy.spatial import ConvexHull

    k = np.arange(SPHERE_POINTS) + 0.5
    z = 1 - 2 * k / SPHERE_POINTS
    phi = math.pi * (1 + math.sqrt(5)) * k
    rho = np.sqrt(1 - z * z)
    dirs = np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)
    # Facet planes are n.x + offset <= 0 inside, with |n| = 1: -offset is the distance.
    inner = float(np.min(-ConvexHull(dirs).equations[:, 3]))
    return dirs / inner


def world_bound_points(obj: ObjectSpec, pose: np.ndarray, pad_m: float = 0.0, cache: dict | None = None) -> np.ndarray:
    return quat_rotate(pose[3:7], _cached_bound_points(obj, pad_m, cache)) + pose[:3]


class FrameCamera:
    """:func:`simulate.scene.project` with each frame's view and projection matrices made
    once (the same arithmetic, so the same numbers): the regions project every changed
    object, its shadow and its mirror image in every frame."""

    def __init__(self, scene: SceneSpec, num_frames: int | None = None):
        self.scene = scene
        self.num_frames = scene.num_frames if num_frames is None else num_frames
        self._mats: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def project(self, points: np.ndarray, frame: int) -> np.ndarray:
        sc = self.scene
        if frame not in self._mats:
            eye, target, up, fov = camera_at(sc.camera, frame, self.num_frames)
            self._mats[frame] = (look_at_matrix(eye, target, up).T,
                                 perspective_matrix(fov, sc.width / sc.height, sc.camera.near_m, sc.camera.far_m).T)
        view_t, proj_t = self._mats[frame]
        pts = np.column_stack([np.asarray(points, dtype=np.float64), np.ones(len(points))])
        cam = pts @ view_t
        clip = cam @ proj_t
        ndc = clip[:, :3] / clip[:, 3:4]
        return np.column_stack([(ndc[:, 0] + 1) * 0.5 * sc.width, (1 - ndc[:, 1]) * 0.5 * sc.height, -cam[:, 2]])


def contact_band_m(obj: ObjectSpec, band: float) -> float:
    """Contact band of an object: ``band`` times its middle half extent.

    A sphere's radius, a cube's half side; for a plank its half width, not its half length:
    how far an object's bounce light and sky occlusion reach scales with its girth.
    """
    lo, hi = local_bounds(obj)
    return float(band * np.median(hi - lo) / 2)


def sun_directions(light: LightSpec, rim: int = SUN_RIM_SAMPLES) -> np.ndarray:
    """Directions of sunlight ``(rim + 1, 3)``: the cone's axis and points on its rim.

    The rim polygon is inscribed in the cone's circle, so its half-angle is inflated by
    ``1 / cos(pi / rim)`` (plus 10 %) to contain the whole cone.
    """
    d = np.asarray(light.sun_direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    half = math.radians(max(light.softness_deg, 0.0)) / 2 / math.cos(math.pi / rim) * 1.1
    a = np.cross(d, [1.0, 0.0, 0.0] if abs(d[0]) < 0.9 else [0.0, 1.0, 0.0])
    a /= np.linalg.norm(a)
    b = np.cross(d, a)
    out = [d]
    for k in range(rim):
        phi = 2 * math.pi * k / rim
        v = math.cos(half) * d + math.sin(half) * (math.cos(phi) * a + math.sin(phi) * b)
        out.append(v / np.linalg.norm(v))
    return np.asarray(out)


def shadow_points(points: np.ndarray, directions: np.ndarray) -> np.ndarray | None:
    """Where the points' shadows land on the floor (z = 0); None if some ray never lands.

    The shadow volume is the convex hull of the points and their floor hits; anything that can
    receive the object's shadow (the floor, other objects standing on it) lies inside it.
    """
    if np.any(directions[:, 2] > -1e-3):
        return None  # sun at or below the horizon: the shadow is unbounded
    z = np.maximum(points[:, 2], 0.0)
    t = z[:, None] / -directions[None, :, 2]  # (K, D)
    hits = points[:, None, :2] + t[..., None] * directions[None, :, :2]
    return np.concatenate([hits.reshape(-1, 2), np.zeros((hits.shape[0] * hits.shape[1], 1))], axis=1)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull ``(K, 2)`` of 2-D points (Andrew's monotone chain)."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) > 16:
        points = _drop_interior(points)
    pts = sorted(set(map(tuple, points)))
    if len(pts) <= 2:
        return np.asarray(pts)

    def half(seq):
        out: list = []
        for p in seq:
            while len(out) >= 2 and (out[-1][0] - out[-2][0]) * (p[1] - out[-2][1]) - (out[-1][1] - out[-2][1]) * (
                p[0] - out[-2][0]
            ) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(reversed(pts))
    return np.asarray(lower[:-1] + upper[:-1])


def _drop_interior(points: np.ndarray) -> np.ndarray:
    """``points`` without those clearly inside the hull of their eight extremes (along x, y
    and the diagonals): such points are never hull vertices, so the hull is unchanged."""
    x, y = points[:, 0], points[:, 1]
    idx = {int(f(v)) for v in (x, y, x + y, x - y) for f in (np.argmin, np.argmax)}
    if len(idx) < 3:
        return points
    inner = convex_hull(points[sorted(idx)])
    if len(inner) < 3:
        return points
    eps = 1e-9 * (1.0 + float(np.abs(points).max()))
    a, e = inner, np.roll(inner, -1, axis=0) - inner
    cross = e[:, 0] * (y[:, None] - a[:, 1]) - e[:, 1] * (x[:, None] - a[:, 0])  # (K, edges)
    inside = (cross > eps * np.hypot(e[:, 0], e[:, 1])).all(axis=1)
    return points[~inside]


def fill_hull(mask: np.ndarray, hull: np.ndarray, margin_px: float) -> None:
    """Set the pixels of ``mask`` whose centres lie within ``margin_px`` of the convex ``hull``.

    "Within" is measured per edge (each edge line pushed out by the margin), a superset of
    the rounded offset polygon: conservative.
    """
    H, W = mask.shape
    x0 = max(0, math.floor(hull[:, 0].min() - margin_px))
    x1 = min(W, math.ceil(hull[:, 0].max() + margin_px) + 1)
    y0 = max(0, math.floor(hull[:, 1].min() - margin_px))
    y1 = min(H, math.ceil(hull[:, 1].max() + margin_px) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    px = np.arange(x0, x1)[None, :] + 0.5  # broadcast against py: (h, w) per test
    py = np.arange(y0, y1)[:, None] + 0.5
    inside = np.ones((y1 - y0, x1 - x0), bool)
    if len(hull) >= 3:
        # convex_hull turns left at every vertex, so inside is where every cross product >= 0
        # (all edges at once: (edges, h, w)).
        e = np.roll(hull, -1, axis=0) - hull
        length = np.asarray([math.hypot(u, v) for u, v in e])
        a, e, length = hull[length > 0, :, None, None], e[length > 0, :, None, None], length[length > 0, None, None]
        cross = e[:, 0] * (py - a[:, 1]) - e[:, 1] * (px - a[:, 0])
        inside &= (cross >= -margin_px * length).all(axis=0)
    else:  # a point or a segment: a box around it
        inside &= (px >= hull[:, 0].min() - margin_px) & (px <= hull[:, 0].max() + margin_px)
        inside &= (py >= hull[:, 1].min() - margin_px) & (py <= hull[:, 1].max() + margin_px)
    mask[y0:y1, x0:x1] |= inside


def fill_object(
    mask: np.ndarray, scene: SceneSpec, obj: ObjectSpec, pose: np.ndarray, frame: int, margin_px: float,
    pad_m: float = 0.0, shadow: bool = True, mirror=None, cam: FrameCamera | None = None, sun: np.ndarray | None = None,
    cache: dict | None = None,
) -> None:
    """Mark the screen region of an object at ``pose`` grown by ``pad_m`` and, with
    ``shadow``, of everything its sun shadow can reach: the projection of the convex hull of
    its bounding points (:func:`local_bound_points`) and their shadows on the floor. With a
    ``mirror`` (:class:`~simulate.scene.MirrorSpec`), the same region's mirror image instead:
    where a planar reflection can show the object or its shadow (the signature pass follows
    one sharp glossy bounce off mirrors, so it sees them there).

    The whole image when the sun is at the horizon or a point is behind the camera (the
    projection is then meaningless).
    """
    pts = world_bound_points(obj, pose, pad_m, cache)
    if shadow:
        floor_hits = shadow_points(pts, sun_directions(scene.light) if sun is None else sun)
        if floor_hits is None:
            mask[:] = True
            return
        pts = np.concatenate([pts, floor_hits])
    if mirror is not None:
        pts = np.asarray([mirror.reflect(p) for p in pts])
    proj = (cam or FrameCamera(scene)).project(pts, frame)
    if np.any(proj[:, 2] <= scene.camera.near_m):
        mask[:] = True
        return
    fill_hull(mask, convex_hull(proj[:, :2]), margin_px)


def moved_objects(poses_full: np.ndarray, poses_removed: np.ndarray, tol: float) -> np.ndarray:
    """``(T, N)`` bool: object present in both runs whose pose differs by more than ``tol``.

    Quaternions q and -q are the same rotation, so both signs are compared.
    """
    dp = np.abs(poses_full[..., :3] - poses_removed[..., :3]).max(-1)
    qf, qr = poses_full[..., 3:7], poses_removed[..., 3:7]
    dq = np.minimum(np.abs(qf - qr).max(-1), np.abs(qf + qr).max(-1))
    present = np.isfinite(poses_full).all(-1) & np.isfinite(poses_removed).all(-1)
    return present & ((dp > tol) | (dq > tol))


def hold_still(scene: SceneSpec, poses: np.ndarray, max_px: float = HOLD_PX) -> np.ndarray:
    """``(T, N, 7)`` poses in which an object at rest keeps one pose exactly, frame to frame.

    Objects at rest in the physics still creep by float dust (1e-7 to 1e-5 m a frame, a
    stack swaying). An object whose bounding-box corners stay within ``max_px`` pixels on
    screen (at each frame's camera) of where they were when it last settled is held at that
    pose; a stretch ends as soon as they are farther. Held, the poses repeat bit for bit, so
    frames showing them can share renders. ``max_px`` 0 holds only exact repeats. Absent
    (NaN) rows stay absent.
    """
    out = np.array(poses, dtype=np.float64, copy=True)
    T, N = out.shape[:2]
    corners = [box_corners(*local_bounds(obj)) for obj in scene.objects]
    cam = FrameCamera(scene, T)
    for t in range(1, T):
        prev, cur = out[t - 1], out[t]
        for i in range(N):
            a, c = prev[i], cur[i]
            present = np.isfinite(a).all(), np.isfinite(c).all()
            if not any(present) or (all(present) and (a == c).all()):
                cur[i] = a
            elif all(present) and max_px > 0:
                pts = [quat_rotate(q[3:7], corners[i]) + q[:3] for q in (a, c)]
                pa, pc = (cam.project(p, t) for p in pts)
                in_front = min(pa[:, 2].min(), pc[:, 2].min()) > scene.camera.near_m
                if in_front and np.abs(pa[:, :2] - pc[:, :2]).max() <= max_px:
                    cur[i] = a
    return out


def same_state_as(scene: SceneSpec, poses: np.ndarray, hidden_rows: list[int]) -> np.ndarray:
    """``(T,)`` int: for each frame, the first frame that shows exactly the same scene.

    The same scene means the same camera (:func:`simulate.scene.camera_at`), the same objects
    shown (rows of ``hidden_rows`` and NaN rows are not) and bit-identical poses of those.
    Everything else a render depends on is the same in every frame (lights, world, floor).
    """
    T = poses.shape[0]
    first: dict[bytes, int] = {}
    out = np.arange(T)
    for t in range(T):
        eye, target, up, fov = camera_at(scene.camera, t, T)
        p = np.array(poses[t], dtype=np.float64, copy=True)
        gone = ~np.isfinite(p).all(-1)
        gone[list(hidden_rows)] = True
        p[gone] = 0.0
        key = np.concatenate([eye, target, up, [fov]]).tobytes() + gone.tobytes() + p.tobytes()
        out[t] = first.setdefault(key, t)
    return out


class ChangeRegions(NamedTuple):
    """Per frame, where the views can differ: boolean masks ``(T, H, W)`` and rectangles
    covering them (the render borders)."""

    removed: np.ndarray  # the removed objects: where hidden's signature can differ from full's
    moved: np.ndarray  # the moved objects, both poses: where hidden's can differ from removed's
    union: np.ndarray  # either: where removed's rendered signature can differ from full's
    near: np.ndarray  # changed objects grown by their contact band: where proximity can be > 0
    union_rects: list[list[Rect]]
    overlap_rects: list[list[Rect]]  # cover removed & moved: where hidden can differ from both
    lamp: np.ndarray | None = None  # lamps whose light a change can alter: their reach (see lamp_reach)


def change_regions(
    scene: SceneSpec, poses_full: np.ndarray, poses_removed: np.ndarray, moved: np.ndarray, margin_px: float,
    band: float = 0.0, overhead_px: int = SIGNATURE_OVERHEAD_PX,
) -> ChangeRegions:
    """Conservative screen bounds of every change, per frame.

    Hidden differs from full by the removed objects alone (full poses); removed differs from
    hidden by the moved objects (in both of their poses) alone. So outside ``moved`` hidden
    looks like removed, outside ``removed`` like full, and only where the two overlap can it
    look like neither. These three bound the rendered signature (objects and shadows).
    ``near`` bounds the contact band instead: each changed object grown by its band (see
    :func:`contact_band_m`), without shadows; ``band`` 0 leaves it empty.
    """
    removed_ids = set(scene.removed_ids)
    pads = {o.id: contact_band_m(o, band) for o in scene.objects}
    T, H, W = poses_full.shape[0], scene.height, scene.width
    gone = np.zeros((T, H, W), bool)
    shifted = np.zeros((T, H, W), bool)
    near = np.zeros((T, H, W), bool)
    cam, sun, cache = FrameCamera(scene), sun_directions(scene.light), {}
    for t in range(T):
        for i, obj in enumerate(scene.objects):
            if obj.id in removed_ids and np.isfinite(poses_full[t, i]).all():
                poses, target = [poses_full[t, i]], gone[t]
            elif moved[t, i]:
                poses, target = [poses_full[t, i], poses_removed[t, i]], shifted[t]
            else:
                continue
            for pose in poses:
                fill_object(target, scene, obj, pose, t, margin_px, cam=cam, sun=sun, cache=cache)
                if pads[obj.id] > 0:
                    fill_object(near[t], scene, obj, pose, t, margin_px, pads[obj.id], shadow=False, cam=cam, cache=cache)
                for mirror in scene.mirrors:
                    fill_object(target, scene, obj, pose, t, margin_px, mirror=mirror, cam=cam, sun=sun, cache=cache)
    union = gone | shifted
    lamp = lamp_reach(scene, poses_full, poses_removed, moved, margin_px) if scene.lamps else None

    def cover(masks):
        return [mask_rects(m, 0, overhead_px=overhead_px) for m in masks]

    return ChangeRegions(gone, shifted, union, near, cover(union), cover(gone & shifted), lamp)


def lamp_reach_points(scene: SceneSpec, lamp, poses: np.ndarray, frame: int) -> np.ndarray | None:
    """Corners of the box around everything ``lamp`` can light at ``frame`` (its range from
    any point of its sphere, above the floor); None when its carrier is absent."""
    where = scene.lamp_world(lamp, poses, frame)
    if where is None:
        return None
    r = lamp_reach_m(lamp)
    lo, hi = where[0] - r, where[0] + r
    lo[2] = max(lo[2], 0.0)
    return box_corners(lo, np.maximum(hi, lo))


def lamp_reach_m(lamp) -> float:
    """How far from its centre a lamp's light goes: its range from any point of its sphere."""
    return float(lamp.range_m) + float(lamp.radius_m)


def lamp_reach(scene: SceneSpec, poses_full: np.ndarray, poses_removed: np.ndarray, moved: np.ndarray,
               margin_px: float) -> np.ndarray:
    """``(T, H, W)``: the screen bound of each lamp's reach in the frames where a change can
    alter its light: its carrier is removed or moved, or a changed object stands within its
    range (and so can shade what it lights). Lamps are kept out of the signature pass (their
    light is an analytic channel, :func:`simulate.render.blender_signature.add_lamp_light`)."""
    T, H, W = poses_full.shape[0], scene.height, scene.width
    out = np.zeros((T, H, W), bool)
    removed_ids = set(scene.removed_ids)
    for lamp in scene.lamps:
        for t in range(T):
            changed = [i for i, o in enumerate(scene.objects)
                       if (o.id in removed_ids and np.isfinite(poses_full[t, i]).all()) or moved[t, i]]
            if not changed:
                continue
            for poses in (poses_full, poses_removed):
                corners = lamp_reach_points(scene, lamp, poses, t)
                if corners is None:
                    continue
                # a blocker lies between a lit point and the lamp: within the reach of its centre
                centre, r = scene.lamp_world(lamp, poses, t)[0], lamp_reach_m(lamp)
                carried = lamp.attached_to and scene.index_of(lamp.attached_to) in changed
                close = any(
                    np.isfinite(p[t, i]).all()
                    and np.linalg.norm(p[t, i, :3] - centre) < r + meshes.bounding_radius(scene.objects[i])
                    for i in changed for p in (poses_full, poses_removed)
                )
                if carried or close:
                    proj = FrameCamera(scene).project(corners, t)
                    if np.any(proj[:, 2] <= scene.camera.near_m):
                        out[t] = True
                    else:
                        fill_hull(out[t], convex_hull(proj[:, :2]), margin_px)
    return out
