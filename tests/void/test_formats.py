import json

import numpy as np
import pytest

from toydata import toy_sample
from void import formats, quadmask, video


def test_dataset_reads_back_what_was_written(toy_dataset):
    ds = formats.Dataset(toy_dataset)
    assert ds.sample_ids() == ["toy_0000", "toy_0001"]
    ref = ds.sample("toy_0000")
    s = ref.load()
    want = toy_sample("toy_0000", 8, 32, 0)
    # lossless copies are exact; the mask is exact
    for key in ("full", "removed", "hidden", "mask"):
        assert np.array_equal(getattr(s, key), getattr(want, key)), key
    assert ref.video_path("full").suffix == ".mkv"
    assert ref.video_path("full", lossless=False).name == formats.RGB_FULL


def test_manifest_follows_void_schema(toy_dataset):
    manifest = json.loads((toy_dataset / formats.MANIFEST).read_text())
    for entry in manifest:
        assert set(entry) == {"file_path", "text", "type"}
        assert entry["type"] == "video_mask_tuple"
        # relative to the dataset's parent, as VOID's training script expects
        assert (toy_dataset.parent / entry["file_path"] / "rgb_full.mp4").is_file()


def test_void_loader_rules_recover_the_classes(toy_dataset):
    """Read the mask the way VOID's loader does: RGB decode, channel 0, invert, threshold."""
    entry = json.loads((toy_dataset / formats.MANIFEST).read_text())[0]
    sample_dir = toy_dataset.parent / entry["file_path"]
    m = 255 - video.read_video(sample_dir / "mask.mp4")[..., 0].astype(np.int32)
    q = np.where(m <= 31, 0, np.where(m <= 95, 63, np.where(m <= 191, 127, 255)))
    ours = video.read_mask(sample_dir / "mask.mp4", strict=True)
    assert set(np.unique(ours)) == set(quadmask.VALUES)
    # VOID inverts before thresholding, so our 0 and 63 both land in its "remove" bucket
    # (255), 127 stays "affected", 255 becomes "keep" (0): the classes VOID trains on.
    expected = np.select([ours <= 63, ours == 127], [255, 127], 0)
    assert np.array_equal(q, expected)


def test_write_sample_is_atomic(tmp_path):
    s = toy_sample("s1")
    s.mask = s.mask.copy()
    s.mask[0, 0, 0] = 100  # invalid: the writer must fail before anything appears
    with pytest.raises(quadmask.QuadmaskError):
        formats.write_sample(tmp_path, s)
    assert not (tmp_path / "s1").exists()
    assert list(tmp_path.iterdir()) == []


def test_clean_partials_and_complete(tmp_path):
    formats.write_sample(tmp_path, toy_sample("a"))
    (tmp_path / ".b.partial-xyz").mkdir()
    assert formats.is_complete(tmp_path / "a")
    assert not formats.is_complete(tmp_path / ".b.partial-xyz")
    assert formats.clean_partials(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_sample_checks_shapes():
    s = toy_sample("x")
    s.mask = s.mask[:-1]
    with pytest.raises(formats.FormatError, match="mask shape"):
        s.check()
    with pytest.raises(formats.FormatError, match="invalid sample id"):
        formats.check_sample_id("../evil")


def test_iter_inputs_void_layout(void_samples):
    inputs = formats.iter_inputs(void_samples)
    big = [i for i in inputs if i.sample_id == "BigBen"][0]
    assert big.mask_path.name == "trimask_quadmask.mp4"
    assert "river" in big.prompt
    assert big.sample is None


def test_iter_inputs_dataset_and_errors(toy_dataset, tmp_path):
    inputs = formats.iter_inputs(toy_dataset, ["toy_0001"])
    assert [i.sample_id for i in inputs] == ["toy_0001"] and inputs[0].sample is not None
    with pytest.raises(formats.FormatError, match="samples not found"):
        formats.iter_inputs(toy_dataset, ["missing"])
    seq = tmp_path / "seq"
    seq.mkdir()
    video.write_video(seq / "input_video.mp4", np.zeros((2, 16, 16, 3), np.uint8), 12)
    with pytest.raises(formats.FormatError, match="no quadmask video"):
        formats.iter_inputs(seq)
    video.write_mask(seq / "quadmask_0.mp4", np.full((2, 16, 16), 255, np.uint8), 12)
    with pytest.raises(formats.FormatError, match="missing prompt"):
        formats.iter_inputs(seq)
    (seq / "prompt.json").write_text(json.dumps({"bg": "an empty floor"}))
    assert formats.iter_inputs(seq)[0].prompt == "an empty floor"


def test_prediction_layout(tmp_path):
    video.write_video(formats.prediction_path(tmp_path, "m1", "s1"), np.zeros((2, 16, 16, 3), np.uint8), 12)
    video.write_video(formats.tuple_path(tmp_path, "m1", "s1"), np.zeros((2, 16, 48, 3), np.uint8), 12)
    formats.write_run_json(tmp_path, "m1", {"wall_time_s": 1.5})
    (tmp_path / "logs").mkdir()  # an empty folder is not a method
    (tmp_path / "previews").mkdir()  # nor one holding only tuple previews
    video.write_video(formats.tuple_path(tmp_path, "previews", "s1"), np.zeros((2, 16, 48, 3), np.uint8), 12)
    (tmp_path / "m2").mkdir()  # a method that has written its run.json but no video yet is one
    formats.write_run_json(tmp_path, "m2", {"wall_time_s": 0.0})
    assert formats.list_methods(tmp_path) == ["m1", "m2"]
    assert list(formats.list_predictions(tmp_path, "m1")) == ["s1"]
    assert formats.read_run_json(tmp_path, "m1")["wall_time_s"] == 1.5
