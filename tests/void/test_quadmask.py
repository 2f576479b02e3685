import numpy as np
import pytest

from void import quadmask


def test_quantize_uses_void_thresholds():
    values = np.arange(256, dtype=np.uint8)
    q = quadmask.quantize(values)
    # VOID's loader: <=31 -> 0, <=95 -> 63, <=191 -> 127, else 255
    expected = np.where(values <= 31, 0, np.where(values <= 95, 63, np.where(values <= 191, 127, 255)))
    assert np.array_equal(q, expected.astype(np.uint8))
    assert set(np.unique(q)) == set(quadmask.VALUES)


def test_validate_names_source_and_values():
    bad = np.array([[0, 63], [100, 255]], dtype=np.uint8)
    with pytest.raises(quadmask.QuadmaskError, match=r"clip/mask\.mp4.*100"):
        quadmask.validate(bad, source="clip/mask.mp4")
    quadmask.validate(np.array(quadmask.VALUES, dtype=np.uint8))


def test_compose_semantics():
    removed_visible = np.array([True, True, False, False])
    full_vs_removed = np.array([True, True, True, False])
    hidden_vs_removed = np.array([False, True, True, False])
    m = quadmask.compose(removed_visible, full_vs_removed, hidden_vs_removed)
    assert m.tolist() == [0, 63, 127, 255]


@pytest.mark.parametrize("encoding", quadmask.MASK_ENCODINGS)
def test_encodings_shape_and_range(encoding):
    m = np.array(quadmask.VALUES, dtype=np.uint8).reshape(1, 2, 2)
    enc = quadmask.encode(m, encoding)
    assert enc.shape == (1, 2, 2, quadmask.encoding_channels(encoding))
    assert enc.min() >= -1 and enc.max() <= 1


def test_encodings_keep_the_distinctions_they_claim():
    m = np.array(quadmask.VALUES, dtype=np.uint8)
    quad = quadmask.encode(m, "quad")
    # all four values are distinguishable with the quad encoding
    assert len({tuple(row) for row in quad.tolist()}) == 4
    obj = quadmask.encode(m, "binary-object")[:, 0]
    assert obj.tolist() == [1, 1, -1, -1]  # remove here: 0 and 63 only
    union = quadmask.encode(m, "binary-union")[:, 0]
    assert union.tolist() == [1, 1, 1, -1]  # edit here: anything but 255


def test_regions_partition_the_frame():
    m = np.random.default_rng(0).choice(quadmask.VALUES, size=(3, 5, 5)).astype(np.uint8)
    total = sum(quadmask.region(m, r).sum() for r in quadmask.REGIONS)
    assert total == m.size
    with pytest.raises(KeyError):
        quadmask.region(m, "nope")
