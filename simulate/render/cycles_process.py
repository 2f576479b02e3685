"""The Blender worker process, seen from the main process: start it, talk to it, read its renders.

:class:`Worker` starts ``python -m simulate.render.blender_worker`` for one sample (the scene
and poses go in a job folder), sends it one JSON command per line and reads one reply per
line; :class:`Result` unpacks a render command's rectangles into full-frame arrays. The
worker's environment is fixed (:func:`worker_env`) so that the same job renders the same bits
from any caller. :mod:`simulate.render.cycles` decides what to render; this module only
carries it out. It never imports ``bpy``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from void import deps
from void.errors import VoidError

if TYPE_CHECKING:  # annotations only: cycles imports this module
    from simulate.render.cycles import CyclesRenderer
    from simulate.scene import SceneSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
# What a Blender worker inherits of the caller's environment (names, and prefixes ending in
# "_"). Blender lays the job's data out by memory address (ASLR off, see blender_worker), so
# the environment block itself moves Cycles' last-bit rounding: variables that describe the
# caller (a test's name, a terminal's size, an executor's job ids) or their order would make
# the same sample render differently from one caller to the next.
WORKER_ENV = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "PYTHONHOME",
    "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "OCIO", "SYSTEMROOT", "WINDIR",
    "USERPROFILE", "APPDATA", "LOCALAPPDATA", "LC_", "XDG_", "VOID_", "BLENDER_",
    "CUDA_", "NVIDIA_", "HIP_", "ROCR_", "ONEAPI_", "SYCL_",
)
# Workers write their EXR files here when it is a writable directory: memory, not disk.
# Each render call rewrites a small EXR, and ext4 flushes a rewritten file to disk on close.
SCRATCH_ROOT = Path("/dev/shm")


class CyclesError(VoidError):
    """The Blender worker failed; the message says why and where its log is."""


def worker_env(environ) -> dict[str, str]:
    """The environment a Blender worker runs in: :data:`WORKER_ENV` of ``environ``, sorted,
    plus fixed settings. The same job then renders the same bits from any caller on a machine.

    Measured on a 672x384x49 footage sample (undenoised): two runs whose workers inherited
    the caller's environment with a random string-hash seed differed at 3-6 of its 12.6
    million pixels (by 1-3 levels); so did two runs with the same variables in another order.
    """
    keep = {k: v for k, v in environ.items()
            if k in WORKER_ENV or any(k.startswith(p) for p in WORKER_ENV if p.endswith("_"))}
    keep["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [environ.get("PYTHONPATH")])])
    # numpy's BLAS threads (the worker only does small matrix work) would spin-wait too.
    keep["OPENBLAS_NUM_THREADS"] = keep["OMP_NUM_THREADS"] = "1"
    keep["PYTHONHASHSEED"] = "0"  # Python's per-process string hashing moves allocations too
    return dict(sorted(keep.items()))


class Result:
    """One worker render command's output, unpacked into full-frame arrays.

    ``frames`` are the frame numbers of the command's entries; ``valid`` marks the pixels
    that were rendered.
    """

    def __init__(self, reply: dict, frames: list[int], height: int, width: int):
        self.cpu_s, self.renders, self.pixels = reply["cpu_s"], reply["renders"], reply["pixels"]
        self.entry_cpu_s = reply["entry_cpu_s"]
        self.frames = frames
        F = len(frames)
        self.color = np.zeros((F, height, width, 3), np.float32)
        self.ids = np.zeros((F, height, width), np.int32)
        self.depth = np.zeros((F, height, width), np.float32)
        self.valid = np.zeros((F, height, width), bool)
        with np.load(reply["out"]) as z:
            rects, color, ids, depth = z["rects"], z["color"], z["ids"], z["depth"]
            normal = z["normal"] if "normal" in z.files else None
            cf = z["cf"] if "cf" in z.files else None
        self.normal = None if normal is None else np.zeros((F, height, width, 3), np.float32)
        self.cf = None if cf is None else np.zeros((F, height, width, 3), np.float32)
        start = 0
        for k, x0, y0, x1, y1 in rects:
            h, w = y1 - y0, x1 - x0
            stop = start + h * w
            self.color[k, y0:y1, x0:x1] = color[start:stop].reshape(h, w, 3)
            if normal is not None:
                self.normal[k, y0:y1, x0:x1] = normal[start:stop].reshape(h, w, 3)
            if cf is not None:
                self.cf[k, y0:y1, x0:x1] = cf[start:stop].reshape(h, w, 3)
            self.ids[k, y0:y1, x0:x1] = ids[start:stop].reshape(h, w)
            self.depth[k, y0:y1, x0:x1] = depth[start:stop].reshape(h, w)
            self.valid[k, y0:y1, x0:x1] = True
            start = stop

    def spread(self, plan: list[tuple], within: np.ndarray | None = None) -> "Result":
        """This result over every frame its entries serve (``plan`` from :func:`_plan`, in the
        order rendered): each frame gets its entry's pixels, valid only inside ``within[t]``
        where given. A frame served alone was rendered over its own rectangles: as it is."""
        if all(len(ts) == 1 for _, _, ts in plan):
            return self
        served = sorted((t, k) for k, (_, _, ts) in enumerate(plan) for t in ts)
        out = object.__new__(Result)
        out.cpu_s, out.renders, out.pixels, out.entry_cpu_s = self.cpu_s, self.renders, self.pixels, self.entry_cpu_s
        out.frames = [t for t, _ in served]
        idx = np.asarray([k for _, k in served])
        out.color, out.ids, out.depth, out.valid = self.color[idx], self.ids[idx], self.depth[idx], self.valid[idx]
        out.normal = None if self.normal is None else self.normal[idx]
        out.cf = None if self.cf is None else self.cf[idx]
        if within is not None:
            out.valid &= within[out.frames]
        return out


class Worker:
    """A Blender worker process for one sample, spoken to one JSON line at a time."""

    def __init__(self, renderer: CyclesRenderer, scene: SceneSpec, pf: np.ndarray, pr: np.ndarray,
                 lens: dict | None = None):
        self.renderer, self.scene, self.pf, self.pr, self.lens = renderer, scene, pf, pr, lens
        self.proc: subprocess.Popen | None = None
        self.dir: Path | None = None
        self.scratch: Path | None = None
        self.ready: dict = {}
        self._n = 0
        self._keep = renderer.keep_workdir

    def __enter__(self) -> "Worker":
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)  # `with` does not call it when __enter__ fails
            raise
        return self

    def _start(self) -> None:
        r = self.renderer
        self.dir = Path(tempfile.mkdtemp(prefix="void-cycles-", dir=r.workdir))
        self.scratch = self.dir
        if SCRATCH_ROOT.is_dir() and os.access(SCRATCH_ROOT, os.W_OK | os.X_OK):
            self.scratch = Path(tempfile.mkdtemp(prefix="void-cycles-exr-", dir=SCRATCH_ROOT))
        job = {
            "scene": self.scene.to_dict(),
            "spp": r.spp,
            "signature_spp": r.signature_spp,
            "denoiser": r.denoiser,
            "device": r.device,
            "threads": r.threads,
            "seed": int(self.scene.seed),
            "animated_seed": r.animated_seed,
            "caustics": r.caustics,
            "lens": self.lens,
            "scratch": str(self.scratch),
        }
        (self.dir / "job.json").write_text(json.dumps(job))
        np.savez(self.dir / "poses.npz", full=self.pf, removed=self.pr)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulate.render.blender_worker", str(self.dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=worker_env(os.environ),
        )
        self.ready = self._receive()

    def render(self, kind: str, view: str, frames: list[tuple[int, list | None]], seed_offset: int = 0,
               counterfactual: bool = False) -> Result:
        self._n += 1
        cmd = {"op": "render", "pass": kind, "view": view, "frames": frames, "out": f"{self._n:02d}_{kind}_{view}.npz",
               "seed_offset": seed_offset, "counterfactual": counterfactual}
        if not frames:  # nothing to render: an empty result, no round trip
            return EmptyResult()
        self._send(cmd)
        return Result(self._receive(), [t for t, _ in frames], self.scene.height, self.scene.width)

    def close(self) -> float:
        """End the worker; its total CPU seconds (all threads, start-up included)."""
        self._send({"op": "quit"})
        total = float(self._receive()["cpu_s_total"])
        self.proc.wait(timeout=60)
        return total

    def _send(self, msg: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self._fail("the Blender worker exited unexpectedly")

    def _receive(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            self._fail(f"the Blender worker exited with status {self.proc.returncode}")
        reply = json.loads(line)
        if not reply.get("ok"):
            if reply.get("kind") == "MissingDependency":
                raise deps.MissingDependency(reply["error"])
            self._fail(reply["error"])
        return reply

    def _fail(self, why: str):
        self._keep = True  # leave the log for the user
        log = self.dir / "blender.log"
        tail = ""
        if log.is_file():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise CyclesError(f"Cycles render failed: {why}. Worker log: {log}\n{tail}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream:
                    stream.close()
        if self.scratch is not None and self.scratch != self.dir:
            shutil.rmtree(self.scratch, ignore_errors=True)  # only EXR files: never kept
        if self.dir is not None and not self._keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class EmptyResult(Result):
    def __init__(self):
        self.cpu_s, self.renders, self.pixels, self.frames, self.entry_cpu_s = 0.0, 0, 0, [], []
        self.color = self.ids = self.depth = self.valid = self.normal = self.cf = None
