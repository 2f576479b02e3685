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
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from simulate import meshes
from simulate.scene import Keyframe, ObjectSpec, SceneSpec

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


def _slerp(q0: np.ndarray, q1: np.ndarray, s: float) -> np.ndarray:
    d = float(np.dot(q0, q1))
    if d < 0:
        q1, d = -q1, -d
    if d > 0.9995:
        q = q0 + s * (q1 - q0)
        return q / np.linalg.norm(q)
    theta = math.acos(d)
    return (math.sin((1 - s) * theta) * q0 + math.sin(s * theta) * q1) / math.sin(theta)


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
            q = _slerp(np.asarray(k0.orientation, float), np.asarray(k1.orientation, float), s)
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
        bodies = [_add_object(p, client, obj) for obj in scene.objects]
        body_to_id = {floor: FLOOR_ID}
        body_to_id.update({b: o.id for b, o in zip(bodies, scene.objects)})
        for k, (body, obj) in enumerate(zip(bodies, scene.objects)):
            if obj.id in exclude:
                p.setCollisionFilterGroupMask(body, -1, 0, 0, physicsClientId=client)
                far = [PARK_DISTANCE_M + 10.0 * k, PARK_DISTANCE_M, PARK_DISTANCE_M]
                p.resetBasePositionAndOrientation(body, far, [0, 0, 0, 1], physicsClientId=client)
                p.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0], physicsClientId=client)
            elif obj.kinematic:
                # an actor sweeps along the floor without being stopped by it
                p.setCollisionFilterPair(body, floor, -1, -1, 0, physicsClientId=client)
        actors = [(b, o) for b, o in zip(bodies, scene.objects) if o.kinematic and o.id not in exclude]
        parked = [b for b, o in zip(bodies, scene.objects) if o.id in exclude]

        T, N = scene.num_frames, len(scene.objects)
        poses = np.full((T, N, 7), np.nan)
        contacts: dict[tuple[int, int], int] = {}
        live = [k for k, o in enumerate(scene.objects) if o.id not in exclude]

        def record(frame: int) -> None:
            for k in live:
                pos, orn = p.getBasePositionAndOrientation(bodies[k], physicsClientId=client)
                poses[frame, k, :3] = pos
                poses[frame, k, 3:] = orn

        for b, obj in actors:
            pos, orn = keyframe_pose(obj.keyframes, 0.0)
            p.resetBasePositionAndOrientation(b, pos.tolist(), orn.tolist(), physicsClientId=client)
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
                for b in parked:  # parked bodies stay put instead of falling forever
                    p.resetBaseVelocity(b, [0, 0, 0], [0, 0, 0], physicsClientId=client)
                p.stepSimulation(physicsClientId=client)
                step += 1
                for c in p.getContactPoints(physicsClientId=client):
                    if c[1] == floor or c[2] == floor:  # resting contacts: many, and uninteresting
                        continue
                    a, b = body_to_id[c[1]], body_to_id[c[2]]
                    contacts.setdefault((min(a, b), max(a, b)), frame)
            for b, obj in actors:  # the frame shows the actor where its path says it is
                pos, orn = keyframe_pose(obj.keyframes, frame / scene.fps)
                p.resetBasePositionAndOrientation(b, pos.tolist(), orn.tolist(), physicsClientId=client)
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
