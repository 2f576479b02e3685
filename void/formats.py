"""On-disk formats: the dataset directory, VOID's inference layout, and the prediction layout.

These are the contracts between stages (``docs/formats.md``). Readers never build paths
by hand: every name is a constant here, and a breaking change bumps ``FORMAT_VERSION``.

Dataset directory (written by ``simulate``; read by ``train``, ``evaluate`` and VOID)::

    DATASET/
      manifest.json            VOID manifest: [{"file_path", "text", "type"}]
      dataset.json             our header (format version, config, counts, splits, samples)
      <sample_id>/
        rgb_full.mp4           input, h264 (VOID reads it)
        rgb_removed.mp4        target: the true counterfactual, h264
        rgb_hidden.mp4         same physics as full, removed objects not rendered, h264
        mask.mp4               quadmask, lossless gray
        metadata.json          scene spec, seeds, family, caption, mask statistics, ...
        trajectories.npz       per-object poses of the full and removed simulations
        lossless/{rgb_full,rgb_removed,rgb_hidden}.mkv   exact RGB for scoring

``file_path`` in the manifest is ``<dataset dir name>/<sample_id>``: relative to the
dataset's parent, which is where VOID's training script runs.

Prediction layout (``void infer``, baselines, outside tools)::

    PRED/<method>/<sample_id>.mp4         the output, same size and length as the input
    PRED/<method>/<sample_id>_tuple.mp4   input | mask | output side by side (optional)
    PRED/<method>/run.json                method, config, wall time, peak memory (optional)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from void import atomic, video
from void.errors import VoidError

FORMAT_NAME = "void-bench-dataset"
FORMAT_VERSION = 1

MANIFEST = "manifest.json"
HEADER = "dataset.json"
RGB_FULL = "rgb_full.mp4"
RGB_REMOVED = "rgb_removed.mp4"
RGB_HIDDEN = "rgb_hidden.mp4"
MASK = "mask.mp4"
METADATA = "metadata.json"
TRAJECTORIES = "trajectories.npz"
LOSSLESS_DIR = "lossless"
LOSSLESS = {
    "full": f"{LOSSLESS_DIR}/rgb_full.mkv",
    "removed": f"{LOSSLESS_DIR}/rgb_removed.mkv",
    "hidden": f"{LOSSLESS_DIR}/rgb_hidden.mkv",
}
H264 = {"full": RGB_FULL, "removed": RGB_REMOVED, "hidden": RGB_HIDDEN}
MANIFEST_TYPE = "video_mask_tuple"

# VOID's inference layout.
VOID_INPUT = "input_video.mp4"
VOID_PROMPT = "prompt.json"
VOID_MASK_PATTERNS = ("quadmask_*.mp4", "*quadmask*.mp4", "mask*.mp4")

# Prediction layout.
RUN_JSON = "run.json"
TUPLE_SUFFIX = "_tuple"

SAMPLE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class FormatError(VoidError, ValueError):
    """A directory or file that does not follow the format; the message names it."""


# --------------------------------------------------------------------------- samples


@dataclass
class Sample:
    """One paired sample in memory. Videos ``(T, H, W, 3)`` uint8, mask ``(T, H, W)``."""

    sample_id: str
    full: np.ndarray
    removed: np.ndarray
    hidden: np.ndarray
    mask: np.ndarray
    fps: float
    caption: str
    metadata: dict[str, Any] = field(default_factory=dict)
    trajectories: dict[str, np.ndarray] | None = None

    def check(self) -> None:
        shapes = {k: getattr(self, k).shape for k in ("full", "removed", "hidden")}
        if len(set(shapes.values())) != 1:
            raise FormatError(f"sample {self.sample_id}: video shapes differ: {shapes}")
        if self.mask.shape != self.full.shape[:3]:
            raise FormatError(
                f"sample {self.sample_id}: mask shape {self.mask.shape} does not match video {self.full.shape[:3]}"
            )
        if not self.caption.strip():
            raise FormatError(f"sample {self.sample_id}: empty caption")


def check_sample_id(sample_id: str) -> str:
    if not SAMPLE_ID_RE.match(sample_id):
        raise FormatError(f"invalid sample id {sample_id!r}: use letters, digits, '_', '-', '.'")
    return sample_id


def write_sample(dataset_dir: str | os.PathLike, sample: Sample) -> Path:
    """Write one sample directory atomically: it appears whole under its id or not at all.

    Everything is written into a hidden temporary directory beside it and renamed into
    place last, so a killed writer never leaves a half sample that looks complete.
    """
    dataset_dir = Path(dataset_dir)
    check_sample_id(sample.sample_id)
    sample.check()
    dataset_dir.mkdir(parents=True, exist_ok=True)
    final = dataset_dir / sample.sample_id
    tmp = Path(tempfile.mkdtemp(dir=dataset_dir, prefix=f".{sample.sample_id}.partial-"))
    try:
        for key, name in H264.items():
            video.write_video(tmp / name, getattr(sample, key), sample.fps, codec="h264")
        for key, name in LOSSLESS.items():
            video.write_video(tmp / name, getattr(sample, key), sample.fps, codec="lossless")
        video.write_mask(tmp / MASK, sample.mask, sample.fps)
        if sample.trajectories is not None:
            with atomic.atomic_path(tmp / TRAJECTORIES) as p:
                with open(p, "wb") as fh:
                    np.savez_compressed(fh, **sample.trajectories)
        meta = dict(sample.metadata)
        meta.setdefault("sample_id", sample.sample_id)
        meta.setdefault("caption", sample.caption)
        meta.setdefault("fps", sample.fps)
        meta.setdefault("num_frames", int(sample.full.shape[0]))
        meta.setdefault("height", int(sample.full.shape[1]))
        meta.setdefault("width", int(sample.full.shape[2]))
        atomic.write_json(tmp / METADATA, meta)
        os.chmod(tmp, atomic.DIR_MODE)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def is_complete(sample_dir: str | os.PathLike) -> bool:
    """A sample directory is complete when it exists under its final name with metadata."""
    sample_dir = Path(sample_dir)
    return sample_dir.is_dir() and (sample_dir / METADATA).is_file() and not sample_dir.name.startswith(".")


def clean_partials(dataset_dir: str | os.PathLike) -> int:
    """Remove leftovers of killed writers (hidden ``.partial`` dirs and files); returns count."""
    n = 0
    for p in Path(dataset_dir).glob(".*.partial*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        n += 1
    return n


def manifest_entry(dataset_dir: str | os.PathLike, sample_id: str, caption: str) -> dict[str, str]:
    return {"file_path": f"{Path(dataset_dir).resolve().name}/{sample_id}", "text": caption, "type": MANIFEST_TYPE}


def write_manifest(dataset_dir: str | os.PathLike, entries: Iterable[dict[str, str]]) -> None:
    atomic.write_json(Path(dataset_dir) / MANIFEST, list(entries))


def write_header(dataset_dir: str | os.PathLike, header: dict[str, Any]) -> None:
    data = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION}
    data.update(header)
    atomic.write_json(Path(dataset_dir) / HEADER, data)


# --------------------------------------------------------------------------- reading


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(f"{path}: missing") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}: invalid JSON ({exc})") from None


@dataclass(frozen=True)
class SampleRef:
    """Paths of one sample of a dataset directory; loads lazily."""

    root: Path  # the sample directory
    sample_id: str

    def path(self, name: str) -> Path:
        return self.root / name

    def video_path(self, which: str, *, lossless: bool = True) -> Path:
        """``which`` in full/removed/hidden; the lossless copy when present and asked for."""
        if lossless and (self.root / LOSSLESS[which]).is_file():
            return self.root / LOSSLESS[which]
        return self.root / H264[which]

    @property
    def mask_path(self) -> Path:
        return self.root / MASK

    def metadata(self) -> dict[str, Any]:
        return _load_json(self.root / METADATA)

    def caption(self) -> str:
        return str(self.metadata().get("caption", ""))

    def family(self) -> str:
        return str(self.metadata().get("family", "unknown"))

    def load_video(self, which: str, *, lossless: bool = True) -> np.ndarray:
        return video.read_video(self.video_path(which, lossless=lossless))

    def load_mask(self, *, strict: bool = False) -> np.ndarray:
        return video.read_mask(self.mask_path, strict=strict)

    def trajectories(self) -> dict[str, np.ndarray]:
        with np.load(self.root / TRAJECTORIES) as data:
            return {k: data[k] for k in data.files}

    def load(self, *, lossless: bool = True) -> Sample:
        meta = self.metadata()
        return Sample(
            sample_id=self.sample_id,
            full=self.load_video("full", lossless=lossless),
            removed=self.load_video("removed", lossless=lossless),
            hidden=self.load_video("hidden", lossless=lossless),
            mask=self.load_mask(),
            fps=float(meta.get("fps", 12.0)),
            caption=str(meta.get("caption", "")),
            metadata=meta,
        )


class Dataset:
    """A dataset directory, ours (``dataset.json``) or VOID's training layout (manifest only)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FormatError(f"{self.root}: not a directory")
        header_path = self.root / HEADER
        self.header: dict[str, Any] = _load_json(header_path) if header_path.is_file() else {}
        if self.header and self.header.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
            raise FormatError(
                f"{header_path}: format version {self.header['format_version']} is newer than this "
                f"tool reads ({FORMAT_VERSION}); upgrade void-bench"
            )
        manifest_path = self.root / MANIFEST
        self.manifest: list[dict[str, Any]] = _load_json(manifest_path) if manifest_path.is_file() else []
        if not isinstance(self.manifest, list):
            raise FormatError(f"{manifest_path}: expected a JSON list of entries")
        if not self.header and not self.manifest:
            raise FormatError(f"{self.root}: neither {HEADER} nor {MANIFEST} found: not a dataset directory")

    @property
    def name(self) -> str:
        return self.root.resolve().name

    def sample_ids(self) -> list[str]:
        """Sample ids in manifest order (the manifest lists only complete samples)."""
        ids = []
        for i, entry in enumerate(self.manifest):
            fp = entry.get("file_path") if isinstance(entry, dict) else None
            if not fp:
                raise FormatError(f"{self.root / MANIFEST}: entry {i} has no file_path")
            ids.append(Path(fp).name)
        if not ids and self.header:
            ids = [s["sample_id"] if isinstance(s, dict) else str(s) for s in self.header.get("samples", [])]
        return ids

    def __len__(self) -> int:
        return len(self.sample_ids())

    def __iter__(self):
        return (self.sample(s) for s in self.sample_ids())

    def sample(self, sample_id: str) -> SampleRef:
        return SampleRef(self.root / sample_id, sample_id)

    def split(self) -> str:
        return str(self.header.get("split", "train"))


def is_dataset_dir(path: str | os.PathLike) -> bool:
    path = Path(path)
    return (path / HEADER).is_file() or (path / MANIFEST).is_file()


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class InputSample:
    """What a removal method is given: an input video, its quadmask and a prompt.

    ``sample`` is set when the input comes from one of our dataset directories (so ground
    truth such as the hidden render is reachable); ``None`` for VOID's inference layout.
    ``mask_path`` is None only for a VOID sequence without a mask of its own, read with
    ``allow_missing_masks`` (the masks come from elsewhere, e.g. ``void infer --masks``).
    """

    sample_id: str
    video_path: Path
    mask_path: Path | None
    prompt: str
    sample: SampleRef | None = None


def find_void_mask(seq_dir: Path, *, required: bool = True) -> Path | None:
    """The quadmask of a VOID inference folder (``quadmask_0.mp4``, ``trimask_quadmask.mp4``...);
    None when there is none and it is not ``required``."""
    for pattern in VOID_MASK_PATTERNS:
        hits = sorted(seq_dir.glob(pattern))
        if hits:
            return hits[0]
    if not required:
        return None
    raise FormatError(
        f"{seq_dir}: no quadmask video found; expected one of {', '.join(VOID_MASK_PATTERNS)}"
    )


def read_void_prompt(seq_dir: Path) -> str:
    path = seq_dir / VOID_PROMPT
    if not path.is_file():
        raise FormatError(f"{path}: missing prompt (VOID layout needs prompt.json with a \"bg\" text)")
    data = _load_json(path)
    text = data.get("bg") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise FormatError(f"{path}: missing prompt: expected {{\"bg\": \"<scene after removal>\"}}")
    return text


def void_sequence(seq_dir: str | os.PathLike, *, allow_missing_mask: bool = False) -> InputSample:
    seq_dir = Path(seq_dir)
    video_path = seq_dir / VOID_INPUT
    if not video_path.is_file():
        raise FormatError(f"{video_path}: missing input video")
    mask = find_void_mask(seq_dir, required=not allow_missing_mask)
    return InputSample(seq_dir.name, video_path, mask, read_void_prompt(seq_dir))


def iter_inputs(
    path: str | os.PathLike, samples: Iterable[str] | None = None, *, allow_missing_masks: bool = False
) -> list[InputSample]:
    """Inputs from a dataset dir, a VOID root (``ROOT/<seq>/input_video.mp4``) or one seq dir.
    ``allow_missing_masks``: a VOID sequence without a quadmask is listed with ``mask_path``
    None (its mask comes from elsewhere) instead of refused."""
    path = Path(path)
    wanted = set(samples) if samples else None
    if is_dataset_dir(path):
        ds = Dataset(path)
        out = []
        for ref in ds:
            if wanted and ref.sample_id not in wanted:
                continue
            out.append(InputSample(ref.sample_id, ref.video_path("full"), ref.mask_path, ref.caption(), ref))
    elif (path / VOID_INPUT).is_file():
        out = [void_sequence(path, allow_missing_mask=allow_missing_masks)]
    elif path.is_dir():
        seqs = sorted(p for p in path.iterdir() if (p / VOID_INPUT).is_file())
        if not seqs:
            raise FormatError(
                f"{path}: neither a dataset directory ({HEADER}/{MANIFEST}) nor VOID's inference "
                f"layout (<seq>/{VOID_INPUT})"
            )
        out = [void_sequence(s, allow_missing_mask=allow_missing_masks) for s in seqs if not wanted or s.name in wanted]
    else:
        raise FormatError(f"{path}: no such directory")
    if wanted:
        missing = wanted - {s.sample_id for s in out}
        if missing:
            raise FormatError(f"{path}: samples not found: {', '.join(sorted(missing))}")
    return out


# --------------------------------------------------------------------------- predictions


def prediction_path(pred_root: str | os.PathLike, method: str, sample_id: str) -> Path:
    return Path(pred_root) / method / f"{sample_id}.mp4"


def tuple_path(pred_root: str | os.PathLike, method: str, sample_id: str) -> Path:
    return Path(pred_root) / method / f"{sample_id}{TUPLE_SUFFIX}.mp4"


def run_json_path(pred_root: str | os.PathLike, method: str) -> Path:
    return Path(pred_root) / method / RUN_JSON


def is_method_dir(folder: str | os.PathLike) -> bool:
    """A method folder holds predictions (``<sample_id>.mp4``) or its ``run.json``.

    Recognised by content, not by being a folder: ``PRED/logs/`` or an empty folder left by
    a crashed run is not a method.
    """
    folder = Path(folder)
    if not folder.is_dir() or folder.name.startswith("."):
        return False
    return (folder / RUN_JSON).is_file() or any(
        not p.stem.endswith(TUPLE_SUFFIX) and not p.name.startswith(".") and p.is_file() for p in folder.glob("*.mp4")
    )


def list_methods(pred_root: str | os.PathLike) -> list[str]:
    root = Path(pred_root)
    if root.is_file():
        raise FormatError(f"{root}: is a file, expected a predictions folder")
    if not root.is_dir():
        raise FormatError(f"{root}: predictions directory not found")
    return sorted(p.name for p in root.iterdir() if is_method_dir(p))


def list_predictions(pred_root: str | os.PathLike, method: str) -> dict[str, Path]:
    """sample id -> prediction video of one method (tuple previews excluded)."""
    folder = Path(pred_root) / method
    return {
        p.stem: p
        for p in sorted(folder.glob("*.mp4"))
        if not p.stem.endswith(TUPLE_SUFFIX) and not p.name.startswith(".")
    }


def read_run_json(pred_root: str | os.PathLike, method: str) -> dict[str, Any]:
    path = run_json_path(pred_root, method)
    return _load_json(path) if path.is_file() else {}


def write_run_json(pred_root: str | os.PathLike, method: str, data: dict[str, Any]) -> None:
    atomic.write_json(run_json_path(pred_root, method), data)
