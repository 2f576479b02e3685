"""Analysis on simulated votes with known strengths, checked against independent references
(scipy's Wilson interval, a scipy.optimize Bradley-Terry / Luce fit, a hand-written
Krippendorff coincidence matrix, the closed-form sample size and exact binomial power)."""

from __future__ import annotations

import csv
import itertools
import json
import math

import choix
import numpy as np
import pytest
from scipy import optimize, stats as sps

from evaluate.study import analysis, design, stats
from evaluate.study.config import StudyAnalyzeConfig

TRUE = {"oracle-removed": 1.0, "blend": 0.3, "oracle-hidden": -0.2, "identity": -1.1}
METHODS = list(TRUE)


def _simulate(study, n_participants=80, tie_rate=0.1, inattentive=(), seed=1):
    """Votes in the store's export format. Pairwise: BT with ties; best-of-n: Luce choice."""
    rng = np.random.default_rng(seed)
    items = [(s.sample_id, combo) for s in study.samples for combo in itertools.combinations(study.studied, study.candidates)]
    votes = []
    for p in range(1, n_participants + 1):
        order = rng.permutation(len(items))[: study.trials_per_participant]
        for pos, k in enumerate(order):
            sample, combo = items[k]
            shown = list(rng.permutation(combo))
            if p in inattentive:
                choice = shown[0]
            elif study.design == "pairwise" and rng.random() < tie_rate:
                choice = None
            else:
                w = np.exp([TRUE[m] for m in shown])
                choice = shown[rng.choice(len(shown), p=w / w.sum())]
            votes.append({"participant": p, "kind": "main", "item_id": int(k), "sample_id": sample, "shown": shown,
                          "choice": choice, "tie": choice is None, "correct": None, "response_ms": 1500,
                          "position": pos, "choice_position": None if choice is None else shown.index(choice),
                          "playback_ms": 1400, "clip_ms": 1000})
        gold_choice = "identity" if p in inattentive else "oracle-removed"
        votes.append({"participant": p, "kind": "gold", "item_id": 10_000, "sample_id": study.samples[0].sample_id,
                      "shown": ["identity", "oracle-removed"], "choice": gold_choice, "tie": False,
                      "correct": gold_choice == "oracle-removed", "response_ms": 900, "position": len(order),
                      "choice_position": 0 if p in inattentive else 1, "playback_ms": 1100, "clip_ms": 1000})
    n_votes = study.trials_per_participant + 1
    people = [{"participant": p, "external_id": f"w{p}", "external_source": "PROLIFIC_PID", "completed_at": "x",
               "votes": n_votes, "trials": n_votes} for p in range(1, n_participants + 1)]
    return votes, people


@pytest.fixture
def pairwise_study(write_study):
    return design.load(write_study(methods=METHODS, trials_per_participant=12))


@pytest.fixture
def best_of_n_study(write_study):
    return design.load(write_study(methods=METHODS, design="best-of-n", candidates=3, trials_per_participant=8))


def _config(tmp_path, **kw):
    return StudyAnalyzeConfig(db=f"sqlite:///{tmp_path / 'unused.db'}", out=str(tmp_path / "out"), bootstrap=kw.pop("bootstrap", 300), **kw)


def _bt_mle(n, pairs):
    """Independent Bradley-Terry maximum likelihood (scipy.optimize), log-strengths mean 0."""
    w = np.array([a for a, _ in pairs])
    l = np.array([b for _, b in pairs])

    def nll(theta):
        d = theta[w] - theta[l]
        return np.sum(np.logaddexp(0, -d)) + 1e-9 * theta @ theta

    theta = optimize.minimize(nll, np.zeros(n), method="BFGS").x
    return theta - theta.mean()


def _luce_mle(n, choices):
    """Independent Luce choice maximum likelihood (scipy.optimize); all sets of one size."""
    winners = np.array([w for w, _ in choices])
    sets = np.array([[w, *losers] for w, losers in choices])

    def nll(theta):
        return -np.sum(theta[winners] - np.logaddexp.reduce(theta[sets], axis=1))

    theta = optimize.minimize(nll, np.zeros(n), method="BFGS").x
    return theta - theta.mean()


def _alpha_by_hand(labels_by_unit):
    """Nominal Krippendorff's alpha from the coincidence matrix (Krippendorff 2011, eq. for nominal data)."""
    cats = sorted({v for u in labels_by_unit.values() for v in u.values()}, key=str)
    idx = {c: i for i, c in enumerate(cats)}
    o = np.zeros((len(cats), len(cats)))
    for unit in labels_by_unit.values():
        vals = list(unit.values())
        m = len(vals)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            o[idx[vals[i]], idx[vals[j]]] += 1 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    return 1 - (n - 1) * (n - np.trace(o)) / (n**2 - (n_c**2).sum())


def test_pairwise_recovers_order_and_matches_references(pairwise_study, tmp_path):
    votes, people = _simulate(pairwise_study, inattentive={3, 7, 11})
    result = analysis.compute(pairwise_study, votes, people, _config(tmp_path))

    # Attention checks: the three inattentive participants are excluded and reported.
    assert result["exclusions"]["excluded"] == [3, 7, 11]
    assert result["counts"]["included"] == 77 and result["counts"]["excluded"] == 3
    included = [v for v in votes if v["kind"] == "main" and v["participant"] not in {3, 7, 11}]
    assert result["counts"]["votes_main_included"] == len(included)

    rows = {r["method"]: r for r in result["methods"]}
    order = sorted(rows, key=lambda m: -rows[m]["bt_score"])
    assert order == sorted(TRUE, key=lambda m: -TRUE[m])

    # Win counts and Wilson intervals, against scipy's own Wilson interval.
    for m, r in rows.items():
        wins = sum(1 for v in included if v["choice"] == m)
        losses = sum(1 for v in included if m in v["shown"] and not v["tie"] and v["choice"] != m)
        ties = sum(1 for v in included if m in v["shown"] and v["tie"])
        assert (r["wins"], r["losses"], r["ties"], r["judgments"]) == (wins, losses, ties, wins + losses + ties)
        ci = sps.binomtest(wins, wins + losses).proportion_ci(confidence_level=0.95, method="wilson")
        assert r["win_ci_low"] == pytest.approx(ci.low, abs=1e-12) and r["win_ci_high"] == pytest.approx(ci.high, abs=1e-12)
        assert r["best_rate"] is None  # pairwise study: no best-of-n columns

    # Bradley-Terry: equal to an independent maximum-likelihood fit; intervals bracket it.
    index = {m: i for i, m in enumerate(pairwise_study.studied)}
    pairs = [(index[v["choice"]], index[next(x for x in v["shown"] if x != v["choice"])]) for v in included if not v["tie"]]
    mle = _bt_mle(len(index), pairs)
    for m, i in index.items():
        assert rows[m]["bt_score"] == pytest.approx(mle[i], abs=0.02)
        assert rows[m]["bt_ci_low"] < rows[m]["bt_score"] < rows[m]["bt_ci_high"]
        assert rows[m]["bt_ci_low"] - 0.2 < TRUE[m] - np.mean(list(TRUE.values())) < rows[m]["bt_ci_high"] + 0.2

    # Head to head: the best method beats the worst, significantly.
    pair = next(p for p in result["pairs"] if {p["a"], p["b"]} == {"oracle-removed", "identity"})
    assert pair["p_value"] < 1e-3

    # Agreement: the krippendorff package equals the coincidence-matrix formula.
    labels = {}
    for v in included:
        labels.setdefault(v["item_id"], {})[v["participant"]] = "<tie>" if v["tie"] else v["choice"]
    assert result["agreement"]["alpha"] == pytest.approx(_alpha_by_hand(labels), abs=1e-9)
    assert result["agreement"]["units"] == sum(1 for u in labels.values() if len(u) >= 2)


def test_excluding_can_be_switched_off(pairwise_study, tmp_path):
    votes, people = _simulate(pairwise_study, n_participants=20, inattentive={2})
    # participant 2 always picks the left video: failed gold and a position-bias flag
    only_gold = analysis.compute(pairwise_study, votes, people, _config(tmp_path, include_failed_gold=True, bootstrap=0))
    assert only_gold["exclusions"]["excluded"] == [2]  # still out: flagged
    kept = analysis.compute(pairwise_study, votes, people, _config(tmp_path, include_failed_gold=True, include_flagged=True, bootstrap=0))
    assert kept["exclusions"]["excluded"] == [] and kept["counts"]["included"] == 20
    row = next(r for r in kept["exclusions"]["participants"] if r["participant"] == 2)
    assert row["reasons"] == ["failed-gold", "flagged"] and row["flags"][0].startswith("position-bias: 13/13 answers left")
    assert row["flags"][1] == "straight-lining: the same answer 13 times in a row"
    lenient = analysis.compute(pairwise_study, votes, people, _config(tmp_path, gold_min_accuracy=0.0, include_flagged=True, bootstrap=0))
    assert lenient["exclusions"]["excluded"] == []
    assert kept["methods"][0]["bt_ci_low"] is None  # bootstrap 0: no intervals


def test_best_of_n_selected_as_best_rates_and_luce_fit(best_of_n_study, tmp_path):
    votes, people = _simulate(best_of_n_study, n_participants=80)
    result = analysis.compute(best_of_n_study, votes, people, _config(tmp_path, bootstrap=200))
    rows = {r["method"]: r for r in result["methods"]}
    main = [v for v in votes if v["kind"] == "main"]
    for m, r in rows.items():
        shown = sum(m in v["shown"] for v in main)
        picked = sum(v["choice"] == m for v in main)
        assert (r["best_selected"], r["best_shown"]) == (picked, shown)
        assert r["best_rate"] == pytest.approx(picked / shown)
        ci = sps.binomtest(picked, shown).proportion_ci(method="wilson")
        assert (r["best_ci_low"], r["best_ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert max(rows, key=lambda m: rows[m]["best_rate"]) == "oracle-removed"
    index = {m: i for i, m in enumerate(best_of_n_study.studied)}
    choices = [(index[v["choice"]], [index[x] for x in v["shown"] if x != v["choice"]]) for v in main]
    mle = _luce_mle(len(index), choices)
    ref = choix.ilsr_top1(len(index), choices)
    ref -= ref.mean()
    for m, i in index.items():
        assert rows[m]["bt_score"] == pytest.approx(mle[i], abs=0.01)
        assert rows[m]["bt_score"] == pytest.approx(ref[i], abs=0.01)
        assert rows[m]["bt_ci_low"] < rows[m]["bt_score"] < rows[m]["bt_ci_high"]
    assert sorted(rows, key=lambda m: -rows[m]["bt_score"]) == sorted(TRUE, key=lambda m: -TRUE[m])


def _power_by_enumeration(p, n, alpha=0.05):
    """Power of scipy's binomtest, by listing every outcome it rejects."""
    return sum(sps.binom.pmf(k, n, p) for k in range(n + 1) if sps.binomtest(k, n, 0.5).pvalue <= alpha)


def test_power_analysis_against_the_closed_form_and_exact_binomial_power():
    for p in (0.55, 0.6, 0.65, 0.7):
        n = stats.judgments_needed(p, alpha=0.05, power=0.8)
        h = 2 * math.asin(math.sqrt(p)) - 2 * math.asin(math.sqrt(0.5))
        closed = ((sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) / h) ** 2
        assert n == math.ceil(closed)
    assert stats.judgments_needed(0.6) > stats.judgments_needed(0.7)  # smaller effects need more
    for p in (0.7, 0.3):
        exact_n = stats.judgments_needed_exact(p)
        assert _power_by_enumeration(p, exact_n) >= 0.8
        assert all(_power_by_enumeration(p, m) < 0.8 for m in range(exact_n - 8, exact_n))
        assert exact_n >= stats.judgments_needed(p)  # the exact test is the more conservative


def test_agreement_is_undefined_without_repeated_judgments():
    assert stats.krippendorff_nominal({1: {1: "a"}, 2: {2: "b"}})["alpha"] is None
    assert "same answer" in stats.krippendorff_nominal({1: {1: "a", 2: "a"}})["reason"]
    perfect = stats.krippendorff_nominal({1: {1: "a", 2: "a"}, 2: {1: "b", 3: "b"}})
    assert perfect["alpha"] == pytest.approx(1.0) and perfect["units"] == 2


def test_analyze_end_to_end_writes_the_contract(sqlite_url, make_study, methods_of, tmp_path, capsys):
    """Votes cast through the real store, analysed by the real entry point."""
    store = make_study(sqlite_url, methods=METHODS, trials_per_participant=6)
    rng = np.random.default_rng(0)
    for _ in range(12):
        token = store.create_participant()
        while (state := store.participant(token)).trial is not None:
            names = methods_of(store, state.trial.trial_id)
            w = np.exp([TRUE[m] for m in names])
            store.record_vote(token, state.trial.trial_id, int(rng.choice(len(names), p=w / w.sum())))
        store.finish(token)
    out = tmp_path / "study"
    assert analysis.analyze(StudyAnalyzeConfig(db=sqlite_url, out=str(out), bootstrap=200)) == 0

    with open(out / "preference.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == analysis.PREFERENCE_COLUMNS
        rows = list(reader)
    assert sorted(r["method"] for r in rows) == sorted(METHODS)
    assert all(r["best_selected"] == "" and r["best_rate"] == "" for r in rows)  # pairwise: empty
    assert all(0 <= float(r["win_ci_low"]) <= float(r["win_rate"]) <= float(r["win_ci_high"]) <= 1 for r in rows)
    data = json.loads((out / "analysis.json").read_text())
    assert {"agreement", "exclusions", "power_analysis", "counts", "bradley_terry", "pairs"} <= set(data)
    assert data["counts"]["participants"] == 12 and data["counts"]["completed"] == 12
    assert data["counts"]["votes_main"] == 12 * 6 and data["counts"]["votes_gold"] == 12
    assert len((out / "votes.csv").read_text().splitlines()) == 1 + 12 * 7
    printed = capsys.readouterr().out
    assert "BT score" in printed and "oracle-removed" in printed
