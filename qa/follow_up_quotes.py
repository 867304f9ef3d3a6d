"""Which sentences a follow-up quotes: a small logistic model over features anyone can read.

A follow-up read with the conversation ("When did he die?", "Where's its main base?") is about
what the conversation is about. The sentence that answers it often lacks the follow-up's own
words, while a sentence that has them may come from another document ("Its main base is Beijing
Capital International Airport." from another airline's entry). A fixed sum of similarity and
term overlap cannot weigh that; a model fitted on conversations can.

The model only *ranks*. Whether a follow-up is answered at all is still decided by the sentences
that bear on its own words (`Engine._bears_on`), so an off-topic question after a conversation
abstains exactly as before.

Each quote's score is `bias + sum(weight * feature)`, and the answer's `why` lists every term of
that sum. The weights were fitted with `fit` on the follow-ups of the gold conversations' dev
parts (the seeds' and dbpedia-5k's), the margin chosen by cross-validation by conversation:
`eval/fit_follow_ups.py` prints both (README, "Follow-ups").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .quotes import Candidate

FEATURES = (
    "similarity",           # cosine with the question read with the conversation
    "own_similarity",       # cosine with the question as typed
    "previous_similarity",  # cosine with the previous question
    "term_overlap",         # IDF-weighted share of the reading's terms (the conversation's at half weight)
    "own_term_overlap",     # IDF-weighted share of the question's own terms
    "has_own_term",         # 1 when it holds one of the question's own terms the documents use
    "passage",              # hybrid score of its passage
    "previous_source",      # 1 when the previous answer quoted its document
    "previous_quote",       # 1 when the previous answer quoted this very sentence
    "type_match",           # 1 when it offers the kind of answer asked for (a date for "When?")
)


@dataclass(frozen=True, eq=False)
class FollowUp:
    """What the features of a follow-up's candidate sentences are measured against.

    Attributes:
        question: the follow-up's own unit vector.
        previous: the previous question's unit vector.
        own_weights: the IDF of each vocabulary id of the question as asked ("And Iran?" is asked as
            the earlier question with Iran in it).
        own_terms: the vocabulary ids of the follow-up's own content terms.
        sources: the documents the previous answer quoted.
        quoted: the previous answer's quotes, as (source, start).
    """

    question: np.ndarray
    previous: np.ndarray
    own_weights: dict[int, float]
    own_terms: frozenset[int]
    sources: frozenset[str]
    quoted: frozenset[tuple[str, int]]


def features(candidates: list[Candidate], f: FollowUp) -> np.ndarray:
    """One row per candidate, one column per name in `FEATURES`."""
    if not candidates:
        return np.zeros((0, len(FEATURES)))
    vectors = np.stack([c.vector for c in candidates])
    total = sum(f.own_weights.values())
    own_overlap = [sum(f.own_weights.get(t, 0.0) for t in c.terms) / total if total > 0 else 0.0 for c in candidates]
    return np.column_stack([
        [c.similarity for c in candidates],
        vectors @ f.question,
        vectors @ f.previous,
        [c.overlap for c in candidates],
        own_overlap,
        [bool(f.own_terms.intersection(c.terms)) for c in candidates],
        [c.passage_score for c in candidates],
        [c.source in f.sources for c in candidates],
        [(c.source, c.start) in f.quoted for c in candidates],
        [c.type_match for c in candidates],
    ]).astype(np.float64)


@dataclass(frozen=True)
class FollowUpRanker:
    """The fitted model (raw-feature weights, in the order of `FEATURES`) and how far below the best
    score (in log-odds) a sentence may be and still be quoted with it.

    The defaults are the fit of `eval/fit_follow_ups.py` on the dev parts (L2 1.0); margin 2.0 was
    chosen there by 5-fold cross-validation by conversation: 1.5 quoted the evidence for fewer follow-ups,
    2.5 and 3.0 for about as many with more quotes each."""

    weights: tuple[float, ...] = (
        4.20762, 0.11254, -1.37925, 4.87979, 1.11107, -0.28691, 9.34450, 2.01181, -0.65351, 0.64759)
    bias: float = -14.65589
    margin: float = 2.0

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ValueError(f"a follow-up ranker needs {len(FEATURES)} weights ({', '.join(FEATURES)}), "
                             f"got {len(self.weights)}")

    def parts(self, row: np.ndarray) -> dict[str, float]:
        """Each term of one sentence's score, and their sum (`total`)."""
        out = {name: float(w * x) for name, w, x in zip(FEATURES, self.weights, row)}
        out["bias"] = self.bias
        out["total"] = float(self.bias + np.dot(self.weights, row))
        return out


def rank(candidates: list[Candidate], f: FollowUp, ranker: FollowUpRanker) -> list[tuple[Candidate, np.ndarray]]:
    """The candidates scored by the model, best first, each with its row of features."""
    if not candidates:
        return []
    x = features(candidates, f)
    scores = x @ np.asarray(ranker.weights) + ranker.bias
    ranked = [(replace(c, score=float(s)), row) for c, s, row in zip(candidates, scores, x)]
    return sorted(ranked, key=lambda pair: -pair[0].score)


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
