"""Retrieval metrics with trec_eval's semantics, so values equal pytrec_eval's on the same run.

A run maps query id -> {doc id: score}; qrels map query id -> {doc id: grade}.
As in trec_eval, a run is ordered by score, highest first, ties broken by doc id
in descending order; a doc is relevant when its grade is at least 1, and nDCG
uses the grade itself as the gain.
"""

from __future__ import annotations

import math

import numpy as np

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


def ranking(scores: dict[str, float]) -> list[str]:
    """Doc ids in trec_eval order: score descending, then doc id descending."""
    return [d for d, _ in sorted(scores.items(), key=lambda x: (x[1], x[0]), reverse=True)]


def ndcg_at(ranked: list[str], qrels: dict[str, int], k: int) -> float:
    gains = [max(qrels.get(d, 0), 0) for d in ranked[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], qrels: dict[str, int], k: int) -> float:
    relevant = {d for d, g in qrels.items() if g >= 1}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank_at(ranked: list[str], qrels: dict[str, int], k: int | None = None) -> float:
    for i, d in enumerate(ranked[:k] if k else ranked):
        if qrels.get(d, 0) >= 1:
            return 1.0 / (i + 1)
    return 0.0


def hit_at(ranked: list[str], qrels: dict[str, int], k: int) -> float:
    return 1.0 if any(qrels.get(d, 0) >= 1 for d in ranked[:k]) else 0.0


def average_precision(ranked: list[str], qrels: dict[str, int]) -> float:
    relevant = sum(1 for g in qrels.values() if g >= 1)
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for i, d in enumerate(ranked):
        if qrels.get(d, 0) >= 1:
            found += 1
            total += found / (i + 1)
    return total / relevant


# name -> function of (ranked ids, qrels of the query)
METRICS = {
    "nDCG@10": lambda r, q: ndcg_at(r, q, 10),
    "Recall@10": lambda r, q: recall_at(r, q, 10),
    "Recall@100": lambda r, q: recall_at(r, q, 100),
    "MRR@10": lambda r, q: reciprocal_rank_at(r, q, 10),
    "MAP": average_precision,
    "Hit@1": lambda r, q: hit_at(r, q, 1),
    "Hit@3": lambda r, q: hit_at(r, q, 3),
    "Hit@5": lambda r, q: hit_at(r, q, 5),
    "Hit@10": lambda r, q: hit_at(r, q, 10),
}


def judged(qrels: Qrels) -> list[str]:
    """Query ids with at least one relevant document, sorted."""
    return sorted(q for q, docs in qrels.items() if any(g >= 1 for g in docs.values()))


def per_query(run: Run, qrels: Qrels, names: list[str]) -> dict[str, dict[str, float]]:
    """Each judged query's metrics; a judged query missing from the run scores 0."""
    out = {}
    for qid in judged(qrels):
        ranked = ranking(run.get(qid, {}))
        out[qid] = {name: METRICS[name](ranked, qrels[qid]) for name in names}
    return out


def mean(table: dict[str, dict[str, float]], names: list[str]) -> dict[str, float]:
    if not table:
        return {n: 0.0 for n in names}
    return {n: float(np.mean([row[n] for row in table.values()])) for n in names}


def compare(a: dict[str, float], b: dict[str, float], *, samples: int = 10000, seed: int = 0) -> dict:
    """Per-query wins, losses and ties of `a` over `b`, and a paired randomisation test.

    Returns:
        wins, losses, ties, mean difference, and the two-sided p-value of the
        difference under random sign flips of the per-query differences.
    """
    keys = sorted(set(a) & set(b))
    diff = np.array([a[k] - b[k] for k in keys])
    eps = 1e-9
    observed = abs(diff.mean()) if len(diff) else 0.0
    rng = np.random.default_rng(seed)
    if len(diff):
        signs = rng.choice([-1.0, 1.0], size=(samples, len(diff)))
        p = float((np.abs((signs * diff).mean(axis=1)) >= observed - eps).mean())
    else:
        p = 1.0
    return {
        "wins": int((diff > eps).sum()),
        "losses": int((diff < -eps).sum()),
        "ties": int((np.abs(diff) <= eps).sum()),
        "mean_diff": float(diff.mean()) if len(diff) else 0.0,
        "p_value": p,
    }
