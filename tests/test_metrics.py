"""Our metrics equal pytrec_eval's (trec_eval) on hand-made runs and on a real run."""

from __future__ import annotations

import math
import random

import pytest
import pytrec_eval

from qa.evaluation import metrics

TREC = {"ndcg_cut_10": "nDCG@10", "recall_10": "Recall@10", "recall_100": "Recall@100", "map": "MAP"}


def trec(run, qrels):
    ev = pytrec_eval.RelevanceEvaluator(qrels, set(TREC) | {"recip_rank"})
    full = ev.evaluate(run)
    cut = {q: dict(sorted(d.items(), key=lambda x: (x[1], x[0]), reverse=True)[:10]) for q, d in run.items()}
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(cut)
    return {q: {**{TREC[k]: v for k, v in full[q].items() if k in TREC}, "MRR@10": rr[q]["recip_rank"]} for q in full}


def ours(run, qrels):
    return metrics.per_query(run, qrels, ["nDCG@10", "Recall@10", "Recall@100", "MAP", "MRR@10"])


def assert_equal(run, qrels):
    expected, got = trec(run, qrels), ours(run, qrels)
    assert set(expected) == set(got)
    for q in expected:
        for name, value in expected[q].items():
            assert got[q][name] == pytest.approx(value, abs=1e-9), (q, name)


def test_hand_worked_values():
    qrels = {"q": {"a": 2, "b": 1, "z": 1}}
    run = {"q": {"a": 0.1, "x": 0.9, "b": 0.5}}  # order: x, b, a
    dcg = 0 / math.log2(2) + 1 / math.log2(3) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    got = ours(run, qrels)["q"]
    assert got["nDCG@10"] == pytest.approx(dcg / idcg)
    assert got["Recall@10"] == pytest.approx(2 / 3)
    assert got["MRR@10"] == pytest.approx(1 / 2)
    assert got["MAP"] == pytest.approx((1 / 2 + 2 / 3) / 3)
    assert_equal(run, qrels)


def test_ties_graded_and_missing_relevance_match_trec_eval():
    qrels = {"q1": {"d1": 1, "d2": 2, "d3": 0}, "q2": {"d9": 1}, "q3": {"d1": 1, "d5": 3}}
    run = {
        "q1": {"d1": 1.0, "d2": 1.0, "d3": 1.0, "d4": 0.5},  # a three-way tie: doc id descending
        "q2": {"d1": 0.3, "d2": 0.2},  # nothing relevant retrieved
        "q3": {f"d{i}": 1.0 / i for i in range(1, 150)},  # longer than 100
    }
    assert_equal(run, qrels)


def test_random_runs_match_trec_eval():
    rng = random.Random(7)
    docs = [f"doc{i}" for i in range(60)]
    qrels = {f"q{i}": {d: rng.choice([0, 1, 1, 2, 3]) for d in rng.sample(docs, 8)} for i in range(25)}
    run = {q: {d: round(rng.random(), 2) for d in rng.sample(docs, 40)} for q in qrels}
    assert_equal(run, qrels)


def test_compare_counts_wins_and_losses():
    c = metrics.compare({"a": 0.5, "b": 0.2, "c": 0.1}, {"a": 0.4, "b": 0.3, "c": 0.1})
    assert (c["wins"], c["losses"], c["ties"]) == (1, 1, 1)
    assert c["mean_diff"] == pytest.approx(0.0)
    assert c["p_value"] == pytest.approx(1.0)
