"""The Cycles renderer's noise-free signature: what "this pixel looks the same" means.

Per pixel, ``(T, H, W, 9)`` float32, compared with exact equality:

0. sun shading: a red diffuse lit directly by the sun alone (normal, soft shadow);
1. object-id code (emission), averaged over the pixel's footprint, so partial coverage by a
   changed object shows;
2. texture code (emission): the hit point in its object's own frame, for textured surfaces
   (wood, patterned floor) only;
3-5. shading normal (world space, footprint-averaged): a face that turns changes its glossy
   highlights even where its diffuse shading barely moves;
6. contact proximity: how close the pixel's surface point is to a changed object (removed
   or moved), ``sum(max(0, 1 - distance / band))``, from analytic distances in numpy;
7-8. a 48-bit hash (two exact 24-bit integers) of channels 0-6 and the ids over the pixel's
   3x3 neighbourhood: a pixel next to a change counts as changed;
9. lamp light (scenes with a point/spot lamp, from analytic geometry in numpy): which lamps
   can reach the pixel's surface point (within their range and cone) and which changed
   objects can shade it from each lamp (the object's exact shape meets the cone from the
   point to the lamp's sphere: :func:`lamp_blocked`). Lamps are kept out of the signature
   pass, whose few samples would otherwise pick between sun and lamp at random.

Like the rasterizer's RGB signature it codes appearance, not geometry: a plain face that
slides along itself or along its normal looks the same and is not a change (one that
turns is), so the two renderers mark the same pixels. Depth is therefore not part of it (it is still returned in
``RenderPasses.depth``).

Channels 0-5 come from Cycles' signature pass (fixed seed, CPU, direct light only; see
:mod:`simulate.render.blender_worker`), so equal scenes give bit-identical values. Channel 6
covers what that pass cannot see: indirect light near a changed object (the removed
object's colour bleeding onto the floor and its contact occlusion of the sky). Without it
those pixels would keep the full render's values in the target, a faint ghost of the
removed object; with it they are marked and re-rendered. It is exactly zero beyond the band,
so it never marks pixels far from a change.

Channels 7-8 cover the gap between the signature's few samples and the beauty's many: the
beauty pass's pixel filter reaches into neighbouring pixels, and at the outer edge of a soft
shadow a few of its 16 samples can be shadowed where none of the signature's 2 are. Without
them the target keeps a dotted trace of the removed object's penumbra (seen at 256x256);
with them every pixel within one pixel of a detected change is re-rendered.
"""

from __future__ import annotations

import functools

import numpy as np

from simulate import meshes
from simulate.render.blender_regions import contact_band_m, lamp_reach_m, local_bounds, quat_rotate
from simulate.render.borders import mask_box
from simulate.scene import ObjectSpec, SceneSpec, camera_at, look_at_matrix

CHANNELS = (
    "sun_shading", "id_code", "texture_code", "normal_x", "normal_y", "normal_z",
    "contact_proximity", "neighbourhood_hash_lo", "neighbourhood_hash_hi", "lamp_light",
)
PROXIMITY, HASH, LAMP = 6, 7, 9
UNRENDERED = -1.0  # channels 0-2 outside the signature regions (renders are >= 0)
# Signature values are snapped to multiples of this, about one linear 8-bit level of a
# sunlit white surface. Two reasons: (1) across processes Cycles can differ in the last
# bit (see blender_worker._reexec_without_aslr); snapped, such a difference matters only
# when it straddles a step. (2) An object that turns by a hair changes its shading by far
# less than the output can show; compared unsnapped, a random-looking subset of its
# pixels (those whose values cross a float step) would be marked, speckling the mask.
# Shadows, coverage and motion change the values by many steps. (Normals: a step is 0.2°.)
QUANTUM = 2.0**-8


def quantize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.float32:  # scaling by a power of two is exact: same result, half the memory
        return np.rint(x * np.float32(1 / QUANTUM)) * np.float32(QUANTUM)
    return (np.rint(x.astype(np.float64) / QUANTUM) * QUANTUM).astype(np.float32)


def assemble(full, sig: dict, like_full: np.ndarray, rendered: np.ndarray, T: int, H: int, W: int,
             extra: int = 0) -> dict[str, dict]:
    """Per view: ids, depth and signature from the full beauty and the signature passes.

    ``full`` and ``sig[view]`` are worker results (``frames``, ``valid``, ``color``, ``ids``,
    ``depth``). Where a view's signature was not rendered it cannot differ from a view that
    was: removed is built on full (rendered wherever the two can differ); hidden is built on
    removed, takes full's values where ``like_full`` (T, H, W) says only moved objects can
    make it differ from removed (the removed objects cannot reach those pixels), and its own
    where it was rendered (where removed and moved objects overlap), as far as that lies in
    ``rendered`` (T, H, W), where full and removed were: beyond it all views must stay
    equal. The full view takes ids and depth from its beauty render outside its signature
    rectangles. ``extra`` channels (zero in every view) follow :data:`CHANNELS`, for codes
    added later (the blur ring's, :func:`simulate.render.cycles_lens.grow_changes`) without
    copying the arrays again.
    """
    base_sig = np.full((T, H, W, len(CHANNELS) + extra), UNRENDERED, np.float32)
    base_sig[..., 3:] = 0.0
    full_view = {"ids": full.ids.copy(), "depth": full.depth.copy(), "sig": base_sig}
    _fill(full_view, sig["full"])
    removed = {k: a.copy() for k, a in full_view.items()}
    _fill(removed, sig["removed"])
    hidden = {k: a.copy() for k, a in removed.items()}
    for k, a in hidden.items():
        a[like_full] = full_view[k][like_full]
    _fill(hidden, sig["hidden"], rendered)
    return {"full": full_view, "hidden": hidden, "removed": removed}


def _fill(view: dict, res, within: np.ndarray | None = None) -> None:
    for k, t in enumerate(res.frames):
        m = res.valid[k] if within is None else res.valid[k] & within[t]
        view["ids"][t][m] = res.ids[k][m]
        view["depth"][t][m] = res.depth[k][m]
        view["sig"][t][m, :3] = quantize(res.color[k][m])
        view["sig"][t][m, 3:6] = quantize(res.normal[k][m])


def add_proximity(
    scene: SceneSpec, views: dict[str, dict], region: np.ndarray, pf: np.ndarray, pr: np.ndarray,
    moved: np.ndarray, band: float,
) -> None:
    """Fill the proximity channel of every view inside ``region[t]``: at least wherever it
    can be non-zero (``ChangeRegions.near``); elsewhere it stays 0.

    The objects counted are the changed ones of the frame: removed objects (in the full view
    only) and moved objects, at each view's own pose.
    """
    if band <= 0:
        return
    bands = {o.id: contact_band_m(o, band) for o in scene.objects}
    for t, mask, v, poses, _, shown in _changed_per_view(scene, views, region, pf, pr, moved):
        objs = [(scene.objects[i], poses[t, i], bands[scene.objects[i].id]) for i in shown]
        if not objs:
            continue
        points = surface_points(scene, t, v["depth"][t], mask)
        v["sig"][t][mask, PROXIMITY] = quantize(proximity(points, objs))


def _changed_per_view(scene: SceneSpec, views: dict[str, dict], region: np.ndarray, pf: np.ndarray, pr: np.ndarray,
                      moved: np.ndarray):
    """For each frame with ``region`` pixels and each view: ``(t, mask, view dict, poses,
    changed, shown)``: the frame's changed object rows (removed ones and moved ones, in spec
    order) and those of them the view shows, at its own poses."""
    removed = set(scene.removed_ids)
    for t in range(pf.shape[0]):
        mask = region[t]
        if not mask.any():
            continue
        changed = [i for i, o in enumerate(scene.objects) if o.id in removed or moved[t, i]]
        for view, v in views.items():
            poses = pr if view == "removed" else pf
            shown = [i for i in changed if (view == "full" or scene.objects[i].id not in removed)
                     and np.isfinite(poses[t, i]).all()]
            yield t, mask, v, poses, changed, shown


def add_lamp_light(scene: SceneSpec, views: dict[str, dict], region: np.ndarray | None, pf: np.ndarray,
                   pr: np.ndarray, moved: np.ndarray) -> None:
    """Fill the lamp channel inside ``region[t]`` (``ChangeRegions.lamp``), per view: for each
    lamp present in the view, 1 where its light can reach the pixel's surface point (within
    its range and cone, grown by the lamp's own radius), plus ``2 ** (k + 1)`` for each changed
    object ``k`` of the view that can block some of that light (:func:`lamp_blocked`: the
    object's exact shape meets the cone from the point to the lamp's sphere). Exact integers:
    equal exactly when the lamps and what can shade them from the point are the same.

    The full view also gets ``"lamp_kept"`` (T, H, W): the same code without the lamps the
    removed objects carry. Where it equals the removed view's code, the only lamp light that
    changes at the pixel is theirs (what the renderer can take out of the full render with a
    light group, :data:`simulate.render.blender_worker.GONE_GROUP`)."""
    if region is None:
        return
    removed = set(scene.removed_ids)
    full = views["full"]
    full.setdefault("lamp_kept", np.zeros(full["sig"].shape[:3], np.float32))
    for t, mask, v, poses, changed, shown in _changed_per_view(scene, views, region, pf, pr, moved):
        points = surface_points(scene, t, v["depth"][t], mask)
        ok = np.isfinite(points).all(1)
        total = np.zeros(len(points), np.float64)
        kept = np.zeros(len(points), np.float64)  # without the removed objects' lamps
        for lamp in scene.lamps:
            carrier = scene.index_of(lamp.attached_to) if lamp.attached_to else None
            if carrier in changed and carrier not in shown:
                continue  # its carrier is gone from this view, and the lamp with it
            where = scene.lamp_world(lamp, poses, t)
            if where is None:
                continue
            pos, axis = where
            code = np.zeros(len(points), np.float64)
            reach = ok & lamp_reaches(lamp, pos, axis, points)
            code += reach
            for k, i in enumerate(changed):  # numbered alike in every view
                if i not in shown or i == carrier:
                    continue
                blocks = np.zeros(len(points), bool)
                blocks[reach] = lamp_blocked(points[reach], pos, float(lamp.radius_m), scene.objects[i], poses[t, i])
                code += blocks * 2.0 ** (k + 1)
            total += code
            if lamp.attached_to not in removed:
                kept += code
        v["sig"][t][mask, LAMP] = total.astype(np.float32)
        if v is full:
            full["lamp_kept"][t][mask] = kept.astype(np.float32)


def lamp_reaches(lamp, pos: np.ndarray, axis: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points ``(K, 3)`` some point of the lamp's sphere (radius ``radius_m`` about ``pos``)
    can light: within ``range_m`` of it (Cycles' range window is on the distance from the
    sampled point of the light) and, for a spot, inside its cone widened by the sphere's
    angular radius. NaN points are never reached."""
    d = points - pos
    dist = np.linalg.norm(d, axis=1)
    r = float(lamp.radius_m)
    with np.errstate(invalid="ignore"):
        reach = dist < lamp_reach_m(lamp)
        if lamp.kind == "spot":
            cos = np.einsum("ij,j->i", d, axis) / np.maximum(dist, 1e-9)
            spread = np.arcsin(np.clip(r / np.maximum(dist, 1e-9), 0.0, 1.0))
            reach &= np.arccos(np.clip(cos, -1.0, 1.0)) < np.radians(float(lamp.cone_deg)) / 2 + spread
    return reach


# Sphere tracing of the cone from a point to a lamp (lamp_blocked): at most this many steps
# (a point still undecided after them counts as blocked: conservative), and a hit is any
# approach closer than this (metres; Blender's meshes lie inside the analytic primitives, and
# this covers its float32 vertices).
LAMP_TRACE_STEPS = 64
LAMP_TRACE_EPS_M = 1e-4


def lamp_blocked(points: np.ndarray, lamp_pos: np.ndarray, lamp_radius_m: float, obj: ObjectSpec,
                 pose: np.ndarray) -> np.ndarray:
    """Whether ``obj`` at ``pose`` can block any shadow ray from the points ``(K, 3)`` to a
    spherical lamp (centre ``lamp_pos``, radius ``lamp_radius_m``): whether the object meets
    the cone from the point tangent to the lamp's sphere, cut at the lamp's centre.

    Every shadow ray Cycles can trace from a point to the lamp lies in that cone, so a point
    the test clears keeps all of the lamp's direct light in both views. The test is against
    the object's own shape, exactly for boxes, spheres and cylinders (Blender's tessellated
    spheres and cylinders lie inside them) and against the convex hull of a mesh: a point
    ``x(s) = P + s (L - P)`` of the axis with the cone's radius ``s R`` there; the object meets
    the cone where ``sdf(x(s)) <= s R`` for some s in [0, 1], found by sphere tracing (the left
    side changes at most ``|L - P| + R`` per unit of s, so the steps never skip a hit).
    """
    points = np.asarray(points, np.float64)
    out = np.zeros(len(points), bool)
    if not len(points):
        return out
    seg = np.asarray(lamp_pos, np.float64) - points
    dist = np.linalg.norm(seg, axis=1)
    r = float(lamp_radius_m)
    inside = dist <= r * (1 + 1e-9)
    out[inside] = True  # the point is inside the lamp: anything may shade it
    R = np.where(inside, 0.0, r * dist / np.sqrt(np.maximum(dist * dist - r * r, 1e-300)))
    # Only segments that come within the object's bounding sphere (grown by the cone) can hit.
    c = np.asarray(pose[:3], np.float64)
    along = np.clip(np.einsum("ij,ij->i", c - points, seg) / np.maximum(dist * dist, 1e-300), 0.0, 1.0)
    gap = np.linalg.norm(points + along[:, None] * seg - c, axis=1)
    todo = np.flatnonzero(~inside & (gap <= meshes.bounding_radius(obj) + R + LAMP_TRACE_EPS_M))
    if not len(todo):
        return out
    eps = LAMP_TRACE_EPS_M + 1e-4 * meshes.bounding_radius(obj)
    q = np.asarray(pose[3:7], dtype=np.float64) * [-1, -1, -1, 1]  # inverse rotation
    p0, sg, rr = points[todo], seg[todo], R[todo]
    lipschitz = dist[todo] + rr
    s = np.zeros(len(todo))
    live = np.ones(len(todo), bool)
    for _ in range(LAMP_TRACE_STEPS):
        idx = np.flatnonzero(live)
        if not len(idx):
            break
        x = p0[idx] + s[idx, None] * sg[idx]
        f = _shape_distance(obj, quat_rotate(q, x - c)) - s[idx] * rr[idx]
        hit = f <= eps
        out[todo[idx[hit]]] = True
        live[idx[hit]] = False
        s[idx] += np.where(hit, 0.0, f / lipschitz[idx])
        live[idx[s[idx] > 1.0]] = False
    out[todo[live]] = True  # undecided: conservative
    return out


def _shape_distance(obj: ObjectSpec, p: np.ndarray) -> np.ndarray:
    """A lower bound of the signed distance from body-frame points to the object: exact for
    primitives (:func:`distance`), the convex hull's face planes for a mesh (exact along the
    faces, smaller near its edges and corners, so sphere tracing stays safe)."""
    if obj.shape != "mesh":
        return distance(obj, p)
    normals, offsets = _hull_planes(obj.mesh, float(obj.size[0]), tuple(float(v) for v in obj.mesh_offset))
    return (p @ normals.T + offsets).max(axis=1)


@functools.lru_cache(maxsize=64)
def _hull_planes(mesh: str, scale: float, offset: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    from scipy.spatial import ConvexHull

    hull = ConvexHull(meshes.hull_points(mesh) * scale + np.asarray(offset))
    return hull.equations[:, :3], hull.equations[:, 3]


def surface_points(scene: SceneSpec, frame: int, depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """World points ``(K, 3)`` seen through the centres of the ``mask`` pixels at ``depth``.

    Background pixels (depth beyond the far plane) come back as NaN.
    """
    W, H = scene.width, scene.height
    eye, target, up, fov = camera_at(scene.camera, frame, scene.num_frames)
    cam_to_world = np.linalg.inv(look_at_matrix(eye, target, up))
    ys, xs = np.nonzero(mask)
    f = 1.0 / np.tan(np.radians(fov) / 2)
    # Camera-space direction with z = -1 per unit of view-axis depth (OpenGL convention).
    dx = ((xs + 0.5) / W * 2 - 1) * (W / H) / f
    dy = (1 - (ys + 0.5) / H * 2) / f
    z = depth[ys, xs].astype(np.float64)
    cam = np.stack([dx * z, dy * z, -z], axis=1)
    pts = cam @ cam_to_world[:3, :3].T + cam_to_world[:3, 3]
    pts[z > scene.camera.far_m] = np.nan
    return pts


def proximity(points: np.ndarray, objects: list[tuple[ObjectSpec, np.ndarray, float]]) -> np.ndarray:
    """``sum(max(0, 1 - distance / band))`` over ``(object, pose, band)``; 0 for NaN points."""
    total = np.zeros(len(points), np.float64)
    ok = np.isfinite(points).all(1)
    for obj, pose, band in objects:
        if band <= 0:
            continue
        # Only points within the bounding sphere grown by the band can get a non-zero term.
        lo, hi = local_bounds(obj)
        reach = float(np.linalg.norm(np.maximum(np.abs(lo), np.abs(hi)))) + band
        near = ok.copy()
        near[ok] = np.sum((points[ok] - pose[:3]) ** 2, axis=1) < reach * reach
        if not near.any():
            continue
        q = np.asarray(pose[3:7], dtype=np.float64) * [-1, -1, -1, 1]  # inverse rotation
        local = quat_rotate(q, points[near] - pose[:3])
        total[near] += np.maximum(0.0, 1.0 - np.maximum(distance(obj, local), 0.0) / band)
    return total.astype(np.float32)


def distance(obj: ObjectSpec, p: np.ndarray) -> np.ndarray:
    """Signed distance from body-frame points ``(K, 3)`` to the object's surface.

    Exact for primitives; meshes use their bounding box, which is never farther than the
    mesh, so their band is a little wider, never narrower.
    """
    if obj.shape == "sphere":
        return np.linalg.norm(p, axis=1) - float(obj.size[0])
    if obj.shape == "cylinder":
        r, h = float(obj.size[0]), float(obj.size[1]) / 2
        d = np.stack([np.linalg.norm(p[:, :2], axis=1) - r, np.abs(p[:, 2]) - h], axis=1)
        return np.minimum(d.max(1), 0) + np.linalg.norm(np.maximum(d, 0), axis=1)
    if obj.shape == "box":
        lo = -np.asarray(obj.size, dtype=np.float64)
        hi = -lo
    else:
        lo, hi = local_bounds(obj)
    c, half = (lo + hi) / 2, (hi - lo) / 2
    q = np.abs(p - c) - half
    return np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(1), 0)


def add_neighbourhood(views: dict[str, dict], region: np.ndarray) -> None:
    """Fill the hash channels inside ``region`` (where the views can differ).

    Outside the region the views are equal, and so are their neighbourhoods as long as the
    region extends at least one pixel beyond every change (its margin is two).
    """
    for t in range(region.shape[0]):
        box = mask_box(region[t])
        if box is None:
            continue
        y0, y1, x0, x1 = box
        inside = region[t, y0:y1, x0:x1]
        for v in views.values():
            h = neighbourhood_hash(v["sig"][t, ..., :HASH], v["ids"][t], (y0, y1, x0, x1))
            lo, hi = h & np.uint64(0xFFFFFF), (h >> np.uint64(24)) & np.uint64(0xFFFFFF)
            v["sig"][t, y0:y1, x0:x1, HASH][inside] = lo.astype(np.float32)[inside]
            v["sig"][t, y0:y1, x0:x1, HASH + 1][inside] = hi.astype(np.float32)[inside]


_FNV_OFFSET, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


def neighbourhood_hash(sig: np.ndarray, ids: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A 64-bit hash of ``sig`` (H, W, C) float32 and ``ids`` over each pixel's 3x3
    neighbourhood (edges clamped), for the pixels of ``box`` = (y0, y1, x0, x1).

    FNV-1a over the bit patterns of each pixel's values, then FNV-1a over the nine pixel
    hashes of the neighbourhood in a fixed order. Equal neighbourhoods hash equal. Every step
    (xor a word, multiply by an odd prime) is a bijection of the low 48 bits, the ones stored,
    so one differing value always changes them; several at once collide with a 2**-48 chance.
    """
    y0, y1, x0, x1 = box
    H, W = ids.shape
    rows = np.clip(np.arange(y0 - 1, y1 + 1), 0, H - 1)
    cols = np.clip(np.arange(x0 - 1, x1 + 1), 0, W - 1)
    bits = np.ascontiguousarray(sig[rows][:, cols]).view(np.uint32)
    pixel = np.full(bits.shape[:2], _FNV_OFFSET, np.uint64)
    with np.errstate(over="ignore"):
        for c in range(bits.shape[-1]):
            pixel ^= bits[..., c]
            pixel *= _FNV_PRIME  # wraps modulo 2**64, as FNV intends
        pixel ^= ids[rows][:, cols].astype(np.uint32)
        pixel *= _FNV_PRIME
        h = np.full((y1 - y0, x1 - x0), _FNV_OFFSET, np.uint64)
        for dy in range(3):
            for dx in range(3):
                h ^= pixel[dy : dy + y1 - y0, dx : dx + x1 - x0]
                h *= _FNV_PRIME
    return h
