"""Photoreal views with Blender Cycles, at a fraction of the cost of three full renders.

How a sample is made (``Views.info["method"]`` says the same in metadata.json):

1. **Full beauty**, every frame, whole image: the only full-cost pass. Its object-index and
   Z passes give the full view's ids and depth.
2. **Signature pass** (cheap: direct sun light only, coded diffuse/emission plus shading
   normals, fixed seed, CPU; :mod:`simulate.render.blender_signature`) only inside
   rectangles where the rendered signature *can* differ: the projections of the removed and
   moved objects and of their shadow volumes (:mod:`simulate.render.blender_regions`). Full
   and removed are rendered in all of them, hidden only where the removed and the moved
   objects' regions overlap (elsewhere it equals removed or full). An analytic contact
   proximity (from depth) covers the objects' projections grown by their contact band, and
   a one-pixel neighbourhood hash both. Outside these the views are provably equal and
   share values.
3. Pixels whose signature or id differs are the changed pixels. The **removed beauty** is
   rendered only in rectangles around the pixels where removed differs from full; the
   **hidden beauty** only where hidden differs from both full and removed (elsewhere it
   equals one of them), usually the overlap region after first contact.
4. **Composite**: each view takes the full render's pixels where its signature equals full's,
   the removed render's where hidden equals removed, and its own re-render elsewhere. So
   wherever two views have equal signatures and ids their RGB is bit-identical, and 255
   pixels of the quadmask are identical in input and target, with no threshold on noisy RGB.

**Light that goes with the removed objects is subtracted, not re-rendered** (``lamp_groups``,
on by default). Lamps the removed objects carry and their own glow form a Cycles light group,
whose pass is their share of every pixel, bounces included. Where the signature says the only
change is theirs (every channel equal but the lamp channel, and that one equal once their
lamps are left out of the full view's code; blur rings only around such pixels), the removed
view is the full render minus that pass (denoised after the subtraction when the denoiser is
on, with the same denoiser and guides, prefiltered the fast way), an unbiased render of the scene without that light drawn
from the full render's samples. Only the removed objects' own pixels, shadows, contact band and
blur are re-rendered. A carried lamp lights much of a room; this is most of the light family's
changed pixels. The quadmask is unchanged (they are 127 either way).

**Frames that show the same scene share renders.** The beauty seed is the same in every
frame (Blender's default, as in VOID's Kubric renders) and the signature's always is, so a
frame whose camera, shown objects and poses equal an earlier frame's renders bit for bit
alike (objects at rest are held at one pose: :func:`~simulate.render.blender_regions.hold_still`).
Each set of such frames is rendered once, in every pass, over the union of what its frames
need: a static camera over objects at rest costs one frame. ``animated_seed`` gives every
frame its own beauty seed instead, and then only the signature pass shares.

What the signature does not see, and is therefore never marked nor re-rendered: indirect
light farther than the contact band from a changed object, and reflections of changed
objects in glossy or metallic surfaces other than the scene's planar mirrors
(``SceneSpec.mirrors``: the signature follows one sharp glossy bounce off those, and the
regions include the changed objects' mirror images). There the target keeps the full
render's pixels. (The rasterizer has neither effect.) Point and spot lamps light only
within their range (a window on their falloff, as in the rasterizer); their light is the
analytic lamp channel of the signature (shadows: the blocker's own shape against the cone
to the lamp's sphere).

**The footage look's lens** (:mod:`simulate.render.cycles_lens`): its beauty passes have
depth of field and motion blur, its signature, id and depth passes stay sharp. The change
maps of step 3 are grown by each frame's blur radius before the re-render and the
composite, and the grown ring gets a signature channel of its own, so it is marked (127)
and 255 pixels stay bit-identical. Frames share beauty renders only when their neighbours
show the same scenes too (the shutter sees the motion towards them).

Blender runs in a worker process per sample (:mod:`simulate.render.blender_worker`); this
module never imports ``bpy``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from simulate.render import blender_regions as regions
from simulate.render import blender_signature as signature
from simulate.render import borders, cycles_film, cycles_lens, cycles_lights
from simulate.render import cycles_process as process
from simulate.render.cycles_process import CyclesError
from simulate.render.base import Renderer, RenderPasses, Views
from simulate.scene import SceneSpec
from void import deps

VIEWS = ("full", "hidden", "removed")
METHOD = (
    "full view rendered once; sun-only direct signature pass (fixed seed, CPU) rendered inside "
    "the projected bounds of removed/moved objects and their shadow volumes, analytic contact "
    "proximity inside their projections grown by the contact band; hidden/removed beauty "
    "re-rendered only inside rectangles around pixels whose signature or id differs, then "
    "composited over the full render; where only the removed objects' own light changes (their "
    "lamps and glow), the removed view is the full render minus that light group instead "
    "(light_subtracted_fraction); frames showing the same scene (same camera, objects held "
    "at rest) share one render in every pass (see same_scene_as)"
)


class CyclesRenderer(Renderer):
    """Blender Cycles renderer (``--renderer cycles``).

    ``spp`` samples per pixel and the OpenImageDenoise ``denoiser`` apply to the beauty
    passes; ``device="gpu"`` renders them with OptiX or CUDA (the signature pass stays on the
    CPU so it is bit-exact). ``signature_spp`` samples the sun's disc and each pixel's
    footprint for change detection. ``contact_band`` (a fraction of each changed object's
    middle half extent) marks and re-renders surfaces that close to a changed object, where its
    indirect light changes (see :mod:`simulate.render.blender_signature`); 0 turns it off.
    None (the default) takes it from the set: ``CONTACT_BAND`` for the plain look and outdoor
    sets, the wider ``INDOOR_CONTACT_BAND`` in rooms and tabletops, whose walls and fill light
    make the bounce light an object blocks a larger share of what a surface near it receives.
    ``threads`` = 0 lets Cycles use every core; ``threads`` = N also caps Blender's task
    scheduler at N threads, so no idle scheduler thread spins on a core while a render runs
    (see ``blender_worker._limit_tbb``). Pixels are the same for every thread count. For
    throughput, run one single-threaded worker per core (``void simulate`` does this by
    default: ``--threads`` 0 means the cores divided by ``--workers``). The beauty seed is
    one per sample, the same in every frame and view; ``animated_seed`` varies it by frame
    (noise that changes from frame to frame, and frames no longer share beauty renders).
    Objects whose screen motion since they settled stays under ``hold_px`` pixels are
    rendered at the settled pose (0: only exact repeats), so frames at rest share renders.
    ``caustics`` lets glass refract the sun's and lamps' light onto surfaces
    (:func:`simulate.render.blender_optics.shadow_caustics`); off, glass only tints shadows.
    ``lamp_groups`` takes the removed objects' light out of the full render where that light is
    all that changes, instead of re-rendering those pixels (see the module docstring); off,
    they are re-rendered like every other change.
    """

    name = "cycles"
    CONTACT_BAND = 0.5  # the plain look and outdoor sets
    INDOOR_CONTACT_BAND = 2.0  # rooms and tabletops (docs/look.md, "Light an object blocks")

    def __init__(
        self,
        spp: int = 16,
        denoiser: bool = False,
        device: str = "cpu",
        *,
        signature_spp: int = 2,
        threads: int = 0,
        margin_px: int = 2,
        contact_band: float | None = None,
        animated_seed: bool = False,
        caustics: bool = True,
        hold_px: float = regions.HOLD_PX,
        lens_blur: bool = True,
        film: bool = True,
        lamp_groups: bool = True,
        pose_tol: float = 1e-6,
        workdir: str | os.PathLike | None = None,
        keep_workdir: bool = False,
    ):
        if spp < 1 or signature_spp < 1:
            raise ValueError(f"spp and signature_spp must be at least 1, got {spp} and {signature_spp}")
        if device not in ("cpu", "gpu"):
            raise ValueError(f"device must be 'cpu' or 'gpu', got {device!r}")
        for module in ("bpy", "OpenEXR"):
            if not deps.available(module):
                deps.require(module)  # raises MissingDependency naming the pip extra
        self.spp, self.denoiser, self.device = int(spp), bool(denoiser), device
        self.signature_spp, self.threads = int(signature_spp), int(threads)
        self.margin_px, self.pose_tol = int(margin_px), float(pose_tol)
        self.contact_band = None if contact_band is None else float(contact_band)
        self.animated_seed = bool(animated_seed)
        self.caustics = bool(caustics)  # glass bends the sun's and lamps' light (blender_optics.shadow_caustics)
        self.hold_px = float(hold_px)
        self.lens_blur = bool(lens_blur)
        self.film = bool(film)  # the footage look's tone curve and grain after the denoiser (cycles_film)
        self.lamp_groups = bool(lamp_groups)  # subtract the removed objects' light (light groups)
        self.workdir, self.keep_workdir = workdir, keep_workdir

    def settings(self) -> dict[str, Any]:
        return {
            "renderer": self.name,
            "spp": self.spp,
            "signature_spp": self.signature_spp,
            "contact_band": "by set" if self.contact_band is None else self.contact_band,
            "animated_seed": self.animated_seed,
            "caustics": self.caustics,
            "hold_px": self.hold_px,
            "lens_blur": self.lens_blur,
            "film": self.film,
            "lamp_groups": self.lamp_groups,
            "denoiser": self.denoiser,
            "device": self.device,
        }

    def band_for(self, scene: SceneSpec) -> float:
        """The contact band this scene is rendered with (the set's unless one was given)."""
        if self.contact_band is not None:
            return self.contact_band
        return self.INDOOR_CONTACT_BAND if cycles_lights.indoors(scene) else self.CONTACT_BAND

    # ------------------------------------------------------------------ main path
    def render_views(self, scene: SceneSpec, poses_full: np.ndarray, poses_removed: np.ndarray) -> Views:
        t_main = time.process_time()
        timings: dict[str, float] = {}
        pf, pr = _check_poses(scene, poses_full, poses_removed)
        T, W, H = pf.shape[0], scene.width, scene.height

        # 1. Where can the views differ?  Snap objects that did not move (within pose_tol)
        #    to their full-run pose, so float dust from the re-simulation is not a "change",
        #    and hold objects at rest at one pose, so frames that show them can share renders.
        t0 = time.process_time()
        moved = regions.moved_objects(pf, pr, self.pose_tol)
        both = np.isfinite(pf).all(-1) & np.isfinite(pr).all(-1)
        pf, pr = regions.hold_still(scene, pf, self.hold_px), regions.hold_still(scene, pr, self.hold_px)
        pr = np.where((both & ~moved)[..., None], pf, pr)
        band = self.band_for(scene)
        bounds = regions.change_regions(scene, pf, pr, moved, self.margin_px, band)
        lens = cycles_lens.lens_for(scene) if self.lens_blur else None
        radii = np.zeros(T, np.int64)
        if lens is not None:
            # Blur carries changes up to radii[t] pixels beyond their sharp footprint: the sharp
            # signature (and with it the full view's ids) is rendered that much wider.
            radii = cycles_lens.frame_radii(scene, pf, pr, moved, lens)
            bounds = bounds._replace(union_rects=cycles_lens.grow_rects(bounds.union_rects, radii, W, H),
                                     overlap_rects=cycles_lens.grow_rects(bounds.overlap_rects, radii, W, H))
        rendered = np.stack([borders.rects_mask(r, W, H) for r in bounds.union_rects])  # signature rendered
        overlap = np.stack([borders.rects_mask(r, W, H) for r in bounds.overlap_rects])
        region = rendered | bounds.near  # outside it the views are equal
        if bounds.lamp is not None:
            region |= bounds.lamp
        gone = [i for i, o in enumerate(scene.objects) if o.id in set(scene.removed_ids)]
        same = {"full": regions.same_state_as(scene, pf, []), "hidden": regions.same_state_as(scene, pf, gone),
                "removed": regions.same_state_as(scene, pr, gone)}
        beauty_same = {v: np.arange(T) for v in VIEWS} if self.animated_seed else same
        if lens is not None:  # a blurred frame also shows the motion towards its neighbours
            beauty_same = {v: cycles_lens.beauty_same(beauty_same[v]) for v in VIEWS}
        timings["regions"] = time.process_time() - t0

        with process.Worker(self, scene, pf, pr, lens) as worker:
            timings["blender_setup"] = worker.ready["cpu_s"]
            full_plan = [(ts[0], None, ts) for ts in _sets(beauty_same["full"], range(T))]
            subtract_light = self.lamp_groups and worker.ready.get("gone_light", False)
            full = _render_plan(worker, "beauty", "full", full_plan, counterfactual=subtract_light)
            # Removed can differ from full anywhere in the union. Hidden looks like removed
            # away from the moved objects and like full away from the removed ones: only
            # where the two overlap can it look like neither.
            within = {"full": rendered, "removed": rendered, "hidden": overlap}
            wanted = {"full": bounds.union_rects, "removed": bounds.union_rects, "hidden": bounds.overlap_rects}
            sig_plans, sig = {}, {}
            for v in ("full", "removed", "hidden"):
                sig_plans[v] = _plan(within[v], same[v], lambda m: borders.mask_rects(m, 0), wanted[v])
                sig[v] = _render_plan(worker, "signature", v, sig_plans[v], within[v])

            # 2. Exact change maps from the signature passes (outside the region all equal).
            t0 = time.process_time()
            views = signature.assemble(full, sig, bounds.moved & ~bounds.removed, rendered, T, H, W,
                                       extra=0 if lens is None else 1)
            signature.add_proximity(scene, views, bounds.near, pf, pr, moved, band)
            signature.add_lamp_light(scene, views, bounds.lamp, pf, pr, moved)
            signature.add_neighbourhood(views, region)
            diff_rf = _differs(views["removed"], views["full"], region)
            diff_hf = _differs(views["hidden"], views["full"], region)
            diff_hr = _differs(views["hidden"], views["removed"], region)
            # Where removed differs from full in more than the removed objects' own light: the
            # pixels to re-render (the rest of diff_rf is the full render minus that light).
            redo_rf = None
            if subtract_light and "lamp_kept" in views["full"]:
                redo_rf = _differs(views["removed"], views["full"], region, but_lamp=True)
            if lens is not None:
                if redo_rf is not None:  # blur spreads only these changes' rings beyond them
                    around = cycles_lens.blur_neighbours(scene, pf, moved, (H, W), self.margin_px)
                    redo_rf = cycles_lens.grow(redo_rf | around, radii)
                diff_rf, diff_hf, diff_hr = cycles_lens.grow_changes(
                    scene, views, pf, moved, radii, diff_rf, diff_hf, diff_hr, self.margin_px)
            redo_rf = diff_rf if redo_rf is None else redo_rf & diff_rf
            light_only = diff_rf & ~redo_rf
            own_h = diff_hf & diff_hr  # hidden equals neither: needs its own pixels
            pad = 6 if self.denoiser else 0  # a denoiser needs context; Cycles pixels do not
            cost = borders.beauty_overhead_px(self.spp)

            def cover(mask):
                return borders.mask_rects(mask, pad, borders.BEAUTY_BLOCK_PX, cost)

            plan_r = _plan(redo_rf, beauty_same["removed"], cover)
            plan_h = _plan(own_h, beauty_same["hidden"], cover)
            timings["change_maps"] = time.process_time() - t0

            # 3. Re-render the beauty only there.
            removed = _render_plan(worker, "beauty", "removed", plan_r)
            hidden = _render_plan(worker, "beauty", "hidden", plan_h)
            worker_total = worker.close()

        # 4. Composite.
        t0 = time.process_time()
        rgb_f = to_srgb8(full.color)
        rgb_r = rgb_f.copy()
        if light_only.any():
            rgb_r[light_only] = to_srgb8(full.cf[light_only])
        _paste(rgb_r, removed, redo_rf, to_srgb8)
        rgb_h = rgb_f.copy()
        same_as_removed = diff_hf & ~diff_hr
        rgb_h[same_as_removed] = rgb_r[same_as_removed]
        _paste(rgb_h, hidden, own_h, to_srgb8)
        timings["composite"] = time.process_time() - t0

        timings.update(
            beauty_full=full.cpu_s,
            signature=sum(s.cpu_s for s in sig.values()),
            beauty_removed=removed.cpu_s,
            beauty_hidden=hidden.cpu_s,
        )
        timings["main"] = time.process_time() - t_main
        timings["total"] = worker_total + timings["main"]
        px = T * H * W
        info = {
            "renderer": self.name,
            "method": METHOD,
            "blender_version": worker.ready["blender_version"],
            "device": self.device,
            "gpu_backend": worker.ready["gpu_backend"],
            "spp": self.spp,
            "signature_spp": self.signature_spp,
            "denoiser": "openimagedenoise" if self.denoiser else None,
            "pixel_filter": "blackman-harris, 1.5 px",
            "contact_band": band,
            "hold_px": self.hold_px,
            "signature_channels": list(signature.CHANNELS) + (["blur_ring"] if lens is not None else []),
            # the lens asked for (None: a pinhole, no motion blur), and what Blender's camera says
            "lens": None if lens is None else {**lens, "blur_radius_px": radii.tolist()},
            "blender_lens": worker.ready["lens"],
            "film": cycles_film.film_for(scene) if self.film else None,  # applied after the mask (pipeline.develop)
            "fill_lights": worker.ready["fill_lights"],  # shadowless practicals (cycles_lights)
            "seeds": {"beauty": f"({scene.seed} * 7919{' + frame' if self.animated_seed else ''}) mod 2^31-1, same in "
                               f"every view{'' if self.animated_seed else ' and frame'}", "signature": 0},
            # Frame t shows exactly the scene of frame same_scene_as[view][t]: they share renders
            # (the beauty's only with one seed for all frames).
            "same_scene_as": {v: same[v].tolist() for v in VIEWS},
            "beauty_shared_between_frames": not self.animated_seed,
            "moved_object_ids": [o.id for i, o in enumerate(scene.objects) if moved[:, i].any()],
            "signature_fraction": {v: sig[v].pixels / px for v in VIEWS},
            "rerendered_fraction": {"hidden": hidden.pixels / px, "removed": removed.pixels / px},
            # removed-view pixels taken as the full render minus the removed objects' light group
            "light_subtracted_fraction": float(light_only.sum()) / px,
            "lamp_groups": bool(subtract_light),
            "renders": {"beauty_full": full.renders, "signature": sum(s.renders for s in sig.values()),
                        "beauty_removed": removed.renders, "beauty_hidden": hidden.renders},
            "border_rects": {  # by the frame rendered; frames that share its render have none
                "signature": {v: _rects_by_frame(sig_plans[v], T) for v in ("full", "removed", "hidden")},
                "beauty": {"removed": _rects_by_frame(plan_r, T), "hidden": _rects_by_frame(plan_h, T)},
            },
            "bit_reproducible": worker.ready.get("aslr_off", False),
            "warnings": worker.ready.get("warnings", []),
        }
        return Views(
            full=RenderPasses(rgb_f, views["full"]["ids"], views["full"]["sig"], views["full"]["depth"]),
            hidden=RenderPasses(rgb_h, views["hidden"]["ids"], views["hidden"]["sig"], views["hidden"]["depth"]),
            removed=RenderPasses(rgb_r, views["removed"]["ids"], views["removed"]["sig"], views["removed"]["depth"]),
            info=info,
            timings_s=timings,
        )

    # ------------------------------------------------------ reference (benchmark)
    def render_three_full_passes(
        self, scene: SceneSpec, poses_full: np.ndarray, poses_removed: np.ndarray, *, independent_seeds: bool = False
    ) -> Views:
        """VOID's published recipe: full, hidden and re-simulated views, each rendered whole.

        Used by ``benchmarks/render_vs_void.py`` as the reference. The signature is the RGB
        itself (there is no noise-free pass), ids come from the object-index pass. Every
        frame is rendered, at the poses given (as VOID's Kubric script does). By default the
        three views share the seed (Blender's behaviour with a fixed seed, which correlates
        their noise); ``independent_seeds`` gives each view its own. ``info["frame_cpu_s"]``
        has each pass's CPU seconds frame by frame.
        """
        pf, pr = _check_poses(scene, poses_full, poses_removed)
        T = pf.shape[0]
        every = [(t, None) for t in range(T)]
        timings: dict[str, float] = {}
        out, frame_cpu = {}, {}
        lens = cycles_lens.lens_for(scene) if self.lens_blur else None
        with process.Worker(self, scene, pf, pr, lens) as worker:
            timings["blender_setup"] = worker.ready["cpu_s"]
            for k, view in enumerate(VIEWS):
                res = worker.render("beauty", view, every, seed_offset=k if independent_seeds else 0)
                timings[f"beauty_{view}"] = res.cpu_s
                frame_cpu[view] = res.entry_cpu_s
                rgb = to_srgb8(res.color)
                out[view] = RenderPasses(rgb, res.ids, rgb[..., None], res.depth)
            timings["total"] = worker.close()
        info = {"renderer": self.name, "method": "three full passes (VOID reference)", **self.settings(),
                "blender_version": worker.ready["blender_version"], "independent_seeds": independent_seeds,
                "lens": lens,
                "frame_cpu_s": frame_cpu}
        return Views(out["full"], out["hidden"], out["removed"], info=info, timings_s=timings)


# ----------------------------------------------------------------------- helpers


def to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Scene-linear RGB to 8-bit sRGB (Blender's "Standard" view transform), rounded."""
    x = np.clip(linear, 0.0, 1.0)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.rint(srgb * 255.0).astype(np.uint8)


def _check_poses(scene: SceneSpec, poses_full, poses_removed) -> tuple[np.ndarray, np.ndarray]:
    pf = np.asarray(poses_full, dtype=np.float64)
    pr = np.asarray(poses_removed, dtype=np.float64)
    n = len(scene.objects)
    for name, p in (("poses_full", pf), ("poses_removed", pr)):
        if p.ndim != 3 or p.shape[1:] != (n, 7):
            raise ValueError(f"{name} must be (T, {n}, 7) for this scene, got {p.shape}")
    if pf.shape[0] != pr.shape[0] or pf.shape[0] != scene.num_frames:
        raise ValueError(
            f"poses cover {pf.shape[0]} and {pr.shape[0]} frames; the scene has num_frames={scene.num_frames}"
        )
    return pf, pr


def _sets(same_as: np.ndarray, frames) -> list[list[int]]:
    """``frames`` grouped by the scene they show (``same_as``), in order of first frame."""
    sets: dict[int, list[int]] = {}
    for t in frames:
        sets.setdefault(int(same_as[t]), []).append(int(t))
    return list(sets.values())


def _plan(masks: np.ndarray, same_as: np.ndarray, cover, rects: list | None = None) -> list[tuple]:
    """One render for each set of frames that show the same scene and need pixels.

    ``masks`` (T, H, W) are the pixels each frame needs. Returns ``(frame rendered,
    rectangles, frames served)``: the set's first frame, with ``cover`` (a mask to rectangles)
    of the union of its frames' masks; a frame alone keeps ``rects[t]`` where given.
    """
    plan = []
    for ts in _sets(same_as, [t for t in range(len(masks)) if masks[t].any()]):
        if len(ts) == 1 and rects is not None:
            plan.append((ts[0], [tuple(r) for r in rects[ts[0]]], ts))
        else:
            plan.append((ts[0], cover(np.logical_or.reduce(masks[ts])), ts))
    return plan


def _render_plan(worker: "process.Worker", kind: str, view: str, plan: list[tuple], within: np.ndarray | None = None,
                 counterfactual: bool = False):
    """Render a :func:`_plan` and give every frame it serves its render's pixels (valid only
    inside ``within[t]`` where given); ``counterfactual`` also brings back the render minus
    the removed objects' light (``cf``)."""
    res = worker.render(kind, view, [(f, None if r is None else [list(q) for q in r]) for f, r, _ in plan],
                        counterfactual=counterfactual)
    return res.spread(plan, within)


def _rects_by_frame(plan: list[tuple], T: int) -> list[list]:
    out: list[list] = [[] for _ in range(T)]
    for f, rects, _ in plan:
        out[f] = rects
    return out


def _differs(a: dict, b: dict, region: np.ndarray, but_lamp: bool = False) -> np.ndarray:
    """Where two views differ; only ``region`` is compared, outside it they are equal.

    ``but_lamp`` (``a`` removed, ``b`` full): differences in the lamp channel count only where
    ``b``'s code without the removed objects' lamps (``"lamp_kept"``) still differs from ``a``'s:
    where the removed objects' own lamps are all that changes, the pixels count as equal."""
    out = np.zeros(region.shape, bool)
    for t in range(region.shape[0]):
        yx = borders.mask_box(region[t])
        if yx is None:
            continue
        box = (t, slice(yx[0], yx[1]), slice(yx[2], yx[3]))
        if but_lamp:
            rest = np.arange(a["sig"].shape[-1]) != signature.LAMP
            d = (a["ids"][box] != b["ids"][box]) | (a["sig"][box][..., rest] != b["sig"][box][..., rest]).any(-1)
            d |= a["sig"][box][..., signature.LAMP] != b["lamp_kept"][box]
        else:
            d = (a["ids"][box] != b["ids"][box]) | (a["sig"][box] != b["sig"][box]).any(-1)
        out[box] = d & region[box]
    return out


def _paste(dst: np.ndarray, res: process.Result, where: np.ndarray, convert) -> None:
    for k, t in enumerate(res.frames):
        m = where[t]
        if not m.any():
            continue
        if not np.all(res.valid[k][m]):
            raise CyclesError(f"frame {t}: changed pixels outside the re-rendered rectangles (a bug)")
        dst[t][m] = convert(res.color[k][m])
    for t in range(where.shape[0]):
        if where[t].any() and t not in res.frames:
            raise CyclesError(f"frame {t}: changed pixels but no re-render (a bug)")
