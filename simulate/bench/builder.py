"""``void bench build`` and ``void bench verify``.

    void bench build bench/v1 --version v1 --workers 2          # the raster reference build
    void bench build bench/v1-small --version v1 --limit 2      # the first 2 clips per family
    void bench verify bench/v1

Build steps: (1) load the definition and refuse what this install cannot build (a family not
registered, another generator version); (2) refuse an OUT made from another definition or
renderer; (3) write ``bench.json``; (4) run :func:`simulate.generate.generate` once per
subset with the definition's seeds and settings (it skips finished clips, so a killed build
resumes, and sample i depends only on (seed, split, i), so any worker count or executor
writes the same clips); (5) checksum every clip and write ``checksums.sha256``; (6) write the
dataset card; (7) compare with the shipped reference checksums where there are some.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from simulate.bench import card, definition
from simulate.bench.config import BenchBuildConfig, BenchVerifyConfig
from simulate.config import SimulateConfig
from simulate.generate import generate
from simulate.pipeline import GENERATOR_VERSION
from void import atomic, bench_format
from void.bench_format import BenchError
from void.executors import run_tasks


def simulate_config(defn: dict, subset: str, out: Path, config: BenchBuildConfig) -> SimulateConfig:
    """The ``void simulate`` settings of one subset (the definition's, plus where and how fast)."""
    sub, gen = defn["subsets"][subset], defn["generator"]
    per_family = min(config.limit, sub["clips_per_family"]) if config.limit else sub["clips_per_family"]
    return SimulateConfig(
        out=str(out / subset),
        num_samples=per_family * len(defn["families"]),  # family of sample i = families[i % n]
        seed=sub["seed"],
        split=sub["split"],
        families=list(defn["families"]),
        resolution=tuple(defn["resolution"]),
        frames=sub["frames"],
        fps=defn["fps"],
        renderer=config.renderer,
        look=gen["look"],
        sets=list(gen["sets"]),
        camera_motion=gen["camera_motion"],
        max_attempts=gen["max_attempts"],
        spp=gen["spp"],
        denoiser=gen["denoiser"],
        animated_seed=gen["animated_seed"],
        workers=config.workers,
        executor=config.executor,
        ray_address=config.ray_address,
        progress=config.progress,
    )


def _check_out(out: Path, defn_hash: str, renderer: str) -> None:
    try:
        old = bench_format.Bench(out)
    except BenchError:
        if (out / bench_format.BENCH_JSON).is_file():
            raise
        return
    if old.definition_hash != defn_hash or old.info["renderer"] != renderer:
        raise BenchError(
            f"{out} holds benchmark {old.version} (definition {old.definition_hash[:12]}, {old.info['renderer']}), "
            f"not this one (definition {defn_hash[:12]}, {renderer}); choose another OUT"
        )


def _checksum_task(sample_dir: str) -> dict[str, str]:
    return bench_format.clip_checksums(Path(sample_dir))


def compute_checksums(bench: bench_format.Bench, workers: int, progress: bool) -> dict[str, dict[str, str]]:
    clips = bench.clips()
    ids = list(clips)
    table = {}
    for res in run_tasks(_checksum_task, [str(clips[c].root) for c in ids], workers=workers, desc="checksums", unit="clip", progress=progress):
        if not res.ok:
            raise BenchError(f"{ids[res.index]}: cannot be checksummed:\n{res.error}")
        table[ids[res.index]] = res.value
    return table


def compare(found: dict[str, dict[str, str]], expected: dict[str, dict[str, str]]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """Clips whose parts differ (with the parts), clips expected but absent, clips not expected."""
    differ = {
        c: [p for p in bench_format.PARTS if found[c].get(p) != expected[c].get(p)]
        for c in sorted(set(found) & set(expected))
    }
    differ = {c: parts for c, parts in differ.items() if parts}
    return differ, sorted(set(expected) - set(found)), sorted(set(found) - set(expected))


def _checksum_header(bench: bench_format.Bench) -> list[str]:
    return [
        f"VOID-bench {bench.version}, definition {bench.definition_hash}, renderer {bench.info['renderer']}",
        "checksums of content, not of files: mask = decoded quadmask frames; rgb_* = decoded lossless RGB;",
        "trajectories = the arrays of trajectories.npz; metadata = canonical JSON of metadata.json without timing keys",
    ]


def build(config: BenchBuildConfig) -> int:
    start = time.time()
    # 1. the definition, and whether this install builds it
    defn, source = definition.load(config.version, config.definition_file)
    definition.check_buildable(defn, str(source), GENERATOR_VERSION)
    defn_hash = bench_format.definition_hash(defn)
    out = Path(config.out)
    # 2. an OUT from another definition is refused, never mixed
    _check_out(out, defn_hash, config.renderer)
    # 3. bench.json first: a half-built folder says what it is becoming
    info = {
        "format": bench_format.BENCH_FORMAT,
        "benchmark": defn["benchmark"],
        "version": defn["version"],
        "definition_hash": defn_hash,
        "definition": defn,
        "renderer": config.renderer,
        "limit_per_family": config.limit or None,
        "subsets": {s: {"frames": sub["frames"], "dataset": s} for s, sub in defn["subsets"].items()},
    }
    atomic.write_json(out / bench_format.BENCH_JSON, info)
    # 4. the clips, one simulate run per subset
    failed = 0
    for subset in defn["subsets"]:
        print(f"bench: subset {subset}", file=sys.stderr)
        failed += generate(simulate_config(defn, subset, out, config)) != 0
    if failed:
        print(f"bench: {failed} subset(s) have failed clips; rerun the same command to retry them", file=sys.stderr)
        return 1
    # 5. checksums, written whole
    bench = bench_format.Bench(out)
    table = compute_checksums(bench, config.workers, config.progress)
    atomic.write_text(bench.checksums_path(), bench_format.format_checksums(table, _checksum_header(bench)))
    # 6. the dataset card
    atomic.write_text(out / bench_format.CARD, card.render(bench))
    # 7. the reference, where one is shipped
    ref, note = definition.reference(defn, source, config.renderer)
    print(f"bench: {bench.version} ({config.renderer}), {len(table)} clips in {out}, {time.time() - start:.1f} s")
    print(f"  definition {defn_hash}")
    if ref is None:
        print(f"  {note}")
        return 0
    differ, _, extra = compare(table, ref)
    if differ or extra:
        print(f"  DIFFERS from the reference: {len(differ)} clip(s) changed, {len(extra)} not in it; run `void bench verify {out}`")
        return 1
    print(f"  identical to the reference for all {len(table)} clips ({note})")
    return 0


def verify(config: BenchVerifyConfig) -> int:
    """Recompute every clip's checksums; name the clips that differ. Exit 1 when any does."""
    bench = bench_format.Bench(config.dir)
    own = bench.checksums()
    found = compute_checksums(bench, config.workers, config.progress)
    checks = [(f"{bench.checksums_path()}", own)]
    try:
        shipped, source = definition.load(bench.version)
    except BenchError:
        shipped = None
    if shipped is not None and bench_format.definition_hash(shipped) == bench.definition_hash:
        ref, note = definition.reference(shipped, source, bench.info["renderer"])
    else:
        ref, note = None, f"{bench.version} as built here is not a version this install ships; compared against {bench_format.CHECKSUMS} only"
    if ref is not None:
        checks.append((note, ref))
    ok = True
    for label, expected in checks:
        # a --limit build is a prefix of the full one: the reference may list more clips
        subset_only = expected is ref and bench.info.get("limit_per_family")
        differ, missing, extra = compare(found, expected)
        if subset_only:
            missing = []
        problems = [f"  {c}: {', '.join(parts)} differ" for c, parts in differ.items()]
        problems += [f"  {c}: missing from {config.dir}" for c in missing]
        problems += [f"  {c}: not in {label}" for c in extra]
        if problems:
            ok = False
            print(f"bench verify: {len(differ) + len(missing) + len(extra)} clip(s) differ from {label}:\n" + "\n".join(problems))
        else:
            print(f"bench verify: all {len(found)} clips match {label}")
    if ref is None:
        print(f"  {note}")
    return 0 if ok else 1
