"""The follow-up ranker's evaluation hooks: the candidate sentences of a follow-up with their
features, and the fit of the logistic model (`qa.settings.FollowUpRanker` holds its result).

Used by `eval/fit_follow_ups.py` (the fit) and `eval/sweep.py --ceiling` (how far down the
evidence lies); the product only ranks with the fitted weights (`qa.answer.follow_up`).
"""

from __future__ import annotations

import numpy as np

from qa.answer.compose import candidates, check_question
from qa.answer.follow_up import features
from qa.answer.quotes import Candidate


def follow_up_candidates(engine, question: str, history: list[str], *, k: int = 5,
                         sources: list[str] | None = None) -> tuple[list[Candidate], np.ndarray] | None:
    """The sentences a follow-up read with its conversation chooses its quotes from, ranked as its
    answer ranks them before the own-terms rule, and their `FEATURES` (None when the question
    needs no context): what the follow-up ranker is fitted on, and how far down the evidence lies."""
    conversation = engine.conversation
    query = engine.read(check_question(question))
    if not history or not conversation.needs_context(query):
        return None
    turns = conversation.context(conversation.earlier(history), k, sources)
    reading, _, asked, follow_up = conversation.follow_up(query, turns, k, sources, measured=True)
    hits = engine.search_with(reading.lexical, reading.vector, "hybrid", max(k, conversation.params.quote_from),
                              sources)
    found = candidates(asked.text, reading.vector, reading.weights, hits, engine.store, engine.answer_params,
                       ranking=reading.ranking)
    return found, features(found, follow_up)


def fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, steps: int = 3000) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent on standardised features, with an L2 penalty on
    the weights (not the bias); returned as weights and bias on the raw features.

    Args:
        x: one row per candidate sentence, columns as `FEATURES`.
        y: 1 for a sentence that holds the gold evidence, else 0.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"fit needs as many labels as rows, got {len(x)} rows and {len(y)} labels")
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.column_stack([(x - mean) / scale, np.ones(len(x))])
    w = np.zeros(z.shape[1])
    penalty = np.r_[np.full(z.shape[1] - 1, l2), 0.0] / len(y)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        w -= z.T @ (p - y) / len(y) + penalty * w
    weights = w[:-1] / scale
    return weights, float(w[-1] - weights @ mean)
