"""The ``command`` baseline: run an outside open-source remover once per sample.

    void baseline command --name propainter --input data/test --out preds \\
        --cmd "python inference_propainter.py -i {frames} -m {masks} -o {out} --save_frames"

Per sample, the input is laid out the way such tools read it - ``{frames}/00000.png ...``
(RGB) and ``{masks}/00000.png ...`` (8-bit, 255 = remove) - and the command runs in a shell
from the current directory with those paths (shell-quoted) filled in, under a timeout. It
must write its result into ``{out}``: numbered image files (in one folder, any depth) or one
video. The frames are checked (count and size), and the child's peak memory is taken from
the kernel's resource accounting of its process tree (``wait4``), so a tool's own launcher
processes are included but our video encoder is not.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from void import video
from void.errors import VoidError

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_EXTS = {".mp4", ".mkv", ".avi", ".mov", ".webm"}
# When a tool writes several videos (ProPainter: masked_in.mp4 and inpaint_out.mp4), the
# result is the one whose name says so.
RESULT_NAME = re.compile(r"inpaint|result|out", re.IGNORECASE)
TAIL_LINES = 15


class CommandError(VoidError, RuntimeError):
    """The outside command failed or wrote something unusable; names the sample and command."""


@dataclass
class CommandRun:
    frames: np.ndarray
    wall_time_s: float
    peak_memory_mb: float


def _natural_key(path: Path) -> tuple:
    # 2.png before 10.png: tools rarely zero-pad.
    return tuple(int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", path.name))


def _tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no output)"
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join("    " + ln for ln in kept) if kept else "    (empty)"


def layout_inputs(work: Path, frames: np.ndarray, fill: np.ndarray) -> tuple[Path, Path, Path]:
    """Write frame and binary-mask PNG folders; returns (frames_dir, masks_dir, out_dir)."""
    import cv2

    if work.exists():
        shutil.rmtree(work)
    dirs = [work / "frames", work / "masks", work / "out"]
    for d in dirs:
        d.mkdir(parents=True)
    for i, (frame, m) in enumerate(zip(frames, fill)):
        name = f"{i:05d}.png"
        if not cv2.imwrite(str(dirs[0] / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise CommandError(f"{dirs[0] / name}: could not write the frame")
        cv2.imwrite(str(dirs[1] / name), m.astype(np.uint8) * 255)
    return dirs[0], dirs[1], dirs[2]


def _run(cmd: str, cwd: Path | None, stdout: Path, stderr: Path, timeout_s: float) -> tuple[int | None, float]:
    """Run ``cmd`` in a shell in its own process group; (exit code or None on timeout, peak MB)."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        proc = subprocess.Popen(["/bin/sh", "-c", cmd], stdout=out, stderr=err, cwd=cwd, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            # wait4, not Popen.wait: it also returns the child's resource usage (peak RSS of
            # the process tree it waited for).
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -signal.SIGKILL
                return None, usage.ru_maxrss / 1024.0
            time.sleep(0.02)
    except BaseException:
        # Its own session does not get our Ctrl-C: take the whole group down with us.
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def collect_output(out_dir: Path) -> np.ndarray:
    """The frames a command wrote into ``out_dir`` (image files, or one video)."""
    import cv2

    files = [p for p in out_dir.rglob("*") if p.is_file()]
    images = [p for p in files if p.suffix.lower() in IMAGE_EXTS]
    if images:
        folders = sorted({p.parent for p in images})
        if len(folders) > 1:
            raise ValueError(f"images in several folders ({', '.join(str(f) for f in folders)}); write one sequence")
        frames = []
        for p in sorted(images, key=_natural_key):
            img = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"{p}: unreadable image")
            frames.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise ValueError(f"frames of different sizes in {folders[0]}: {sorted(shapes)}")
        return np.stack(frames)
    videos = sorted(p for p in files if p.suffix.lower() in VIDEO_EXTS)
    if len(videos) > 1:
        named = [p for p in videos if RESULT_NAME.search(p.stem)]
        if len(named) != 1:
            raise ValueError(f"several videos and none clearly the result: {', '.join(str(v) for v in videos)}")
        videos = named
    if not videos:
        listed = ", ".join(str(p.relative_to(out_dir)) for p in files[:10]) or "nothing"
        raise ValueError(f"no image frames or video in {out_dir} (found: {listed})")
    return video.read_video(videos[0])


def run_command(
    template: str,
    *,
    sample_id: str,
    frames: np.ndarray,
    fill: np.ndarray,
    fps: float,
    work: Path,
    timeout_s: float,
    keep_work: bool = False,
) -> CommandRun:
    """Lay out one sample, run the command on it, and return its checked output frames."""
    frames_dir, masks_dir, out_dir = layout_inputs(work, frames, fill)
    t, h, w = frames.shape[:3]
    fields = {"frames": frames_dir, "masks": masks_dir, "out": out_dir, "sample": sample_id, "fps": f"{fps:g}", "width": w, "height": h, "num_frames": t}
    cmd = template.format(**{k: shlex.quote(str(v)) for k, v in fields.items()})
    stdout, stderr = work / "stdout.log", work / "stderr.log"

    t0 = time.perf_counter()
    code, peak_mb = _run(cmd, None, stdout, stderr, timeout_s)
    wall = time.perf_counter() - t0

    def fail(what: str) -> CommandError:
        return CommandError(
            f"sample {sample_id}: {what}\n  command: {cmd}\n  stderr (last lines, full logs in {work}):\n{_tail(stderr)}"
        )

    if code is None:
        raise fail(f"the command did not finish within --timeout-s {timeout_s:g} and was killed")
    if code != 0:
        raise fail(f"the command exited with status {code}")
    try:
        out = collect_output(out_dir)
    except (ValueError, VoidError) as exc:
        raise fail(f"unusable output: {exc}") from None
    if out.shape[0] != t:
        raise fail(f"the command wrote {out.shape[0]} frames, the input has {t}")
    if out.shape[1:3] != (h, w):
        raise fail(f"the command wrote {out.shape[2]}x{out.shape[1]} frames, the input is {w}x{h}")
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return CommandRun(out, wall, peak_mb)


def run_job(job) -> tuple[np.ndarray, dict]:
    """``void baseline command``: the registered runner (``registry.BASELINES``)."""
    run = run_command(
        job.config.cmd,
        sample_id=job.inp.sample_id,
        frames=job.frames,
        fill=job.fill,
        fps=job.fps,
        work=job.work,
        timeout_s=job.config.timeout_s,
        keep_work=job.config.keep_work,
    )
    return run.frames, {"command_wall_time_s": run.wall_time_s, "peak_memory_mb": run.peak_memory_mb}
