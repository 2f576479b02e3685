"""What the scorer reads, checked before it is trusted: prediction folders and ground truth.

A prediction is ``PRED/<method>/<sample_id>.mp4`` (``void.formats`` prediction layout) from
our model, a baseline or any outside tool. It must exist, decode, and match the ground
truth's frame count and size; every problem is reported as ``path: what is wrong`` so a
listing tells the user exactly which file to fix. Ground truth problems (a mask with other
values, references of different lengths) are errors of the dataset, never skipped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from void import formats, video
from void.errors import VoidError


class PredictionError(VoidError, ValueError):
    """A prediction video that cannot be scored; the message names the file."""


@dataclass(frozen=True)
class Shape:
    num_frames: int
    height: int
    width: int

    def __str__(self) -> str:
        return f"{self.num_frames} frames of {self.width}x{self.height}"


@dataclass(frozen=True)
class Problem:
    method: str
    sample_id: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def ground_truth_shape(ref: formats.SampleRef) -> Shape:
    """Frame count and size of a sample, from its metadata or else its target video."""
    try:
        meta = ref.metadata()
    except formats.FormatError:
        meta = {}
    if all(isinstance(meta.get(k), int) for k in ("num_frames", "height", "width")):
        return Shape(meta["num_frames"], meta["height"], meta["width"])
    info = video.video_info(ref.video_path("removed"))
    return Shape(info.num_frames, info.height, info.width)


def _shape_of(frames: np.ndarray) -> Shape:
    return Shape(int(frames.shape[0]), int(frames.shape[1]), int(frames.shape[2]))


def family(ref: formats.SampleRef) -> str:
    """The sample's scenario family from ``metadata.json``; ``unknown`` without one."""
    try:
        return ref.family()
    except formats.FormatError:  # VOID's training layout has no metadata.json
        return "unknown"


def load_ground_truth(
    ref: formats.SampleRef, expected: Shape, *, strict_mask: bool = True
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """``(removed, hidden or None, mask)`` of a sample, lossless copies first, all checked.

    With ``strict_mask`` (our datasets, stored losslessly) a mask value other than the four
    is a broken file, not compression noise to round away.
    """
    removed = ref.load_video("removed")
    hidden_path = ref.video_path("hidden")
    hidden = video.read_video(hidden_path) if hidden_path.is_file() else None
    mask = ref.load_mask(strict=strict_mask)
    checks = [(ref.video_path("removed"), _shape_of(removed)), (ref.mask_path, Shape(*mask.shape))]
    if hidden is not None:
        checks.append((hidden_path, _shape_of(hidden)))
    for path, shape in checks:
        if shape != expected:
            raise formats.FormatError(
                f"{path}: has {shape}, but sample {ref.sample_id} has {expected} "
                f"(metadata.json / {formats.RGB_REMOVED}); the ground truth must line up frame by frame"
            )
    return removed, hidden, mask


def check_prediction(path: Path, expected: Shape, *, resize: bool, decode: bool = True) -> str | None:
    """What is wrong with one prediction file (``None``: scoreable). Decodes the stream unless
    ``decode`` is off (then the packets are counted: the scoring decode finds the rest)."""
    if not path.is_file():
        return "missing"
    if path.stat().st_size == 0:
        return "empty file"
    try:
        info = video.video_info(path, decode=decode)
    except video.VideoError as exc:
        return f"corrupt or unreadable video ({_ffmpeg_reason(str(exc))})"
    if info.num_frames == 0:
        return "unreadable video (no frames decoded)"
    if info.num_frames != expected.num_frames:
        return f"has {info.num_frames} frames, the ground truth has {expected.num_frames}"
    if (info.height, info.width) != (expected.height, expected.width) and not resize:
        return (
            f"is {info.width}x{info.height}, the ground truth is {expected.width}x{expected.height} "
            "(pass --resize to score it resized)"
        )
    return None


def _ffmpeg_reason(message: str) -> str:
    """The telling line of an ffmpeg failure (its full log is dozens of lines of banner)."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    for key in ("moov atom not found", "Invalid data found", "partial file", "Invalid NAL", "corrupt"):
        for ln in lines:
            if key in ln:
                return ln.split("] ")[-1][:200]
    return lines[-1][:200] if lines else "unknown error"


def check_predictions(
    pred_root: Path,
    methods: list[str],
    expected: dict[str, Shape],
    pairs: list[tuple[str, str]] | None = None,
    *,
    resize: bool,
    workers: int = 2,
) -> dict[str, list[Problem]]:
    """Problems per method over the given (method, sample) pairs (default: all of them);
    every method maps to a list, empty when all is well."""
    if pairs is None:
        pairs = [(m, sid) for m in methods for sid in expected]
    jobs = [(m, sid, formats.prediction_path(pred_root, m, sid)) for m, sid in pairs]
    # ffmpeg does the work in subprocesses, so threads overlap it well.
    with ThreadPoolExecutor(max_workers=max(1, workers) * 2) as pool:
        found = list(pool.map(lambda j: check_prediction(j[2], expected[j[1]], resize=resize), jobs))
    problems: dict[str, list[Problem]] = {m: [] for m in methods}
    for (m, sid, path), message in zip(jobs, found):
        if message:
            problems[m].append(Problem(m, sid, str(path), message))
    return problems


def load_prediction(path: Path, expected: Shape, *, resize: bool) -> np.ndarray:
    """Decode a prediction and bring it to the ground truth's size when ``resize`` is set."""
    try:
        frames = video.read_video(path)
    except video.VideoError as exc:
        raise PredictionError(str(exc)) from None
    got = _shape_of(frames)
    if got.num_frames != expected.num_frames:
        raise PredictionError(f"{path}: has {got.num_frames} frames, the ground truth has {expected.num_frames}")
    if (got.height, got.width) != (expected.height, expected.width):
        if not resize:
            raise PredictionError(
                f"{path}: is {got.width}x{got.height}, the ground truth is {expected.width}x{expected.height} "
                "(pass --resize to score it resized)"
            )
        frames = resize_video(frames, expected.height, expected.width)
    return frames


def resize_video(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize every frame; area averaging when shrinking (no aliasing), bicubic when growing."""
    import cv2

    shrinking = width * height < frames.shape[1] * frames.shape[2]
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return np.stack([cv2.resize(f, (width, height), interpolation=interp) for f in frames])


def format_listing(problems: dict[str, list[Problem]], limit: int = 20) -> str:
    """Human-readable listing, grouped by method, at most ``limit`` lines per method."""
    lines = []
    for method, probs in problems.items():
        if not probs:
            continue
        lines.append(f"  {method}: {len(probs)} problem(s)")
        lines.extend(f"    {p}" for p in probs[:limit])
        if len(probs) > limit:
            lines.append(f"    ... and {len(probs) - limit} more")
    return "\n".join(lines)
