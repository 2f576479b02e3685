"""Rejection of degenerate counterfactuals: a draw fails with one named reason or passes.

Physics checks run before rendering (cheap); render checks look at the passes and mask.
Reasons (counted per dataset in dataset.json):

``no_contact``          interaction family, but the removed objects never touched another object
``no_change``           no kept object moves differently once the removed ones are gone
``contact``             occlusion family, but the removed object touched something
``left_frame``          an object's centre leaves the picture (or the floor) in either run
``unstable``            an object tunnels through the floor or reaches implausible speed
``removed_not_visible`` the removed objects are visible in too few frames
``no_visible_change``   the consequences happen off screen or behind something
``no_occlusion``        occlusion family, but the removed object never covers another object
``mask_too_large``      nearly the whole frame is marked as edited
``placement``           the sampler found no free spot (raised by a family)
``reflection_off_screen`` reflection family: the removed object's mirror image is not on the mirror
``no_light_change``     light family: no visible pixel changes its illumination
``no_glass_effect``     glass family: nothing is seen through the glass, or its shadow is off screen
``no_shadow``           human family, walk-past draw: the person's shadow is (almost) never on screen

A family declares ``INTERACTION``; one whose draws differ (``human``: a person who only walks
past) overrides it per draw with ``scene.extras["interaction"]``.
"""

from __future__ import annotations

import numpy as np

from simulate.physics import SimResult
from simulate.render.base import Views
from simulate.scene import SET_ROLES, SceneSpec, project

POSITION_TOL_M = 0.005
ANGLE_TOL_DEG = 3.0
MAX_SPEED_M_S = 25.0
FRAME_MARGIN = 0.02  # of the image size
FLOOR_MARGIN_M = 1.0


def rotation_deg(q0: np.ndarray, q1: np.ndarray) -> np.ndarray:
    """Angle between quaternions (elementwise over leading dims), degrees.

    From the chord between the unit quaternions (exactly 0 for equal ones; arccos of the
    dot product is not, near 1).
    """
    sign = np.where(np.sum(q0 * q1, axis=-1, keepdims=True) < 0, -1.0, 1.0)
    chord = np.linalg.norm(q0 - sign * q1, axis=-1)
    return np.degrees(4 * np.arcsin(np.clip(chord / 2, 0, 1)))


def motion(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per object: largest distance from its first pose (m) and largest rotation (deg); NaN
    for objects absent from the run."""
    disp = np.linalg.norm(poses[:, :, :3] - poses[:1, :, :3], axis=-1)
    rot = rotation_deg(poses[:, :, 3:], poses[:1, :, 3:])
    return disp.max(axis=0), rot.max(axis=0)


def difference(full: np.ndarray, removed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per object: largest position (m) and rotation (deg) gap between the two runs."""
    disp = np.linalg.norm(full[:, :, :3] - removed[:, :, :3], axis=-1)
    rot = rotation_deg(full[:, :, 3:], removed[:, :, 3:])
    return np.nan_to_num(disp.max(axis=0), nan=0.0), np.nan_to_num(rot.max(axis=0), nan=0.0)


def affected_ids(scene: SceneSpec, full: SimResult, removed: SimResult, *, exact: bool = True) -> list[int]:
    """Kept objects whose trajectory differs between the full and the counterfactual run.

    ``exact``: any difference at all (objects that never interact are bit-identical in the
    two runs); otherwise only differences above ``POSITION_TOL_M`` / ``ANGLE_TOL_DEG``.
    """
    gone = scene.removed_mask()
    if exact:
        same = np.all(full.poses == removed.poses, axis=(0, 2))
        return [o.id for k, o in enumerate(scene.objects) if not gone[k] and not same[k]]
    disp, rot = difference(full.poses, removed.poses)
    return [
        o.id for k, o in enumerate(scene.objects)
        if not gone[k] and (disp[k] > POSITION_TOL_M or rot[k] > ANGLE_TOL_DEG)
    ]


def _leaves_frame(scene: SceneSpec, poses: np.ndarray, keep: np.ndarray, until: int | None = None) -> bool:
    W, H = scene.width, scene.height
    mx, my = FRAME_MARGIN * W, FRAME_MARGIN * H
    poses = poses[: scene.num_frames if until is None else until + 1]
    for t in range(len(poses)):
        pts = poses[t, keep, :3]
        px = project(pts, scene.camera, t, scene.num_frames, W, H)
        if (px[:, 2] <= 0).any():
            return True
        if ((px[:, 0] < mx) | (px[:, 0] > W - mx) | (px[:, 1] < my) | (px[:, 1] > H - my)).any():
            return True
    # a table top (a small floor) keeps a margin in proportion; falling off it is caught as unstable
    reach = scene.floor.half_extent_m - min(FLOOR_MARGIN_M, 0.1 * scene.floor.half_extent_m)
    return bool((np.abs(poses[:, keep, :2]) > reach).any())


def _unstable(scene: SceneSpec, poses: np.ndarray, keep: np.ndarray) -> bool:
    p = poses[:, keep, :3]
    if not np.isfinite(p).all() or (p[..., 2] < -0.02).any():
        return True
    speed = np.linalg.norm(np.diff(p, axis=0), axis=-1) * scene.fps
    return bool(speed.size and speed.max() > MAX_SPEED_M_S)


def check_physics(scene: SceneSpec, full: SimResult, removed: SimResult, interaction: bool) -> str | None:
    """The reason to reject this draw from its two simulations, or None."""
    interaction = bool(scene.extras.get("interaction", interaction))
    gone = scene.removed_mask()
    roles = np.array([o.role for o in scene.objects])
    # set dressing may leave the picture (walls, a passer-by); fixtures never move
    on_set = np.isin(roles, SET_ROLES)
    kept = ~gone & ~on_set
    everyone = roles != "fixture"
    if _unstable(scene, full.poses, everyone) or _unstable(scene, removed.poses, ~gone & everyone):
        return "unstable"
    # a fixed body (a wall mirror, a table) cannot pass anything on: touching it is no interaction
    touched = {i for i in full.touched_by(scene.removed_ids) if scene.object(i).mass_kg > 0 or scene.object(i).kinematic}
    if interaction and not touched:
        return "no_contact"
    if not interaction and touched:
        return "contact"
    if interaction and not affected_ids(scene, full, removed, exact=False):
        return "no_change"
    # a removed object may fly off after its first hit: it is gone from the target video anyway
    if (
        _leaves_frame(scene, full.poses, kept)
        or _leaves_frame(scene, removed.poses, kept)
        or _leaves_frame(scene, full.poses, gone, until=full.first_contact(scene.removed_ids))
    ):
        return "left_frame"
    return None


def check_render(scene: SceneSpec, views: Views, mask: np.ndarray, interaction: bool, family_check=None) -> str | None:
    """The reason to reject this draw from its renders and quadmask, or None.

    ``family_check(scene, views, mask)``: a family's own test of its side effect (the optics
    families: is the reflection, the light change, the glass shadow on screen?), in place of
    the occlusion test for families without interaction."""
    interaction = bool(scene.extras.get("interaction", interaction))
    T, H, W = mask.shape
    min_px = max(4, int(1e-3 * H * W))
    removed_ids = np.asarray(scene.removed_ids, dtype=views.full.ids.dtype)
    visible = np.isin(views.full.ids, removed_ids)
    frames_visible = int((visible.reshape(T, -1).sum(axis=1) >= 2).sum())
    if frames_visible < max(1, T // 4):
        return "removed_not_visible"
    edited = (mask != 255).reshape(T, -1).mean(axis=1)
    if edited.mean() > 0.8 or edited.max() > 0.97:
        return "mask_too_large"
    if interaction:
        moved = (views.full.ids != views.removed.ids) & ~visible
        if int(moved.sum()) < min_px:
            return "no_visible_change"
    elif family_check is not None:
        return family_check(scene, views, mask)
    else:
        covers = visible & (views.hidden.ids > 0)
        if int(covers.sum()) < min_px:
            return "no_occlusion"
    return None
