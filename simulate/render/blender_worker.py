"""The Blender side of the Cycles renderer: one process per sample, driven over a pipe.

Started by :class:`simulate.render.cycles.CyclesRenderer` as::

    python -m simulate.render.blender_worker JOB_DIR

``JOB_DIR/job.json`` holds the scene spec and render settings (and ``scratch``, the directory
for the EXR files, else ``JOB_DIR``), ``JOB_DIR/poses.npz`` the full and counterfactual
poses. The worker builds the scene once, answers ``ready``, then reads one JSON command per
line on stdin and answers one JSON line each (on the original stdout; Blender's warnings and
errors go to ``JOB_DIR/blender.log``, its progress lines nowhere). A fresh process per
sample means no Blender state (datablocks, caches, the persistent BVH) leaks into the next
sample.

Command ``{"op": "render", "pass": "beauty"|"signature", "view": "full"|"hidden"|"removed",
"frames": [[frame, [[x0, y0, x1, y1], ...] or null], ...], "out": "name.npz"}`` (optional
``"seed_offset"``: another beauty seed, for independent-noise references) renders each
rectangle (null: the whole frame) as a Cycles render border into multilayer EXR, reads the
Combined, object-index and Z passes back with OpenEXR (pixels cannot be read from 'Render
Result' in background mode) and saves ``out``: ``rects`` (K, 5) int32 rows of (index into
``frames``, x0, y0, x1, y1) and, for those rectangles' pixels one after the other in row-major
order, ``color`` (P, 3) float32 linear, ``ids`` (P,) int32, ``depth`` (P,) float32 and, for
the signature pass, ``normal`` (P, 3) float32. The reply gives the CPU seconds of the
command and of each entry of ``frames`` (``entry_cpu_s``). With ``"counterfactual": true``
(whole-frame beauty renders of the full view, in scenes whose removed objects give light) it
also saves ``cf`` (P, 3): the render with the removed objects' light taken out, from the light
group :data:`GONE_GROUP` (:meth:`Session.counterfactual`); ``ready`` says whether the scene
has such a group (``gone_light``).
``{"op": "quit"}`` ends the session.

This module and :mod:`simulate.render.blender_scene` are the only ones that touch ``bpy``
(and ``OpenEXR``), both imported through :func:`void.deps.require`.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from simulate.render import blender_motion, blender_optics, blender_scene
from simulate.scene import SceneSpec
from void import deps

# The signature pass always uses this Cycles seed, in every view and frame: with equal
# inputs Cycles then traces the same rays and returns bit-identical pixels.
SIGNATURE_SEED = 0
GPU_BACKENDS = ("OPTIX", "CUDA")
ADDR_NO_RANDOMIZE = 0x0040000  # linux/personality.h
_REEXEC_ENV = "VOID_CYCLES_WORKER_NO_ASLR"
# oneTBB's ABI entry that registers a tbb::global_control (stable across oneTBB 2021+).
_TBB_CREATE = "_ZN3tbb6detail2r16createERNS0_2d114global_controlE"
# The light group of everything that gives light and goes with the removed objects: lamps they
# carry and their own glow. Cycles writes its share of each pixel as the pass Combined_<name>.
GONE_GROUP = "gone"


class Session:
    def __init__(self, bpy, exr, job: dict, poses: dict[str, np.ndarray], job_dir: Path):
        self.bpy, self.exr, self.job, self.dir = bpy, exr, job, job_dir
        self.scratch = Path(job.get("scratch") or job_dir)  # where the EXR files go
        self.spec = SceneSpec.from_dict(job["scene"])
        self.poses = poses
        self.lens = job.get("lens")  # depth of field and motion blur (cycles_lens), or None
        self.bs = blender_scene.build(bpy, self.spec)
        self.gpu_backend = None
        if job["device"] == "gpu":
            self.gpu_backend = _enable_gpu(bpy)
        self._configure()
        self.gone_light = self._gone_light_group()

    # ------------------------------------------------------------------ settings
    def _configure(self) -> None:
        sc, spec, job = self.bs.scene, self.spec, self.job
        sc.render.engine = "CYCLES"
        sc.render.resolution_x, sc.render.resolution_y = spec.width, spec.height
        sc.render.resolution_percentage = 100
        sc.render.film_transparent = False
        sc.render.use_persistent_data = True
        sc.render.use_motion_blur = False
        sc.render.use_crop_to_border = True
        if job.get("threads"):
            sc.render.threads_mode = "FIXED"
            sc.render.threads = int(job["threads"])
        # We write linear EXR and apply the sRGB transfer ourselves; Standard = that curve.
        sc.display_settings.display_device = "sRGB"
        sc.view_settings.view_transform = "Standard"
        sc.view_settings.look = "None"
        cy = sc.cycles
        cy.use_adaptive_sampling = False  # fixed cost, and the same samples in every view
        cy.use_animated_seed = False
        cy.caustics_reflective = False
        cy.caustics_refractive = False
        # light bent by glass onto surfaces: shadow caustics (MNEE; it turns refractive caustics
        # back on in scenes with glass), not path-traced caustics from the small sun
        blender_optics.shadow_caustics(self.bpy, self.bs, spec, bool(job.get("caustics", True)))
        cy.sample_clamp_indirect = 10.0  # fireflies from bounces, not from direct light
        cy.pixel_filter_type = "BLACKMAN_HARRIS"
        cy.filter_width = 1.5
        settings = sc.render.image_settings
        if hasattr(settings, "media_type"):  # Blender 5.0 needs it before the format
            settings.media_type = "MULTI_LAYER_IMAGE"
        settings.file_format = "OPEN_EXR_MULTILAYER"
        settings.color_depth = "32"
        settings.exr_codec = "NONE"
        layer = sc.view_layers[0]
        layer.use_pass_combined = True
        layer.use_pass_z = True
        layer.use_pass_object_index = True
        if self.lens:
            # The footage look's lens: the beauty pass opens the aperture and the shutter
            # (_use_pass), keyed per frame by blender_motion.set_motion; keys interpolate
            # linearly and the camera turns by quaternions.
            self.bpy.context.preferences.edit.keyframe_new_interpolation_type = "LINEAR"
            self.bs.camera.rotation_mode = "QUATERNION"
            self.bs.camera.data.dof.aperture_fstop = float(self.lens["fstop"])
            sc.render.motion_blur_shutter = float(self.lens["shutter_frames"])
            sc.render.motion_blur_position = "CENTER"

    def _gone_light_group(self) -> bool:
        """Put the lamps the removed objects carry, and the removed objects themselves (their
        glow), in the light group :data:`GONE_GROUP`; False when they give no light.

        Light adds up: every path Cycles traces ends at one emitter, and the light group pass
        sums the paths that end at its members (direct and bounced, in every view of the
        pixel's filter, lens and shutter). The full render minus that pass is an unbiased
        render of the scene without that light, with the full render's samples; it is only
        the counterfactual where the removed objects change nothing else (no geometry, no
        shadow, no bounce off them): the renderer decides where, from the signature.
        Compositing (the subtraction, and the denoiser after it) runs only in commands that
        ask for it (:meth:`counterfactual`)."""
        if not hasattr(self.bs.scene, "node_tree"):  # Blender 5 moved the compositor: not wired up
            return False
        removed = set(self.spec.removed_ids)
        glowing = [o.id for o in self.spec.objects if o.id in removed and o.emission > 0]
        members = [obj for obj, carrier in self.bs.lamps if carrier in removed]
        # an object's anchor shares its mesh and glow (never seen, but in the group with it)
        members += [self.bs.objects[i] for i in glowing] + [self.bs.anchors[i] for i in glowing]
        if not members:
            return False
        layer = self.bs.scene.view_layers[0]
        layer.lightgroups.add(name=GONE_GROUP)
        for obj in members:
            obj.lightgroup = GONE_GROUP
        if self.job["denoiser"]:
            layer.cycles.denoising_store_passes = True  # the noisy image and the denoiser's guides
        return True

    def counterfactual(self, on: bool) -> None:
        """Composite the full render minus the :data:`GONE_GROUP` pass into the EXR's Composite
        layer (or stop). With the denoiser, the difference is denoised like the beauty, by
        OpenImageDenoise with albedo and normal guides, but with the guides prefiltered the
        fast way: the compositor's node with Cycles' own (accurate) prefilter gives exactly
        Cycles' pixels on the same input but costs about three times Cycles' own denoising of
        the frame, more than re-rendering the lamp's light saves at 8 spp; the fast prefilter
        costs about a third of that and differs from it by 0.35 levels on average."""
        sc = self.bs.scene
        if sc.render.use_compositing != on or sc.use_nodes != on:  # written only when it changes
            sc.use_nodes = on
            sc.render.use_compositing = on
        if not on:
            return
        tree = sc.node_tree
        if not tree.nodes.get("void_cf"):
            for node in list(tree.nodes):
                tree.nodes.remove(node)
            layers = tree.nodes.new("CompositorNodeRLayers")
            minus = tree.nodes.new("CompositorNodeMixRGB")
            minus.name = "void_cf"
            minus.blend_type, minus.use_clamp = "SUBTRACT", False
            minus.inputs[0].default_value = 1.0
            out = tree.nodes.new("CompositorNodeComposite")
            noisy = "Noisy Image" if self.job["denoiser"] else "Image"
            tree.links.new(layers.outputs[noisy], minus.inputs[1])
            tree.links.new(layers.outputs[f"Combined_{GONE_GROUP}"], minus.inputs[2])
            if self.job["denoiser"]:
                denoise = tree.nodes.new("CompositorNodeDenoise")
                denoise.use_hdr = True
                denoise.prefilter = "FAST"
                tree.links.new(minus.outputs[0], denoise.inputs["Image"])
                tree.links.new(layers.outputs["Denoising Normal"], denoise.inputs["Normal"])
                tree.links.new(layers.outputs["Denoising Albedo"], denoise.inputs["Albedo"])
                tree.links.new(denoise.outputs[0], out.inputs["Image"])
            else:
                tree.links.new(minus.outputs[0], out.inputs["Image"])

    def _use_pass(self, kind: str) -> None:
        """Switch between the beauty look and the signature look (same geometry).

        The signature pass is what change detection compares exactly. It is lit by the sun
        alone (black world), direct light only (no bounces), on the coded signature material
        (blender_scene), with a fixed seed and always on the CPU. Then (1) equal inputs give bit-identical
        pixels: same seed, same rays, and no GPU atomics reordering float sums; (2) a pixel
        can only change if its camera rays or its sun rays meet a changed object, which
        bounds where it must be rendered (see blender_regions) and keeps bounce noise and
        sky sampling out of the mask by construction; (3) its pixel filter is the beauty
        pass's, so a pixel whose footprint is partly covered by a changed object changes too.
        """
        sc, job, bs = self.bs.scene, self.job, self.bs
        cy = sc.cycles
        layer = sc.view_layers[0]
        if kind == "beauty":
            sc.world = bs.beauty_world
            layer.material_override = None
            cy.samples = int(job["spp"])
            cy.max_bounces, cy.diffuse_bounces, cy.glossy_bounces = 6, 3, 3
            cy.transmission_bounces, cy.volume_bounces, cy.transparent_max_bounces = 2, 0, 4
            cy.use_denoising = bool(job["denoiser"])
            if cy.use_denoising:
                cy.denoiser = "OPENIMAGEDENOISE"
                cy.denoising_input_passes = "RGB_ALBEDO_NORMAL"
            cy.device = "GPU" if self.gpu_backend else "CPU"
            cy.use_light_tree = True
            layer.use_pass_normal = False
            blender_scene.set_lamps(bs, True)
            sc.render.use_motion_blur = bool(self.lens)
            bs.camera.data.dof.use_dof = bool(self.lens)
        elif kind == "signature":
            sc.world = bs.signature_world
            layer.material_override = bs.signature_material
            cy.samples = int(job["signature_spp"])
            cy.max_bounces = 0
            if self.spec.mirrors:  # one sharp bounce off the mirrors (blender_scene._signature_material)
                cy.max_bounces, cy.glossy_bounces, cy.diffuse_bounces, cy.transmission_bounces = 1, 1, 0, 0
                cy.transparent_max_bounces = 0
            blender_scene.set_lamps(bs, False)  # lamp light is an analytic channel
            sc.render.use_motion_blur = False  # sharp, at the shutter's middle, through a pinhole
            bs.camera.data.dof.use_dof = False
            blender_motion.clear_motion(bs)
            cy.use_denoising = False
            cy.device = "CPU"
            cy.use_light_tree = False  # one sun: nothing to choose, and 30 % faster
            cy.seed = SIGNATURE_SEED
            # Shading normals (footprint-averaged): a turned face changes its glossy
            # highlights long before its diffuse shading shows it.
            layer.use_pass_normal = True
        else:
            raise ValueError(f"unknown pass {kind!r}")

    def _set_view(self, view: str, frame: int, kind: str = "signature") -> None:
        removed = set(self.spec.removed_ids)
        if view not in ("full", "hidden", "removed"):
            raise ValueError(f"unknown view {view!r}")
        poses = self.poses["removed" if view == "removed" else "full"]
        blender_scene.set_poses(self.bs, poses[frame], set() if view == "full" else removed)
        blender_scene.set_camera(self.bs, self.spec, frame)
        if self.lens and kind == "beauty":
            blender_motion.set_focus(self.bs, self.spec, frame)
            blender_motion.set_motion(self.bs, self.spec, poses, frame, float(self.lens["shutter_frames"]))

    # -------------------------------------------------------------------- render
    def render(self, cmd: dict) -> dict:
        kind, view = cmd["pass"], cmd["view"]
        W, H = self.spec.width, self.spec.height
        self._use_pass(kind)
        sc = self.bs.scene
        want_cf = bool(cmd.get("counterfactual")) and self.gone_light
        if want_cf and (kind != "beauty" or view != "full" or any(r is not None for _, r in cmd["frames"])):
            raise ValueError("the counterfactual is taken from whole-frame beauty renders of the full view only")
        self.counterfactual(want_cf)
        rects, color, ids, depth, normal, cf, entry_cpu = [], [], [], [], [], [], []
        pixels = 0
        t0 = time.process_time()
        for k, (frame, frame_rects) in enumerate(cmd["frames"]):
            t_entry = time.process_time()
            self._set_view(view, int(frame), kind)
            sc.frame_current = int(frame)
            if kind == "beauty":
                # The same seed in every view: re-rendered pixels whose paths never meet a
                # change come out equal to the full render's. And, unless animated_seed, in
                # every frame (Blender's default): frames showing the same scene render alike.
                offset = int(cmd.get("seed_offset", 0)) * 1000003
                step = int(frame) if self.job.get("animated_seed") else 0
                sc.cycles.seed = (int(self.job["seed"]) * 7919 + step + offset) % (2**31 - 1)
            for rect in frame_rects if frame_rects is not None else [None]:
                x0, y0, x1, y1 = rect if rect is not None else (0, 0, W, H)
                out = self._render_rect(rect, self.scratch / f"r{len(rects) % 2}.exr")
                if out["color"].shape[:2] != (y1 - y0, x1 - x0):
                    raise RuntimeError(
                        f"render border {rect} came back {out['color'].shape[:2]}, expected {(y1 - y0, x1 - x0)}"
                    )
                rects.append((k, x0, y0, x1, y1))
                color.append(out["color"].reshape(-1, 3))
                ids.append(out["ids"].reshape(-1))
                depth.append(out["depth"].reshape(-1))
                if "normal" in out:
                    normal.append(out["normal"].reshape(-1, 3))
                if want_cf:
                    cf.append(out["composite"].reshape(-1, 3))
                pixels += (y1 - y0) * (x1 - x0)
            entry_cpu.append(time.process_time() - t_entry)
        cpu = time.process_time() - t0
        path = self.dir / cmd["out"]
        # Packed: only the rendered rectangles, row-major one after the other.
        np.savez(
            path,
            rects=np.asarray(rects, np.int32).reshape(-1, 5),
            color=np.concatenate(color) if color else np.zeros((0, 3), np.float32),
            ids=np.concatenate(ids) if ids else np.zeros(0, np.int32),
            depth=np.concatenate(depth) if depth else np.zeros(0, np.float32),
            **({"normal": np.concatenate(normal)} if normal else {}),
            **({"cf": np.concatenate(cf)} if cf else {}),
        )
        return {"ok": True, "cpu_s": cpu, "entry_cpu_s": entry_cpu, "renders": len(rects), "pixels": pixels,
                "out": str(path)}

    def _render_rect(self, rect, path: Path) -> dict:
        sc = self.bs.scene
        W, H = self.spec.width, self.spec.height
        if rect is None:
            sc.render.use_border = False
        else:
            # Blender turns the border into pixels by truncating border * size; half-pixel
            # offsets make the truncation land exactly on our integer edges.
            x0, y0, x1, y1 = rect
            sc.render.use_border = True
            sc.render.border_min_x = (x0 + 0.5) / W
            sc.render.border_max_x = min(1.0, (x1 + 0.5) / W)
            sc.render.border_min_y = (H - y1 + 0.5) / H  # Blender's y grows upwards
            sc.render.border_max_y = min(1.0, (H - y0 + 0.5) / H)
        sc.render.filepath = str(path)
        self.bpy.ops.render.render(write_still=True)
        return read_exr(self.exr, path)


def _lens_report(session: "Session") -> dict:
    """What Blender's camera and render settings say about depth of field and motion blur
    in the beauty pass, read back from Blender (not from the job)."""
    session._use_pass("beauty")
    sc, cam = session.bs.scene, session.bs.camera.data
    out = {"use_dof": bool(cam.dof.use_dof), "use_motion_blur": bool(sc.render.use_motion_blur)}
    if session.lens:
        out.update(aperture_fstop=float(cam.dof.aperture_fstop), motion_blur_shutter=float(sc.render.motion_blur_shutter),
                   motion_blur_position=str(sc.render.motion_blur_position))
    return out


def read_exr(exr, path: Path) -> dict:
    """Combined RGB, object index, Z (and Normal and the compositor's result, if written) of a
    Blender multilayer EXR (any number of parts)."""
    found = {}
    with exr.File(str(path)) as f:
        for part in f.parts:
            for name, channel in part.channels.items():
                found[name] = np.asarray(channel.pixels)
    composite = {n: found.pop(n) for n in list(found) if n.startswith("Composite.")}

    def pick(suffixes):
        for name, px in found.items():
            if any(name.endswith(s) for s in suffixes):
                return px
        raise KeyError(f"{path}: no channel ending in {suffixes}; found {sorted(found)}")

    def vector(name, parts):
        grouped = [px for n, px in found.items() if n.endswith(f".{name}") and px.ndim == 3]
        if grouped:
            px = grouped[0]
        else:  # written one channel per name (e.g. Normal.X, Normal.Y, Normal.Z)
            px = np.stack([pick((f".{name}.{c}",)) for c in parts], -1)
        return px[..., : len(parts)].astype(np.float32)

    out = {
        "color": vector("Combined", "RGB"),
        "ids": np.rint(pick((".IndexOB.X", ".IndexOB", "IndexOB"))).astype(np.int32),
        "depth": pick((".Depth.Z", ".Depth", "Depth.Z")).astype(np.float32),
    }
    if any(name.split(".", 1)[-1].startswith("Normal") for name in found):  # not "Denoising Normal"
        out["normal"] = vector("Normal", "XYZ")
    if composite:
        px = composite.get("Composite.Combined")
        if px is None or px.ndim != 3:
            raise KeyError(f"{path}: no RGBA Composite.Combined; found {sorted(composite)}")
        out["composite"] = px[..., :3].astype(np.float32)
    return out


def _enable_gpu(bpy) -> str:
    """Select the first of OptiX / CUDA that has a device; raise a clear error otherwise."""
    prefs = bpy.context.preferences.addons["cycles"].preferences
    tried = []
    for backend in GPU_BACKENDS:
        try:
            prefs.compute_device_type = backend
        except TypeError:  # this Blender build lacks the backend
            tried.append(f"{backend}: not built in")
            continue
        prefs.get_devices()
        devices = [d for d in prefs.devices if d.type == backend]
        if devices:
            for d in prefs.devices:
                d.use = d.type == backend
            return backend
        tried.append(f"{backend}: no device")
    raise RuntimeError(
        "device 'gpu' asked for, but Blender's Cycles finds no CUDA or OptiX GPU ("
        + "; ".join(tried)
        + "). Use device 'cpu' (--device cpu) on this machine."
    )


# --------------------------------------------------------------------------- protocol


def _reexec_without_aslr(argv: list[str]) -> None:
    """Restart this process with address-space randomisation off, where Linux allows it.

    Blender/Cycles orders some scene data by memory address, so the same job renders with
    last-bit float differences from one process to the next (measured: ~50 pixels of a
    128x128 signature pass differ by 1e-7; none with ASLR off, however many threads). Within
    one process the views are always consistent; this makes separate runs bit-identical
    too. It only weakens exploit mitigation for a process that renders our own scene files.
    Where the kernel refuses (e.g. a container's seccomp policy), we run as we are.
    """
    if os.environ.get(_REEXEC_ENV) or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        current = libc.personality(0xFFFFFFFF)
        if current == -1 or current & ADDR_NO_RANDOMIZE:
            return
        if libc.personality(current | ADDR_NO_RANDOMIZE) == -1:
            return
    except (OSError, AttributeError):
        return
    os.environ[_REEXEC_ENV] = "1"
    os.execv(sys.executable, [sys.executable, "-m", "simulate.render.blender_worker", *argv])


class _GlobalControl(ctypes.Structure):
    """oneTBB's ``tbb::global_control`` object: value, a reserved word, the parameter."""

    _fields_ = [("value", ctypes.c_size_t), ("reserved", ctypes.c_ssize_t), ("parameter", ctypes.c_int)]


MAX_ALLOWED_PARALLELISM = 0  # tbb::global_control::max_allowed_parallelism
_TBB_CONTROL: list = []  # the registered control and its library, alive for the whole process


def _limit_tbb(threads: int) -> bool:
    """Cap the threads of Blender's task scheduler at ``threads`` before ``bpy`` starts it.

    Cycles' own ``threads`` setting only sizes its render arena; the scheduler's other
    worker threads stay and wait for work by spinning on ``sched_yield``, each burning a
    whole core while a render runs (measured on 2 cores: 1-thread renders cost 2 CPU-s per
    second of wall time; the small border renders of a sample cost about 40% more CPU with
    2 threads than with 1 and this cap). Registering a ``global_control`` before the first
    parallel work means the extra threads are never made; it and its library are kept in
    ``_TBB_CONTROL`` for the life of the process. False where bpy's bundled oneTBB cannot be
    found: then the process runs as it would anyway.
    """
    spec = importlib.util.find_spec("bpy")
    lib = Path(spec.origin).parent / "lib" / "libtbb.so.12" if spec and spec.origin else None
    if threads <= 0 or lib is None or not lib.is_file():
        return False
    try:
        tbb = ctypes.CDLL(str(lib))
        create = getattr(tbb, _TBB_CREATE)
    except (OSError, AttributeError):
        return False
    control = _GlobalControl(threads, 0, MAX_ALLOWED_PARALLELISM)
    create(ctypes.byref(control))
    _TBB_CONTROL[:] = [tbb, control]
    return True


def _aslr_off() -> bool:
    try:
        return bool(ctypes.CDLL(None).personality(0xFFFFFFFF) & ADDR_NO_RANDOMIZE)
    except (OSError, AttributeError):
        return False


def _redirect_output(log_path: Path):
    """Keep a private handle on stdout for replies; send fd 2 to the log and fd 1 nowhere.

    Blender prints render progress from C straight to fd 1, which would corrupt replies: about
    a hundred flushed lines per render call (written to a file, a tenth of a 4x4 border
    render's time in a microbenchmark). Warnings, errors and tracebacks go to fd 2.
    """
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(null, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    return reply


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m simulate.render.blender_worker JOB_DIR", file=sys.stderr)
        return 2
    _reexec_without_aslr(argv)
    job_dir = Path(argv[0])
    reply = _redirect_output(job_dir / "blender.log")

    def send(msg: dict) -> None:
        reply.write(json.dumps(msg) + "\n")

    t0 = time.process_time()
    try:
        job = json.loads((job_dir / "job.json").read_text())
        capped = _limit_tbb(int(job.get("threads") or 0))  # before bpy starts TBB
        bpy = deps.require("bpy")
        exr = deps.require("OpenEXR")
        with np.load(job_dir / "poses.npz") as z:
            poses = {k: z[k] for k in z.files}
        session = Session(bpy, exr, job, poses, job_dir)
        # Blender's and the scene's objects live as long as the process: keep the cyclic
        # collector from walking them again after every few hundred allocations.
        gc.collect()
        gc.freeze()
        if job.get("threads") and not capped:
            session.bs.warnings.append(
                f"could not cap Blender's task scheduler at {job['threads']} threads (bpy's libtbb.so.12 not "
                "found): its idle threads may spin on spare cores while Cycles renders"
            )
    except Exception as exc:
        traceback.print_exc()
        send({"ok": False, "error": f"{type(exc).__name__}: {exc}", "kind": type(exc).__name__})
        return 1
    send(
        {
            "ok": True,
            "ready": True,
            "cpu_s": time.process_time() - t0,
            "blender_version": bpy.app.version_string,
            "gpu_backend": session.gpu_backend,
            "warnings": session.bs.warnings,
            "aslr_off": _aslr_off(),
            "gone_light": session.gone_light,
            "lens": _lens_report(session),
            # the footage look's practical lights, as Blender has them
            "fill_lights": [{"name": o.name, "type": o.data.type, "use_shadow": bool(o.data.use_shadow),
                             "energy_w": float(o.data.energy)} for o in session.bs.fills],
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd.get("op") == "quit":
            send({"ok": True, "cpu_s_total": time.process_time()})
            return 0
        try:
            send(session.render(cmd))
        except Exception as exc:
            traceback.print_exc()
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
