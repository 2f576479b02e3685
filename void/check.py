"""``void check DIR``: validate a dataset directory, ours or VOID's, before anyone trains on it.

Understands three layouts: our dataset directory (``dataset.json`` + ``manifest.json``),
VOID's training layout (a ``manifest.json`` of ``video_mask_tuple`` entries whose
``file_path`` is relative to the dataset's parent) and VOID's inference layout
(``ROOT/<seq>/input_video.mp4`` + quadmask + ``prompt.json``, or one such folder). Every
problem is reported as ``path: what is wrong``; the exit status is 1 when there is any.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from void import formats, quadmask, video
from void.errors import ConfigError


@dataclass
class CheckConfig:
    path: str = field(default="", metadata={"help": "dataset directory or VOID folder", "positional": True, "required": True})
    decode: bool = field(default=True, metadata={"help": "decode every video (finds corrupt/truncated files)"})
    max_problems: int = field(default=200, metadata={"help": "stop listing after this many problems"})
    quiet: bool = field(default=False, metadata={"help": "print only problems"})

    def __post_init__(self):
        if not self.path:
            raise ConfigError("check needs a DIR")
        if self.max_problems < 1:
            raise ConfigError("--max-problems must be at least 1")


@dataclass
class Report:
    root: Path
    layout: str = "unknown"
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def problem(self, where: Path | str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def warn(self, where: Path | str, what: str) -> None:
        self.warnings.append(f"{where}: {what}")

    @property
    def ok(self) -> bool:
        return not self.problems


def _load_json(path: Path, report: Report):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.problem(path, "missing")
    except json.JSONDecodeError as exc:
        report.problem(path, f"invalid JSON ({exc.msg} at line {exc.lineno})")
    return None


def _check_videos(report: Report, rgb: dict[str, Path], mask: Path, decode: bool, expect_frames: int | None) -> None:
    """All videos exist, decode, share size and length; the mask holds only the four values."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, path in list(rgb.items()) + [("mask", mask)]:
        if not path.is_file():
            report.problem(path, "missing file")
            continue
        if path.stat().st_size == 0:
            report.problem(path, "empty file")
            continue
        try:
            if not decode:
                info = video.video_info(path)
                shapes[name] = (info.num_frames, info.height, info.width)
            elif name == "mask":
                raw = video.read_video(path)[..., 0]
                bad = quadmask.invalid_values(raw)
                if bad:
                    shown = ", ".join(map(str, bad[:8])) + (" ..." if len(bad) > 8 else "")
                    report.problem(path, f"mask values outside the four {quadmask.VALUES}: {shown}")
                shapes[name] = raw.shape
            else:
                shapes[name] = video.read_video(path).shape[:3]
        except video.VideoError as exc:
            report.problem(path, str(exc).split(": ", 1)[-1])
    if len({s[1:] for s in shapes.values()}) > 1:
        sizes = ", ".join(f"{k} {s[2]}x{s[1]}" for k, s in shapes.items())
        report.problem(mask.parent, f"size mismatch ({sizes})")
    if len({s[0] for s in shapes.values()}) > 1:
        counts = ", ".join(f"{k} {s[0]}" for k, s in shapes.items())
        report.problem(mask.parent, f"frame-count mismatch ({counts})")
    elif expect_frames is not None and shapes and next(iter(shapes.values()))[0] != expect_frames:
        got = next(iter(shapes.values()))[0]
        report.problem(mask.parent, f"frame-count mismatch: metadata says {expect_frames}, videos have {got} (truncated?)")


def _check_training_layout(report: Report, root: Path, decode: bool, max_problems: int) -> None:
    manifest = _load_json(root / formats.MANIFEST, report) if (root / formats.MANIFEST).exists() else None
    header = None
    if (root / formats.HEADER).exists():
        header = _load_json(root / formats.HEADER, report)
        if isinstance(header, dict) and header.get("format_version", 0) > formats.FORMAT_VERSION:
            report.problem(root / formats.HEADER, f"format version {header['format_version']} is newer than this tool reads")
    ours = header is not None
    report.layout = "void-bench dataset" if ours else "VOID training manifest"
    if manifest is None:
        if not (root / formats.MANIFEST).exists():
            report.problem(root / formats.MANIFEST, "missing")
        return
    if not isinstance(manifest, list):
        report.problem(root / formats.MANIFEST, "expected a JSON list of entries")
        return
    listed = set()
    for i, entry in enumerate(manifest):
        if len(report.problems) >= max_problems:
            report.warn(root, f"stopped after {max_problems} problems")
            break
        where = f"{root / formats.MANIFEST} entry {i}"
        if not isinstance(entry, dict) or not entry.get("file_path"):
            report.problem(where, "no file_path")
            continue
        if not str(entry.get("text", "")).strip():
            report.problem(where, "missing or empty text (the caption VOID trains with)")
        if entry.get("type") != formats.MANIFEST_TYPE:
            report.problem(where, f"type is {entry.get('type')!r}, expected {formats.MANIFEST_TYPE!r}")
        # VOID resolves file_path from the directory its training script runs in: our
        # convention is the dataset's parent.
        sample_dir = root.parent / entry["file_path"]
        if not sample_dir.is_dir():
            report.problem(where, f"folder {entry['file_path']} not found (file_path is relative to {root.parent})")
            continue
        listed.add(sample_dir.resolve())
        expect = None
        rgb = {"full": sample_dir / formats.RGB_FULL, "removed": sample_dir / formats.RGB_REMOVED}
        if ours:
            rgb["hidden"] = sample_dir / formats.RGB_HIDDEN
            meta = _load_json(sample_dir / formats.METADATA, report)
            if isinstance(meta, dict):
                expect = meta.get("num_frames")
            for which, rel in formats.LOSSLESS.items():
                if (sample_dir / rel).is_file():
                    rgb[f"lossless {which}"] = sample_dir / rel
                else:
                    report.problem(sample_dir / rel, "missing file (lossless ground truth for scoring)")
        _check_videos(report, rgb, sample_dir / formats.MASK, decode, expect)
        report.checked += 1
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name.startswith(".") and ".partial" in child.name:
            report.warn(child, "leftover of an interrupted write (rerun the generator to clean up)")
        elif child.is_dir() and (child / formats.MASK).exists() and child.resolve() not in listed:
            report.warn(child, "sample folder not listed in manifest.json")
    if ours and isinstance(header, dict) and "samples" in header and len(header["samples"]) != len(manifest):
        report.warn(root / formats.HEADER, f"lists {len(header['samples'])} samples, manifest {len(manifest)}")


def _check_inference_layout(report: Report, root: Path, decode: bool) -> None:
    report.layout = "VOID inference layout"
    seqs = [root] if (root / formats.VOID_INPUT).is_file() else sorted(
        p for p in root.iterdir() if p.is_dir() and (p / formats.VOID_INPUT).is_file()
    )
    for seq in seqs:
        try:
            mask = formats.find_void_mask(seq)
        except formats.FormatError as exc:
            report.problem(seq, str(exc).split(": ", 1)[-1])
            mask = None
        try:
            formats.read_void_prompt(seq)
        except formats.FormatError as exc:
            report.problem(seq / formats.VOID_PROMPT, str(exc).split(": ", 1)[-1])
        if mask is not None:
            _check_videos(report, {"input": seq / formats.VOID_INPUT}, mask, decode, None)
        report.checked += 1


def run_checks(path: str | Path, *, decode: bool = True, max_problems: int = 200) -> Report:
    root = Path(path)
    report = Report(root)
    if not root.is_dir():
        report.problem(root, "not a directory")
        return report
    if formats.is_dataset_dir(root):
        _check_training_layout(report, root, decode, max_problems)
    elif (root / formats.VOID_INPUT).is_file() or any(
        (p / formats.VOID_INPUT).is_file() for p in root.iterdir() if p.is_dir()
    ):
        _check_inference_layout(report, root, decode)
    else:
        report.problem(
            root,
            f"not a dataset: no {formats.MANIFEST}/{formats.HEADER} and no <seq>/{formats.VOID_INPUT}",
        )
    if report.checked == 0 and report.ok:
        report.problem(root, "no samples found")
    return report


def check(config: CheckConfig) -> int:
    report = run_checks(config.path, decode=config.decode, max_problems=config.max_problems)
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for p in report.problems:
        print(f"error: {p}", file=sys.stderr)
    if not config.quiet or not report.ok:
        status = "OK" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"{report.root} ({report.layout}): {report.checked} sample(s) checked, {status}")
    return 0 if report.ok else 1
