"""Who to count: exclusion reasons and answer-quality flags per participant.

Pure functions over the store's exports (``export_votes`` / ``export_participants``), used
by ``void study analyze`` and by the admin page, so both say the same thing. A participant
is excluded for any of these reasons unless the analysis is told to include it:

* ``incomplete`` - left before answering every trial;
* ``duplicate`` - a later session of a platform id that already had one (the first stays);
* ``failed-gold`` - gold-trial accuracy below the study's threshold;
* ``flagged`` - one or more answer-quality flags:
  ``position-bias`` (nearly always the same screen position), ``straight-lining`` (the
  same answer many times in a row), ``too-fast`` (most answers given before one loop of
  the clip could have played, counted from playback start when the page reported it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REASONS = ("incomplete", "duplicate", "failed-gold", "flagged")


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the quality flags (defaults sized for studies of 10-30 trials)."""

    min_answers: int = 6  # fewer decisive answers say nothing about position bias
    # One-sided binomial test of the most used screen position against chance (Bonferroni
    # over positions): an honest participant is flagged about once in 1/position_p studies.
    position_p: float = 0.001
    # A random sequence of 20 left/right answers has a run of 10 with probability ~1%.
    run_length: int = 10
    fast_share: float = 0.5  # share of answers faster than the clip


def _answer_time_ms(v: dict) -> int | None:
    return v["playback_ms"] if v.get("playback_ms") is not None else v.get("response_ms")


def flags_for(votes: list[dict], rules: FlagRules) -> list[str]:
    """The quality flags of one participant's votes (in trial order), with the evidence."""
    votes = sorted(votes, key=lambda v: v["position"])
    out = []
    decisive = [v["choice_position"] for v in votes if v["choice_position"] is not None]
    if len(decisive) >= rules.min_answers:
        from scipy.stats import binomtest

        k = max(len(v["shown"]) for v in votes)
        top = max(set(decisive), key=decisive.count)
        p = min(1.0, k * binomtest(decisive.count(top), len(decisive), 1 / k, alternative="greater").pvalue)
        if p < rules.position_p:
            side = {0: "left", 1: "right"}[top] if k == 2 else f"position {top + 1}"
            out.append(f"position-bias: {decisive.count(top)}/{len(decisive)} answers {side} (p={p:.1g})")
    answers = [v["choice_position"] for v in votes]
    run = best = 0
    for k, a in enumerate(answers):
        run = run + 1 if k and a == answers[k - 1] else 1
        best = max(best, run)
    if best >= rules.run_length:
        out.append(f"straight-lining: the same answer {best} times in a row")
    timed = [(t, v["clip_ms"]) for v in votes if (t := _answer_time_ms(v)) is not None and v.get("clip_ms")]
    if timed:
        fast = sum(t < clip for t, clip in timed)
        if fast / len(timed) >= rules.fast_share:
            out.append(f"too-fast: {fast}/{len(timed)} answers sooner than the clip's length")
    return out


def gold_accuracy(votes: list[dict]) -> dict[int, tuple[int, int]]:
    """participant -> (gold correct, gold answered)."""
    per: dict[int, list[bool]] = {}
    for v in votes:
        if v["kind"] == "gold":
            per.setdefault(v["participant"], []).append(bool(v["correct"]))
    return {p: (sum(a), len(a)) for p, a in per.items()}


def assess(votes: list[dict], participants: list[dict], gold_min_accuracy: float, rules: FlagRules = FlagRules()) -> list[dict[str, Any]]:
    """One row per participant: their exclusion reasons (subset of REASONS), flags and gold score."""
    by_p: dict[int, list[dict]] = {}
    for v in votes:
        by_p.setdefault(v["participant"], []).append(v)
    gold = gold_accuracy(votes)
    seen: dict[tuple, int] = {}
    rows = []
    for p in sorted(participants, key=lambda r: r["participant"]):
        pid = p["participant"]
        reasons, notes = [], []
        if p["completed_at"] is None:
            reasons.append("incomplete")
            notes.append(f"answered {p['votes']} of {p['trials']} trials")
        if p["external_id"] is not None:
            key = (p["external_source"], p["external_id"])
            if key in seen:
                reasons.append("duplicate")
                notes.append(f"platform id already used by participant {seen[key]}")
            else:
                seen[key] = pid
        correct, total = gold.get(pid, (0, 0))
        if total and correct / total < gold_min_accuracy:
            reasons.append("failed-gold")
            notes.append(f"gold {correct}/{total}")
        flags = flags_for(by_p.get(pid, []), rules)
        if flags:
            reasons.append("flagged")
        rows.append({
            "participant": pid, "external_id": p["external_id"], "reasons": reasons, "flags": flags,
            "notes": notes, "gold_correct": correct, "gold_total": total, "votes": p["votes"], "trials": p["trials"],
        })
    return rows


def excluded(assessment: list[dict], include: set[str]) -> dict[int, list[str]]:
    """participant -> the reasons that exclude them, once the ``include``d reasons are waived."""
    unknown = include - set(REASONS)
    if unknown:
        raise ValueError(f"unknown exclusion reasons {sorted(unknown)}; known: {', '.join(REASONS)}")
    out = {}
    for row in assessment:
        left = [r for r in row["reasons"] if r not in include]
        if left:
            out[row["participant"]] = left
    return out
