"""The study config (YAML): parsing, validation, the comparisons it implies, trial assignment.

A study config, paths relative to the file::

    name: void-vs-baselines
    predictions: preds            # PRED/<method>/<sample_id>.mp4
    inputs: data/test             # a dataset dir, or VOID's layout ROOT/<seq>/input_video.mp4
    methods: [void, propainter, runway]   # or [{name: runway, folder: exports/runway}]
    samples: all                  # or a list of ids; "all" = every sample each method has
    design: pairwise              # or best-of-n (pick the best of N results, VOID's design)
    allow_tie: true               # pairwise: offer "both equally"
    candidates: 3                 # best-of-n: results per trial (default: every method)
    trials_per_participant: 20
    gold:                         # attention checks: a known-bad vs a known-good result
      bad: identity               # method folder(s) whose output leaves the object in
      good: void
      trials: 2                   # gold trials per participant
      min_accuracy: 1.0           # analysis drops participants below this gold accuracy
    completion:
      code: C1ABCDEF              # a crowd platform's fixed code; omit for per-participant codes
      redirect_url: https://app.prolific.com/submissions/complete?cc={code}
    external_id_params: [PROLIFIC_PID]    # query parameters naming a platform id: one session per id
    platform_params: {study_id: STUDY_ID, session_id: SESSION_ID}   # also stored (Prolific's names)
    repeat:                       # a share of each participant's trials repeats comparisons that
      share: 0.25                 # others judged, until each has `raters` judgments: agreement
      raters: 3                   # (Krippendorff's alpha) is then measured
    show_mask: true               # outline and tint the object to remove on the Original (toggle)
    min_response_s: 1.0           # votes sooner than this after playback starts are refused
    seed: 0

Nothing here touches the database or Streamlit: :mod:`store` persists the definition and
calls :func:`assign_trials` when a participant starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from void import formats
from void.errors import ConfigError

DESIGNS = ("pairwise", "best-of-n")
QUESTIONS = {
    "pairwise": "Which video removed the object more convincingly, as if it was never there?",
    "best-of-n": "Which video removed the object most convincingly, as if it was never there?",
}
CONSENT = (
    "This is a research study on video editing. You will watch short silent videos and say "
    "which edited version looks most natural. It takes about {minutes} minutes. We record your "
    "answers, their timing and, if you came from a crowd-work platform, your platform id; "
    "nothing else about you. Taking part is voluntary and you may stop at any time by "
    "closing the page. Answers are analysed in aggregate and may be published in anonymised form."
)
INSTRUCTIONS = (
    "Each trial shows the **original video** at the top and {n} edited versions below it. "
    "Someone tried to erase an object from the original. A good edit removes the object *and "
    "everything it caused*: if it pushed, held or shadowed something, that should look as if "
    "the object had never been there. Watch the videos (they loop together), then choose the "
    "edit that does this most convincingly. Some trials have an obvious answer; they check "
    "that answers are given with care."
)
EXTERNAL_ID_PARAMS = ("PROLIFIC_PID", "workerId", "participant_id")
KNOWN_KEYS = {
    "name", "predictions", "inputs", "methods", "samples", "design", "allow_tie", "candidates",
    "trials_per_participant", "gold", "completion", "external_id_params", "min_response_s",
    "seed", "question", "consent", "instructions", "minutes", "platform_params", "repeat", "show_mask",
}
PLATFORM_PARAMS = {"study_id": "STUDY_ID", "session_id": "SESSION_ID"}


@dataclass(frozen=True)
class MethodSpec:
    name: str
    folder: str  # absolute, resolved
    studied: bool  # compared in the main trials
    gold_role: str | None = None  # "good" / "bad" in gold trials


@dataclass(frozen=True)
class SampleSpec:
    sample_id: str
    source: str  # absolute path of the browser-playable input video
    videos: dict[str, str] = field(default_factory=dict)  # method -> absolute path
    mask: str | None = None  # the quadmask video (its 0 region is outlined on the Original)


@dataclass(frozen=True)
class ItemSpec:
    """One comparison: the methods shown together on one sample (kind ``main`` or ``gold``)."""

    sample_id: str
    kind: str
    methods: tuple[str, ...]
    good: tuple[str, ...] = ()


@dataclass
class StudyDefinition:
    name: str
    design: str
    question: str
    allow_tie: bool
    candidates: int
    trials_per_participant: int
    gold_trials: int
    gold_good: list[str]
    gold_bad: list[str]
    gold_min_accuracy: float
    completion_code: str | None
    completion_url: str | None
    external_id_params: list[str]
    min_response_s: float
    seed: int
    consent: str
    instructions: str
    predictions: str
    inputs: str
    methods: list[MethodSpec]
    samples: list[SampleSpec]
    platform_params: dict[str, str] = field(default_factory=lambda: dict(PLATFORM_PARAMS))
    repeat_share: float = 0.0
    repeat_raters: int = 0
    show_mask: bool = True

    @property
    def studied(self) -> list[str]:
        return [m.name for m in self.methods if m.studied]

    @property
    def roots(self) -> list[str]:
        """Folders the app may serve videos from: the inputs and every method's folder."""
        return sorted({self.inputs, *(m.folder for m in self.methods)})

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "StudyDefinition":
        data = dict(data)
        data["methods"] = [MethodSpec(**m) for m in data["methods"]]
        data["samples"] = [SampleSpec(**s) for s in data["samples"]]
        return cls(**data)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------- parsing


def load(path: str | Path) -> StudyDefinition:
    """Parse and validate a study YAML; every error names the file and the key."""
    import yaml  # light, but only `init` needs it

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such study config") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of study settings at the top level")
    return parse(raw, base=path.parent, source=str(path))


def _err(source: str, key: str, msg: str) -> ConfigError:
    return ConfigError(f"{source}: {key}: {msg}")


def _as_list(value: Any, source: str, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _err(source, key, f"expected a name or a list of names, got {value!r}")


def _number(raw: Mapping, key: str, default, kind, source: str, lo=None, hi=None):
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise _err(source, key, f"expected {'an integer' if kind is int else 'a number'}, got {value!r}")
    value = kind(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise _err(source, key, f"must be in [{lo}, {'inf' if hi is None else hi}], got {value}")
    return value


def parse(raw: Mapping[str, Any], base: Path, source: str = "study config") -> StudyDefinition:
    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_KEYS))})")
    for key in ("predictions", "inputs", "methods"):
        if not raw.get(key):
            raise _err(source, key, "required")
    pred = (base / str(raw["predictions"])).resolve()
    if not pred.is_dir():
        raise _err(source, "predictions", f"{pred}: no such directory")
    inputs_root = (base / str(raw["inputs"])).resolve()
    if not inputs_root.is_dir():
        raise _err(source, "inputs", f"{inputs_root}: no such directory")

    design = raw.get("design", "pairwise")
    if design not in DESIGNS:
        raise _err(source, "design", f"unknown design {design!r}; expected one of {', '.join(DESIGNS)}")
    folders = _method_folders(raw["methods"], pred, source)
    studied = list(folders)
    if len(studied) < 2:
        raise _err(source, "methods", f"a study compares at least 2 methods, got {len(studied)}")

    gold = raw.get("gold") or {}
    if not isinstance(gold, dict):
        raise _err(source, "gold", "expected a mapping with bad, good, trials")
    gold_trials = _number(gold, "trials", 2 if gold else 0, int, source, lo=0)
    gold_bad = _as_list(gold.get("bad"), source, "gold.bad")
    gold_good = _as_list(gold.get("good"), source, "gold.good")
    if gold_trials and not (gold_bad and gold_good):
        raise _err(source, "gold", "gold trials need both a known-bad ('bad') and a known-good ('good') method")
    if set(gold_bad) & set(gold_good):
        raise _err(source, "gold", f"{sorted(set(gold_bad) & set(gold_good))} cannot be both good and bad")
    for name in gold_bad + gold_good:
        if name not in folders:
            folders[name] = _method_folder(name, pred, source, "gold")
    methods = [
        MethodSpec(name, str(folder), name in studied, "bad" if name in gold_bad else "good" if name in gold_good else None)
        for name, folder in folders.items()
    ]

    n_all = len(studied)
    if design == "pairwise":
        candidates = 2
    else:
        candidates = _number(raw, "candidates", n_all, int, source, lo=2, hi=n_all)
    allow_tie = raw.get("allow_tie", design == "pairwise")
    if not isinstance(allow_tie, bool):
        raise _err(source, "allow_tie", f"expected true or false, got {allow_tie!r}")
    if allow_tie and design != "pairwise":
        raise _err(source, "allow_tie", "'both equally' is only offered in the pairwise design")

    samples = _samples(raw.get("samples", "all"), inputs_root, methods, source)
    n_items = len(samples) * len(list(itertools.combinations(studied, candidates)))
    trials = _number(raw, "trials_per_participant", min(20, n_items), int, source, lo=1)
    if trials > n_items:
        raise _err(
            source, "trials_per_participant",
            f"{trials} exceeds the {n_items} distinct comparisons of {len(samples)} samples x "
            f"{n_items // len(samples)} method sets; lower it or add samples",
        )

    completion = raw.get("completion") or {}
    if not isinstance(completion, dict):
        raise _err(source, "completion", "expected a mapping with code and/or redirect_url")
    code = completion.get("code")
    if code is not None and (not isinstance(code, (str, int)) or not str(code).strip()):
        raise _err(source, "completion.code", f"expected a non-empty code, got {code!r}")
    url = completion.get("redirect_url")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        raise _err(source, "completion.redirect_url", f"expected an http(s) URL, got {url!r}")
    if url is not None:
        try:
            url.format(code="CODE")
        except (KeyError, IndexError, ValueError) as exc:
            raise _err(source, "completion.redirect_url", f"only the {{code}} placeholder is filled in ({exc!r})") from None

    platform = raw.get("platform_params", PLATFORM_PARAMS)
    if not isinstance(platform, dict) or set(platform) - set(PLATFORM_PARAMS) or not all(isinstance(v, str) and v for v in platform.values()):
        raise _err(source, "platform_params", f"expected a mapping of {', '.join(PLATFORM_PARAMS)} to query parameter names, got {platform!r}")
    repeat = raw.get("repeat") or {}
    if not isinstance(repeat, dict) or set(repeat) - {"share", "raters"}:
        raise _err(source, "repeat", f"expected a mapping with share and raters, got {repeat!r}")
    repeat_share = _number(repeat, "share", 0.25 if repeat else 0.0, float, source, lo=0.0, hi=1.0)
    repeat_raters = _number(repeat, "raters", 3 if repeat else 0, int, source, lo=0)
    if repeat and repeat_raters < 2:
        raise _err(source, "repeat.raters", f"agreement needs at least 2 raters per comparison, got {repeat_raters}")
    show_mask = raw.get("show_mask", True)
    if not isinstance(show_mask, bool):
        raise _err(source, "show_mask", f"expected true or false, got {show_mask!r}")

    minutes = _number(raw, "minutes", max(1, round((trials + gold_trials) * 20 / 60)), int, source, lo=1)
    return StudyDefinition(
        name=str(raw.get("name") or Path(source).stem),
        design=design,
        question=str(raw.get("question") or QUESTIONS[design]),
        allow_tie=allow_tie,
        candidates=candidates,
        trials_per_participant=trials,
        gold_trials=gold_trials,
        gold_good=gold_good,
        gold_bad=gold_bad,
        gold_min_accuracy=_number(gold, "min_accuracy", 1.0, float, source, lo=0.0, hi=1.0),
        completion_code=None if code is None else str(code).strip(),
        completion_url=url,
        external_id_params=_as_list(raw.get("external_id_params", list(EXTERNAL_ID_PARAMS)), source, "external_id_params"),
        min_response_s=_number(raw, "min_response_s", 1.0, float, source, lo=0.0),
        seed=_number(raw, "seed", 0, int, source, lo=0),
        consent=str(raw.get("consent") or CONSENT.format(minutes=minutes)),
        instructions=str(raw.get("instructions") or INSTRUCTIONS.format(n="two" if candidates == 2 else "several")),
        predictions=str(pred),
        inputs=str(inputs_root),
        methods=methods,
        samples=samples,
        platform_params=dict(platform),
        repeat_share=repeat_share,
        repeat_raters=repeat_raters,
        show_mask=show_mask,
    )


def _method_folder(name: str, pred: Path, source: str, key: str) -> Path:
    folder = (pred / name).resolve()
    if not formats.SAMPLE_ID_RE.match(name) or not folder.is_dir():
        available = ", ".join(formats.list_methods(pred)) or "none"
        raise _err(source, key, f"unknown method folder {name!r}: {pred / name} not found (methods under {pred}: {available})")
    return folder


def _method_folders(entries: Any, pred: Path, source: str) -> dict[str, Path]:
    if not isinstance(entries, list):
        raise _err(source, "methods", "expected a list of method names (prediction folders)")
    out: dict[str, Path] = {}
    for entry in entries:
        if isinstance(entry, str):
            name, folder = entry, _method_folder(entry, pred, source, "methods")
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry.get("folder"):
            name = entry["name"]
            folder = (pred / str(entry["folder"])).resolve()
            if not folder.is_dir():
                raise _err(source, "methods", f"{name}: folder {folder} not found")
        else:
            raise _err(source, "methods", f"expected a name or {{name, folder}}, got {entry!r}")
        if name in out:
            raise _err(source, "methods", f"{name!r} listed twice")
        out[name] = folder
    return out


def source_videos(inputs: Path) -> dict[str, tuple[Path, Path | None]]:
    """sample id -> (browser-playable input video, quadmask video) (h264 ``rgb_full.mp4``
    of a dataset dir, or VOID's ``input_video.mp4`` and ``quadmask_0.mp4``)."""
    if formats.is_dataset_dir(inputs):
        return {ref.sample_id: (ref.video_path("full", lossless=False), ref.mask_path) for ref in formats.Dataset(inputs)}
    return {s.sample_id: (s.video_path, s.mask_path) for s in formats.iter_inputs(inputs)}


def _samples(wanted: Any, inputs: Path, methods: list[MethodSpec], source: str) -> list[SampleSpec]:
    try:
        sources = source_videos(inputs)
    except formats.FormatError as exc:
        raise _err(source, "inputs", str(exc)) from None
    have = {m.name: {p.stem: p for p in sorted(Path(m.folder).glob("*.mp4")) if not p.stem.endswith(formats.TUPLE_SUFFIX)} for m in methods}
    if wanted in ("all", None):
        ids = [s for s in sources if all(s in have[m.name] for m in methods)]
        if not ids:
            raise _err(source, "samples", f"no sample of {inputs} has a video from every method ({', '.join(have)})")
    elif isinstance(wanted, list) and wanted and all(isinstance(s, str) for s in wanted):
        ids = list(dict.fromkeys(wanted))
        problems = [f"{s}: not in {inputs}" for s in ids if s not in sources]
        problems += [f"{s}: no {m}/{s}.mp4" for s in ids for m in have if s not in have[m]]
        if problems:
            raise _err(source, "samples", "missing videos: " + "; ".join(problems[:10]) + (" ..." if len(problems) > 10 else ""))
    else:
        raise _err(source, "samples", f"expected 'all' or a list of sample ids, got {wanted!r}")
    out = []
    for sid in ids:
        src, mask = sources[sid]
        if not src.is_file():
            raise _err(source, "samples", f"missing source video {src}")
        mask_path = str(mask.resolve()) if mask is not None and mask.is_file() else None
        out.append(SampleSpec(sid, str(src.resolve()), {m: str(have[m][sid].resolve()) for m in have}, mask_path))
    return out


# --------------------------------------------------------------------------- comparisons


def build_items(study: StudyDefinition) -> list[ItemSpec]:
    """Every comparison the study can show: main method sets per sample, then gold items.

    A gold item shows a known-good and a known-bad result; in best-of-n it is filled up to
    N with other studied methods (rotating per sample), so a gold trial cannot be told
    apart by its number of videos. Any pick but a known-bad one passes (``good``); "both
    equally" does not.
    """
    items = []
    for s in study.samples:
        for combo in itertools.combinations(study.studied, study.candidates):
            items.append(ItemSpec(s.sample_id, "main", tuple(combo)))
    if study.gold_trials:
        for k, s in enumerate(study.samples):
            for bad in study.gold_bad:
                for good in study.gold_good:
                    others = [m for m in study.studied if m not in (bad, good) and m not in study.gold_bad]
                    fill = (others[k % len(others):] + others[: k % len(others)])[: study.candidates - 2] if others else []
                    shown = (good, *fill, bad)
                    items.append(ItemSpec(s.sample_id, "gold", shown, tuple(m for m in shown if m != bad)))
    return items


def participant_seed(study_seed: int, token: str) -> int:
    """A participant's randomisation seed, derived from the study seed and their token."""
    digest = hashlib.sha256(f"{study_seed}:{token}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2  # fits a signed 64-bit column


def assign_trials(
    main_items: Sequence[int],
    gold_items: Sequence[int],
    item_methods: Mapping[int, Sequence[int]],
    counts: Mapping[int, int],
    n_main: int,
    n_gold: int,
    seed: int,
    repeat_share: float = 0.0,
    repeat_raters: int = 0,
) -> list[tuple[int, list[int]]]:
    """One participant's trials: ``[(item id, method ids in screen order), ...]`` in order.

    With ``repeat_share``, that share of the main trials completes comparisons others have
    judged but fewer than ``repeat_raters`` times (the nearest to complete first), so the
    study accumulates comparisons judged by ``repeat_raters`` people at a steady rate. The
    other main items are the least-judged so far (ties broken at random), so judgments
    spread evenly. Trial order and left/right (screen) order are shuffled with the
    participant's seed.
    """
    rng = random.Random(seed)
    tiebreak = {i: rng.random() for i in main_items}
    n_repeat = min(n_main, round(repeat_share * n_main)) if repeat_raters >= 2 else 0
    partial = sorted((i for i in main_items if 0 < counts.get(i, 0) < repeat_raters), key=lambda i: (-counts.get(i, 0), tiebreak[i]))
    repeated = partial[:n_repeat]
    taken = set(repeated)
    ranked = sorted((i for i in main_items if i not in taken), key=lambda i: (counts.get(i, 0), tiebreak[i]))
    chosen = repeated + ranked[: n_main - len(repeated)] + rng.sample(list(gold_items), min(n_gold, len(gold_items)))
    rng.shuffle(chosen)
    return [(item, rng.sample(list(item_methods[item]), len(item_methods[item]))) for item in chosen]
