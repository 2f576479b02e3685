"""The raster renderer's passes and the quadmask built from them, on tiny real renders."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

pytest.importorskip("pybullet")
pytest.importorskip("moderngl")

from simulate import groundtruth  # noqa: E402
from simulate.pipeline import SampleTask, draw_scene, renderer_for  # noqa: E402
from simulate.scene import CameraSpec, FloorSpec, LightSpec, ObjectSpec, SceneSpec, project  # noqa: E402
from void import quadmask  # noqa: E402


def _render(make_config, tmp_path, family: str, seed: int):
    config = make_config(tmp_path / "unused", families=[family])
    task = SampleTask(str(tmp_path), "x", 0, seed, family, config)
    draw = draw_scene(task, Counter())
    views = renderer_for(config).render_views(draw.scene, draw.full.poses, draw.removed.poses)
    return draw, views


@pytest.fixture(scope="module")
def collision(make_config, tmp_path_factory):
    return _render(make_config, tmp_path_factory.mktemp("r"), "collision", 11)


@pytest.fixture(scope="module")
def occlusion(make_config, tmp_path_factory):
    return _render(make_config, tmp_path_factory.mktemp("r"), "occlusion", 12)


def reference_quadmask(views, removed_ids) -> np.ndarray:
    """Pixel by pixel, straight from the definition in docs/quadmask.md (independent of compose)."""
    T, H, W = views.full.ids.shape
    out = np.empty((T, H, W), np.uint8)
    for t in range(T):
        for y in range(H):
            for x in range(W):
                f, h, r = views.full, views.hidden, views.removed
                differs_fr = f.ids[t, y, x] != r.ids[t, y, x] or tuple(f.rgb[t, y, x]) != tuple(r.rgb[t, y, x])
                differs_hr = h.ids[t, y, x] != r.ids[t, y, x] or tuple(h.rgb[t, y, x]) != tuple(r.rgb[t, y, x])
                if f.ids[t, y, x] in removed_ids:
                    out[t, y, x] = 63 if differs_hr else 0
                else:
                    out[t, y, x] = 127 if differs_fr else 255
    return out


def test_mask_matches_the_definition_pixel_by_pixel(collision):
    draw, views = collision
    mask = groundtruth.build_quadmask(views, draw.scene.removed_ids)
    np.testing.assert_array_equal(mask, reference_quadmask(views, set(draw.scene.removed_ids)))
    assert set(np.unique(mask)) <= set(quadmask.VALUES)
    assert {0, 127, 255} <= set(np.unique(mask).tolist())


def test_keep_pixels_are_bit_identical_in_input_and_target(collision):
    draw, views = collision
    mask = groundtruth.build_quadmask(views, draw.scene.removed_ids)
    keep = mask == 255
    assert keep.mean() > 0.3
    np.testing.assert_array_equal(views.full.rgb[keep], views.removed.rgb[keep])
    np.testing.assert_array_equal(views.full.ids[keep], views.removed.ids[keep])


def test_remove_pixels_are_exactly_the_removed_objects_id_pixels(collision):
    draw, views = collision
    mask = groundtruth.build_quadmask(views, draw.scene.removed_ids)
    removed_px = np.isin(views.full.ids, draw.scene.removed_ids)
    np.testing.assert_array_equal(np.isin(mask, (0, 63)), removed_px)
    overlap = mask == 63
    assert not (overlap & ~removed_px).any()
    hidden_differs = groundtruth.differs(views.hidden, views.removed)
    np.testing.assert_array_equal(overlap, removed_px & hidden_differs)


def test_hidden_and_removed_views_never_show_removed_objects(collision):
    draw, views = collision
    for passes in (views.hidden, views.removed):
        assert not np.isin(passes.ids, draw.scene.removed_ids).any()
    assert np.isin(views.full.ids, draw.scene.removed_ids).any()


def test_occlusion_mask_is_the_object_and_its_shadow_only(occlusion):
    draw, views = occlusion
    mask = groundtruth.build_quadmask(views, draw.scene.removed_ids)
    removed_px = np.isin(views.full.ids, draw.scene.removed_ids)
    # same physics: hidden and removed renders are the same video
    np.testing.assert_array_equal(views.hidden.rgb, views.removed.rgb)
    assert not (mask == 63).any()
    shadow = (mask == 127)
    assert shadow.any(), "the removed object's shadow must be marked"
    np.testing.assert_array_equal(shadow, groundtruth.differs(views.full, views.hidden) & ~removed_px)
    # a shadow darkens: where marked, the input is never brighter than the target
    assert (views.full.rgb[shadow].astype(int).sum(-1) <= views.removed.rgb[shadow].astype(int).sum(-1)).all()


def test_rendering_is_deterministic(collision, make_config):
    draw, views = collision
    again = renderer_for(make_config("unused")).render_views(draw.scene, draw.full.poses, draw.removed.poses)
    for name in ("full", "hidden", "removed"):
        a, b = getattr(views, name), getattr(again, name)
        np.testing.assert_array_equal(a.rgb, b.rgb)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.depth, b.depth)


def test_id_and_depth_passes_agree_with_the_camera(make_config):
    ball = ObjectSpec(1, "ball", "sphere", [0.2], [0.8, 0.1, 0.1], [0.0, 0.0, 0.2])
    eye = np.array([2.0, 0.5, 1.0])
    scene = SceneSpec(
        family="test", seed=0, objects=[ball], removed_ids=[1],
        camera=CameraSpec(list(eye), [0.0, 0.0, 0.2], fov_deg=40), light=LightSpec([-0.2, -0.3, -0.9]),
        floor=FloorSpec([0.4, 0.4, 0.4], [0.6, 0.6, 0.6]), num_frames=2, width=48, height=32,
    )
    poses = np.array([[[0.0, 0.0, 0.2, 0, 0, 0, 1.0]]] * 2)
    views = renderer_for(make_config("unused")).render_views(scene, poses, poses * np.nan)
    px = project(np.array([[0.0, 0.0, 0.2]]), scene.camera, 0, 2, 48, 32)[0]
    x, y = int(px[0]), int(px[1])
    assert views.full.ids[0, y, x] == 1
    assert views.full.rgb.shape == (2, 32, 48, 3)
    # depth along the view axis at the centre pixel: the near surface, one radius closer
    view_dir = (np.array([0.0, 0.0, 0.2]) - eye) / np.linalg.norm(np.array([0.0, 0.0, 0.2]) - eye)
    assert views.full.depth[0, y, x] == pytest.approx(np.linalg.norm(eye - [0, 0, 0.2]) - 0.2, abs=0.03)
    assert view_dir[2] < 0
    # the ball's pixels form one blob around the projected centre and nothing else has id 1
    ys, xs = np.nonzero(views.full.ids[0] == 1)
    assert abs(xs.mean() - px[0]) < 1.5 and abs(ys.mean() - px[1]) < 1.5
    assert not (views.hidden.ids == 1).any()


@pytest.mark.parametrize("fixture", ["collision", "occlusion"])
def test_copied_hidden_frames_equal_drawn_ones(fixture, request):
    """Hidden frames where no kept object moves differently are copied from the removed
    view; drawing them gives exactly the same passes."""
    from simulate.render.raster import RasterRenderer

    draw, views = request.getfixturevalue(fixture)
    drawn = RasterRenderer(reuse_frames=False).render_views(draw.scene, draw.full.poses, draw.removed.poses)
    kept = ~draw.scene.removed_mask()
    same = np.all(draw.full.poses[:, kept] == draw.removed.poses[:, kept], axis=(1, 2))
    assert same.any()  # the shortcut is exercised
    for name in ("full", "hidden", "removed"):
        a, b = getattr(views, name), getattr(drawn, name)
        np.testing.assert_array_equal(a.rgb, b.rgb)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.depth, b.depth)
