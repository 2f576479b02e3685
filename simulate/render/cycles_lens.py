"""Depth of field and motion blur for the Cycles renderer's footage look, kept exact.

The footage look's camera is a real lens in Cycles: a thin lens focused on the action (the
shot's look-at point) at an f-stop drawn per sample, and a 180-degree shutter (open for half
a frame, centred on the frame's time). :func:`lens_for` decides this from the scene; the
Blender worker sets it on the camera for the beauty passes only, and keyframes every moving
object and the camera at the shutter's open, middle and close times, so Cycles really blurs
them. The signature, id and depth passes stay sharp, at the shutter's middle.

The mask contract (``docs/look.md``): blur and defocus carry a changed surface at most
:func:`frame_radii` pixels beyond its sharp footprint (half the thin-lens circle of
confusion over the depths of the changed objects and their floor shadows, plus the half
shutter's share of the largest on-screen motion of any of their points between frames, plus
one pixel for the pixel filter; :func:`simulate.camerawork.blur_radius_px`). The renderer grows the pixels
where the sharp passes differ by that radius, re-renders the target over the grown region
and marks the ring 127 (:func:`grow`, :func:`ring_codes`). What stays 255 is then, exactly,
the full render's pixels, in input and target alike.

This module never imports ``bpy``.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import camerawork
from simulate.render import blender_regions as regions
from simulate.render import borders
from simulate.scene import SceneSpec, camera_at, project

SHUTTER_FRAMES = 0.5  # a 180-degree shutter: open for half of each frame, centred on it
FSTOP_RANGE = (1.8, 5.6)  # drawn log-uniformly: open apertures, as a film camera's
# Spawn key of the lens's own random stream (from the sample seed): no other draw of the
# scene, the family or the raster renderer comes from it, so adding it changes nothing else.
LENS_STREAM = 0x1E45
# The keys interpolate world poses linearly, but their projections move along the screen
# path non-uniformly (perspective): the share of a frame's screen motion reached within half
# a shutter is taken a quarter larger than the time share.
PERSPECTIVE_SLACK = 1.25


def lens_for(scene: SceneSpec) -> dict | None:
    """The lens of a footage-look scene (None for the plain look: a pinhole, no blur).

    ``fstop`` comes from the sample seed's own stream; ``focal_mm`` is the shot's lens (from
    its vertical field of view); the shutter is ``SHUTTER_FRAMES`` of a frame.
    """
    if "environment" not in scene.extras:
        return None
    rng = np.random.default_rng(np.random.SeedSequence(entropy=int(scene.seed), spawn_key=(LENS_STREAM,)))
    lo, hi = FSTOP_RANGE
    fstop = float(np.exp(rng.uniform(math.log(lo), math.log(hi))))
    return {
        "fstop": round(fstop, 3),
        "focal_mm": camerawork.focal_from_fov(scene.camera.fov_deg),
        "shutter_frames": SHUTTER_FRAMES,
        "shutter_s": SHUTTER_FRAMES * float(scene.camera.frame_s),
        "focus": "the action: distance along the view axis to the shot's look-at point, each frame",
    }


def focus_m(scene: SceneSpec, frame: float) -> float:
    """Focus distance at ``frame``: the shot's look-at point (the action) along the view axis."""
    eye, target, _, _ = camera_at(scene.camera, frame, scene.num_frames)
    forward = (target - eye) / np.linalg.norm(target - eye)
    action = np.asarray(scene.camera.look_at, dtype=np.float64)
    return max(float((action - eye) @ forward), 0.05)


def focal_mm_at(scene: SceneSpec, frame: float) -> float:
    """The lens at ``frame`` (a zoom changes it)."""
    return camerawork.focal_from_fov(camera_at(scene.camera, frame, scene.num_frames)[3])


def interpolate_pose(a: np.ndarray, b: np.ndarray, u: float) -> np.ndarray:
    """The pose a fraction ``u`` of the way from ``a`` to ``b`` (position lerp, quaternion
    nlerp on the near hemisphere); ``a`` where either is absent (NaN)."""
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return np.array(a, dtype=np.float64)
    out = np.empty(7)
    out[:3] = (1 - u) * a[:3] + u * b[:3]
    qb = b[3:7] if float(a[3:7] @ b[3:7]) >= 0 else -b[3:7]
    q = (1 - u) * a[3:7] + u * qb
    out[3:7] = q / np.linalg.norm(q)
    return out


def neighbours(T: int, t: int) -> tuple[int, int]:
    """The frames before and after ``t`` whose poses bound its shutter (clamped at the ends)."""
    return max(t - 1, 0), min(t + 1, T - 1)


def beauty_same(same: np.ndarray) -> np.ndarray:
    """Which frames can share a blurred beauty render: the same scene at ``t`` and at both
    neighbours (the shutter sees the motion towards them), given ``same`` from
    :func:`~simulate.render.blender_regions.same_state_as`."""
    T = len(same)
    first: dict[tuple, int] = {}
    out = np.arange(T)
    for t in range(T):
        a, b = neighbours(T, t)
        out[t] = first.setdefault((int(same[a]), int(same[t]), int(same[b])), t)
    return out


def changed_rows(scene: SceneSpec, pf: np.ndarray, pr: np.ndarray, moved: np.ndarray, t: int) -> list[tuple]:
    """``(row, view poses)`` of everything whose blur can differ between the views at ``t``:
    the removed objects (full poses) and objects moved at ``t`` or a neighbour (both runs)."""
    T = pf.shape[0]
    a, b = neighbours(T, t)
    removed = set(scene.removed_ids)
    out = []
    for i, obj in enumerate(scene.objects):
        if obj.id in removed:
            out.append((i, (pf,)))
        elif moved[a:b + 1, i].any():
            out.append((i, (pf, pr)))
    return out


def _points(scene: SceneSpec, obj, pose: np.ndarray) -> np.ndarray | None:
    """Bounding points of the object and of its sun shadow on the floor; None if unbounded."""
    pts = regions.world_bound_points(obj, pose)
    hits = regions.shadow_points(pts, regions.sun_directions(scene.light))
    return None if hits is None else np.concatenate([pts, hits])


def frame_radii(scene: SceneSpec, pf: np.ndarray, pr: np.ndarray, moved: np.ndarray, lens: dict) -> np.ndarray:
    """``(T,)`` int: how far (pixels) blur and defocus can carry a change at each frame.

    Conservative: the circle of confusion is taken at the nearest and the farthest point of
    the changed objects' bounds and of their floor shadows (the largest over every depth
    between; shadows on walls lie on the sun rays between the two, so within that range), at
    infinity where mirrors or lamps can carry a change farther; the motion is the largest
    screen displacement of any of those points towards either neighbouring frame (camera
    motion included), of which the half shutter (``PERSPECTIVE_SLACK`` more) is blurred
    either side of the mid-shutter pose. The whole picture where a bound is meaningless (a
    point behind the camera, the sun at the horizon).
    """
    T, W, H = pf.shape[0], scene.width, scene.height
    whole = max(W, H)
    out = np.zeros(T, np.int64)
    for t in range(T):
        rows = changed_rows(scene, pf, pr, moved, t)
        if not rows:
            out[t] = 0
            continue
        depths, motion = [], 0.0
        for i, views in rows:
            obj = scene.objects[i]
            for poses in views:
                if not np.isfinite(poses[t, i]).all():
                    continue
                now = _points(scene, obj, poses[t, i])
                if now is None:
                    out[t] = whole
                    break
                p_now = project(now, scene.camera, t, T, W, H)
                if np.any(p_now[:, 2] <= scene.camera.near_m):
                    out[t] = whole
                    break
                depths.append(float(p_now[:, 2].min()))
                for n in neighbours(T, t):
                    if n == t or not np.isfinite(poses[n, i]).all():
                        continue
                    then = _points(scene, obj, poses[n, i])
                    p_then = None if then is None else project(then, scene.camera, n, T, W, H)
                    if p_then is None or np.any(p_then[:, 2] <= scene.camera.near_m):
                        out[t] = whole
                        break
                    motion = max(motion, float(np.abs(p_then[:, :2] - p_now[:, :2]).max()))
            if out[t] == whole:
                break
        if out[t] == whole:
            continue
        far = 1e9 if (scene.mirrors or scene.lamps) else max(depths)
        zs = np.array([min(depths), far])
        out[t] = min(whole, camerawork.blur_radius_px(
            zs, focus_m(scene, t), focal_mm_at(scene, t), lens["fstop"], H, motion,
            PERSPECTIVE_SLACK * lens["shutter_frames"] / 2))
    return out


def grow(mask: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` bool ``mask`` dilated by a disc of ``radii[t]`` pixels in each frame."""
    out = np.array(mask, dtype=bool, copy=True)
    for t, r in enumerate(radii):
        out[t] = camerawork.dilate_disc(out[t], int(r))
    return out


def grow_rects(rects: list[list[tuple]], radii: np.ndarray, width: int, height: int) -> list[list[tuple]]:
    """Each frame's rectangles grown by its radius, clipped to the picture."""
    out = []
    for t, frame in enumerate(rects):
        r = int(radii[t])
        grown = [borders.clip_rect((x0 - r, y0 - r, x1 + r, y1 + r), width, height) for x0, y0, x1, y1 in frame]
        out.append(borders.merge_rects([g for g in grown if g is not None]))
    return out


def ring_codes(g_rf: np.ndarray, g_hf: np.ndarray, g_hr: np.ndarray) -> dict[str, np.ndarray]:
    """One extra signature channel per view that makes the grown regions count as changes.

    Full is 0 everywhere; removed is 1 where it was re-rendered (``g_rf``); hidden equals
    removed outside ``g_hr`` and otherwise differs from it (2 where it also differs from
    full, 0 where it is full's pixels). Since a view differs from one of the others wherever
    it differs from the third, ``g_hf`` lies in ``g_rf | g_hr`` and these codes make
    ``differs`` true exactly on the grown regions (or where the sharp passes differ anyway).
    """
    removed = g_rf.astype(np.float32)
    hidden = removed.copy()
    hidden[g_hr & g_hf] = 2.0
    hidden[g_hr & ~g_hf] = 0.0
    return {"full": np.zeros(g_rf.shape, np.float32), "removed": removed, "hidden": hidden}


def blur_neighbours(scene, pf, moved, shape, margin_px) -> np.ndarray:
    """``(T, H, W)``: the footprints of objects that move in a neighbouring frame but not in
    this one (their blur differs though their sharp passes do not)."""
    T = pf.shape[0]
    around = np.zeros((T, *shape), bool)
    for t in range(T):
        a, b = neighbours(T, t)
        for i, obj in enumerate(scene.objects):
            if moved[a:b + 1, i].any() and not moved[t, i] and np.isfinite(pf[t, i]).all():
                regions.fill_object(around[t], scene, obj, pf[t, i], t, margin_px)
    return around


def grow_changes(scene, views, pf, moved, radii, diff_rf, diff_hf, diff_hr, margin_px):
    """The change maps grown by the blur radius of each frame (:func:`frame_radii`).

    Objects that move differently just before or after a frame but not at it (the first
    frame of a contact) differ in their blur, not in the sharp passes: their footprint and
    shadow count as changed too. The grown ring gets its own signature channel, so the
    quadmask marks it (127) and 255 stays bit-identical. ``views``: the renderer's per-view
    ``{"ids", "sig", "depth"}``, whose ``sig`` has its last channel free for that code (zero,
    :func:`~simulate.render.blender_signature.assemble` with ``extra=1``); the grown maps
    (removed vs full, hidden vs full, hidden vs removed) are returned.
    """
    around = blur_neighbours(scene, pf, moved, diff_rf.shape[1:], margin_px)
    g_rf = grow(diff_rf | around, radii)
    g_hf = grow(diff_hf, radii)
    g_hr = grow(diff_hr | around, radii)
    codes = ring_codes(g_rf, g_hf, g_hr)
    for v in ("full", "hidden", "removed"):
        views[v]["sig"][..., -1] = codes[v]
    return g_rf, g_hf, g_hr
