"""The benchmark folder format: definition hashing, ``bench.json`` and ``checksums.sha256``.

A benchmark version (v1, ...) is a definition file shipped inside ``simulate/bench/``; a
build of it is a folder that ``simulate`` writes and ``evaluate`` scores against. This module
only reads and hashes files, so both stages (and the exporter) use it without importing each
other::

    BENCH/
      bench.json           name, version, definition, definition hash, renderer, subsets
      checksums.sha256     one line per clip part: "<sha256>  <subset>/<sample_id>/<part>"
      README.md            the dataset card
      <subset>/            a dataset directory (``void.formats``) per subset: main, long

A checksum is taken of what a clip *is*, not of how its files happen to be encoded: the
decoded quadmask and lossless RGB frames, the trajectory arrays, and the metadata as
canonical JSON without its timing keys (CPU seconds differ on every run).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from void import formats, video
from void.errors import VoidError

BENCH_JSON = "bench.json"
CHECKSUMS = "checksums.sha256"
CARD = "README.md"
BENCH_FORMAT = "void-bench-benchmark"
# the definition's record of its own build; adding it when a version is frozen must not
# change what the version is, so it stays out of the hash
REFERENCE_KEY = "reference_checksums"
SCORER_KEY = "scorer"
PARTS = ("mask", "rgb_full", "rgb_removed", "rgb_hidden", "trajectories", "metadata")
_TIMING_SUFFIXES = ("_wall_s", "elapsed_s")
_TIMING_PREFIXES = ("timings",)


class BenchError(VoidError, ValueError):
    """A benchmark folder, definition or checksum file that does not follow the format."""


def canonical_json(data: Any) -> str:
    """Sorted keys, no spaces, ASCII: one text per value, whatever wrote it."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def definition_hash(definition: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of what makes a definition's clips: everything but its
    reference checksums and its ``scorer`` (a newer metric suite scores the same clips; bundles
    record the suite they were scored with, and only bundles of one suite are merged)."""
    body = {k: v for k, v in definition.items() if k not in (REFERENCE_KEY, SCORER_KEY)}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def without_timings(data: Any) -> Any:
    """``data`` with every timing key removed, recursively (``timings_cpu_s``, ``*_wall_s``)."""
    if isinstance(data, dict):
        return {
            k: without_timings(v)
            for k, v in data.items()
            if not (str(k).startswith(_TIMING_PREFIXES) or str(k).endswith(_TIMING_SUFFIXES))
        }
    if isinstance(data, list):
        return [without_timings(v) for v in data]
    return data


def _array_digest(h, arr: np.ndarray) -> None:
    arr = np.ascontiguousarray(arr)
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())


def clip_checksums(sample_dir: Path) -> dict[str, str]:
    """The checksum of each part of one clip (see :data:`PARTS`)."""
    ref = formats.SampleRef(Path(sample_dir), Path(sample_dir).name)
    out: dict[str, str] = {}
    h = hashlib.sha256()
    _array_digest(h, video.read_mask(ref.mask_path, strict=True))
    out["mask"] = h.hexdigest()
    for which in ("full", "removed", "hidden"):
        path = ref.root / formats.LOSSLESS[which]
        if not path.is_file():
            raise BenchError(f"{path}: missing lossless RGB (a benchmark clip keeps exact RGB)")
        h = hashlib.sha256()
        _array_digest(h, video.read_video(path))
        out[f"rgb_{which}"] = h.hexdigest()
    h = hashlib.sha256()
    traj = ref.trajectories()
    for key in sorted(traj):
        h.update(key.encode())
        _array_digest(h, traj[key])
    out["trajectories"] = h.hexdigest()
    out["metadata"] = hashlib.sha256(canonical_json(without_timings(ref.metadata())).encode()).hexdigest()
    return out


def format_checksums(table: dict[str, dict[str, str]], header: Iterable[str] = ()) -> str:
    """``clip id -> part -> hex`` as sha256sum-style lines, sorted, with ``#`` comments first."""
    lines = [f"# {h}" for h in header]
    for clip in sorted(table):
        lines += [f"{table[clip][p]}  {clip}/{p}" for p in PARTS if p in table[clip]]
    return "\n".join(lines) + "\n"


def parse_checksums(text: str, source: str) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, sep, name = line.partition("  ")
        clip, _, part = name.rpartition("/")
        if not sep or len(digest) != 64 or part not in PARTS or not clip:
            raise BenchError(f"{source}: line {n} is not '<sha256>  <subset>/<sample_id>/<part>': {line[:80]!r}")
        table.setdefault(clip, {})[part] = digest
    return table


def read_checksums(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    path = Path(path)
    try:
        return parse_checksums(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise BenchError(f"{path}: missing (a benchmark build writes it last)") from None


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Bench:
    """A built benchmark folder: its ``bench.json`` and the clips of each subset."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        path = self.root / BENCH_JSON
        if not path.is_file():
            raise BenchError(f"{self.root}: no {BENCH_JSON}; not a benchmark folder (build one with `void bench build`)")
        try:
            self.info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise BenchError(f"{path}: invalid JSON ({exc})") from None
        for key in ("version", "definition", "definition_hash", "subsets", "renderer"):
            if key not in self.info:
                raise BenchError(f"{path}: missing {key!r}")
        if definition_hash(self.info["definition"]) != self.info["definition_hash"]:
            raise BenchError(f"{path}: definition_hash does not match the definition it carries (edited by hand?)")

    @property
    def version(self) -> str:
        return str(self.info["version"])

    @property
    def definition_hash(self) -> str:
        return str(self.info["definition_hash"])

    @property
    def subsets(self) -> list[str]:
        return list(self.info["subsets"])

    def dataset(self, subset: str) -> formats.Dataset:
        return formats.Dataset(self.root / subset)

    def clips(self) -> dict[str, formats.SampleRef]:
        """``"<subset>/<sample_id>" -> SampleRef`` of every complete clip, subsets in order."""
        out = {}
        for subset in self.subsets:
            folder = self.root / subset
            if not folder.is_dir():
                continue
            ds = formats.Dataset(folder)
            for sid in ds.sample_ids():
                out[f"{subset}/{sid}"] = ds.sample(sid)
        return out

    def checksums_path(self) -> Path:
        return self.root / CHECKSUMS

    def checksums(self) -> dict[str, dict[str, str]]:
        return read_checksums(self.checksums_path())
