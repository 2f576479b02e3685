"""The DeepMimic humanoid of pybullet_data and its motion-capture clips, as plain numpy.

``humanoid/humanoid.urdf`` is a 15-link rig (y up, units that a global scale of 0.25 turns
into metres, the scale pybullet's own DeepMimic examples load it with); the clips
``data/motions/humanoid3d_*.txt`` are JSON with one row per frame:

    [duration_s, root x y z (3), root quaternion w x y z (4),
     chest (4), neck (4), right hip (4), right knee (1), right ankle (4), right shoulder (4),
     right elbow (1), left hip (4), left knee (1), left ankle (4), left shoulder (4), left elbow (1)]

i.e. per joint of the rig, in URDF order and skipping its fixed joints, a w-first quaternion
for a spherical joint or an angle for a revolute one (44 numbers). This module reads both
files, places a clip in a scene (scale, heading, start, speed, z up) and turns it into the
rig's joint targets at any time; :mod:`simulate.physics` plays them on the real multibody.
A person in a scene spec is a :class:`simulate.scene.PersonSpec` plus one ordinary scene
object per collision primitive of the rig (capsules as a cylinder and two spheres), whose
poses physics reads from the rig's link frames.
"""

from __future__ import annotations

import functools
import json
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulate import meshes, sampling
from void import atomic
from simulate.scene import ObjectSpec, PersonSpec
from void.errors import VoidError

URDF = "humanoid/humanoid.urdf"
URDF_SCALE = 0.25  # rig units -> metres at person scale 1 (pybullet's DeepMimic examples)
CLIP_DIR = "data/motions"
# joints the clips drive, in clip order: (name, pybullet joint index, degrees of freedom)
JOINTS = (
    ("chest", 1, 4), ("neck", 2, 4),
    ("right_hip", 3, 4), ("right_knee", 4, 1), ("right_ankle", 5, 4),
    ("right_shoulder", 6, 4), ("right_elbow", 7, 1),
    ("left_hip", 9, 4), ("left_knee", 10, 1), ("left_ankle", 11, 4),
    ("left_shoulder", 12, 4), ("left_elbow", 13, 1),
)
FRAME_WIDTH = 1 + 3 + 4 + sum(d for _, _, d in JOINTS)  # 44
HANDS = {"right": 8, "left": 14}  # the wrist links
FEET = {"right": 5, "left": 11}  # the ankle links (the feet)
# clips whose root keeps moving on when they wrap; the rest hold their last pose
LOOPING = ("walk", "run", "jump", "dance_a", "dance_b", "spinkick", "roll")
# caption verbs of the clips
VERBS = {
    "walk": "walks", "run": "runs", "kick": "kicks", "spinkick": "spins and kicks", "jump": "jumps along",
    "dance_a": "dances", "dance_b": "dances", "punch": "punches", "roll": "rolls", "spin": "spins",
}
# y-up rig and clips -> z-up world: +90 degrees about x
Y_UP_TO_Z_UP = (math.sin(math.pi / 4), 0.0, 0.0, math.cos(math.pi / 4))
# limb proportions: a length factor per segment, applied to both sides of the body. A segment
# stretches its links' collision shapes (capsule length, sphere radius, their offsets) and the
# origins of the joints that hang from them, so the clip's angles are played unchanged.
SEGMENTS = ("torso", "upper_arm", "forearm", "thigh", "shin")
PROPORTION_LIMITS = (0.8, 1.2)  # what the rig takes without its capsules overlapping badly
LINK_SEGMENT = {
    "chest": "torso", "right_shoulder": "upper_arm", "left_shoulder": "upper_arm",
    "right_elbow": "forearm", "left_elbow": "forearm", "right_hip": "thigh", "left_hip": "thigh",
    "right_knee": "shin", "left_knee": "shin",
}
JOINT_SEGMENT = {"chest": "torso"}  # the pelvis-to-chest joint hangs from the pelvis but is spine
RIG_VERSION = 1  # part of a cached rig's file name: bump when the rewriting changes
CACHE_ENV = "VOID_CACHE_DIR"
# which garment covers each link
GARMENT = {
    "root": "trousers", "chest": "shirt", "neck": "skin", "right_hip": "trousers", "right_knee": "trousers",
    "right_ankle": "shoes", "right_shoulder": "shirt", "right_elbow": "sleeve", "right_wrist": "skin",
    "left_hip": "trousers", "left_knee": "trousers", "left_ankle": "shoes", "left_shoulder": "shirt",
    "left_elbow": "sleeve", "left_wrist": "skin",
}


class ClipError(VoidError, ValueError):
    """A motion clip or the rig file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Clip:
    name: str
    times_s: np.ndarray  # (F,) start time of each frame
    frames: np.ndarray  # (F, 44) as in the file
    loop: bool
    root_q: np.ndarray  # (F, 4) the root quaternions, x y z w and of unit length
    joints: tuple  # per JOINTS entry: (F, 4) unit x y z w quaternions or (F, 1) angles

    @property
    def duration_s(self) -> float:
        return float(self.times_s[-1])


@dataclass(frozen=True)
class Primitive:
    link: int  # pybullet link index
    link_name: str
    shape: str  # box | sphere | cylinder (a capsule becomes a cylinder plus two spheres)
    size: tuple  # ObjectSpec.size at scale 1 (metres)
    offset: tuple  # (x, y, z, qx, qy, qz, qw) in the link frame at scale 1


# --------------------------------------------------------------------------- files


def clip_names() -> list[str]:
    return sorted(p.stem.removeprefix("humanoid3d_") for p in (meshes.data_dir() / CLIP_DIR).glob("humanoid3d_*.txt"))


@functools.lru_cache(maxsize=16)
def load_clip(name: str) -> Clip:
    """Read ``humanoid3d_<name>.txt`` from pybullet_data and check its shape."""
    path = meshes.data_dir() / CLIP_DIR / f"humanoid3d_{name}.txt"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        frames = np.asarray(data["Frames"], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ClipError(f"{path}: not a readable DeepMimic clip ({exc})") from None
    if frames.ndim != 2 or frames.shape[1] != FRAME_WIDTH or len(frames) < 2:
        raise ClipError(f"{path}: expected frames of {FRAME_WIDTH} numbers, got an array of shape {frames.shape}")
    if not np.isfinite(frames).all() or (frames[:-1, 0] <= 0).any():
        raise ClipError(f"{path}: frame durations must be positive and every value finite")
    times = np.r_[0.0, np.cumsum(frames[:-1, 0])]
    joints, col = [], 8
    for _, _, dof in JOINTS:
        joints.append(_wxyz_to_xyzw(frames[:, col:col + 4]) if dof == 4 else frames[:, col:col + 1].copy())
        col += dof
    return Clip(name, times, frames, name in LOOPING, _wxyz_to_xyzw(frames[:, 4:8]), tuple(joints))


def proportion_key(proportions: dict | None) -> tuple[tuple[str, float], ...]:
    """The non-unit factors, checked and sorted: ``()`` is the rig's own proportions."""
    out = []
    for seg, f in sorted((proportions or {}).items()):
        if seg not in SEGMENTS:
            raise ClipError(f"unknown limb segment {seg!r} in person proportions; known: {', '.join(SEGMENTS)}")
        f = float(f)
        if not PROPORTION_LIMITS[0] <= f <= PROPORTION_LIMITS[1]:
            raise ClipError(f"limb segment {seg!r}: length factor {f} outside {PROPORTION_LIMITS}")
        if f != 1.0:
            out.append((seg, f))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _rig_text() -> str:
    path = meshes.data_dir() / URDF
    try:  # the file pads its text with NUL bytes
        text = path.read_bytes().replace(b"\x00", b"").decode("utf-8")
        ET.fromstring(text)
    except (OSError, ET.ParseError, UnicodeDecodeError) as exc:
        raise ClipError(f"{path}: cannot read the humanoid rig ({exc})") from None
    return text


def _scale_xyz(el, f: float) -> None:
    el.set("xyz", " ".join(f"{float(v) * f:.6f}" for v in el.get("xyz").split()))


@functools.lru_cache(maxsize=64)
def _rig_tree(key: tuple) -> ET.Element:
    """The rig's XML with the segment factors of ``key`` applied (a fresh tree per key)."""
    root = ET.fromstring(_rig_text())
    factors = dict(key)
    for link in root.iter("link"):
        f = factors.get(LINK_SEGMENT.get(link.get("name")), 1.0)
        if f == 1.0:
            continue
        for part in list(link.iter("collision")) + list(link.iter("visual")) + list(link.iter("inertial")):
            origin = part.find("origin")
            if origin is not None:
                _scale_xyz(origin, f)
            geom = part.find("geometry")
            shape = None if geom is None else geom[0]
            if shape is None:
                continue
            if shape.tag == "capsule" or shape.tag == "cylinder":
                shape.set("length", f"{float(shape.get('length')) * f:.6f}")
            elif shape.tag == "sphere":
                shape.set("radius", f"{float(shape.get('radius')) * f:.6f}")
            elif shape.tag == "box":
                shape.set("size", " ".join(f"{float(v) * f:.6f}" for v in shape.get("size").split()))
    for joint in root.iter("joint"):
        seg = JOINT_SEGMENT.get(joint.get("name")) or LINK_SEGMENT.get(joint.find("parent").get("link"))
        f = factors.get(seg, 1.0)
        if f != 1.0:
            _scale_xyz(joint.find("origin"), f)
    return root


def cache_dir() -> Path:
    """Where rigs with other proportions are written: ``$VOID_CACHE_DIR`` or ~/.cache/void-bench."""
    base = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "void-bench")
    return Path(base) / "humanoid"


def urdf_path(proportions: dict | None = None) -> Path:
    """The URDF to load for these proportions: pybullet_data's own for the rig's proportions,
    otherwise a rewritten copy in :func:`cache_dir` named by its factors (written atomically
    once; pybullet_data is never modified)."""
    key = proportion_key(proportions)
    if not key:
        return meshes.data_dir() / URDF
    name = "_".join(f"{seg}{f:.4f}" for seg, f in key)
    path = cache_dir() / f"humanoid-v{RIG_VERSION}-{name}.urdf"
    if not path.is_file():
        try:
            atomic.write_text(path, ET.tostring(_rig_tree(key), encoding="unicode"))
        except OSError as exc:
            raise ClipError(f"{path}: cannot write the rescaled humanoid rig ({exc}); set {CACHE_ENV}") from None
    return path


def leg_factor(proportions: dict | None = None) -> float:
    """Hip-to-sole length of the rig with these proportions over the rig's own: the clip's root
    (the pelvis) is placed this much higher or lower, and its travel scaled the same, so the
    feet still meet the floor and do not slide."""
    key = proportion_key(proportions)
    if not key:
        return 1.0

    def length(tree) -> float:
        joints = {j.get("name"): j for j in tree.iter("joint")}
        links = {k.get("name"): k for k in tree.iter("link")}
        thigh = -float(joints["right_knee"].find("origin").get("xyz").split()[1])
        shin = -float(joints["right_ankle"].find("origin").get("xyz").split()[1])
        foot = links["right_ankle"].find("collision")
        sole = -float(foot.find("origin").get("xyz").split()[1]) + float(foot.find("geometry")[0].get("size").split()[1]) / 2
        return thigh + shin + sole

    return length(_rig_tree(key)) / length(_rig_tree(()))


@functools.lru_cache(maxsize=64)
def _primitives(key: tuple) -> tuple[Primitive, ...]:
    root = _rig_tree(key)
    path = meshes.data_dir() / URDF
    # pybullet numbers links by their joints, in file order
    index = {j.find("child").get("link"): k for k, j in enumerate(root.iter("joint"))}
    out = []
    for link in root.iter("link"):
        name = link.get("name")
        col = link.find("collision")
        if col is None or name not in index:
            continue
        origin = col.find("origin")
        xyz = np.array([float(v) for v in origin.get("xyz").split()]) * URDF_SCALE
        q = _rpy_quat(*[float(v) for v in origin.get("rpy").split()])
        geom = col.find("geometry")[0]
        k = index[name]
        if geom.tag == "sphere":
            out.append(Primitive(k, name, "sphere", (float(geom.get("radius")) * URDF_SCALE,), (*xyz, *q)))
        elif geom.tag == "box":
            half = [float(v) * URDF_SCALE / 2 for v in geom.get("size").split()]
            out.append(Primitive(k, name, "box", tuple(half), (*xyz, *q)))
        elif geom.tag == "capsule":
            r, length = float(geom.get("radius")) * URDF_SCALE, float(geom.get("length")) * URDF_SCALE
            axis = rotate(q, np.array([0.0, 0.0, length / 2]))
            out.append(Primitive(k, name, "cylinder", (r, length), (*xyz, *q)))
            for end in (xyz + axis, xyz - axis):
                out.append(Primitive(k, name, "sphere", (r,), (*end, 0.0, 0.0, 0.0, 1.0)))
        else:
            raise ClipError(f"{path}: link {name} has an unsupported collision shape {geom.tag!r}")
    return tuple(out)


def primitives(proportions: dict | None = None) -> tuple[Primitive, ...]:
    """The rig's collision shapes (at these proportions), read from its URDF."""
    return _primitives(proportion_key(proportions))


# --------------------------------------------------------------------------- quaternions (x, y, z, w)


def _rpy_quat(r: float, p: float, y: float) -> tuple[float, float, float, float]:
    cr, sr = math.cos(r / 2), math.sin(r / 2)
    cp, sp = math.cos(p / 2), math.sin(p / 2)
    cy, sy = math.cos(y / 2), math.sin(y / 2)
    return (
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    )


def qmul(a, b) -> np.ndarray:
    return np.asarray(sampling.quat_mul(a, b))


def rotate(q, v) -> np.ndarray:
    x, y, z, w = q
    a, b, c = v
    # t = 2 u x v;  v' = v + w t + u x t  (written out: np.cross is slow on 3-vectors)
    tx, ty, tz = 2 * (y * c - z * b), 2 * (z * a - x * c), 2 * (x * b - y * a)
    return np.array([a + w * tx + y * tz - z * ty, b + w * ty + z * tx - x * tz, c + w * tz + x * ty - y * tx])


def slerp(q0: np.ndarray, q1: np.ndarray, s: float) -> np.ndarray:
    """Spherical interpolation of unit quaternions (also the keyframed actors' in physics)."""
    d = float(np.dot(q0, q1))
    if d < 0:
        q1, d = -q1, -d
    if d > 0.9995:
        q = q0 + s * (q1 - q0)
        return q / np.linalg.norm(q)
    theta = math.acos(d)
    return (math.sin((1 - s) * theta) * q0 + math.sin(s * theta) * q1) / math.sin(theta)


def compose(a, b) -> np.ndarray:
    """Pose ``a`` then ``b`` in a's frame; poses are (x, y, z, qx, qy, qz, qw)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.r_[a[:3] + rotate(a[3:], b[:3]), qmul(a[3:], b[3:])]


def invert(a) -> np.ndarray:
    a = np.asarray(a, float)
    qi = np.r_[-a[3:6], a[6]]
    return np.r_[-rotate(qi, a[:3]), qi]


# --------------------------------------------------------------------------- playback


def clip_time(person: PersonSpec, t: float) -> float:
    """Time in the clip shown at scene time ``t`` (before ``hold_s`` the clip waits at its start)."""
    return person.start_s + person.speed * max(0.0, t - person.hold_s)


def _wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    """(F, 4) w-first quaternions -> x y z w of unit length. Some clips store quaternions a
    few percent off unit length (kick's ankles); pybullet would normalise them anyway."""
    q = q[:, [1, 2, 3, 0]]
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def clip_frame(clip: Clip, tc: float) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Root position, root quaternion (xyzw, clip's y-up frame) and joint values at clip time ``tc``.

    Looping clips repeat with the root carried on by each cycle's horizontal travel; the others
    hold their last frame.
    """
    d = clip.duration_s
    cycles = 0
    if clip.loop:
        cycles = math.floor(tc / d)
        tc -= cycles * d
    tc = min(max(tc, 0.0), d)
    i = int(np.clip(np.searchsorted(clip.times_s, tc, side="right") - 1, 0, len(clip.times_s) - 2))
    s = (tc - clip.times_s[i]) / (clip.times_s[i + 1] - clip.times_s[i])
    a, b = clip.frames[i], clip.frames[i + 1]
    root = (1 - s) * a[1:4] + s * b[1:4]
    travel = clip.frames[-1, 1:4] - clip.frames[0, 1:4]
    root = root + cycles * np.array([travel[0], 0.0, travel[2]])
    orn = slerp(clip.root_q[i], clip.root_q[i + 1], s)
    joints = [slerp(v[i], v[i + 1], s) if v.shape[1] == 4 else (1 - s) * v[i] + s * v[i + 1] for v in clip.joints]
    return root, orn, joints


def clip_frame_index(person: PersonSpec, t: float) -> int:
    """The clip frame shown at scene time ``t`` (the one at or before it)."""
    clip = load_clip(person.clip)
    tc = clip_time(person, t)
    if clip.loop:
        tc -= math.floor(tc / clip.duration_s) * clip.duration_s
    return int(np.clip(np.searchsorted(clip.times_s, tc, side="right") - 1, 0, len(clip.times_s) - 1))


def pose_at(person: PersonSpec, t: float) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The rig's base pose (world, z up, metres) and joint values at scene time ``t``."""
    clip = load_clip(person.clip)
    root, orn, joints = clip_frame(clip, clip_time(person, t))
    start = clip.frames[0, 1:4]
    heading = (0.0, 0.0, math.sin(person.heading_rad / 2), math.cos(person.heading_rad / 2))
    place = qmul(heading, Y_UP_TO_Z_UP)
    # the clip's first root position lands at person.position (x, y); heights scale with the body
    # and with the legs' length, so the feet meet the floor as in the clip
    rel = np.array([root[0] - start[0], root[1], root[2] - start[2]]) * (person.scale * leg_factor(person.proportions))
    pos = np.r_[person.position[:2], 0.0] + rotate(place, rel)
    return pos, qmul(place, orn), joints


def root_path(person: PersonSpec, times) -> np.ndarray:
    """World root positions ``(len(times), 3)``."""
    return np.array([pose_at(person, float(t))[0] for t in times])


def parts(
    person: PersonSpec, first_id: int, colors: dict[str, tuple[str, list[float]]], roughness: dict[str, float]
) -> list[ObjectSpec]:
    """One removed scene object per rig primitive, ids from ``first_id``; sets ``person.part_ids``.

    ``colors`` maps a garment (shirt, sleeve, trousers, shoes, skin) to (colour word, rgb).
    Positions are placeholders until physics (or :func:`simulate.physics.person_link_poses`) runs.
    """
    out = []
    for k, prim in enumerate(primitives(person.proportions)):
        garment = GARMENT[prim.link_name]
        word, rgb = colors[garment]
        size = [float(v) * person.scale for v in prim.size]
        off = np.asarray(prim.offset, float)
        off[:3] *= person.scale
        out.append(ObjectSpec(
            id=first_id + k, name=f"person's {prim.link_name.replace('_', ' ')} ({word} {garment})",
            shape=prim.shape, size=size, color=list(rgb), position=[0.0, 0.0, 1.0],
            material="rubber" if garment == "shoes" else "plastic", roughness=float(roughness[garment]),
            mass_kg=0.0, friction=0.8, restitution=0.1, role="removed",
            part_of={"person": person.index, "link": prim.link, "offset": [float(v) for v in off]},
        ))
    person.part_ids = [o.id for o in out]
    return out
