"""``void simulate``: generate a paired counterfactual dataset.

    void simulate --out data/train --num-samples 200 --seed 0 --workers 2

Sample ``i`` depends only on (dataset seed, split, i): its seed comes from
:func:`sample_seed` and its family is ``families[i % len(families)]``, so the dataset is the
same for any worker count or executor. Samples are written atomically; a rerun of the same
command removes leftovers of killed writers, skips complete samples and finishes the rest.
``manifest.json`` (VOID's schema; only complete samples) and ``dataset.json`` (our header)
are rewritten atomically every few samples and at the end, so a killed run always leaves a
valid manifest of what is done.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from simulate.config import SimulateConfig
from simulate.pipeline import GENERATOR_VERSION, SampleTask, run_sample
from void import formats
from void.errors import ConfigError
from void.executors import run_tasks

TEST_BIT = 1 << 63
SEED_RULE = (
    "sample seed = numpy SeedSequence(entropy=dataset seed, spawn_key=(index,)).generate_state(2, uint32) "
    "read as a 64-bit integer with the top bit cleared for split 'train' and set for split 'test'; "
    "draw a of a sample uses SeedSequence(entropy=sample seed, spawn_key=(a,))"
)
FAMILY_RULE = "family of sample i = families[i % len(families)]"
HEADER_EVERY_S = 20.0
# settings that change what sample i is: a resume must not mix datasets made with others
# (not max_attempts: draws are tried in a fixed order, so a sample that succeeded is the
# same under any larger limit, and raising the limit is how failed samples are retried)
_IDENTITY_KEYS = ("seed", "split", "families", "resolution", "frames", "fps", "renderer", "camera_motion", "look", "sets", "film", "bystanders")
# keys added after datasets were written without them, and the value those datasets had
_ADDED_KEYS = {"bystanders": 0.0}


def sample_seed(seed: int, split: str, index: int) -> int:
    """The seed of sample ``index``; train and test seeds never coincide (top bit)."""
    lo, hi = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(index),)).generate_state(2, np.uint32)
    value = (int(hi) << 32 | int(lo)) & (TEST_BIT - 1)
    return value | TEST_BIT if split == "test" else value


def sample_id(index: int, family: str) -> str:
    return f"{index:06d}_{family}"


def plan(config: SimulateConfig) -> list[SampleTask]:
    """Every sample of the dataset, complete or not, in index order."""
    fams = config.families
    return [
        SampleTask(
            out=str(config.out),
            sample_id=sample_id(i, fams[i % len(fams)]),
            index=i,
            seed=sample_seed(config.seed, config.split, i),
            family=fams[i % len(fams)],
            config=config,
        )
        for i in range(config.num_samples)
    ]


def _config_dict(config: SimulateConfig) -> dict:
    data = dataclasses.asdict(config)
    data["resolution"] = list(config.resolution)
    if config.renderer != "cycles":
        del data["film"]  # a Cycles setting: raster headers stay as VOID-bench v1 wrote them
    if not config.bystanders:
        del data["bystanders"]  # off: headers stay as they were before the option
    return data


def _check_resume(out: Path, config: SimulateConfig) -> None:
    header = out / formats.HEADER
    if config.overwrite or not header.is_file():
        return
    try:
        old = json.loads(header.read_text(encoding="utf-8")).get("config", {})
    except (OSError, json.JSONDecodeError):
        return  # a broken header is rewritten; samples are checked one by one anyway
    new = {**_ADDED_KEYS, **_config_dict(config)}
    old = {**_ADDED_KEYS, **old} if old else old
    diffs = [f"{k}: {old.get(k)!r} there, {new.get(k)!r} now" for k in _IDENTITY_KEYS
             if k in old and old[k] != new.get(k)]
    if diffs:
        raise ConfigError(
            f"--out {out} holds a dataset made with other settings ({'; '.join(diffs)}); "
            "choose another --out or pass --overwrite to regenerate it"
        )


def _existing_summary(out: Path, task: SampleTask) -> dict | None:
    """Summary of an already complete sample, read back from its metadata."""
    sample_dir = out / task.sample_id
    if not formats.is_complete(sample_dir):
        return None
    try:
        meta = json.loads((sample_dir / formats.METADATA).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # unreadable: regenerate it
    if meta.get("seed") != task.seed:
        return None
    return {
        "sample_id": task.sample_id,
        "index": task.index,
        "family": task.family,
        "seed": task.seed,
        "caption": meta.get("caption", ""),
        "attempts": meta.get("attempts", 1),
        "rejections": meta.get("rejections", {}),
        "timings_cpu_s": meta.get("timings_cpu_s", {}),
    }


def write_index(out: Path, config: SimulateConfig, done: dict[int, dict], failures: dict[int, dict], elapsed_s: float) -> None:
    """Atomically rewrite manifest.json and dataset.json from what is complete now."""
    summaries = [done[i] for i in sorted(done)]
    formats.write_manifest(out, [formats.manifest_entry(out, s["sample_id"], s["caption"]) for s in summaries])
    rejections = Counter()
    for s in summaries:
        rejections.update(s.get("rejections", {}))
    for f in failures.values():
        rejections.update(f.get("rejections", {}))
    formats.write_header(out, {
        "generator": {"name": "void-bench simulate", "version": GENERATOR_VERSION},
        "config": _config_dict(config),
        "split": config.split,
        "seed": config.seed,
        "seed_rule": SEED_RULE,
        "family_rule": FAMILY_RULE,
        "counts": {
            "requested": config.num_samples,
            "complete": len(done),
            "failed": len(failures),
            "pending": config.num_samples - len(done) - len(failures),
            "rejected_draws": int(sum(rejections.values())),
        },
        "family_counts": dict(Counter(s["family"] for s in summaries)),
        "rejections": dict(sorted(rejections.items())),
        "failures": [failures[i] for i in sorted(failures)],
        "elapsed_s": round(elapsed_s, 2),
        "samples": [
            {"sample_id": s["sample_id"], "index": s["index"], "family": s["family"], "seed": s["seed"]}
            for s in summaries
        ],
    })


def generate(config: SimulateConfig) -> int:
    """Generate (or finish) the dataset at ``config.out``; returns the exit status."""
    start = time.time()
    out = Path(config.out)
    _check_resume(out, config)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the directory ({exc})") from None
    cleaned = formats.clean_partials(out)
    tasks = plan(config)
    done: dict[int, dict] = {}
    todo = []
    for task in tasks:
        summary = None if config.overwrite else _existing_summary(out, task)
        if summary is not None:
            done[task.index] = summary
        else:
            todo.append(task)
    skipped = len(done)
    failures: dict[int, dict] = {}
    write_index(out, config, done, failures, time.time() - start)
    last_write = time.time()
    try:
        for result in run_tasks(
            run_sample, todo, executor=config.executor, workers=config.workers, ray_address=config.ray_address,
            retries=config.retries, desc="simulate", progress=config.progress, unit="sample",
        ):
            task = result.task
            if result.ok and not result.value.get("error"):
                done[task.index] = result.value
            elif result.ok:  # every draw was degenerate
                failures[task.index] = result.value
            else:  # an exception, after retries
                last = result.error.strip().splitlines()[-1] if result.error else "unknown error"
                failures[task.index] = {
                    "sample_id": task.sample_id, "index": task.index, "family": task.family, "seed": task.seed,
                    "attempts": result.attempts, "error": last,
                }
            if time.time() - last_write > HEADER_EVERY_S:
                write_index(out, config, done, failures, time.time() - start)
                last_write = time.time()
    finally:  # interrupted too: list what is complete now
        write_index(out, config, done, failures, time.time() - start)
    elapsed = time.time() - start
    _print_summary(out, config, done, failures, skipped, cleaned, elapsed)
    return 1 if failures else 0


def _print_summary(out, config, done, failures, skipped, cleaned, elapsed) -> None:
    new = len(done) - skipped
    rejections = Counter()
    for s in done.values():
        rejections.update(s.get("rejections", {}))
    fams = Counter(s["family"] for s in done.values())
    lines = [
        f"simulate: {len(done)}/{config.num_samples} samples complete in {out} "
        f"({new} new, {skipped} already there{f', {cleaned} partial leftovers removed' if cleaned else ''}) "
        f"in {elapsed:.1f} s",
        "  families: " + ", ".join(f"{k} {v}" for k, v in sorted(fams.items())),
    ]
    if rejections:
        lines.append("  rejected draws: " + ", ".join(f"{k} {v}" for k, v in sorted(rejections.items())))
    if failures:
        lines.append(f"  FAILED {len(failures)} sample(s) (listed in {out / formats.HEADER}):")
        lines += [f"    {f['sample_id']}: {f['error']}" for f in (failures[i] for i in sorted(failures))]
        lines.append("  rerun the same command to retry them (with a larger --max-attempts for degenerate draws)")
    print("\n".join(lines))
