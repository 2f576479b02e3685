"""The dataset card of a benchmark build (``BENCH/README.md``), computed from what was built."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from simulate import families as family_registry
from simulate.bench import definition
from void import bench_format

QUADMASK_ROWS = (
    ("0", "remove", "the removed object is visible in the full render (exact object-id pass)"),
    ("63", "overlap", "a removed-object pixel where the hidden render (same physics, object not drawn) and the "
                      "counterfactual also differ: a consequence happens behind the removed object"),
    ("127", "affected", "no removed object, but the full render and the counterfactual (physics re-run without "
                        "the object) differ: moved objects, the object's own shadow, their shadows"),
    ("255", "keep", "identical in the full render and the counterfactual; bit-identical in input and target"),
)
KNOWN_LIMITS = (
    "Synthetic: procedural objects and materials, a fast rasterizer (reference build) or Blender Cycles; "
    "no camera noise, motion blur or real-world clutter.",
    "Rigid bodies only (pybullet): no cloth, fluids or breaking objects.",
    "The human rig (where the human family is part of the version) is pybullet's DeepMimic humanoid driven by "
    "mocap clips: coarse body shapes, no hands or faces.",
    "Raster optics are approximate (shadow maps, planar mirrors, blended tinted glass); the quadmask is exact for "
    "what is rendered, decided from id and geometry passes, never by thresholding RGB.",
    "Across machines the physics engine and the GL driver may round differently; `void bench verify` names any "
    "clip whose content differs, and results are comparable only against the same definition hash.",
)


def _family_line(name: str) -> str:
    try:
        doc = (family_registry.get(name).__doc__ or "").strip()
    except KeyError:
        return ""
    first = doc.split("\n\n")[0].replace("\n", " ")
    return first.split(": ", 1)[-1]


def _composition(bench: bench_format.Bench) -> tuple[list[str], int, int]:
    stats = defaultdict(lambda: defaultdict(list))
    size = 0
    for clip_id, ref in bench.clips().items():
        subset = clip_id.split("/", 1)[0]
        meta = json.loads((ref.root / "metadata.json").read_text(encoding="utf-8"))
        fr = meta.get("mask_stats", {}).get("fractions", {})
        stats[(subset, meta.get("family", "unknown"))]["n"].append(1)
        for key in ("remove", "overlap", "affected"):
            stats[(subset, meta.get("family", "unknown"))][key].append(float(fr.get(key, 0.0)))
        size += sum(p.stat().st_size for p in Path(ref.root).rglob("*") if p.is_file())
    rows = [
        "| subset | family | clips | mean removed (0) | mean overlap (63) | mean affected (127) | clips with affected pixels |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    total = 0
    for (subset, fam), s in sorted(stats.items()):
        n = len(s["n"])
        total += n
        mean = {k: 100 * sum(v) / n for k, v in s.items() if k != "n"}
        with_aff = sum(1 for v in s["affected"] if v > 0)
        rows.append(
            f"| {subset} | {fam} | {n} | {mean['remove']:.2f}% | {mean['overlap']:.2f}% | {mean['affected']:.2f}% | {with_aff} |"
        )
    return rows, total, size


def render(bench: bench_format.Bench) -> str:
    defn = bench.info["definition"]
    w, h = defn["resolution"]
    rows, total, size = _composition(bench)
    limit = bench.info.get("limit_per_family")
    subsets = ", ".join(
        f"{name}: {sub['clips_per_family']} clips per family x {sub['frames']} frames (seed {sub['seed']}, split {sub['split']})"
        for name, sub in defn["subsets"].items()
    )
    fams = "\n".join(f"- **{f}**: {_family_line(f)}" for f in defn["families"])
    quad = "\n".join(f"| {v} | {name} | {how} |" for v, name, how in QUADMASK_ROWS)
    limits = "\n".join(f"- {x}" for x in KNOWN_LIMITS)
    partial = (
        f"\n> This folder is a cut-down build: the first {limit} clip(s) of each family per subset "
        "(a prefix of the full build; its checksums are a subset of the full build's).\n"
        if limit else ""
    )
    return f"""# {defn['benchmark']} {defn['version']}

{defn.get('description', '')}
{partial}
- definition hash: `{bench.definition_hash}`
- renderer: {bench.info['renderer']}; generator version {defn['generator']['version']}; scorer suite {definition.scorer_of(bench)['suite_version']}
- size: {w}x{h} pixels at {defn['fps']} fps; {subsets}
- this folder: {total} clips, {size / 1e6:.1f} MB
- licence: {defn.get('licence', 'see the repository')}

## Families

{fams}

## Composition (computed from this build)

Mean share of pixels per quadmask value over each clip's frames.

{chr(10).join(rows)}

## How each quadmask value is produced

Every scene is simulated and rendered three times: *full* (all objects), *hidden* (the same
trajectories, removed objects not drawn at all) and *removed* (physics re-run without them:
the true counterfactual).

| value | name | where |
|---|---|---|
{quad}

## Files

Each subset folder is a dataset directory: per clip `rgb_full.mp4` (input),
`rgb_removed.mp4` (ground truth), `rgb_hidden.mp4`, `mask.mp4` (lossless quadmask),
`lossless/*.mkv` (exact RGB, what scoring reads), `trajectories.npz` and `metadata.json`.
`checksums.sha256` holds a checksum of each clip's content; `void bench verify .` recomputes them.

## Intended use

Comparing video object removal methods on interaction-aware removal (the object *and* what
it caused). Methods get `rgb_full.mp4` and the quadmask (or only its object part, values 0
and 63) and return one video per clip; `void bench score` checks and scores a submission.
It is a test set: do not train on it (the seeds of `void simulate`'s default train split never
coincide with these).

## Known limits

{limits}

## How to cite

Name the version and its definition hash, e.g. "{defn['benchmark']} {defn['version']}
(definition `{bench.definition_hash[:16]}`, {bench.info['renderer']} build)". Scores are only
comparable between results scored against the same definition hash.
"""
