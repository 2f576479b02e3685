"""Benchmark definitions: load a version's file, check it, and check this install can build it.

A definition is plain JSON (``simulate/bench/<version>.json``). Its hash — sha256 of the
canonical JSON without ``reference_checksums`` — is what results are comparable under.
Reference checksums are a sha256sum-style file beside the definition, named in
``reference_checksums[<renderer>]``; ``null`` until the version is frozen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simulate.config import FAMILIES, RENDERERS
from void import bench_format
from void.bench_format import BenchError

HERE = Path(__file__).resolve().parent
REFERENCE = bench_format.REFERENCE_KEY
REQUIRED = ("benchmark", "version", "families", "resolution", "fps", "subsets", "generator", "scorer", REFERENCE)
SUBSET_KEYS = ("frames", "clips_per_family", "seed", "split")
GENERATOR_KEYS = ("version", "look", "sets", "camera_motion", "max_attempts", "spp", "denoiser", "animated_seed")
MIN_CLIPS_PER_FAMILY = 30  # the main subset's floor for a shipped version


def versions() -> list[str]:
    return sorted(p.stem for p in HERE.glob("v*.json"))


def load(version: str = "v1", path: str | None = None) -> tuple[dict[str, Any], Path]:
    """The definition of a shipped ``version`` (or the file at ``path``) and where it lies."""
    if path is None:
        file = HERE / f"{version}.json"
        if not file.is_file():
            raise BenchError(f"no benchmark version {version!r}; shipped versions: {', '.join(versions()) or 'none'}")
    else:
        file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"{file}: no such definition file") from None
    except json.JSONDecodeError as exc:
        raise BenchError(f"{file}: invalid JSON ({exc})") from None
    check(data, str(file))
    return data, file


def check(data: dict[str, Any], source: str) -> None:
    """The definition's own shape (not whether this install can build it)."""
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise BenchError(f"{source}: missing {', '.join(missing)}")
    if not data["families"] or len(set(data["families"])) != len(data["families"]):
        raise BenchError(f"{source}: families must be a non-empty list without repeats")
    w, h = data["resolution"]
    if w % 2 or h % 2:
        raise BenchError(f"{source}: resolution must be even, got {w}x{h}")
    for name, subset in data["subsets"].items():
        gone = [k for k in SUBSET_KEYS if k not in subset]
        if gone:
            raise BenchError(f"{source}: subset {name!r} lacks {', '.join(gone)}")
    gone = [k for k in GENERATOR_KEYS if k not in data["generator"]]
    if gone:
        raise BenchError(f"{source}: generator lacks {', '.join(gone)}")
    refs = data[REFERENCE]
    if not isinstance(refs, dict) or set(refs) - set(RENDERERS):
        raise BenchError(f"{source}: {REFERENCE} maps a renderer ({', '.join(RENDERERS)}) to a checksum file or null")


def check_buildable(data: dict[str, Any], source: str, generator_version: str) -> None:
    """Refuse, naming what is missing, a definition this install would build differently."""
    unknown = [f for f in data["families"] if f not in FAMILIES]
    if unknown:
        raise BenchError(
            f"benchmark {data['version']} ({source}) needs famil{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(unknown)}, not registered in simulate.families (registered: {', '.join(FAMILIES)}); "
            "this install cannot build it: update void-bench"
        )
    want = str(data["generator"]["version"])
    if want != generator_version:
        raise BenchError(
            f"benchmark {data['version']} ({source}) was defined with generator {want}, this install has "
            f"{generator_version}; a generator change makes a new benchmark version, build one that matches"
        )


def reference(data: dict[str, Any], source: Path, renderer: str) -> tuple[dict[str, dict[str, str]] | None, str]:
    """The shipped reference checksums of ``renderer`` and a sentence saying what they are."""
    name = data[REFERENCE].get(renderer)
    if not name:
        return None, (
            f"no reference checksums are shipped for {data['version']} with the {renderer} renderer yet; "
            f"compared against the build's own {bench_format.CHECKSUMS} only"
        )
    path = source.parent / name
    return bench_format.read_checksums(path), f"reference checksums: {path.name}"


def scorer_of(bench: bench_format.Bench) -> dict[str, Any]:
    """The scorer settings of a build: the shipped definition's when it describes the same
    clips, else the build's own. The definition hash leaves the scorer out, so a build made
    before a newer metric suite is still that version's build, and is scored (and described on
    its card) with the suite this install ships."""
    try:
        shipped, _ = load(bench.version)
    except BenchError:  # a version this install does not ship (a derived definition)
        return bench.info["definition"]["scorer"]
    if bench_format.definition_hash(shipped) == bench.definition_hash:
        return shipped["scorer"]
    return bench.info["definition"]["scorer"]
