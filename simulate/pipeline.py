"""One paired sample, start to finish: sample -> simulate twice -> validate -> render -> mask -> write.

:func:`run_sample` is what the executor runs in each worker. Everything about a sample
follows from its :class:`SampleTask` (the sample seed and family), so any worker, local or
on Ray, writes the same bytes. Draws that fail validation are resampled with the next
attempt number, up to ``max_attempts``; the reason counts travel back in the result and
into metadata.json.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulate import bystanders, camerawork, captions, environments, families, groundtruth, validation
from simulate.config import SimulateConfig
from simulate.families.common import Reject
from simulate.physics import SOLVER_ITERATIONS, SimResult, simulate, substeps_per_frame
from simulate.scene import SceneSpec
from void import atomic, formats
from void.errors import VoidError

GENERATOR_VERSION = "1.0"

_RENDERERS: dict[tuple, Any] = {}  # per process: GL contexts and Blender are costly to start


class SampleRejected(VoidError, RuntimeError):
    """Every draw of a sample was degenerate; the message lists the reasons."""


@dataclass(frozen=True)
class SampleTask:
    out: str
    sample_id: str
    index: int
    seed: int  # the sample seed (already split-tagged)
    family: str
    config: SimulateConfig


@dataclass
class Draw:
    scene: SceneSpec
    full: SimResult
    removed: SimResult
    attempts: int
    rejections: dict[str, int]


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg encoders are children)."""
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def renderer_for(config: SimulateConfig):
    from simulate.render import make_renderer

    threads = render_threads(config)
    key = (config.renderer, config.spp, config.denoiser, config.device, threads, config.animated_seed, config.film)
    if key not in _RENDERERS:
        _RENDERERS[key] = make_renderer(
            config.renderer, spp=config.spp, denoiser=config.denoiser, device=config.device, threads=threads,
            animated_seed=config.animated_seed, film=config.film,
        )
    return _RENDERERS[key]


def render_threads(config: SimulateConfig) -> int:
    """Cycles threads per sample: ``--threads``, or the worker's share of this machine's cores.

    On Ray each task holds one CPU, so one thread. Pixels do not depend on the thread count
    (checked by the tests), so a Ray run and a process-pool run still write the same dataset.
    """
    if config.threads:
        return config.threads
    if config.executor == "ray":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // config.workers)


def draw_rng(seed: int, attempt: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(attempt,)))


def look_rng(seed: int, attempt: int) -> np.random.Generator:
    """Draws of the footage look (set, props, camera work): apart from the family's, so the
    family samples the same action under either look."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(attempt, 1)))


def draw_scene(task: SampleTask, rejections: Counter, start_attempt: int = 0) -> Draw:
    """Sample and simulate until a draw passes the physics checks."""
    family = families.get(task.family)
    config = task.config
    for attempt in range(start_attempt, config.max_attempts):
        try:
            scene = family.sample_scene(draw_rng(task.seed, attempt), config)
        except Reject as rej:
            rejections[rej.reason] += 1
            continue
        if config.look == "footage":
            scene = environments.dress(scene, look_rng(task.seed, attempt), kinds=config.sets,
                                       camera_motion=config.camera_motion, bystander_p=config.bystanders,
                                       bystander_rng=bystanders.bystander_rng(task.seed, attempt))
        scene.seed = int(task.seed)
        scene.extras.update({"attempt": attempt, "sample_id": task.sample_id})
        full = simulate(scene)
        removed = simulate(scene, exclude_ids=scene.removed_ids)
        reason = validation.check_physics(scene, full, removed, family.INTERACTION)
        if reason:
            rejections[reason] += 1
            continue
        return Draw(scene, full, removed, attempt + 1, dict(rejections))
    raise SampleRejected(
        f"sample {task.sample_id} ({task.family}, seed {task.seed}): no valid scene in "
        f"{config.max_attempts} draws; rejections: {dict(rejections)}"
    )


def develop(views, scene: SceneSpec, *, grain: bool = True) -> None:
    """The footage look's camera response on the three views' RGB, after the mask is made
    (in place; nothing to do for a plain-look camera). ``grain=False`` for a path tracer:
    its grain, if any, is the film the renderer asks for in ``views.info["film"]``
    (``simulate.render.cycles_film``: tone curve and held grain, after the denoiser)."""
    cam = scene.camera
    noise = cam.grain if grain else 0.0
    if cam.exposure_ev or cam.vignette or noise:
        views.full.rgb, views.removed.rgb, views.hidden.rgb = camerawork.develop(
            [views.full.rgb, views.removed.rgb, views.hidden.rgb], seed=scene.seed,
            exposure_ev=cam.exposure_ev, vignette=cam.vignette, grain=noise,
        )
    film = (views.info or {}).get("film")
    if film:
        from simulate.render import cycles_film

        views.full.rgb, views.removed.rgb, views.hidden.rgb = cycles_film.develop(
            [views.full.rgb, views.removed.rgb, views.hidden.rgb], film)


def trajectory_summary(scene: SceneSpec, full: SimResult, removed: SimResult) -> list[dict]:
    disp_f, rot_f = validation.motion(full.poses)
    disp_r, rot_r = validation.motion(removed.poses)
    gap, gap_rot = validation.difference(full.poses, removed.poses)
    out = []
    for k, o in enumerate(scene.objects):
        gone = o.id in scene.removed_ids
        out.append({
            "id": o.id,
            "name": o.name,
            "role": o.role,
            "removed": gone,
            "start": full.poses[0, k].tolist(),
            "end_full": full.poses[-1, k].tolist(),
            "end_removed": None if gone else removed.poses[-1, k].tolist(),
            "max_displacement_full_m": float(disp_f[k]),
            "max_rotation_full_deg": float(rot_f[k]),
            "max_displacement_removed_m": None if gone else float(disp_r[k]),
            "max_rotation_removed_deg": None if gone else float(rot_r[k]),
            "max_gap_between_runs_m": None if gone else float(gap[k]),
            "max_rotation_gap_deg": None if gone else float(gap_rot[k]),
        })
    return out


def run_sample(task: SampleTask) -> dict:
    """Generate and write one sample; returns a summary for the dataset header.

    A sample whose draws are all degenerate is not an error worth retrying (the retry would
    draw the same scenes): it comes back as a summary with ``error`` set.
    """
    rejections: Counter = Counter()
    try:
        return _run_sample(task, rejections)
    except SampleRejected as exc:
        return {
            "sample_id": task.sample_id, "index": task.index, "family": task.family, "seed": task.seed,
            "error": str(exc), "rejections": dict(rejections), "attempts": task.config.max_attempts,
        }


def _family_check(family, draw: Draw):
    """The family's own render test, bound to the draw's full-run poses (or None)."""
    check = getattr(family, "check_render", None)
    if check is None:
        return None
    return lambda scene, views, mask: check(scene, views, mask, draw.full.poses)


def _run_sample(task: SampleTask, rejections: Counter) -> dict:
    config = task.config
    family = families.get(task.family)
    renderer = renderer_for(config)
    timings = Counter()
    start_attempt = 0
    wall0 = time.time()
    while True:
        c0 = cpu_seconds()
        draw = draw_scene(task, rejections, start_attempt)
        c1 = cpu_seconds()
        timings["physics_s"] += c1 - c0
        views = renderer.render_views(draw.scene, draw.full.poses, draw.removed.poses)
        c2 = cpu_seconds()
        timings["render_s"] += c2 - c1
        mask = groundtruth.build_quadmask(views, draw.scene.removed_ids)
        reason = validation.check_render(
            draw.scene, views, mask, family.INTERACTION, _family_check(family, draw)
        )
        timings["mask_s"] += cpu_seconds() - c2
        if reason is None:
            break
        rejections[reason] += 1
        start_attempt = draw.attempts
        if start_attempt >= config.max_attempts:
            raise SampleRejected(
                f"sample {task.sample_id} ({task.family}, seed {task.seed}): no valid scene in "
                f"{config.max_attempts} draws; rejections: {dict(rejections)}"
            )
    scene, full, removed = draw.scene, draw.full, draw.removed
    c = cpu_seconds()
    develop(views, scene, grain=config.renderer == "raster")
    timings["render_s"] += cpu_seconds() - c
    c3 = cpu_seconds()
    text = captions.caption(scene, removed.poses)
    affected = validation.affected_ids(scene, full, removed)
    metadata = {
        "generator": {"name": "void-bench simulate", "version": GENERATOR_VERSION},
        "sample_id": task.sample_id,
        "index": task.index,
        "split": config.split,
        "dataset_seed": config.seed,
        "seed": task.seed,
        "family": task.family,
        "attempts": draw.attempts,
        "rejections": dict(rejections),
        "removed_ids": list(scene.removed_ids),
        "affected_ids": affected,
        "touched_ids": sorted(full.touched_by(scene.removed_ids)),
        "first_contact_frame": full.first_contact(scene.removed_ids),
        "caption": text,
        **({"action": act} if (act := captions.action(scene, full.poses)) else {}),
        "fps": float(config.fps),
        "num_frames": scene.num_frames,
        "width": scene.width,
        "height": scene.height,
        "camera": dataclasses.asdict(scene.camera),
        "lights": [dataclasses.asdict(scene.light)] + [dataclasses.asdict(lamp) for lamp in scene.lamps],
        # optics families: the surfaces, lamps and materials that make the side effect
        "optics": scene.extras.get("optics"),
        "renderer": {**renderer.settings(), **views.info},
        "physics": {
            "engine": "pybullet",
            "physics_hz": scene.fps * substeps_per_frame(scene),
            "solver_iterations": SOLVER_ITERATIONS,
            "steps": full.steps,
        },
        "mask_stats": groundtruth.mask_stats(mask),
        "trajectories": {
            "file": formats.TRAJECTORIES,
            "layout": "(T, N, 7) [x, y, z, qx, qy, qz, qw] per frame and object (scene.objects order); NaN = absent",
            "objects": trajectory_summary(scene, full, removed),
        },
        "scene": scene.to_dict(),
    }
    timings["caption_s"] += cpu_seconds() - c3
    sample = formats.Sample(
        sample_id=task.sample_id,
        full=views.full.rgb,
        removed=views.removed.rgb,
        hidden=views.hidden.rgb,
        mask=mask,
        fps=float(config.fps),
        caption=text,
        metadata=metadata,
        trajectories={
            "full": full.poses,
            "removed": removed.poses,
            "object_ids": np.asarray([o.id for o in scene.objects], dtype=np.int32),
        },
    )
    c4 = cpu_seconds()
    final = formats.write_sample(task.out, sample)
    timings["encode_s"] += cpu_seconds() - c4
    # encoding time is known only once the sample is written: the metadata file is rewritten
    # (atomically) with it; a run killed in between leaves a complete sample without it
    metadata["timings_cpu_s"] = {k: round(v, 4) for k, v in timings.items()}
    metadata["timings_cpu_s"]["total_wall_s"] = round(time.time() - wall0, 4)
    atomic.write_json(Path(final) / formats.METADATA, metadata)
    return {
        "sample_id": task.sample_id,
        "index": task.index,
        "family": task.family,
        "seed": task.seed,
        "caption": text,
        "attempts": draw.attempts,
        "rejections": dict(rejections),
        "timings_cpu_s": metadata["timings_cpu_s"],
    }
