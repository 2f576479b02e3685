"""The mask task: what a quadmask predictor is given, what it must write, and the checks.

Given an input video and the removed object's binary mask track (what a user gets from
clicking the object in a video tracker), a predictor writes a quadmask video (0 remove,
63 overlap, 127 affected, 255 keep; ``void.quadmask``) of the same size and length.

Inputs come from three places, all read by :func:`iter_mask_inputs`:

* one of our dataset directories: ``rgb_full`` and the object taken from ``mask.mp4``
  (quadmask 0 or 63), the first-contact frame from ``metadata.json``;
* VOID's inference layout ``ROOT/<seq>/input_video.mp4`` with a quadmask (object = 0 or 63);
* the same layout with ``object_mask.mp4`` instead: a binary mask video, white (> 127) where
  the object is. It wins over a quadmask in the same folder.

Predictions are the prediction layout of ``void.formats``: ``PRED/<method>/<sample_id>.mp4``,
lossless quadmask videos (``void.video.write_mask``), plus ``run.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from void import formats, quadmask, video
from void.errors import VoidError

OBJECT_MASK = "object_mask.mp4"  # binary object track in a VOID-layout folder, white = object
VOID_QUADMASK = "quadmask_0.mp4"  # the name `void masks predict` writes in VOID's layout
DEFAULT_FPS = 12.0


class MaskTaskError(VoidError, ValueError):
    """An input or prediction of the mask task that cannot be used; the message names the file."""


@dataclass(frozen=True)
class MaskInput:
    """One clip of the mask task. ``sample`` is set for our dataset directories."""

    sample_id: str
    video_path: Path
    object_path: Path
    object_kind: str  # "quadmask" (object = 0 or 63) or "binary" (object = > 127)
    prompt: str
    sample: formats.SampleRef | None = None

    def load(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(frames (T,H,W,3) uint8, object (T,H,W) bool, fps)``, checked to line up."""
        frames, fps = video.read_video_fps(self.video_path)
        obj = load_object_mask(self.object_path, self.object_kind)
        if obj.shape != frames.shape[:3]:
            raise MaskTaskError(
                f"{self.object_path}: object mask is {_describe(obj.shape)}, but {self.video_path} is "
                f"{_describe(frames.shape[:3])}; they must line up frame by frame"
            )
        if not fps and self.sample is not None:
            fps = float(self.sample.metadata().get("fps") or 0.0)
        return frames, obj, fps or DEFAULT_FPS

    def first_contact(self) -> int | None:
        """The first frame the removed object touches another one (our datasets only)."""
        return first_contact(self.sample) if self.sample is not None else None


def _describe(shape: tuple[int, ...]) -> str:
    return f"{shape[0]} frames of {shape[2]}x{shape[1]}"


def load_object_mask(path: Path, kind: str) -> np.ndarray:
    """The object's binary track (T, H, W) bool from a quadmask or a binary mask video."""
    if kind == "quadmask":
        return np.isin(video.read_mask(path), (quadmask.REMOVE, quadmask.OVERLAP))
    raw = video.read_video(path)[..., 0]
    return raw > 127


def first_contact(ref: formats.SampleRef) -> int | None:
    try:
        value = ref.metadata().get("first_contact_frame")
    except formats.FormatError:
        return None
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _void_input(seq: Path) -> MaskInput:
    vid = seq / formats.VOID_INPUT
    prompt = formats.read_void_prompt(seq) if (seq / formats.VOID_PROMPT).is_file() else ""
    if (seq / OBJECT_MASK).is_file():
        return MaskInput(seq.name, vid, seq / OBJECT_MASK, "binary", prompt)
    try:
        mask = formats.find_void_mask(seq)
    except formats.FormatError:
        raise MaskTaskError(
            f"{seq}: no object mask: put the object's binary mask video there as {OBJECT_MASK} "
            f"(white = object), or a quadmask ({', '.join(formats.VOID_MASK_PATTERNS)})"
        ) from None
    return MaskInput(seq.name, vid, mask, "quadmask", prompt)


def iter_mask_inputs(path: str | os.PathLike, samples: list[str] | None = None) -> list[MaskInput]:
    """Clips of a dataset dir, a VOID-layout root (``ROOT/<seq>/input_video.mp4``) or one seq dir."""
    path = Path(path)
    wanted = set(samples or [])
    if formats.is_dataset_dir(path):
        out = [
            MaskInput(ref.sample_id, ref.video_path("full"), ref.mask_path, "quadmask", ref.caption(), ref)
            for ref in formats.Dataset(path)
        ]
    elif (path / formats.VOID_INPUT).is_file():
        out = [_void_input(path)]
    elif path.is_dir():
        seqs = sorted(p for p in path.iterdir() if (p / formats.VOID_INPUT).is_file())
        if not seqs:
            raise MaskTaskError(
                f"{path}: neither a dataset directory ({formats.HEADER}/{formats.MANIFEST}) nor VOID's "
                f"inference layout (<seq>/{formats.VOID_INPUT} with {OBJECT_MASK} or a quadmask)"
            )
        out = [_void_input(s) for s in seqs]
    else:
        raise MaskTaskError(f"{path}: no such directory")
    if wanted:
        missing = wanted - {i.sample_id for i in out}
        if missing:
            raise MaskTaskError(f"{path}: samples not found: {', '.join(sorted(missing))}")
        out = [i for i in out if i.sample_id in wanted]
    return out


# --------------------------------------------------------------------------- predictions


def check_prediction_array(mask: np.ndarray, expected: tuple[int, int, int], source: str) -> None:
    """Refuse a predicted quadmask with the wrong frame count, size or values, naming ``source``."""
    t, h, w = expected
    if mask.ndim != 3:
        raise MaskTaskError(f"{source}: a quadmask is (frames, height, width), got shape {mask.shape}")
    if mask.shape[0] != t:
        raise MaskTaskError(f"{source}: has {mask.shape[0]} frames, the clip has {t}")
    if mask.shape[1:] != (h, w):
        raise MaskTaskError(f"{source}: is {mask.shape[2]}x{mask.shape[1]}, the clip is {w}x{h}")
    bad = quadmask.invalid_values(mask)
    if bad:
        shown = ", ".join(str(v) for v in bad[:8]) + (" ..." if len(bad) > 8 else "")
        raise MaskTaskError(
            f"{source}: values other than the quadmask's four {quadmask.VALUES}: {shown} "
            "(write masks losslessly, e.g. void.video.write_mask or PNG)"
        )


def load_prediction(path: Path, expected: tuple[int, int, int]) -> np.ndarray:
    """Decode a predicted quadmask video and check it (raw values: a lossy file is refused)."""
    if not path.is_file():
        raise MaskTaskError(f"{path}: missing")
    try:
        raw = video.read_video(path)[..., 0]
    except video.VideoError as exc:
        raise MaskTaskError(str(exc)) from None
    check_prediction_array(raw, expected, str(path))
    return np.ascontiguousarray(raw)


def write_prediction(pred_root: Path, method: str, sample_id: str, mask: np.ndarray, fps: float) -> Path:
    path = formats.prediction_path(pred_root, method, sample_id)
    video.write_mask(path, mask, fps)
    return path


def write_void_sequence(out_root: Path, inp: MaskInput, frames: np.ndarray, mask: np.ndarray, fps: float, prompt: str) -> Path:
    """VOID's inference layout for one clip: input_video.mp4, quadmask_0.mp4, prompt.json.

    An input that already is an mp4 is copied as it is (re-encoding would only lose detail).
    """
    import shutil

    from void import atomic

    seq = Path(out_root) / inp.sample_id
    source = inp.sample.video_path("full", lossless=False) if inp.sample is not None else inp.video_path
    if source.suffix.lower() == ".mp4" and source.is_file():
        with atomic.atomic_path(seq / formats.VOID_INPUT) as tmp:
            shutil.copyfile(source, tmp)
    else:
        video.write_video(seq / formats.VOID_INPUT, frames, fps)
    video.write_mask(seq / VOID_QUADMASK, mask, fps)
    atomic.write_json(seq / formats.VOID_PROMPT, {"bg": prompt})
    return seq
