"""The frozen v1: its shipped reference checksums, and this install still building them.

The reference (``simulate/bench/v1.raster.sha256``) is the content checksum of every clip of
the 2-worker raster build of v1. A renderer, physics or sampler change that alters a single
bit of a v1 clip fails the rebuild test below: such a change needs a new benchmark version
(or must leave v1's settings alone), never a silently different v1.
"""

from __future__ import annotations

import dataclasses
import re

from simulate.bench import BenchBuildConfig, definition
from simulate.bench.builder import simulate_config
from simulate.generate import generate
from void import bench_format


def _reference():
    defn, source = definition.load("v1")
    ref, note = definition.reference(defn, source, "raster")
    assert ref is not None, note
    return defn, source, ref


def test_v1_ships_raster_reference_checksums_for_every_clip():
    defn, source, ref = _reference()
    families = defn["families"]
    expected = {
        f"{subset}/{i:06d}_{families[i % len(families)]}"
        for subset, sub in defn["subsets"].items()
        for i in range(sub["clips_per_family"] * len(families))
    }
    assert set(ref) == expected  # 270 main + 36 long clips, family of clip i = families[i % 9]
    assert all(set(parts) == set(bench_format.PARTS) for parts in ref.values())
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for parts in ref.values() for h in parts.values())
    header = (source.parent / defn[bench_format.REFERENCE_KEY]["raster"]).read_text().splitlines()[0]
    assert bench_format.definition_hash(defn) in header  # made from this very definition
    assert defn[bench_format.REFERENCE_KEY].get("cycles") is None  # Cycles builds are not reference-checked


def test_first_v1_clip_rebuilds_bit_for_bit(tmp_path):
    """Clip main/000000 (collision) at 672x384x49, footage look, against the reference."""
    defn, _, ref = _reference()
    config = simulate_config(defn, "main", tmp_path, BenchBuildConfig(out=str(tmp_path), limit=1, progress=False))
    config = dataclasses.replace(config, num_samples=1)
    assert generate(config) == 0
    clip = f"000000_{defn['families'][0]}"
    assert bench_format.clip_checksums(tmp_path / "main" / clip) == ref[f"main/{clip}"]
