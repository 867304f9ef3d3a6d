"""Which sentences a follow-up quotes: a small logistic model over features anyone can read.

A follow-up read with the conversation ("When did he die?", "Where's its main base?") is about
what the conversation is about. The sentence that answers it often lacks the follow-up's own
words, while a sentence that has them may come from another document ("Its main base is Beijing
Capital International Airport." from another airline's entry). A fixed sum of similarity and
term overlap cannot weigh that; a model fitted on conversations can.

The model only *ranks*. Whether a follow-up is answered at all is still decided by the sentences
that bear on its own words (`conversation.Conversation._bears_on`), so an off-topic question after a conversation
abstains exactly as before.

Each quote's score is `bias + sum(weight * feature)`, and the answer's `why` lists every term of
that sum. The weights (`settings.FollowUpRanker`) were fitted on the follow-ups of the gold
conversations' dev parts (the seeds' and dbpedia-5k's), the margin chosen by cross-validation by
conversation: `eval/fit_follow_ups.py` fits and prints both (docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..settings import FEATURES, FollowUpRanker
from .quotes import Candidate

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


def rank_follow_up(candidates: list[Candidate], f: FollowUp, ranker: FollowUpRanker) -> list[tuple[Candidate, np.ndarray]]:
    """The candidates scored by the model, best first, each with its row of features."""
    if not candidates:
        return []
    x = features(candidates, f)
    scores = x @ np.asarray(ranker.weights) + ranker.bias
    ranked = [(replace(c, score=float(s)), row) for c, s, row in zip(candidates, scores, x)]
    return sorted(ranked, key=lambda pair: -pair[0].score)
