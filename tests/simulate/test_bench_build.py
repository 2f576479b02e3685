"""``void bench build`` / ``verify``: identical builds for any worker count, tampering named,
definitions this install cannot build refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from benchdata import FAMILIES, V1, build_tiny_bench, tiny_definition

from simulate.bench import BenchBuildConfig, BenchVerifyConfig, build, verify
from simulate.bench import definition
from void import bench_format, video
from void.bench_format import BenchError


@pytest.fixture(scope="module")
def defn(tmp_path_factory):
    return tiny_definition(tmp_path_factory.mktemp("def") / "tiny.json")


@pytest.fixture(scope="module")
def built(tmp_path_factory, defn):
    root = tmp_path_factory.mktemp("bench")
    return build_tiny_bench(root / "w1", defn, workers=1), build_tiny_bench(root / "w2", defn, workers=2)


def test_one_and_two_workers_build_identical_checksums_that_verify(built, capsys):
    one, two = built
    a = (one / bench_format.CHECKSUMS).read_text()
    b = (two / bench_format.CHECKSUMS).read_text()
    assert a == b
    table = bench_format.read_checksums(one / bench_format.CHECKSUMS)
    # both subsets, one clip per family, every part
    assert sorted(table) == sorted(f"{s}/{i:06d}_{f}" for s in ("main", "long") for i, f in enumerate(FAMILIES))
    assert all(set(parts) == set(bench_format.PARTS) for parts in table.values())
    for path in built:
        assert verify(BenchVerifyConfig(dir=str(path), progress=False)) == 0
    out = capsys.readouterr().out
    assert "all 6 clips match" in out
    assert "no reference checksums are shipped" in out or "not a version this install ships" in out


def test_a_ray_build_has_the_same_checksums(built, defn, tmp_path):
    pytest.importorskip("ray")
    ray_built = build_tiny_bench(tmp_path / "ray", defn, workers=2, executor="ray")
    assert (ray_built / bench_format.CHECKSUMS).read_text() == (built[0] / bench_format.CHECKSUMS).read_text()
    assert verify(BenchVerifyConfig(dir=str(ray_built), progress=False)) == 0


def test_card_and_bench_json(built):
    one = built[0]
    info = json.loads((one / bench_format.BENCH_JSON).read_text())
    assert info["definition_hash"] == bench_format.definition_hash(info["definition"])
    card = (one / bench_format.CARD).read_text()
    for fam in FAMILIES:
        assert f"| main | {fam} | 1 |" in card
    assert info["definition_hash"] in card and "| 127 | affected |" in card
    meta = json.loads((one / "main" / f"000000_{FAMILIES[0]}" / "metadata.json").read_text())
    assert (meta["width"], meta["height"], meta["num_frames"]) == (48, 32, 8)


def test_tampered_mask_is_named_by_verify(built, tmp_path, capsys):
    copy = shutil.copytree(built[0], tmp_path / "copy")
    clip = copy / "main" / f"000001_{FAMILIES[1]}"
    mask = video.read_mask(clip / "mask.mp4", strict=True)
    mask[3, 0, 0] = 127 if mask[3, 0, 0] != 127 else 255
    video.write_mask(clip / "mask.mp4", mask, 12)
    assert verify(BenchVerifyConfig(dir=str(copy), progress=False)) == 1
    out = capsys.readouterr().out
    assert f"main/000001_{FAMILIES[1]}: mask differ" in out
    assert "1 clip(s) differ" in out and "000000_" not in out.split("differ from", 1)[1]


def test_resume_after_a_kill_finishes_the_same_build(built, defn, tmp_path):
    copy = shutil.copytree(built[0], tmp_path / "resume")
    # what a kill leaves: a clip not yet written, no checksums yet
    shutil.rmtree(copy / "long" / f"000002_{FAMILIES[2]}")
    (copy / bench_format.CHECKSUMS).unlink()
    assert build(BenchBuildConfig(out=str(copy), limit=1, definition_file=str(defn), progress=False)) == 0
    assert (copy / bench_format.CHECKSUMS).read_text() == (built[0] / bench_format.CHECKSUMS).read_text()


def test_other_definition_in_out_is_refused(built, tmp_path):
    other = tiny_definition(tmp_path / "other.json", fps=10)
    with pytest.raises(BenchError, match="holds benchmark test-tiny"):
        build(BenchBuildConfig(out=str(built[0]), limit=1, definition_file=str(other), progress=False))


def test_v1_definition_shape_and_unregistered_families_refused(tmp_path):
    data, _ = definition.load("v1")
    assert data["resolution"] == [672, 384]
    assert data["subsets"]["main"]["frames"] == 49 and data["subsets"]["long"]["frames"] == 85
    assert data["subsets"]["main"]["clips_per_family"] >= definition.MIN_CLIPS_PER_FAMILY
    assert len(data["families"]) == 9 and data["generator"]["look"] == "footage"
    # a definition naming a family this install lacks (a newer version's) is refused, naming it
    newer = tmp_path / "v9.json"
    newer.write_text(json.dumps(dict(data, version="v9", families=data["families"] + ["fluid"])))
    with pytest.raises(BenchError, match="needs family fluid, not registered in simulate.families"):
        build(BenchBuildConfig(out=str(tmp_path / "v9"), limit=1, definition_file=str(newer), progress=False))
    assert not (tmp_path / "v9" / bench_format.BENCH_JSON).exists()


def test_definition_hash_covers_what_makes_the_clips_only():
    data = json.loads(V1.read_text())
    h = bench_format.definition_hash(data)
    assert bench_format.definition_hash(dict(data, reference_checksums={"raster": "v1.raster.sha256"})) == h
    assert bench_format.definition_hash(dict(data, scorer={"suite_version": 99, "lpips": True})) == h
    assert bench_format.definition_hash(dict(data, generator=dict(data["generator"], look="plain"))) != h
    assert bench_format.definition_hash(dict(data, fps=13)) != h
    assert len(h) == 64 and int(h, 16) >= 0


def test_checksums_ignore_timings_but_not_content(built, tmp_path):
    clip = shutil.copytree(built[0] / "main" / f"000000_{FAMILIES[0]}", tmp_path / "clip")
    before = bench_format.clip_checksums(clip)
    meta = json.loads((clip / "metadata.json").read_text())
    meta["timings_cpu_s"] = {"physics_s": 123.0, "total_wall_s": 9.0}
    (clip / "metadata.json").write_text(json.dumps(meta))
    assert bench_format.clip_checksums(clip) == before
    meta["caption"] = meta["caption"] + " (edited)"
    (clip / "metadata.json").write_text(json.dumps(meta))
    after = bench_format.clip_checksums(clip)
    assert after["metadata"] != before["metadata"] and after["mask"] == before["mask"]
    assert np.all([len(v) == 64 for v in after.values()])


def test_cli_refuses_another_benchmark_in_out_in_one_line_and_verify_exits_1_on_tampering(built, tmp_path):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "void", "bench", "build", str(built[0]), "--limit", "1"],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.startswith(f"void bench build: error: {built[0]} holds benchmark test-tiny") and "choose another OUT" in run.stderr
    copy = shutil.copytree(built[0], tmp_path / "copy")
    meta = copy / "long" / f"000002_{FAMILIES[2]}" / "metadata.json"
    meta.write_text(meta.read_text().replace('"seed"', '"seed_edited"', 1))
    run = subprocess.run([sys.executable, "-m", "void", "bench", "verify", str(copy), "--no-progress"], capture_output=True, text=True)
    assert run.returncode == 1 and f"long/000002_{FAMILIES[2]}: metadata differ" in run.stdout
