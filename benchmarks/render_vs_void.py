"""Our Cycles path against VOID's three-full-pass recipe, on the same scenes, in one run.

    python benchmarks/render_vs_void.py                                   # 4 scenes, 128x128x16, 16 spp
    python benchmarks/render_vs_void.py --num-scenes 2 --resolution 64x64 --frames 8 --spp 8   # quick
    python benchmarks/render_vs_void.py --num-scenes 3 --resolution 64x64 --frames 8 --spp 8 --families reflection,light,glass
    python benchmarks/render_vs_void.py --num-scenes 5 --resolution 256x256 --frames 48        # the issue's size (~35 min)
    python benchmarks/render_vs_void.py --look footage --families human --num-scenes 1 --resolution 672x384 --frames 49
    python benchmarks/render_vs_void.py --look footage --skip 6 --num-scenes 1 --resolution 672x384 --frames 49 --spp 8  # the mix's 7th

Scenes come from the scenario families and pybullet physics (``simulate.generate.plan`` and
``simulate.pipeline.draw_scene``: the samples ``void simulate`` would make). Each scene is
rendered by

(a) the reference, VOID's published method re-implemented: three full Cycles passes (full,
    hidden = removed objects not rendered, removed = re-simulated without them), a black
    mask from the object-index pass and a grey mask where ``|hidden - removed| >= 15`` in any
    RGB channel (VOID's ``data_generation`` Kubric script);
(b) ours: :class:`simulate.render.cycles.CyclesRenderer` (full view once, noise-free signature
    pass in projected change regions, border re-renders, composite; frames that show the same
    scene share renders) and :func:`simulate.groundtruth.build_quadmask`.

Both use the same resolution, frames, spp, pixel filter, bounces and seeds (one beauty seed
per sample, the same in every frame, as Blender and Kubric do by default); the reference
renders every frame of every pass, as VOID's Kubric script does. The order alternates per
scene so machine drift does not favour either. Reported: CPU seconds
per paired sample (Blender worker, all threads, start-up included, plus mask building), the
ratio (target >= 2.5), how each sample was made, mask agreement, and samples per CPU-hour at
256x256x48 and 16 spp (extrapolated from the run's size when it differs, and labelled so).

Mask agreement uses our exact change maps as the truth of "the scene changed here":
* noise: of the pixels VOID's mask marks 127, the fraction where our mask is 255 (nothing
  changed: path-tracing noise crossed the threshold); also against the change VOID's grey
  mask is meant to find (hidden != removed);
* missed: of the pixels that changed (hidden != removed), the fraction its grey mask leaves
  unmarked (our "changed" includes faint changes: penumbrae, the contact band, a pixel of
  footprint around every change), and of those where an object itself moved in or out
  (ids differ), the fraction it leaves unmarked; and of our non-255 pixels, the fraction
  VOID's mask leaves 255 (includes the removed object's own shadow, which that recipe
  cannot see by construction).

What our shortcut costs in fidelity (with ``--reference-seeds same``): at the pixels our mask
keeps (255), our target is compared with the reference's full re-render of the
counterfactual, which shares our seeds and so matches bit for bit unless a light path there
meets a change, or the pixel is on the edge of an object we hold at rest (it renders the
simulation's poses, we hold settled objects within 0.01 px); the fractions that differ at all,
by 3 levels and by 15 are printed, and for the kept pixels within ``RING_PX`` of a marked one
(where a change left out shows as a seam at the edge of the re-rendered region) the fraction
that differs by 3 levels, the mean absolute difference and the mean signed difference (a change
left out is a bias; the noise of a re-render with other lights in the scene averages out).

Threads: by default each Blender worker renders with one thread (``--threads 1``), the way
``void simulate --workers N`` runs on an N-core machine and the setting that gives the most
samples per CPU-hour: with more threads than work, Blender's idle scheduler threads spin on a
core between and inside the many small border renders. ``--threads 0`` (all cores) shows the
single-sample setting; pixels are the same either way.

Timings on a shared machine are noisy; read the ratios, measured side by side. Both methods
render whole frames of the full view (identical work, identical pixels; ours renders each
distinct scene once, the reference every frame), and the script prints how far the two
timings of the frames both render differ: the run's own noise. Beside the measured ratio it
prints an estimate with each sample's time of ours rescaled by those two timings (the machine
speed the reference saw); the measured ratio is the result, the estimate shows how much of
it is the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulate import groundtruth  # noqa: E402
from simulate.config import FAMILIES, SimulateConfig, parse_resolution  # noqa: E402
from simulate.generate import plan  # noqa: E402
from simulate.pipeline import draw_scene  # noqa: E402
from simulate.render.cycles import CyclesRenderer  # noqa: E402
from void import quadmask  # noqa: E402

VOID_THRESHOLD = 15
RING_PX = 10
RING_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * RING_PX + 1, 2 * RING_PX + 1))
TARGET_RATIO = 2.5
ISSUE_SIZE = (256, 256, 48, 16)  # width, height, frames, spp


def void_mask(ref, removed_ids) -> tuple[np.ndarray, np.ndarray]:
    """VOID's quadmask from three full renders: black from ids, grey from an RGB threshold."""
    black = np.isin(ref.full.ids, list(removed_ids))
    diff = np.abs(ref.hidden.rgb.astype(np.int16) - ref.removed.rgb.astype(np.int16)).max(axis=-1)
    grey = diff >= VOID_THRESHOLD
    mask = np.full(black.shape, quadmask.KEEP, np.uint8)
    mask[grey & ~black] = quadmask.AFFECTED
    mask[black & ~grey] = quadmask.REMOVE
    mask[black & grey] = quadmask.OVERLAP
    return mask, grey


def agreement(ref, ref_mask, grey, ours, our_mask) -> dict[str, int]:
    """Pixel counts for the agreement fractions (pooled over scenes by the caller)."""
    changed_hr = groundtruth.differs(ours.hidden, ours.removed)
    ids_hr = ours.hidden.ids != ours.removed.ids  # an object is here in one view, not the other
    ref127 = ref_mask == quadmask.AFFECTED
    ours_changed = our_mask != quadmask.KEEP
    return {
        "ref_127": int(ref127.sum()),
        "ref_127_where_ours_255": int((ref127 & ~ours_changed).sum()),
        "ref_grey": int(grey.sum()),
        "ref_grey_where_hidden_eq_removed": int((grey & ~changed_hr).sum()),
        "changed_hidden_removed": int(changed_hr.sum()),
        "changed_hidden_removed_missed": int((changed_hr & ~grey).sum()),
        "object_moved": int(ids_hr.sum()),
        "object_moved_missed": int((ids_hr & ~grey).sum()),
        "ours_changed": int(ours_changed.sum()),
        "ours_changed_ref_255": int((ours_changed & (ref_mask == quadmask.KEEP)).sum()),
        "pixels": int(our_mask.size),
        **leaks(ref, ours, our_mask),
    }


def leaks(ref, ours, our_mask) -> dict[str, int]:
    """What our composite leaves out: at our 255 pixels, our target against a full re-render.

    With the reference's seeds equal to ours, the full re-render of the counterfactual agrees
    bit for bit wherever no light path meets a change; a difference at a pixel we keep is a
    change we did not mark (indirect light beyond the contact band, reflections, a missed
    penumbra sample) made visible, or the edge of an object held at rest (within 0.01 px of
    the simulation's pose). Meaningful only with ``--reference-seeds same``.
    """
    keep = our_mask == quadmask.KEEP
    diff = np.abs(ours.removed.rgb.astype(np.int16) - ref.removed.rgb.astype(np.int16)).max(axis=-1)
    # the seam: kept pixels within RING_PX of a marked one, where a missed change shows as a step
    ring = np.stack([cv2.dilate((~k).astype(np.uint8), RING_KERNEL) > 0 for k in keep]) & keep
    # signed: a change left out is a bias (brighter or darker); noise averages out
    signed = ref.removed.rgb[ring].astype(np.float32) - ours.removed.rgb[ring]  # (pixels, 3)
    # inside the mask (127): our target (re-rendered, or the full render minus a light group)
    # against the reference's re-render of the counterfactual
    marked = our_mask == quadmask.AFFECTED
    inside = ref.removed.rgb[marked].astype(np.float32) - ours.removed.rgb[marked]
    return {
        "marked": int(marked.sum()),
        "marked_signed": float(inside.mean(-1).sum()),
        "marked_abs": float(np.abs(inside).mean(-1).sum()),
        "ring": int(ring.sum()),
        "ring_differs_3": int((ring & (diff >= 3)).sum()),
        "ring_mean_abs": float(np.abs(signed).mean(-1).sum()),
        "ring_signed": float(signed.mean(-1).sum()),
        "keep": int(keep.sum()),
        "keep_differs": int((keep & (diff > 0)).sum()),
        "keep_differs_3": int((keep & (diff >= 3)).sum()),
        "keep_differs_15": int((keep & (diff >= VOID_THRESHOLD)).sum()),
    }


def run_ours(renderer, scene, pf, pr) -> tuple[object, np.ndarray, float]:
    views = renderer.render_views(scene, pf, pr)
    t0 = time.process_time()
    mask = groundtruth.build_quadmask(views, scene.removed_ids)
    return views, mask, views.timings_s["total"] + time.process_time() - t0


def run_reference(renderer, scene, pf, pr, independent: bool) -> tuple[object, np.ndarray, np.ndarray, float]:
    ref = renderer.render_three_full_passes(scene, pf, pr, independent_seeds=independent)
    t0 = time.process_time()
    mask, grey = void_mask(ref, scene.removed_ids)
    return ref, mask, grey, ref.timings_s["total"] + time.process_time() - t0


def extrapolate(timings: dict[str, float], beauty_keys, size, spp: int) -> tuple[float, str]:
    """CPU seconds of one sample at the issue's size, from a run at ``size`` x ``spp``.

    Start-up is fixed per sample. At the issue's resolution and spp everything else scales
    with the number of frames. Otherwise beauty passes are scaled by pixels x frames x spp
    and the rest by pixels x frames (which overstates the signature pass, part of whose cost
    is a fixed ~2 ms per render call), with region fractions taken as size-independent.
    """
    W, H, T = size
    iw, ih, it, ispp = ISSUE_SIZE
    setup = timings["blender_setup"]
    if (W, H, spp) == (iw, ih, ispp):
        return setup + (timings["total"] - setup) * it / T, "frames scaled"
    k_px = (iw * ih * it) / (W * H * T)
    beauty = sum(timings[k] for k in beauty_keys)
    rest = timings["total"] - beauty - setup
    return setup + beauty * k_px * ispp / spp + rest * k_px, "pixels, frames and spp scaled"


def full_frames_rendered(info: dict) -> list[int]:
    """The frames of the full view our renderer rendered whole (the others share their render)."""
    same = info["same_scene_as"]["full"]
    if not info["beauty_shared_between_frames"]:
        return list(range(len(same)))
    return [t for t, s in enumerate(same) if s == t]


def at_void_speed(row: dict) -> float:
    """Our CPU seconds for a sample, rescaled to the machine speed the reference saw.

    Both methods render the same frames of the full view whole; the ratio of their timings
    of those frames is how much faster or slower the machine ran for one than for the other.
    An estimate for noisy machines, printed beside (never instead of) the measured ratio.
    """
    return row["ours_cpu_s"] * row["void_full_same_frames_s"] / row["ours_timings_s"]["beauty_full"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-scenes", type=int, default=4)
    ap.add_argument("--resolution", default="128x128", help="WxH")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--spp", type=int, default=16)
    ap.add_argument("--signature-spp", type=int, default=2)
    ap.add_argument("--contact-band", type=float, default=None,
                    help="ours: how far around a changed object indirect-light changes are marked and "
                         "re-rendered (fraction of its middle half extent; 0: not at all; default: the "
                         f"set's, {CyclesRenderer.CONTACT_BAND} or {CyclesRenderer.INDOOR_CONTACT_BAND} in rooms and tabletops)")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--skip", type=int, default=0,
                    help="start at this sample of the mix (the samples void simulate draws, in order): "
                         "--skip 6 --num-scenes 1 measures the seventh alone")
    ap.add_argument("--look", choices=("plain", "footage"), default="plain",
                    help="footage: sets, props, camera work and, in Cycles, depth of field, motion blur and "
                         "practical lights (both methods render the same lens)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="Cycles threads per worker, both methods (1: one worker per core, as void simulate "
                         "runs at scale; 0: all cores)")
    ap.add_argument("--reference-seeds", choices=("same", "independent"), default="same",
                    help="same: the three reference passes share the seed (correlated noise, "
                         "kindest to the RGB threshold); independent: one seed per pass")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args(argv)
    W, H = parse_resolution(args.resolution)
    if args.skip < 0 or args.num_scenes < 1:
        ap.error("--skip must be >= 0 and --num-scenes >= 1")

    with tempfile.TemporaryDirectory(prefix="render-vs-void-") as tmp:
        config = SimulateConfig(out=str(Path(tmp) / "ds"), num_samples=args.skip + args.num_scenes, seed=args.seed,
                                families=args.families, resolution=(W, H), frames=args.frames,
                                renderer="cycles", spp=args.spp, progress=False, look=args.look)
        renderer = CyclesRenderer(spp=args.spp, signature_spp=args.signature_spp, threads=args.threads,
                                  contact_band=args.contact_band)
        rows, counts = [], Counter()
        sums = Counter()
        print(f"render_vs_void: {args.num_scenes} scenes, {args.look} look, {W}x{H}x{args.frames}, {args.spp} spp "
              f"(signature {args.signature_spp} spp, contact band {'by set' if args.contact_band is None else args.contact_band}), "
              f"reference seeds: {args.reference_seeds}, Cycles threads: {args.threads or 'all cores'}")
        beauty_keys = ("beauty_full", "beauty_hidden", "beauty_removed")
        header = (f"{'sample':<18} {'camera':>6} {'VOID CPU-s':>10} {'ours CPU-s':>10} {'ratio':>6} {'full frames':>11} "
                  f"{'re-rendered':>12} {'signature':>9} {'VOID 127 noise':>14} {'missed':>7}")
        print(header)
        for i, task in enumerate(plan(config)[args.skip:]):
            draw = draw_scene(task, Counter())
            scene, pf, pr = draw.scene, draw.full.poses, draw.removed.poses
            independent = args.reference_seeds == "independent"
            if i % 2 == 0:
                ref, ref_mask, grey, ref_cpu = run_reference(renderer, scene, pf, pr, independent)
                ours, our_mask, our_cpu = run_ours(renderer, scene, pf, pr)
            else:
                ours, our_mask, our_cpu = run_ours(renderer, scene, pf, pr)
                ref, ref_mask, grey, ref_cpu = run_reference(renderer, scene, pf, pr, independent)
            c = agreement(ref, ref_mask, grey, ours, our_mask)
            counts.update(c)
            info = ours.info
            rer = info["rerendered_fraction"]
            sig = info["signature_fraction"]
            whole = full_frames_rendered(info)
            row = {
                "sample_id": task.sample_id, "family": task.family, "camera": scene.camera.motion,
                "void_cpu_s": ref_cpu, "ours_cpu_s": our_cpu,
                "ratio": ref_cpu / our_cpu, "rerendered_fraction": rer, "signature_fraction": sig,
                "light_subtracted_fraction": info.get("light_subtracted_fraction", 0.0),
                # the best any method that renders the full view whole could do on this sample
                "ceiling": ref_cpu / (ours.timings_s["beauty_full"] + ours.timings_s["blender_setup"]),
                "frames": scene.num_frames, "full_frames_rendered": len(whole),
                "void_full_same_frames_s": sum(ref.info["frame_cpu_s"]["full"][t] for t in whole),
                "void_timings_s": ref.timings_s, "ours_timings_s": ours.timings_s, "agreement": c,
                "void_cpu_s_issue_size": extrapolate(ref.timings_s, beauty_keys, (W, H, args.frames), args.spp)[0],
                "ours_cpu_s_issue_size": extrapolate(ours.timings_s, beauty_keys, (W, H, args.frames), args.spp)[0],
            }
            rows.append(row)
            sums.update({"void": ref_cpu, "ours": our_cpu, "void_issue": row["void_cpu_s_issue_size"],
                         "ours_issue": row["ours_cpu_s_issue_size"], "beauty_full": ours.timings_s["beauty_full"],
                         "void_beauty_full": row["void_full_same_frames_s"], "frames": len(whole),
                         "ours_at_void_speed": at_void_speed(row),
                         "floor": ours.timings_s["beauty_full"] + ours.timings_s["blender_setup"]})
            noise = c["ref_127_where_ours_255"] / max(c["ref_127"], 1)
            missed = c["changed_hidden_removed_missed"] / max(c["changed_hidden_removed"], 1)
            print(f"{task.sample_id:<18} {scene.camera.motion:>6} {ref_cpu:>10.1f} {our_cpu:>10.1f} {ref_cpu / our_cpu:>6.2f} "
                  f"{f'{len(whole)}/{scene.num_frames}':>11} {rer['removed'] + rer['hidden']:>11.1%} {np.mean(list(sig.values())):>9.1%} "
                  f"{noise:>14.1%} {missed:>7.1%}")

    n = len(rows)
    ratio = sums["void"] / sums["ours"]
    print()
    print(f"Blender {ours.info['blender_version']}, device {ours.info['device']}, "
          f"bit-reproducible workers: {ours.info['bit_reproducible']}")
    print(f"Cycles beauty pass: {sums['beauty_full'] / sums['frames']:.2f} CPU-s a frame at {W}x{H}, {args.spp} spp")
    # Both methods render these full-view frames whole, the same work with the same seeds: how
    # far their timings differ is the machine's noise, the yardstick for the ratio below.
    print(f"Noise check, the same full-view frames timed in each method: ours / VOID's = "
          f"{sums['beauty_full'] / sums['void_beauty_full']:.3f} (1 on a quiet machine)")
    print(f"CPU-s per paired sample: VOID three passes {sums['void'] / n:.1f}, ours {sums['ours'] / n:.1f} "
          f"-> ours is {ratio:.2f}x faster (target >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'NOT met'})")
    print(f"  estimate, ours rescaled sample by sample to the speed VOID's run saw on the full-view frames both render: "
          f"{sums['void'] / sums['ours_at_void_speed']:.2f}x")
    print(f"Full-view frames ours rendered whole: {sums['frames']} of {sum(r['frames'] for r in rows)} "
          f"(the others show the same scene as one of them)")
    # A method that renders the full view's distinct frames whole (every exact one must) costs at
    # least that pass: VOID's time over it bounds the ratio from above.
    print(f"Ceiling, VOID's CPU-s over our full pass alone (what no re-render at all would give): "
          f"{sums['void'] / sums['floor']:.2f}x; ours reaches {ratio / (sums['void'] / sums['floor']):.0%} of it")
    subtracted = [r["light_subtracted_fraction"] for r in rows if r["light_subtracted_fraction"] > 0]
    if subtracted:
        print(f"Removed objects' light taken out of the full render (light group), not re-rendered: "
              f"{np.mean(subtracted):.1%} of the pixels of {len(subtracted)} samples")
    # Frames share renders only under a static camera: the two kinds of sample, apart.
    for kind, pick in (("static camera", lambda r: r["camera"] == "static"),
                       ("moving camera", lambda r: r["camera"] != "static")):
        part = [r for r in rows if pick(r)]
        if part:
            void, ours_s = sum(r["void_cpu_s"] for r in part), sum(r["ours_cpu_s"] for r in part)
            print(f"  {kind}, {len(part)} of {n} samples: {void / ours_s:.2f}x "
                  f"(estimate {void / sum(at_void_speed(r) for r in part):.2f}x)")
    # ... and family by family (the optics families re-render mirrors and lamp pools too)
    for family in dict.fromkeys(r["family"] for r in rows):
        part = [r for r in rows if r["family"] == family]
        void, ours_s = sum(r["void_cpu_s"] for r in part), sum(r["ours_cpu_s"] for r in part)
        print(f"  {family}, {len(part)} of {n} samples: {void / ours_s:.2f}x "
              f"(estimate {void / sum(at_void_speed(r) for r in part):.2f}x)")
    frac = lambda a, b: counts[a] / max(counts[b], 1)  # noqa: E731
    print("Mask agreement (our exact change maps as truth):")
    print(f"  VOID 127 pixels where nothing changed (our mask 255): {frac('ref_127_where_ours_255', 'ref_127'):.2%} "
          f"of {counts['ref_127']}; ours: 0 by construction")
    print(f"  VOID grey pixels where hidden == removed exactly:   {frac('ref_grey_where_hidden_eq_removed', 'ref_grey'):.2%} "
          f"of {counts['ref_grey']}")
    print(f"  changed pixels (hidden != removed) VOID misses:     {frac('changed_hidden_removed_missed', 'changed_hidden_removed'):.2%} "
          f"of {counts['changed_hidden_removed']}")
    print(f"    of which pixels where an object moved in or out: {frac('object_moved_missed', 'object_moved'):.2%} "
          f"of {counts['object_moved']}")
    print(f"  our non-255 pixels VOID leaves 255:                 {frac('ours_changed_ref_255', 'ours_changed'):.2%} "
          f"of {counts['ours_changed']} (incl. the removed object's own shadow)")
    if args.reference_seeds == "same":
        print("What our target leaves out (our 255 pixels, target vs a full re-render with the same seeds):")
        print(f"  differ at all: {frac('keep_differs', 'keep'):.3%}, by >= 3 levels: {frac('keep_differs_3', 'keep'):.3%}, "
              f"by >= 15: {frac('keep_differs_15', 'keep'):.4%} of {counts['keep']}")
        print(f"  within {RING_PX} px of a marked pixel (where a missed change shows as a seam): differ by >= 3: "
              f"{frac('ring_differs_3', 'ring'):.2%}, mean |difference| {frac('ring_mean_abs', 'ring'):.2f} levels, "
              f"mean difference (reference - ours) {frac('ring_signed', 'ring'):+.2f} of {counts['ring']}")
        print(f"  inside the mask (our 127 pixels, re-rendered or light subtracted): mean difference (reference - ours) "
              f"{frac('marked_signed', 'marked'):+.2f}, mean |difference| {frac('marked_abs', 'marked'):.2f} levels "
              f"of {counts['marked']}")
    at_issue = (W, H, args.frames, args.spp) == ISSUE_SIZE
    how = extrapolate(ours.timings_s, beauty_keys, (W, H, args.frames), args.spp)[1]
    label = "measured" if at_issue else f"extrapolated from {W}x{H}x{args.frames} at {args.spp} spp: {how}"
    print(f"Samples per CPU-hour at 256x256x48, 16 spp ({label}): "
          f"ours {3600 * n / sums['ours_issue']:.1f}, VOID {3600 * n / sums['void_issue']:.1f} "
          f"(ratio {sums['void_issue'] / sums['ours_issue']:.2f})")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "rows": rows,
                                         "agreement": dict(counts), "ratio": ratio,
                                         "ratio_at_void_speed": sums["void"] / sums["ours_at_void_speed"]},
                                        indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
