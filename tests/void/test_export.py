"""``void export``: WebDataset shards and a Hugging Face folder read back, with the libraries
themselves, to the same arrays as the source dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from void import formats
from void.config import ExportConfig
from void.export import ExportError, decode, export

wds = pytest.importorskip("webdataset", reason="pip install void-bench[export]")
hf = pytest.importorskip("datasets", reason="pip install void-bench[export]")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Three real simulated samples (32x32 x 8 frames), with trajectories."""
    from simulate.config import SimulateConfig
    from simulate.generate import generate

    out = tmp_path_factory.mktemp("exp") / "sim"
    cfg = SimulateConfig(out=str(out), num_samples=3, seed=3, resolution=(32, 32), frames=8, progress=False,
                         families=["collision", "occlusion", "support"])
    assert generate(cfg) == 0
    return out


def _assert_same(sample_id: str, fields: dict, ds: formats.Dataset) -> None:
    ref = ds.sample(sample_id)
    src = ref.load()
    get = lambda *names: next(fields[n] for n in names if n in fields)  # noqa: E731
    assert np.array_equal(decode("mask.mp4", get("mask.mp4", "mask_mp4")), src.mask)
    for which in ("full", "removed", "hidden"):
        got = decode(f"rgb_{which}.mkv", get(f"rgb_{which}.mkv", f"rgb_{which}_mkv"))
        assert got.dtype == np.uint8 and np.array_equal(got, getattr(src, which)), which
    traj = decode("trajectories.npz", get("trajectories.npz", "trajectories_npz"))
    for key, arr in ref.trajectories().items():
        # bit for bit (the arrays hold NaN where an object is absent)
        assert traj[key].dtype == arr.dtype and traj[key].shape == arr.shape and traj[key].tobytes() == arr.tobytes()
    assert decode("metadata.json", get("metadata.json", "metadata_json")) == ref.metadata()


def test_webdataset_shards_read_back_exactly(dataset, tmp_path):
    out = tmp_path / "wds"
    assert export(ExportConfig(dataset=str(dataset), format="webdataset", out=str(out), samples_per_shard=2, progress=False)) == 0
    index = json.loads((out / "index.json").read_text())
    assert [s["samples"] for s in index["shards"]] == [2, 1]
    urls = [str(out / s["file"]) for s in index["shards"]]
    ds = formats.Dataset(dataset)
    seen = []
    for sample in wds.WebDataset(urls, shardshuffle=False):
        _assert_same(sample["__key__"], sample, ds)
        assert sample["txt"].decode() == ds.sample(sample["__key__"]).caption()
        seen.append(sample["__key__"])
    assert seen == ds.sample_ids()


def test_hf_folder_loads_with_datasets_and_reads_back_exactly(dataset, tmp_path):
    out = tmp_path / "hf"
    assert export(ExportConfig(dataset=str(dataset), format="hf", out=str(out), samples_per_shard=2, progress=False)) == 0
    loaded = hf.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "cache"))
    ds = formats.Dataset(dataset)
    assert loaded.num_rows == 3 and loaded["sample_id"] == ds.sample_ids()
    for row in loaded:
        _assert_same(row["sample_id"], row, ds)
        assert row["family"] == ds.sample(row["sample_id"]).family()


def test_dotted_sample_ids_are_refused_for_webdataset(toy_dataset, tmp_path):
    ids = formats.Dataset(toy_dataset).sample_ids()
    if not any("." in s for s in ids):
        # the toy dataset has none: make one by renaming a sample and its manifest entry
        root = tmp_path / "dotted"
        import shutil

        shutil.copytree(toy_dataset, root)
        (root / ids[0]).rename(root / "a.b")
        manifest = json.loads((root / "manifest.json").read_text())
        manifest[0]["file_path"] = f"{root.name}/a.b"
        (root / "manifest.json").write_text(json.dumps(manifest))
        toy_dataset = root
    with pytest.raises(ExportError, match="contains a dot"):
        export(ExportConfig(dataset=str(toy_dataset), format="webdataset", out=str(tmp_path / "o"), progress=False))
