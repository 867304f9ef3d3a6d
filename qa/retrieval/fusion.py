"""Pure functions that combine rankings and move queries. No state, no I/O."""

from __future__ import annotations

import numpy as np


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale scores to [0, 1]; a constant vector maps to zeros."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    lo, hi = scores.min(), scores.max()
    if hi - lo <= 1e-12:
        return np.zeros_like(scores)
    return (scores - lo) / (hi - lo)


def convex(dense: np.ndarray, lexical: np.ndarray, alpha: float) -> np.ndarray:
    """`alpha * minmax(dense) + (1 - alpha) * minmax(lexical)` over the same candidates."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within [0, 1], got {alpha}")
    return alpha * minmax(dense) + (1.0 - alpha) * minmax(lexical)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score, highest first; ties keep input order."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    out = np.empty(len(order), dtype=np.int64)
    out[order] = np.arange(1, len(order) + 1)
    return out


def rrf(score_lists: list[np.ndarray], k: int = 60) -> np.ndarray:
    """Reciprocal rank fusion: sum over rankings of `1 / (k + rank)`."""
    if k < 0:
        raise ValueError(f"rrf k must be non-negative, got {k}")
    total = np.zeros(len(score_lists[0]), dtype=np.float64)
    for scores in score_lists:
        total += 1.0 / (k + ranks(scores))
    return total


def rocchio(query: np.ndarray, feedback: np.ndarray, weight: float) -> np.ndarray:
    """Move a unit query vector toward the mean of feedback vectors; returns a unit vector."""
    if feedback.size == 0 or weight == 0.0:
        return query
    moved = query + weight * feedback.mean(axis=0)
    norm = np.linalg.norm(moved)
    return (moved / norm).astype(np.float32) if norm > 0 else query
