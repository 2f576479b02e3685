"""The footage look's lens in Blender: motion keys around a frame (Cycles' motion blur) and
the focus distance (depth of field), for the beauty pass only.

Runs inside the Blender worker process, like :mod:`simulate.render.blender_scene`, whose
:class:`~simulate.render.blender_scene.BlenderScene` it keys; the rules (shutter, focus,
pose interpolation) live in :mod:`simulate.render.cycles_lens`.
"""

from __future__ import annotations

import numpy as np

from simulate.render.blender_scene import BlenderScene, lens_mm
from simulate.scene import SceneSpec, camera_at, look_at_matrix


def _key_pose(obj, pose: np.ndarray, frame: float) -> None:
    obj.location = tuple(float(v) for v in pose[:3].astype(np.float32))
    x, y, z, w = (float(v) for v in pose[3:7].astype(np.float32))
    obj.rotation_quaternion = (w, x, y, z)
    obj.keyframe_insert("location", frame=frame)
    obj.keyframe_insert("rotation_quaternion", frame=frame)


def _unkey(bs: BlenderScene, key: int, obj) -> None:
    if bs.motion_keys.pop(key, None) is not None:
        obj.animation_data_clear()
        if key == 0:
            obj.data.animation_data_clear()  # the camera's lens (a zoom)


def set_motion(bs: BlenderScene, scene: SceneSpec, poses: np.ndarray, frame: int, shutter_frames: float) -> None:
    """Keyframe what moves around ``frame`` so Cycles' motion blur sees it.

    The worker sets new keys to interpolate linearly and the camera's rotation mode to
    quaternions (no Euler wrap-around). Every object shown and the camera get keys at the shutter's open, middle and close times
    (``frame`` -/+ half the shutter): poses interpolated towards the neighbouring frames'
    (:func:`simulate.render.cycles_lens.interpolate_pose`), the camera from
    :func:`~simulate.scene.camera_at` at those sub-frame times. Called after
    :func:`set_poses` and :func:`set_camera` for the same frame, so the middle key is the
    pose they wrote; what does not move keeps no animation.
    """
    from simulate.render import cycles_lens

    h = shutter_frames / 2.0
    T = poses.shape[0]
    a, b = cycles_lens.neighbours(T, frame)
    for row, object_id in enumerate(bs.order):
        obj = bs.objects[object_id]
        now = poses[frame, row]
        if obj.hide_render or not np.isfinite(now).all():
            _unkey(bs, object_id, obj)
            continue
        before = cycles_lens.interpolate_pose(now, poses[a, row], h)
        after = cycles_lens.interpolate_pose(now, poses[b, row], h)
        if np.array_equal(before, now) and np.array_equal(after, now):
            _unkey(bs, object_id, obj)  # its pose stays the one set_poses wrote
            continue
        key = (frame, now.tobytes(), before.tobytes(), after.tobytes())
        if bs.motion_keys.get(object_id) == key:
            continue
        obj.animation_data_clear()
        for f, pose in ((frame - h, before), (frame + h, after), (frame, now)):
            _key_pose(obj, pose, f)
        bs.motion_keys[object_id] = key
    _camera_motion(bs, scene, frame, h)


def _camera_motion(bs: BlenderScene, scene: SceneSpec, frame: int, h: float) -> None:
    import mathutils

    cam = bs.camera
    mats, lenses = [], []
    for f in (frame - h, frame + h, frame):
        eye, target, up, fov_deg = camera_at(scene.camera, f, scene.num_frames)
        mats.append(np.linalg.inv(look_at_matrix(eye, target, up)))
        lenses.append(lens_mm(cam.data.sensor_height, fov_deg))
    moves = not all(np.array_equal(m, mats[2]) for m in mats)
    zooms = not all(x == lenses[2] for x in lenses)
    if not (moves or zooms):
        _unkey(bs, 0, cam)
        return
    key = (frame, b"".join(m.tobytes() for m in mats), tuple(lenses))
    if bs.motion_keys.get(0) == key:
        return
    cam.animation_data_clear()
    cam.data.animation_data_clear()
    for f, m, lens in zip((frame - h, frame + h, frame), mats, lenses):
        cam.matrix_world = mathutils.Matrix(m.tolist())
        cam.keyframe_insert("location", frame=f)
        cam.keyframe_insert("rotation_quaternion", frame=f)
        if zooms:
            # Cycles blurs a change of focal length within the shutter too (its camera
            # keeps the field of view before, at and after the frame's time)
            cam.data.lens = lens
            cam.data.keyframe_insert("lens", frame=f)
    bs.motion_keys[0] = key
    bs.camera_key = None  # the keys own the camera now: set_camera writes again next time


def clear_motion(bs: BlenderScene) -> None:
    """Drop every motion key (the sharp signature pass); poses and camera are rewritten by
    the next :func:`set_poses` and :func:`set_camera`."""
    for object_id in list(bs.motion_keys):
        obj = bs.camera if object_id == 0 else bs.objects[object_id]
        _unkey(bs, object_id, obj)
    bs.camera_key = None


def set_focus(bs: BlenderScene, scene: SceneSpec, frame: int) -> None:
    """Focus the lens on the action at ``frame`` (the footage look's beauty pass)."""
    from simulate.render import cycles_lens

    dof = bs.camera.data.dof
    focus = cycles_lens.focus_m(scene, frame)
    if dof.focus_distance != np.float32(focus):
        dof.focus_distance = focus
