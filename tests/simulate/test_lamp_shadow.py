"""The Cycles lamp channel's shadow test (``blender_signature.lamp_blocked``) against brute
force: shadow rays from floor points to random points of the lamp's sphere, intersected with
the object independently (slab test for a box, closed form for a sphere, Moller-Trumbore
against the OBJ's own triangles for a mesh).

Every point one of those rays finds shaded must be marked (nothing that changes is missed),
and the marked area must stay close to the shaded one (the bounding sphere it replaced marked
several times more)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulate import meshes
from simulate.render.blender_regions import local_bounds
from simulate.render.blender_signature import lamp_blocked
from simulate.rotation import quat_rotate
from simulate.scene import ObjectSpec

LAMP = np.array([0.12, -0.05, 1.0])
LAMP_RADIUS = 0.04
POSE = np.array([0.0, 0.0, 0.12, *np.array([0.1, -0.2, 0.3, 0.9]) / np.linalg.norm([0.1, -0.2, 0.3, 0.9])])


def _object(shape: str) -> ObjectSpec:
    size = {"box": [0.08, 0.05, 0.11], "sphere": [0.1], "mesh": [0.12]}[shape]
    kw = dict(mesh="duck.obj", mesh_offset=meshes.mesh_centering("duck.obj", 0.12)) if shape == "mesh" else {}
    return ObjectSpec(id=1, name=shape, shape=shape, size=size, color=[0.5, 0.5, 0.5], position=[0, 0, 0.12], **kw)


def _floor_points(n: int, half: float = 0.45) -> np.ndarray:
    g = np.linspace(-half, half, n)
    x, y = np.meshgrid(g, g)
    return np.c_[x.ravel() - 0.1, y.ravel() + 0.05, np.zeros(n * n)]


def _lamp_samples(k: int, rng) -> np.ndarray:
    v = rng.normal(size=(k, 3))
    return LAMP + LAMP_RADIUS * v / np.linalg.norm(v, axis=1, keepdims=True) * rng.random((k, 1)) ** (1 / 3)


def _shaded(obj: ObjectSpec, points: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Whether any segment from a point to a lamp sample meets the object (brute force)."""
    q_inv = POSE[3:7] * [-1, -1, -1, 1]
    a = quat_rotate(q_inv, points - POSE[:3])  # body frame
    b = quat_rotate(q_inv, samples - POSE[:3])
    out = np.zeros(len(points), bool)
    if obj.shape == "mesh":
        m = meshes.load_obj(obj.mesh)
        tri = m.vertices[m.faces] * obj.size[0] + np.asarray(obj.mesh_offset)
        e1, e2, v0 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], tri[:, 0]
    for i, p in enumerate(a):
        d = b - p  # (S, 3): the segments, t in [0, 1]
        if obj.shape == "sphere":
            f = p @ p - obj.size[0] ** 2
            bb = d @ p
            aa = np.einsum("ij,ij->i", d, d)
            disc = bb * bb - aa * f
            t = (-bb - np.sqrt(np.maximum(disc, 0))) / aa
            out[i] = np.any((disc >= 0) & (t <= 1) & ((-bb + np.sqrt(np.maximum(disc, 0))) / aa >= 0))
        elif obj.shape == "box":
            half = np.asarray(obj.size)
            with np.errstate(divide="ignore", invalid="ignore"):
                t1, t2 = (-half - p) / d, (half - p) / d
            lo = np.nanmax(np.minimum(t1, t2), axis=1)
            hi = np.nanmin(np.maximum(t1, t2), axis=1)
            out[i] = np.any((lo <= hi) & (hi >= 0) & (lo <= 1))
        else:
            pvec = np.cross(d[:, None], e2[None])  # (S, F, 3)
            det = np.einsum("fk,sfk->sf", e1, pvec)
            with np.errstate(divide="ignore", invalid="ignore"):
                inv = 1.0 / det
                tvec = p - v0
                u = np.einsum("fk,sfk->sf", tvec, pvec) * inv
                qvec = np.cross(tvec, e1)
                v = np.einsum("sk,fk->sf", d, qvec) * inv
                t = np.einsum("fk,fk->f", e2, qvec)[None] * inv
            out[i] = np.any((np.abs(det) > 1e-15) & (u >= 0) & (v >= 0) & (u + v <= 1) & (t >= 0) & (t <= 1))
    return out


def _bounding_sphere_marks(obj: ObjectSpec, points: np.ndarray) -> np.ndarray:
    """What the lamp channel marked before: the segment to the lamp's centre meets the
    object's bounding-box sphere."""
    radius = float(np.linalg.norm(np.maximum(*map(np.abs, local_bounds(obj)))))
    seg = LAMP - points
    along = np.clip(np.einsum("ij,ij->i", POSE[:3] - points, seg) / np.einsum("ij,ij->i", seg, seg), 0, 1)
    return np.linalg.norm(points + along[:, None] * seg - POSE[:3], axis=1) < radius


@pytest.mark.parametrize("shape,n,rays,slack", [("box", 48, 600, 1.5), ("sphere", 48, 600, 1.5), ("mesh", 26, 40, 2.5)])
def test_lamp_shadow_marks_every_shaded_point_and_little_else(shape, n, rays, slack):
    obj = _object(shape)
    points = _floor_points(n)
    marked = lamp_blocked(points, LAMP, LAMP_RADIUS, obj, POSE)
    shaded = _shaded(obj, points, _lamp_samples(rays, np.random.default_rng(3)))
    assert shaded.sum() > 10
    missed = shaded & ~marked
    assert not missed.any(), f"{missed.sum()} shaded floor points not marked"
    # Marked but never hit: the outer penumbra that few rays reach, and for a mesh the gap
    # between its convex hull and its triangles.
    assert marked.sum() <= slack * shaded.sum()
    assert _bounding_sphere_marks(obj, points).sum() > 1.5 * marked.sum()


def test_a_point_lamp_casts_the_exact_hard_shadow_of_a_sphere():
    """Radius 0: the mark is exactly the sphere's shadow (the segment to the lamp meets it)."""
    obj = _object("sphere")
    points = _floor_points(64)
    marked = lamp_blocked(points, LAMP, 0.0, obj, POSE)
    seg = LAMP - points
    along = np.clip(np.einsum("ij,ij->i", POSE[:3] - points, seg) / np.einsum("ij,ij->i", seg, seg), 0, 1)
    gap = np.linalg.norm(points + along[:, None] * seg - POSE[:3], axis=1)
    r = obj.size[0]
    assert (gap < r - 1e-3).sum() > 50
    assert marked[gap < r].all()
    assert not marked[gap > r + 1e-3].any()
    assert math.isclose(marked.sum(), (gap < r).sum(), rel_tol=0.02, abs_tol=2)
