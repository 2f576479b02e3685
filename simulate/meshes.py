"""Object geometry in the body frame: primitives and the OBJ meshes shipped in pybullet_data.

Physics (collision hulls), the raster renderer (triangles) and the samplers (extents) all
take an object's shape from here, so what collides is what is drawn. Triangles are a flat
"soup": ``positions`` and ``normals`` are ``(3F, 3)`` float32, three rows per triangle,
counter-clockwise seen from outside; a renderer that wants faces takes consecutive triples.

The OBJ reader is ours (a few lines: positions and polygon faces, fan-triangulated) because
the files are simple and no light dependency reads them without pulling a scene graph.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulate.scene import ObjectSpec


class MeshError(ValueError):
    """An OBJ file that cannot be read; the message names the file."""


@functools.lru_cache(maxsize=1)
def data_dir() -> Path:
    """pybullet_data's directory, found without importing pybullet."""
    spec = importlib.util.find_spec("pybullet_data")
    if spec is None or not spec.submodule_search_locations:
        from void.deps import install_hint

        raise MeshError(f"pybullet_data not found; install it with: {install_hint('pybullet')}")
    return Path(list(spec.submodule_search_locations)[0])


@dataclass(frozen=True)
class ObjMesh:
    vertices: np.ndarray  # (V, 3) float64, as stored in the file
    faces: np.ndarray  # (F, 3) int64, triangulated

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        used = self.vertices[np.unique(self.faces)]
        return used.min(0), used.max(0)


@functools.lru_cache(maxsize=64)
def load_obj(rel_path: str) -> ObjMesh:
    """Read an OBJ from pybullet_data (``rel_path`` relative to it)."""
    path = data_dir() / rel_path
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise MeshError(f"{path}: cannot read mesh ({exc})") from None
    verts: list[list[float]] = []
    faces: list[tuple[int, int, int]] = []
    for line in text.splitlines():
        if line.startswith("v "):
            verts.append([float(v) for v in line.split()[1:4]])
        elif line.startswith("f "):
            idx = []
            for token in line.split()[1:]:
                i = int(token.split("/")[0])
                idx.append(i - 1 if i > 0 else len(verts) + i)
            for k in range(1, len(idx) - 1):  # fan triangulation of convex polygons
                faces.append((idx[0], idx[k], idx[k + 1]))
    if not verts or not faces:
        raise MeshError(f"{path}: no vertices or faces found")
    v = np.asarray(verts, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if f.min() < 0 or f.max() >= len(v):
        raise MeshError(f"{path}: face index out of range")
    if not np.isfinite(v[np.unique(f)]).all():
        raise MeshError(f"{path}: non-finite vertex coordinates")
    return ObjMesh(v, f)


def mesh_centering(rel_path: str, scale: float) -> list[float]:
    """The ``mesh_offset`` that puts the scaled mesh's bounding-box centre at the body origin."""
    lo, hi = load_obj(rel_path).bounds
    return [float(-c) for c in (lo + hi) / 2 * scale]


def mesh_extent(rel_path: str) -> np.ndarray:
    """Unscaled bounding-box size ``(3,)`` of an OBJ."""
    lo, hi = load_obj(rel_path).bounds
    return hi - lo


@functools.lru_cache(maxsize=64)
def usable(rel_path: str) -> bool:
    """Whether an OBJ loads cleanly (pybullet_data ships one with NaN vertices: 168.obj)."""
    try:
        load_obj(rel_path)
    except MeshError:
        return False
    return True


@functools.lru_cache(maxsize=64)
def hull_points(rel_path: str) -> np.ndarray:
    """Unscaled vertices of the convex hull of an OBJ (what Bullet collides with)."""
    from scipy.spatial import ConvexHull  # only for meshes; keeps Bullet's hull small

    mesh = load_obj(rel_path)
    pts = mesh.vertices[np.unique(mesh.faces)]
    return pts[ConvexHull(pts).vertices]


# --------------------------------------------------------------------------- triangles


def _box(half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pos, nrm = [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u = np.zeros(3)
            u[(axis + 1) % 3] = 1.0
            w = np.cross(n, u)
            c = n * half[axis]
            du = u * half[(axis + 1) % 3]
            dw = w * half[(axis + 2) % 3]
            quad = [c - du - dw, c + du - dw, c + du + dw, c - du + dw]
            for tri in ((0, 1, 2), (0, 2, 3)):
                pos += [quad[i] for i in tri]
                nrm += [n] * 3
    return np.asarray(pos), np.asarray(nrm)


def _sphere(radius: float, n_lon: int = 24, n_lat: int = 14) -> tuple[np.ndarray, np.ndarray]:
    lat = np.linspace(0, math.pi, n_lat + 1)
    lon = np.linspace(0, 2 * math.pi, n_lon + 1)
    grid = np.stack(
        [np.outer(np.sin(lat), np.cos(lon)), np.outer(np.sin(lat), np.sin(lon)), np.outer(np.cos(lat), np.ones_like(lon))],
        axis=-1,
    )
    tris = []
    for i in range(n_lat):
        for j in range(n_lon):
            a, b, c, d = grid[i, j], grid[i + 1, j], grid[i + 1, j + 1], grid[i, j + 1]
            if i > 0:
                tris.append((a, b, d))
            if i < n_lat - 1:
                tris.append((b, c, d))
    unit = np.asarray(tris).reshape(-1, 3)
    return unit * radius, unit


def _cylinder(radius: float, height: float, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    ang = np.linspace(0, 2 * math.pi, n + 1)
    h = height / 2
    pos, nrm = [], []
    for k in range(n):
        c0, s0, c1, s1 = math.cos(ang[k]), math.sin(ang[k]), math.cos(ang[k + 1]), math.sin(ang[k + 1])
        p00, p01 = np.array([radius * c0, radius * s0, -h]), np.array([radius * c1, radius * s1, -h])
        p10, p11 = p00 + [0, 0, 2 * h], p01 + [0, 0, 2 * h]
        n0, n1 = np.array([c0, s0, 0.0]), np.array([c1, s1, 0.0])
        pos += [p00, p01, p11, p00, p11, p10]
        nrm += [n0, n1, n1, n0, n1, n0]
        pos += [np.array([0, 0, h]), p10, p11]
        nrm += [np.array([0, 0, 1.0])] * 3
        pos += [np.array([0, 0, -h]), p01, p00]
        nrm += [np.array([0, 0, -1.0])] * 3
    return np.asarray(pos), np.asarray(nrm)


def _obj_triangles(rel_path: str, scale: float, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mesh = load_obj(rel_path)
    tri = mesh.vertices[mesh.faces] * scale + offset  # (F, 3, 3)
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(n, axis=1, keepdims=True)
    keep = length[:, 0] > 1e-12  # degenerate slivers have no normal
    tri, n = tri[keep], n[keep] / length[keep]
    return tri.reshape(-1, 3), np.repeat(n, 3, axis=0)


def object_mesh(obj: ObjectSpec) -> tuple[np.ndarray, np.ndarray]:
    """Triangle soup ``(positions, normals)`` of ``obj`` in its body frame, float32."""
    if obj.shape == "box":
        pos, nrm = _box(np.asarray(obj.size, dtype=np.float64))
    elif obj.shape == "sphere":
        pos, nrm = _sphere(float(obj.size[0]))
    elif obj.shape == "cylinder":
        pos, nrm = _cylinder(float(obj.size[0]), float(obj.size[1]))
    elif obj.shape == "mesh":
        if not obj.mesh:
            raise MeshError(f"object {obj.id} ({obj.name}): shape 'mesh' needs a mesh path")
        pos, nrm = _obj_triangles(obj.mesh, float(obj.size[0]), np.asarray(obj.mesh_offset, dtype=np.float64))
    else:
        raise MeshError(f"object {obj.id}: unknown shape {obj.shape!r}")
    return pos.astype(np.float32), nrm.astype(np.float32)


def bounding_radius(obj: ObjectSpec) -> float:
    """Radius of a sphere about the body origin that contains the object."""
    if obj.shape == "box":
        return float(np.linalg.norm(obj.size))
    if obj.shape == "sphere":
        return float(obj.size[0])
    if obj.shape == "cylinder":
        return float(math.hypot(obj.size[0], obj.size[1] / 2))
    pts = hull_points(obj.mesh) * float(obj.size[0]) + np.asarray(obj.mesh_offset)
    return float(np.linalg.norm(pts, axis=1).max())
