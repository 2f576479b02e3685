"""Training clips from a dataset directory, with VOID's loader rules and a resumable order.

Each clip is (input video, target video, quadmask) cut the same way:

1. read the lossless ground truth (``rgb_full``, ``rgb_removed``; the h264 files when a
   dataset has no lossless copies, e.g. VOID's own) and the mask, quantized with VOID's
   thresholds (:func:`void.quadmask.quantize`);
2. frame sampling as VOID's ``video_mask_tuple`` loader does: a window of
   ``(frames - 1) * stride + 1`` source frames (the whole video when shorter) at a random
   start, ``frames`` indices spread evenly over it;
3. augmentation, identical for the three videos: a random crop of the target aspect ratio
   covering ``crop_min_scale``..1 of the largest such box, and a horizontal flip;
4. resizing to the training size (area filter for RGB; nearest for the mask, then the
   thresholds again, so resizing never invents an "affected" fringe between classes).

Without augmentation (validation) the clip is the first window, centre-cropped, unflipped.

Determinism: the data stream is a sequence of positions 0, 1, 2, ...; position ``g`` names
epoch ``g // N`` and slot ``g % N`` of that epoch's seeded permutation, and its augmentation
draws come from a generator seeded by ``(seed, g)``. Step ``s`` of rank ``r`` (batch ``B``,
``W`` ranks) reads positions ``s*B*W + r*B ... + B-1``. So the data of a step depends only
on (seed, step, rank), and a resumed run needs nothing but the step to continue the exact
same order.

Tensors (one clip): ``input``/``target`` ``(T, 3, H, W)`` float32 in [-1, 1], ``mask``
``(T, H, W)`` uint8 quadmask; a batch adds the leading ``B``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from void import formats, quadmask, video
from void.errors import VoidError

ORDER_SALT = 0x5EED_0DE2  # separates the permutation stream from the augmentation stream
AUG_SALT = 0xA467


@dataclass(frozen=True)
class ClipSpec:
    frames: int
    stride: int
    height: int
    width: int
    flip_prob: float = 0.0
    crop_min_scale: float = 1.0


# --------------------------------------------------------------------------- clip rules


def frame_indices(num_frames: int, frames: int, stride: int, rng: np.random.Generator | None) -> np.ndarray:
    """Source frame indices of one clip (VOID's window rule; start 0 when ``rng`` is None)."""
    if num_frames < frames:
        raise ValueError(f"video has {num_frames} frames, a clip needs {frames}")
    clip_length = min(num_frames, (frames - 1) * stride + 1)
    last_start = num_frames - clip_length
    start = int(rng.integers(0, last_start + 1)) if (rng is not None and last_start > 0) else 0
    return np.linspace(start, start + clip_length - 1, frames).astype(np.int64)


def crop_box(
    height: int, width: int, out_h: int, out_w: int, min_scale: float, rng: np.random.Generator | None
) -> tuple[int, int, int, int]:
    """``(y0, x0, h, w)``: a box of the output's aspect ratio inside a ``height x width`` frame.

    The largest such box scaled by a draw in [min_scale, 1], at a random position; without
    ``rng`` the largest box, centred (VOID's resize + centre crop).
    """
    aspect = out_w / out_h
    if width / height > aspect:
        box_h, box_w = height, max(1, round(height * aspect))
    else:
        box_h, box_w = max(1, round(width / aspect)), width
    if rng is not None and min_scale < 1.0:
        scale = float(rng.uniform(min_scale, 1.0))
        box_h, box_w = max(1, round(box_h * scale)), max(1, round(box_w * scale))
    if rng is not None:
        y0 = int(rng.integers(0, height - box_h + 1))
        x0 = int(rng.integers(0, width - box_w + 1))
    else:
        y0, x0 = (height - box_h) // 2, (width - box_w) // 2
    return y0, x0, box_h, box_w


def _resize(frames: np.ndarray, out_h: int, out_w: int, *, nearest: bool) -> np.ndarray:
    import cv2

    if frames.shape[1:3] == (out_h, out_w):
        return np.ascontiguousarray(frames)
    shrink = out_h < frames.shape[1] or out_w < frames.shape[2]
    interp = cv2.INTER_NEAREST if nearest else (cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.stack([cv2.resize(f, (out_w, out_h), interpolation=interp) for f in frames])


def make_clip(
    full: np.ndarray, removed: np.ndarray, mask: np.ndarray, spec: ClipSpec, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut one clip (uint8 arrays, ``(T, H, W, 3)`` x2 and ``(T, H, W)``) by the rules above.

    ``rng`` None means no randomness: first window, centre crop, no flip. The draws happen
    in a fixed order (start, flip, crop scale, crop position) so a seed names one clip.
    """
    idx = frame_indices(full.shape[0], spec.frames, spec.stride, rng)
    full, removed, mask = full[idx], removed[idx], mask[idx]
    flip = rng is not None and spec.flip_prob > 0 and float(rng.random()) < spec.flip_prob
    y0, x0, h, w = crop_box(full.shape[1], full.shape[2], spec.height, spec.width, spec.crop_min_scale, rng)
    window = (slice(None), slice(y0, y0 + h), slice(x0, x0 + w))
    full, removed, mask = full[window], removed[window], mask[window]
    if flip:
        full, removed, mask = full[:, :, ::-1], removed[:, :, ::-1], mask[:, :, ::-1]
    full = _resize(full, spec.height, spec.width, nearest=False)
    removed = _resize(removed, spec.height, spec.width, nearest=False)
    mask = quadmask.quantize(_resize(mask, spec.height, spec.width, nearest=True))
    return full, removed, mask


# --------------------------------------------------------------------------- order


class DataOrder:
    """Position in the data stream -> sample index: a fresh seeded permutation per epoch."""

    def __init__(self, num_samples: int, seed: int):
        self.num_samples = num_samples
        self.seed = seed
        self._perms: dict[int, np.ndarray] = {}

    def sample_at(self, position: int) -> int:
        epoch, slot = divmod(int(position), self.num_samples)
        perm = self._perms.get(epoch)
        if perm is None:
            perm = np.random.default_rng([self.seed, epoch, ORDER_SALT]).permutation(self.num_samples)
            if len(self._perms) > 4:
                self._perms.clear()
            self._perms[epoch] = perm
        return int(perm[slot])


def step_positions(step: int, batch_size: int, rank: int, world_size: int) -> range:
    """Stream positions one rank reads at one optimizer step."""
    base = (step * world_size + rank) * batch_size
    return range(base, base + batch_size)


class StepSampler(torch.utils.data.Sampler):
    """Distributed sampler over stream positions for steps ``[start_step, end_step)``.

    With ``DataLoader(batch_size=B)`` each batch is exactly one step's slice for this rank,
    so resuming at step ``s`` is ``StepSampler(start_step=s, ...)``.
    """

    def __init__(self, batch_size: int, rank: int, world_size: int, start_step: int, end_step: int):
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size
        self.start_step, self.end_step = start_step, end_step

    def __iter__(self):
        for step in range(self.start_step, self.end_step):
            yield from step_positions(step, self.batch_size, self.rank, self.world_size)

    def __len__(self) -> int:
        return max(0, self.end_step - self.start_step) * self.batch_size


# --------------------------------------------------------------------------- dataset


class ClipDataset(torch.utils.data.Dataset):
    """Clips of a dataset directory, indexed by stream position (training) or sample (eval).

    ``augment=True``: item ``g`` is stream position ``g`` (order + augmentation from the
    seed). ``augment=False``: item ``i`` is sample ``i``, first window, centre crop.
    Decoded videos are kept in memory up to ``cache_mb`` (decoding dominates otherwise).
    """

    def __init__(
        self,
        root: str | Path,
        spec: ClipSpec,
        *,
        seed: int = 0,
        augment: bool = True,
        sample_ids: list[str] | None = None,
        cache_mb: int = 2048,
    ):
        self.root = Path(root)
        self.spec = spec
        self.seed = seed
        self.augment = augment
        ds = formats.Dataset(self.root)
        ids = ds.sample_ids() if sample_ids is None else list(sample_ids)
        if not ids:
            raise VoidError(f"{self.root}: the dataset has no samples (empty {formats.MANIFEST})")
        self.refs = [ds.sample(s) for s in ids]
        missing = [r.sample_id for r in self.refs if not r.root.is_dir()]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise VoidError(f"{self.root}: {len(missing)} sample directories listed in the manifest are missing: {shown}")
        self.order = DataOrder(len(self.refs), seed)
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._cache_left = cache_mb * 2**20

    @property
    def sample_ids(self) -> list[str]:
        return [r.sample_id for r in self.refs]

    def __len__(self) -> int:
        return len(self.refs)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Full-resolution ``(full, removed, mask)`` of sample ``index`` (cached)."""
        hit = self._cache.get(index)
        if hit is not None:
            return hit
        ref = self.refs[index]
        try:
            full = ref.load_video("full")
            removed = ref.load_video("removed")
            mask = quadmask.quantize(ref.load_mask())
        except video.VideoError as exc:
            raise VoidError(f"sample {ref.root}: {exc}") from exc
        if full.shape != removed.shape or mask.shape != full.shape[:3]:
            raise VoidError(
                f"sample {ref.root}: input {full.shape}, target {removed.shape} and mask {mask.shape} "
                "do not have the same frames and size"
            )
        if full.shape[0] < self.spec.frames:
            raise VoidError(
                f"sample {ref.root}: {full.shape[0]} frames, but clips of {self.spec.frames} frames were "
                "asked for (lower --frames)"
            )
        item = (full, removed, mask)
        size = full.nbytes + removed.nbytes + mask.nbytes
        if size <= self._cache_left:
            self._cache[index] = item
            self._cache_left -= size
        return item

    def clip_at(self, position: int) -> dict:
        """The augmented training clip at stream ``position``."""
        index = self.order.sample_at(position)
        rng = np.random.default_rng([self.seed, int(position), AUG_SALT])
        return self._item(index, rng, position)

    def eval_clip(self, index: int) -> dict:
        return self._item(index, None, -1)

    def _item(self, index: int, rng, position: int) -> dict:
        full, removed, mask = make_clip(*self.load(index), self.spec, rng)
        return {
            "input": video.to_tensor(full),
            "target": video.to_tensor(removed),
            "mask": torch.from_numpy(np.ascontiguousarray(mask)),
            "position": position,
            "index": index,
            "sample_id": self.refs[index].sample_id,
        }

    def __getitem__(self, key: int) -> dict:
        return self.clip_at(key) if self.augment else self.eval_clip(key)


def train_loader(
    dataset: ClipDataset, batch_size: int, rank: int, world_size: int, start_step: int, end_step: int, num_workers: int = 0
) -> torch.utils.data.DataLoader:
    """Batches for steps ``[start_step, end_step)`` of this rank, in order."""
    sampler = StepSampler(batch_size, rank, world_size, start_step, end_step)
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        persistent_workers=False,
        drop_last=False,
    )
