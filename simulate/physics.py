"""Rigid-body physics of a scene spec with pybullet (the only module that imports it).

:func:`simulate` runs one scene in its own DIRECT client and samples poses at the video's
frame times. The counterfactual is the same call with ``exclude_ids``: every body is still
created, in the same order and with the same parameters, and the excluded ones are then
parked far away with collisions off *before* the first step. Bullet's state for the other
bodies is then built by the same sequence of operations, so objects that never interact
with the excluded ones evolve bit-identically in both runs (``tests/simulate`` checks it).
For that to hold, islands are solved one at a time (``minimumSolverIslandSize=1``) and
without the early exit on the solver residual, which is shared by islands solved together.

Kinematic actors (objects with keyframes) are heavy dynamic bodies whose pose and velocity
are reset to the keyframe path before every step: the pose makes them follow the path
exactly, the velocity lets contacts push and friction carry what touches them.

People (``scene.people``) are the DeepMimic rig loaded from its URDF and played the same way:
before every step its base and joints are reset to the clip's pose with the clip's velocities
(:mod:`simulate.humanoid`). Their parts (scene objects with ``part_of``) have no body of
their own; their poses are the rig's link frames composed with each part's offset. An object
a person carries is reset into the hand every step until it is let go, so without the person
it falls from the first frame.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from simulate import humanoid, meshes
from simulate.scene import Keyframe, ObjectSpec, PersonSpec, SceneSpec

FLOOR_ID = 0
PARK_DISTANCE_M = 1000.0
ACTOR_MASS_KG = 1000.0  # heavy enough that what it pushes barely slows it between resets
SOLVER_ITERATIONS = 50
FLOOR_THICKNESS_M = 1.0


@dataclass
class SimResult:
    """Poses at the frame times plus who touched whom."""

    poses: np.ndarray  # (T, N, 7) float64; NaN rows for excluded objects
    object_ids: list[int]
    # (id_a, id_b) with id_a < id_b -> first video frame at which the two objects touched
    # (contacts with the floor are not recorded)
    contact_frames: dict[tuple[int, int], int] = field(default_factory=dict)
    steps: int = 0
    cpu_s: float = 0.0

    def touched_by(self, ids) -> set[int]:
        """Objects (not the floor, not ``ids`` themselves) that touched any of ``ids``."""
        ids = set(ids)
        out = set()
        for a, b in self.contact_frames:
            if a in ids and b not in ids:
                out.add(b)
            elif b in ids and a not in ids:
                out.add(a)
        out.discard(FLOOR_ID)
        return out

    def first_contact(self, ids) -> int | None:
        """First frame at which any of ``ids`` touched another object (the floor excluded)."""
        ids = set(ids)
        frames = [
            f for (a, b), f in self.contact_frames.items()
            if FLOOR_ID not in (a, b) and ((a in ids) != (b in ids))
        ]
        return min(frames) if frames else None


# --------------------------------------------------------------------------- keyframes


def keyframe_pose(keyframes: list[Keyframe], t: float) -> tuple[np.ndarray, np.ndarray]:
    """Position and quaternion of a keyframed actor at time ``t``.

    Between keys the path eases in and out (smoothstep), so an actor starts and stops without
    a jolt that would fling what it carries.
    """
    keys = sorted(keyframes, key=lambda k: k.time_s)
    if t <= keys[0].time_s:
        return np.asarray(keys[0].position, float), np.asarray(keys[0].orientation, float)
    for k0, k1 in zip(keys, keys[1:]):
        if t <= k1.time_s:
            span = max(k1.time_s - k0.time_s, 1e-9)
            s = (t - k0.time_s) / span
            s = s * s * (3 - 2 * s)
            p = (1 - s) * np.asarray(k0.position, float) + s * np.asarray(k1.position, float)
            q = humanoid.slerp(np.asarray(k0.orientation, float), np.asarray(k1.orientation, float), s)
            return p, q
    return np.asarray(keys[-1].position, float), np.asarray(keys[-1].orientation, float)


def _angular_velocity(q0: np.ndarray, q1: np.ndarray, dt: float) -> np.ndarray:
    # q_delta = q1 * conj(q0); angular velocity = axis * angle / dt
    x0, y0, z0, w0 = -q0[0], -q0[1], -q0[2], q0[3]
    x1, y1, z1, w1 = q1
    dq = np.array([
        w1 * x0 + x1 * w0 + y1 * z0 - z1 * y0,
        w1 * y0 - x1 * z0 + y1 * w0 + z1 * x0,
        w1 * z0 + x1 * y0 - y1 * x0 + z1 * w0,
        w1 * w0 - x1 * x0 - y1 * y0 - z1 * z0,
    ])
    if dq[3] < 0:
        dq = -dq
    s = np.linalg.norm(dq[:3])
    if s < 1e-12:
        return np.zeros(3)
    angle = 2 * math.atan2(s, dq[3])
    return dq[:3] / s * angle / dt


# --------------------------------------------------------------------------- world


def _collision_shape(p, client: int, obj: ObjectSpec) -> int:
    if obj.shape == "box":
        return p.createCollisionShape(p.GEOM_BOX, halfExtents=list(obj.size), physicsClientId=client)
    if obj.shape == "sphere":
        return p.createCollisionShape(p.GEOM_SPHERE, radius=float(obj.size[0]), physicsClientId=client)
    if obj.shape == "cylinder":
        return p.createCollisionShape(
            p.GEOM_CYLINDER, radius=float(obj.size[0]), height=float(obj.size[1]), physicsClientId=client
        )
    if obj.shape == "mesh":
        scale = float(obj.size[0])
        pts = meshes.hull_points(obj.mesh) * scale + np.asarray(obj.mesh_offset)
        return p.createCollisionShape(p.GEOM_MESH, vertices=pts.tolist(), physicsClientId=client)
    raise ValueError(f"object {obj.id}: unknown shape {obj.shape!r}")


def _new_world(p, scene: SceneSpec, dt: float) -> tuple[int, int]:
    client = p.connect(p.DIRECT)
    p.resetSimulation(physicsClientId=client)
    p.setGravity(0, 0, scene.gravity, physicsClientId=client)
    p.setPhysicsEngineParameter(
        fixedTimeStep=dt,
        numSubSteps=0,
        numSolverIterations=SOLVER_ITERATIONS,
        deterministicOverlappingPairs=1,
        minimumSolverIslandSize=1,
        solverResidualThreshold=0.0,
        physicsClientId=client,
    )
    floor = _floor(p, client, scene.floor.half_extent_m)
    p.changeDynamics(
        floor, -1, lateralFriction=scene.floor.friction, restitution=scene.floor.restitution, physicsClientId=client
    )
    return client, floor


def _floor(p, client: int, half_extent_m: float) -> int:
    # a thick static box with its top at z = 0: creating a GEOM_PLANE body costs 5-50 ms in
    # pybullet 3.2.7, a box well under 1 ms, and they collide alike
    shape = p.createCollisionShape(
        p.GEOM_BOX, halfExtents=[half_extent_m, half_extent_m, FLOOR_THICKNESS_M / 2], physicsClientId=client
    )
    return p.createMultiBody(
        0, shape, -1, [0, 0, -FLOOR_THICKNESS_M / 2], [0, 0, 0, 1], useMaximalCoordinates=True, physicsClientId=client
    )


def _add_object(p, client: int, obj: ObjectSpec) -> int:
    shape = _collision_shape(p, client, obj)
    mass = ACTOR_MASS_KG if obj.kinematic else float(obj.mass_kg)
    body = p.createMultiBody(
        mass, shape, -1, list(obj.position), list(obj.orientation), useMaximalCoordinates=True, physicsClientId=client
    )
    p.changeDynamics(
        body,
        -1,
        lateralFriction=obj.friction,
        restitution=obj.restitution,
        rollingFriction=obj.rolling_friction,
        spinningFriction=obj.spinning_friction,
        linearDamping=0.0,
        angularDamping=0.0,
        activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING,
        physicsClientId=client,
    )
    if not obj.kinematic:
        p.resetBaseVelocity(body, list(obj.velocity), list(obj.angular_velocity), physicsClientId=client)
    return body


_IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])
RIG_LINK_MASS_KG = 50.0  # a played person is not slowed by what it kicks between resets


@contextlib.contextmanager
def _quiet_stdout():
    """Silence C-level writes to stdout (file descriptor 1) for the duration."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class _Rig:
    """A person in one world: the rig multibody, played from its clip (or parked when excluded)."""

    def __init__(self, p, client: int, scene: SceneSpec, person: PersonSpec, floor: int | None, exclude=()):
        self.p, self.client, self.person = p, client, person
        self.active = not set(person.part_ids) <= set(exclude)
        with _quiet_stdout():  # the URDF importer prints a warning per joint without an axis (all spherical ones)
            self.body = p.loadURDF(
                str(humanoid.urdf_path(person.proportions)), [0, 0, PARK_DISTANCE_M], [0, 0, 0, 1],
                globalScaling=humanoid.URDF_SCALE * person.scale, flags=p.URDF_MAINTAIN_LINK_ORDER,
                physicsClientId=client,
            )
        self.links = list(range(-1, p.getNumJoints(self.body, physicsClientId=client)))
        for name, j, _ in humanoid.JOINTS:
            got = p.getJointInfo(self.body, j, physicsClientId=client)[1].decode()
            if got != name:
                raise humanoid.ClipError(f"{humanoid.URDF}: joint {j} is {got!r}, expected {name!r}")
        parts = {o.id: o for o in scene.objects if o.part_of and o.part_of["person"] == person.index}
        self.parts = [
            (pid, parts[pid].part_of["link"], np.asarray(parts[pid].part_of["offset"], float))
            for pid in person.part_ids
        ]
        self.link_ids: dict[int, int] = {}
        for pid, link, _ in self.parts:
            self.link_ids.setdefault(link, pid)
        self.part_ids = person.part_ids
        for link in self.links:
            p.changeDynamics(self.body, link, mass=RIG_LINK_MASS_KG, lateralFriction=0.8, restitution=0.0,
                             linearDamping=0.0, angularDamping=0.0,
                             activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING, physicsClientId=client)
            if not self.active:
                p.setCollisionFilterGroupMask(self.body, link, 0, 0, physicsClientId=client)
            elif floor is not None:  # feet in a clip may dip below the floor; the rig walks through it
                p.setCollisionFilterPair(self.body, floor, link, -1, 0, physicsClientId=client)
        self.joints = [j for _, j, _ in humanoid.JOINTS]
        self._last = None

    def hold_apart(self, body: int) -> None:
        """No collisions between the rig and the object it carries (it is held, not hit)."""
        for link in self.links:
            self.p.setCollisionFilterPair(self.body, body, link, -1, 0, physicsClientId=self.client)

    def drive(self, t: float, dt: float, carried: int | None = None, velocities: bool = True) -> None:
        """Reset the rig (and what it holds) to the clip at time ``t``, moving as at ``t`` .. ``t + dt``."""
        p, c, body = self.p, self.client, self.body
        if not self.active:
            p.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0], physicsClientId=c)
            return
        pos, orn, joints = self._pose(t)
        p.resetBasePositionAndOrientation(body, pos.tolist(), orn.tolist(), physicsClientId=c)
        if velocities:
            pos1, orn1, joints1 = self._pose(t + dt)
            p.resetBaseVelocity(
                body, ((pos1 - pos) / dt).tolist(), _angular_velocity(orn, orn1, dt).tolist(), physicsClientId=c
            )
            # a spherical joint's velocity is the rotation from q0 to q1 in the joint's own frame
            vel = [
                (_angular_velocity(_IDENTITY, humanoid.qmul(np.r_[-q0[:3], q0[3]], q1), dt)
                 if len(q0) == 4 else (q1 - q0) / dt).tolist()
                for q0, q1 in zip(joints, joints1)
            ]
            p.resetJointStatesMultiDof(body, self.joints, [j.tolist() for j in joints], vel, physicsClientId=c)
        else:
            p.resetJointStatesMultiDof(body, self.joints, [j.tolist() for j in joints], physicsClientId=c)
        person = self.person
        if carried is not None and (person.release_s is None or t < person.release_s):
            st = p.getLinkState(
                body, person.hand_link, computeLinkVelocity=1, computeForwardKinematics=1, physicsClientId=c
            )
            hand = np.r_[st[4], st[5]]
            held = humanoid.compose(hand, person.grip)
            p.resetBasePositionAndOrientation(carried, held[:3].tolist(), held[3:].tolist(), physicsClientId=c)
            if velocities:
                w = np.asarray(st[7])
                v = np.asarray(st[6]) + np.cross(w, held[:3] - np.asarray(st[0]))
                p.resetBaseVelocity(carried, v.tolist(), w.tolist(), physicsClientId=c)

    def _pose(self, t: float):
        # each step's end pose is the next step's start pose: compute it once
        if self._last is None or self._last[0] != t:
            self._last = (t, humanoid.pose_at(self.person, t))
        return self._last[1]

    def link_frames(self) -> dict[int, np.ndarray]:
        out = {}
        for link in self.links[1:]:
            st = self.p.getLinkState(self.body, link, computeForwardKinematics=1, physicsClientId=self.client)
            out[link] = np.r_[st[4], st[5]]
        return out

    def part_poses(self) -> dict[int, np.ndarray]:
        frames = self.link_frames()
        return {pid: humanoid.compose(frames[link], off) for pid, link, off in self.parts}

    def joint_values(self) -> list[np.ndarray]:
        states = self.p.getJointStatesMultiDof(self.body, self.joints, physicsClientId=self.client)
        return [np.asarray(s[0], float) for s in states]


def play_person(
    scene: SceneSpec, person_index: int, times
) -> tuple[np.ndarray, list[list[np.ndarray]], dict[int, np.ndarray]]:
    """Play one person alone at ``times``: link frames ``(T, L, 7)`` (link order 0..L-1), the
    joint values read back from pybullet, and each part's poses ``(T, 7)`` by part id."""
    from void.deps import require

    p = require("pybullet")
    client = p.connect(p.DIRECT)
    try:
        rig = _Rig(p, client, scene, scene.people[person_index], None)
        frames, joints, parts = [], [], {pid: [] for pid in rig.part_ids}
        for t in times:
            rig.drive(float(t), 1.0, velocities=False)
            lf = rig.link_frames()
            frames.append([lf[k] for k in sorted(lf)])
            joints.append(rig.joint_values())
            for pid, pose in rig.part_poses().items():
                parts[pid].append(pose)
    finally:
        p.disconnect(physicsClientId=client)
    return np.asarray(frames), joints, {k: np.asarray(v) for k, v in parts.items()}


def substeps_per_frame(scene: SceneSpec) -> int:
    return max(1, int(round(scene.physics_hz / scene.fps)))


def simulate(scene: SceneSpec, exclude_ids=()) -> SimResult:
    """Simulate ``scene`` without the objects in ``exclude_ids``; poses at every video frame."""
    from void.deps import require

    p = require("pybullet")
    start = time.process_time()
    exclude = set(int(i) for i in exclude_ids)
    unknown = exclude - {o.id for o in scene.objects}
    if unknown:
        raise ValueError(f"exclude_ids not in the scene: {sorted(unknown)}")
    n_sub = substeps_per_frame(scene)
    dt = 1.0 / (scene.fps * n_sub)
    client, floor = _new_world(p, scene, dt)
    try:
        bodies = [None if obj.part_of else _add_object(p, client, obj) for obj in scene.objects]
        body_to_id = {floor: FLOOR_ID}
        body_to_id.update({b: o.id for b, o in zip(bodies, scene.objects) if b is not None})
        rigs = [_Rig(p, client, scene, person, floor, exclude) for person in scene.people]
        link_to_id = {(r.body, link): pid for r in rigs for link, pid in r.link_ids.items()}
        for k, (body, obj) in enumerate(zip(bodies, scene.objects)):
            if body is None:
                continue
            if obj.id in exclude:
                p.setCollisionFilterGroupMask(body, -1, 0, 0, physicsClientId=client)
                far = [PARK_DISTANCE_M + 10.0 * k, PARK_DISTANCE_M, PARK_DISTANCE_M]
                p.resetBasePositionAndOrientation(body, far, [0, 0, 0, 1], physicsClientId=client)
                p.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0], physicsClientId=client)
            elif obj.kinematic:
                # an actor sweeps along the floor without being stopped by it
                p.setCollisionFilterPair(body, floor, -1, -1, 0, physicsClientId=client)
        actors = [(b, o) for b, o in zip(bodies, scene.objects) if o.kinematic and o.id not in exclude]
        parked = [b for b, o in zip(bodies, scene.objects) if o.id in exclude and b is not None]

        T, N = scene.num_frames, len(scene.objects)
        poses = np.full((T, N, 7), np.nan)
        contacts: dict[tuple[int, int], int] = {}
        live = [k for k, o in enumerate(scene.objects) if o.id not in exclude and bodies[k] is not None]
        index = {o.id: k for k, o in enumerate(scene.objects)}

        def record(frame: int) -> None:
            for k in live:
                pos, orn = p.getBasePositionAndOrientation(bodies[k], physicsClientId=client)
                poses[frame, k, :3] = pos
                poses[frame, k, 3:] = orn
            for rig in rigs:
                if rig.active:
                    for pid, pose in rig.part_poses().items():
                        poses[frame, index[pid]] = pose

        for b, obj in actors:
            pos, orn = keyframe_pose(obj.keyframes, 0.0)
            p.resetBasePositionAndOrientation(b, pos.tolist(), orn.tolist(), physicsClientId=client)
        carried = {}
        for rig in rigs:
            held = rig.person.carried_id
            if rig.active and held is not None and held not in exclude:
                carried[rig] = bodies[index[held]]
                rig.hold_apart(carried[rig])
                a, b = rig.part_ids[0], held
                contacts[(min(a, b), max(a, b))] = 0  # held from the first frame
            rig.drive(0.0, 1.0 / scene.fps, carried.get(rig))
        record(0)
        step = 0
        for frame in range(1, T):
            for _ in range(n_sub):
                t0, t1 = step * dt, (step + 1) * dt
                for b, obj in actors:
                    p0, q0 = keyframe_pose(obj.keyframes, t0)
                    p1, q1 = keyframe_pose(obj.keyframes, t1)
                    p.resetBasePositionAndOrientation(b, p0.tolist(), q0.tolist(), physicsClientId=client)
                    p.resetBaseVelocity(
                        b, ((p1 - p0) / dt).tolist(), _angular_velocity(q0, q1, dt).tolist(), physicsClientId=client
                    )
                for rig in rigs:
                    rig.drive(t0, dt, carried.get(rig))
                for b in parked:  # parked bodies stay put instead of falling forever
                    p.resetBaseVelocity(b, [0, 0, 0], [0, 0, 0], physicsClientId=client)
                p.stepSimulation(physicsClientId=client)
                step += 1
                for c in p.getContactPoints(physicsClientId=client):
                    if c[1] == floor or c[2] == floor:  # resting contacts: many, and uninteresting
                        continue
                    a = link_to_id.get((c[1], c[3]), body_to_id.get(c[1]))
                    b = link_to_id.get((c[2], c[4]), body_to_id.get(c[2]))
                    contacts.setdefault((min(a, b), max(a, b)), frame)
            for b, obj in actors:  # the frame shows the actor where its path says it is
                pos, orn = keyframe_pose(obj.keyframes, frame / scene.fps)
                p.resetBasePositionAndOrientation(b, pos.tolist(), orn.tolist(), physicsClientId=client)
            for rig in rigs:
                rig.drive(frame / scene.fps, dt, carried.get(rig), velocities=False)
            record(frame)
    finally:
        p.disconnect(physicsClientId=client)
    return SimResult(poses, [o.id for o in scene.objects], contacts, step, time.process_time() - start)


def settle(obj: ObjectSpec, floor_friction: float = 0.6, duration_s: float = 1.5, hz: int = 240) -> tuple[list[float], list[float]]:
    """Pose in which ``obj`` comes to rest when dropped alone onto the floor from its spec pose.

    Samplers use it to start irregular meshes at rest instead of mid-tumble.
    """
    from void.deps import require

    p = require("pybullet")
    client = p.connect(p.DIRECT)
    try:
        p.setGravity(0, 0, -9.81, physicsClientId=client)
        p.setPhysicsEngineParameter(fixedTimeStep=1.0 / hz, deterministicOverlappingPairs=1, physicsClientId=client)
        floor = _floor(p, client, 5.0)
        p.changeDynamics(floor, -1, lateralFriction=floor_friction, physicsClientId=client)
        still = ObjectSpec(**{**obj.__dict__, "velocity": [0.0, 0.0, 0.0], "angular_velocity": [0.0, 0.0, 0.0], "keyframes": None})
        still.restitution = 0.0
        still.friction = max(obj.friction, 0.8)
        body = _add_object(p, client, still)
        p.changeDynamics(body, -1, linearDamping=0.3, angularDamping=0.3, physicsClientId=client)
        for _ in range(int(duration_s * hz)):
            p.stepSimulation(physicsClientId=client)
        pos, orn = p.getBasePositionAndOrientation(body, physicsClientId=client)
    finally:
        p.disconnect(physicsClientId=client)
    return [float(v) for v in pos], [float(v) for v in orn]
