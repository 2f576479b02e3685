"""Object geometry: the OBJ reader and the body-frame triangles every backend shares."""

from __future__ import annotations

import numpy as np
import pytest

from simulate import meshes, sampling
from simulate.scene import ObjectSpec

pytest.importorskip("pybullet_data", reason="meshes come from pybullet_data")


def test_obj_reader_triangulates_the_cube():
    cube = meshes.load_obj("cube.obj")
    assert cube.vertices.shape == (8, 3)
    assert cube.faces.shape == (12, 3)  # six quads, two triangles each
    lo, hi = cube.bounds
    np.testing.assert_allclose(lo, -0.5)
    np.testing.assert_allclose(hi, 0.5)


@pytest.mark.parametrize("shape, size", [("box", [0.1, 0.2, 0.3]), ("sphere", [0.15]), ("cylinder", [0.1, 0.4])])
def test_primitive_triangles_are_closed_outward_and_sized(shape, size):
    obj = ObjectSpec(1, "x", shape, size, [1, 1, 1], [0, 0, 0])
    pos, nrm = meshes.object_mesh(obj)
    assert pos.shape == nrm.shape and pos.shape[0] % 3 == 0
    np.testing.assert_allclose(np.linalg.norm(nrm, axis=1), 1.0, atol=1e-5)
    tri = pos.reshape(-1, 3, 3).astype(np.float64)
    centroid = tri.mean(axis=1)
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert (np.sum(face_n * centroid, axis=1) > 0).all()  # counter-clockwise seen from outside
    # divergence theorem: the signed volume of a closed surface
    volume = np.sum(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2]))) / 6
    if shape == "box":
        expected, reach = 8 * np.prod(size), size
    elif shape == "sphere":
        expected, reach = 4 / 3 * np.pi * size[0] ** 3, [size[0]] * 3
    else:
        expected, reach = np.pi * size[0] ** 2 * size[1], [size[0], size[0], size[1] / 2]
    assert volume == pytest.approx(expected, rel=0.03)  # tessellated curves are a bit smaller
    assert np.abs(pos).max(axis=0) == pytest.approx(reach, rel=1e-6)


def test_mesh_objects_are_centred_and_scaled_to_their_extent():
    rng = np.random.default_rng(0)
    for key in ("duck", "mug", "random"):
        obj = sampling.make_object(rng, 1, shape="mesh", mesh_key=key, extent_m=(0.2, 0.2))
        pos, _ = meshes.object_mesh(obj)
        lo, hi = pos.min(0), pos.max(0)
        np.testing.assert_allclose((lo + hi) / 2, 0.0, atol=1e-6)
        assert (hi - lo).max() == pytest.approx(0.2, rel=1e-5)
        # the collision hull (physics) bounds the drawn triangles (renderer)
        hull = meshes.hull_points(obj.mesh) * obj.size[0] + np.asarray(obj.mesh_offset)
        np.testing.assert_allclose(hull.min(0), lo, atol=1e-6)
        np.testing.assert_allclose(hull.max(0), hi, atol=1e-6)
        assert meshes.bounding_radius(obj) >= np.linalg.norm(pos, axis=1).max() - 1e-6


def test_broken_obj_is_refused_and_never_sampled():
    from simulate import meshes as m

    # pybullet_data ships random_urdfs/168/168.obj with NaN vertices
    assert not m.usable("random_urdfs/168/168.obj")
    with pytest.raises(m.MeshError, match="168.obj: non-finite"):
        m.load_obj("random_urdfs/168/168.obj")
    assert m.usable("random_urdfs/167/167.obj")
