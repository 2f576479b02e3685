"""Tiny benchmark builds and submissions for the bench, leaderboard-bundle and export tests.

The definition is v1's with three registered families at 48x32 and 8/10 frames: a test-only
definition file (the shipped v1 stays 672x384x49), built through the real entry function.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

V1 = Path(__file__).resolve().parents[1] / "simulate" / "bench" / "v1.json"
FAMILIES = ["collision", "occlusion", "support"]
CARD = {
    "name": "identity",
    "version": "1.0",
    "link": "https://example.org/identity",
    "parameters": {"copy": "input"},
    "hardware": "2 CPU cores",
    "runtime": "0 s per clip",
    "mask_input": "object-mask",
}


def tiny_definition(path: Path, **overrides) -> Path:
    data = json.loads(V1.read_text())
    data.update(version="test-tiny", families=FAMILIES, resolution=[48, 32], reference_checksums={"raster": None, "cycles": None})
    data["subsets"]["main"]["frames"] = 8
    data["subsets"]["long"]["frames"] = 10
    data.update(overrides)
    path.write_text(json.dumps(data))
    return path


def build_tiny_bench(out: Path, definition: Path, *, workers: int = 1, limit: int = 1, executor: str = "local") -> Path:
    from simulate.bench import BenchBuildConfig, build

    config = BenchBuildConfig(out=str(out), limit=limit, workers=workers, executor=executor, definition_file=str(definition), progress=False)
    assert build(config) == 0
    return out


def make_submission(bench: Path, out: Path, *, name: str = "identity", source: str = "rgb_full.mp4") -> Path:
    """A submission copying one of each clip's videos (the input: an identity method)."""
    from void.bench_format import Bench

    for clip, ref in Bench(bench).clips().items():
        dst = out / f"{clip}.mp4"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ref.root / source, dst)
    (out / "method.json").write_text(json.dumps(dict(CARD, name=name)))
    return out


def score_tiny(bench: Path, pred: Path, out: Path) -> Path:
    from evaluate.config import BenchScoreConfig
    from evaluate.submission import score_submission

    assert score_submission(BenchScoreConfig(bench=str(bench), pred=str(pred), out=str(out), workers=1, progress=False)) == 0
    return out

