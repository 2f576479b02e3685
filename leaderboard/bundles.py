"""Merge results bundles (``void bench score``) from any number of machines into one results
directory the leaderboard reads, refusing bundles that are not comparable.

Comparable means: the same benchmark definition hash and the same clips. Bundles scored
against builds whose content checksums differ (same definition, different machine) are
merged with a note on the site naming them, since the definition says they are one benchmark.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from evaluate.bundle import Bundle, read_bundle
from evaluate.results import summarize, write_results
from leaderboard.inputs import InputError
from void.deps import require

RESULTS_DIR = "results"
MASK_RESULTS_DIR = "results-masks"  # mask bundles (``task: masks``): the site's mask-track section


@dataclass
class Merged:
    results: Path
    bundles: list[Bundle]
    version: str
    definition_hash: str
    notes: list[str] = field(default_factory=list)
    mask_bundles: list[Bundle] = field(default_factory=list)
    masks: Path | None = None  # merged mask-track results, when any bundle is a mask bundle

    @property
    def methods(self) -> list[str]:
        return [b.method for b in self.bundles]


def load(paths: list[str]) -> list[Bundle]:
    bundles = [read_bundle(p) for p in paths]
    first = bundles[0]
    for b in bundles[1:]:
        if b.definition_hash != first.definition_hash:
            raise InputError(
                f"{b.path} was scored against {b.data['version']} (definition {b.definition_hash[:16]}), "
                f"{first.path} against {first.data['version']} (definition {first.definition_hash[:16]}): "
                "results are only comparable under one definition; build the site from one version's bundles"
            )
        if sorted(b.data.get("clips", {})) != sorted(first.data.get("clips", {})):
            raise InputError(
                f"{b.path} and {first.path} cover different clips ({len(b.data.get('clips', {}))} and "
                f"{len(first.data.get('clips', {}))}; --limit builds?): means over different clips are not comparable"
            )
    suites: dict[tuple[str, object], Path] = {}  # (task, suite) -> a bundle with it
    for b in bundles:
        scored = b.data.get("scored", {})
        suite = scored.get("mask_suite_version" if b.task == "masks" else "suite_version")
        other = next((p for (task, s), p in suites.items() if task == b.task and s != suite), None)
        if other is not None:
            raise InputError(
                f"{b.path} was scored with {b.task} metric suite {suite}, {other} with another: scores of different "
                "suites are not comparable; rescore them with one install"
            )
        suites.setdefault((b.task, suite), b.path)
    seen: dict[tuple[str, str], Path] = {}
    for b in bundles:  # one name per track: a removal and a mask method may share one
        if (b.task, b.method) in seen:
            raise InputError(f"method {b.method!r} is in both {seen[(b.task, b.method)]} and {b.path}; give each submission its own name")
        seen[(b.task, b.method)] = b.path
    return bundles


def _merge_masks(bundles: list[Bundle], site: Path) -> Path:
    """The mask bundles' rows as a mask-track results directory (``leaderboard.masks`` reads it)."""
    pd = require("pandas")
    table = pd.concat([b.table() for b in bundles], ignore_index=True)
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    table["higher_is_better"] = table["higher_is_better"].astype(bool)
    from evaluate.masks.score import summarize as summarize_masks

    first = bundles[0]
    methods = [b.method for b in bundles]
    summary = summarize_masks(table, methods, {}, {}, data=f"{first.data['version']} ({first.definition_hash})",
                              pred=", ".join(str(b.path.name) for b in bundles))
    for b in bundles:
        summary["methods"][b.method]["card"] = b.data["card"]
    out = site / MASK_RESULTS_DIR
    write_results(out, table, summary)
    return out


def merge(paths: list[str], site: Path) -> Merged:
    """Check the bundles and write their merged tables to ``SITE/results``."""
    pd = require("pandas")
    everything = load(paths)
    mask_bundles = [b for b in everything if b.task == "masks"]
    bundles = [b for b in everything if b.task != "masks"]
    if not bundles:
        raise InputError(
            f"{', '.join(paths)}: only mask-track bundles (task: masks); the site's main table needs at least one "
            "removal bundle (`void bench score` without --task masks)"
        )
    first = bundles[0]
    notes = [f"{len(bundles)} results bundle(s) scored against {first.data['version']}, definition {first.definition_hash}"]
    builds = {}
    for b in bundles:
        builds.setdefault(b.data["checksums_sha256"], []).append(b.method)
    if len(builds) > 1:
        listing = "; ".join(f"{h[:12]}: {', '.join(m)}" for h, m in builds.items())
        notes.append(f"these bundles were scored against builds whose content checksums differ ({listing}); "
                     "`void bench verify` names the clips that differ")
    if first.data.get("limit_per_family"):
        notes.append(f"scored on a cut-down build (first {first.data['limit_per_family']} clip(s) per family)")
    table = pd.concat([b.table() for b in bundles], ignore_index=True)
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    table["higher_is_better"] = table["higher_is_better"].astype(bool)
    methods = [b.method for b in bundles]
    unavailable = {}
    for b in bundles:
        for summary in (b.data.get("summaries") or {}).values():
            unavailable.update(summary.get("unavailable") or {})
    summary = summarize(table, methods, {}, {}, unavailable, data=f"{first.data['version']} ({first.definition_hash})",
                        pred=", ".join(str(b.path.name) for b in bundles))
    summary["created"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    for b in bundles:
        summary["methods"][b.method]["card"] = b.data["card"]
    out = site / RESULTS_DIR
    write_results(out, table, summary)
    masks = _merge_masks(mask_bundles, site) if mask_bundles else None
    if mask_bundles:
        notes.append(f"{len(mask_bundles)} mask-track bundle(s): {', '.join(b.method for b in mask_bundles)}")
    return Merged(out, bundles, str(first.data["version"]), first.definition_hash, notes, mask_bundles, masks)
