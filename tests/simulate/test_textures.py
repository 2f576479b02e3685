"""Procedural textures: a pure function of (kind, variant, size), tileable, cached on disk."""

import numpy as np
import pytest

from simulate import textures


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(textures.CACHE_ENV, str(tmp_path / "tex"))
    textures._load.cache_clear()
    yield tmp_path / "tex"
    textures._load.cache_clear()


@pytest.mark.parametrize("kind", textures.KINDS)
def test_same_variant_same_image_and_variants_differ(kind):
    a = textures.generate(kind, 5, 64)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, textures.generate(kind, 5, 64))
    assert not np.array_equal(a, textures.generate(kind, 6, 64))
    assert a.std() > 0.5  # a texture, not a flat colour


def test_variants_wrap_and_kinds_differ():
    assert np.array_equal(textures.generate("wood", 3, 32), textures.generate("wood", 3 + textures.VARIANTS, 32))
    assert not np.array_equal(textures.generate("wood", 3, 32), textures.generate("tiles", 3, 32))


def test_textures_tile_without_seams():
    # the jump across the wrap-around edge is no larger than between neighbouring inner pixels
    for kind in ("plaster", "marble", "grass", "brushed_metal"):
        img = textures.generate(kind, 1, 64).astype(np.float64)
        inner = np.abs(np.diff(img, axis=1)).mean()
        seam = np.abs(img[:, 0] - img[:, -1]).mean()
        assert seam < 3 * inner + 1, kind


def test_cached_on_disk_and_read_back_identical(cache):
    fresh = textures.generate("fabric", 2, 64)
    first = textures.texture("fabric", 2, 64)
    path = textures.cache_path("fabric", 2, 64)
    assert path.is_file() and path.parent == cache
    assert np.array_equal(first, fresh)
    stamp = path.stat().st_mtime_ns
    textures._load.cache_clear()
    again = textures.texture("fabric", 2, 64)  # read from the file, not regenerated
    assert path.stat().st_mtime_ns == stamp
    assert np.array_equal(again, fresh)


def test_damaged_cache_file_is_replaced(cache):
    path = textures.cache_path("paper", 0, 32)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a png")
    img = textures.texture("paper", 0, 32)
    assert np.array_equal(img, textures.generate("paper", 0, 32))


def test_bad_kind_and_size_name_the_problem():
    with pytest.raises(textures.TextureError, match="unknown texture kind 'velvet'"):
        textures.texture("velvet", 0)
    with pytest.raises(textures.TextureError, match="power of two"):
        textures.generate("wood", 0, 100)


def test_linear_and_mean_colour_agree():
    lin = textures.linear("tiles", 4, 32)
    assert lin.dtype == np.float32 and 0.0 <= lin.min() and lin.max() <= 1.0
    assert np.allclose(textures.mean_color("tiles", 4, 32), lin.reshape(-1, 3).mean(0))
