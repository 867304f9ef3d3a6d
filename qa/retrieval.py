"""Ranked passages for a query: dense, BM25, and their hybrid.

Modes (a registry; `MODES` lists them for every surface):
- `dense`: cosine of the query embedding with each passage embedding (FAISS);
- `bm25`: BM25 on stemmed tokens;
- `rrf`: reciprocal rank fusion (k=60) of the two, the usual baseline;
- `hybrid` (default): dense retrieval with pseudo-relevance feedback, fused with
  BM25. The query vector moves toward the mean of its top dense passages
  (Rocchio), is searched again, and the result is fused with BM25 by a convex
  combination of min-max normalised scores over the union of both candidate
  lists. One setting for every corpus, chosen by measurement on the seeds gold
  set and two BEIR sets (README, "Retrieval settings").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import fusion
from .dense import DenseIndex
from .embeddings import Embedder
from .errors import InputError
from .lexical import BM25Index
from .normalize import normalize
from .passages import Passage
from .spans import SpanTable


@dataclass(frozen=True)
class RetrievalParams:
    """How the hybrid is made; the defaults are the measured choice."""

    candidates: int = 100
    alpha: float = 0.9
    feedback_docs: int = 5
    feedback_weight: float = 1.0
    feedback_from: str = "dense"
    rrf_k: int = 60


@dataclass(frozen=True)
class Hit:
    """A retrieved passage and its scores.

    Attributes:
        passage: the passage.
        score: the mode's ranking score (comparable within one result list only).
        rank: 1-based.
        dense: cosine of the original query with the passage (comparable across queries).
        bm25: raw BM25 score.
        ranks: the passage's 1-based rank in each list that found it ("dense", "bm25", and for the
            hybrid "feedback": the second dense search with the moved query), and in the result ("fused").
    """

    passage: Passage
    score: float
    rank: int
    dense: float
    bm25: float
    ranks: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        p = self.passage
        return {
            "id": p.id,
            "source": p.source,
            "start": p.start,
            "end": p.end,
            "score": round(self.score, 6),
            "text": p.text,
            "rank": self.rank,
            "dense": round(self.dense, 6),
            "bm25": round(self.bm25, 6),
        }


class Retriever:
    """Searches one corpus of passages with a dense index, a BM25 index and an embedder."""

    def __init__(self, passages: Sequence[Passage], dense: DenseIndex, bm25: BM25Index, embedder: Embedder,
                 params: RetrievalParams = RetrievalParams()) -> None:
        if not (len(passages) == len(dense) == len(bm25)):
            raise ValueError(f"index parts disagree: {len(passages)} passages, {len(dense)} vectors, {len(bm25)} BM25 docs")
        self.passages = passages
        self.dense = dense
        self.bm25 = bm25
        self.embedder = embedder
        self.params = params

    def rows_of(self, sources: list[str]) -> np.ndarray:
        """The row numbers of the passages of `sources`, ascending."""
        if isinstance(self.passages, SpanTable):
            return self.passages.rows_of(sources)
        wanted = set(sources)
        return np.array([i for i, p in enumerate(self.passages) if p.source in wanted], dtype=np.int64)

    def search(self, query: str, *, mode: str = "hybrid", k: int = 10, params: RetrievalParams | None = None) -> list[Hit]:
        """Rank passages for `query`.

        Args:
            query: the question or keywords.
            mode: one of `MODES`.
            k: how many hits to return.
            params: override the retriever's hybrid parameters.
        """
        vector = self.embedder.encode([normalize(query)])[0]
        return self.search_vector(query, vector, mode=mode, k=k, params=params)

    def search_vector(self, query: str | list[str] | np.ndarray, vector: np.ndarray, *, mode: str = "hybrid",
                      k: int = 10, params: RetrievalParams | None = None,
                      allowed: np.ndarray | None = None) -> list[Hit]:
        """As `search`, with the query already embedded.

        Args:
            query: the query text, its tokens, or the BM25 score of every passage for it.
            allowed: if given, only these passages (ascending row numbers) are searched: the dense
                index is told which rows it may return, and BM25 scores outside them are masked.
        """
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        if not self.passages:
            return []
        params = params or self.params
        params = replace(params, candidates=max(params.candidates, k))
        lexical = query if isinstance(query, np.ndarray) else self.bm25.scores(query)
        if allowed is not None:
            if not len(allowed):
                return []
            masked = np.zeros_like(lexical)
            masked[allowed] = lexical[allowed]
            lexical = masked
        lists: dict[str, np.ndarray] = {}
        ids, scores = MODES[mode](_Search(self, allowed), vector, lexical, params, lists)
        order = np.argsort(-scores, kind="stable")[:k]
        vectors = self.dense.vectors
        position = {name: {int(pid): r + 1 for r, pid in enumerate(ranked)} for name, ranked in lists.items()}
        return [
            Hit(self.passages[ids[i]], float(scores[i]), r + 1, float(vectors[ids[i]] @ vector), float(lexical[ids[i]]),
                {**{name: pos[int(ids[i])] for name, pos in position.items() if int(ids[i]) in pos}, "fused": r + 1})
            for r, i in enumerate(order)
        ]


@dataclass(frozen=True)
class _Search:
    """One search: the retriever and the rows it may return (None: all)."""

    retriever: Retriever
    allowed: np.ndarray | None

    # -- modes: each returns (candidate ids, their scores) and records the ranked lists it used -----

    def _dense(self, vector: np.ndarray, lexical: np.ndarray, params: RetrievalParams, lists: dict, name: str = "dense"):
        scores, ids = self.retriever.dense.search(vector[None, :], params.candidates, self.allowed)
        keep = ids[0] >= 0
        lists.setdefault(name, ids[0][keep])
        return ids[0][keep], scores[0][keep]

    def _bm25(self, vector: np.ndarray, lexical: np.ndarray, params: RetrievalParams, lists: dict):
        ids = _top(lexical, params.candidates)
        lists.setdefault("bm25", ids[np.argsort(-lexical[ids], kind="stable")])
        return ids, lexical[ids]

    def _candidates(self, vector: np.ndarray, lexical: np.ndarray, params: RetrievalParams, lists: dict,
                    name: str = "dense"):
        dense_ids, _ = self._dense(vector, lexical, params, lists, name)
        lexical_ids, _ = self._bm25(vector, lexical, params, lists)
        ids = np.union1d(dense_ids, lexical_ids)
        return ids, self.retriever.dense.vectors[ids] @ vector

    def _rrf(self, vector: np.ndarray, lexical: np.ndarray, params: RetrievalParams, lists: dict):
        ids, dense = self._candidates(vector, lexical, params, lists)
        return ids, fusion.rrf([dense, lexical[ids]], params.rrf_k)

    def _hybrid(self, vector: np.ndarray, lexical: np.ndarray, params: RetrievalParams, lists: dict):
        ids, dense = self._candidates(vector, lexical, params, lists)
        fused = fusion.convex(dense, lexical[ids], params.alpha)
        if params.feedback_docs <= 0:
            return ids, fused
        first = dense if params.feedback_from == "dense" else fused
        top = ids[np.argsort(-first, kind="stable")[: params.feedback_docs]]
        moved = fusion.rocchio(vector, self.retriever.dense.vectors[top], params.feedback_weight)
        ids, dense = self._candidates(moved, lexical, params, lists, "feedback")
        return ids, fusion.convex(dense, lexical[ids], params.alpha)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Ids of the `n` highest positive scores."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > n:
        positive = positive[np.argpartition(-scores[positive], n - 1)[:n]]
    return positive


MODES = {
    "hybrid": _Search._hybrid,
    "dense": _Search._dense,
    "bm25": _Search._bm25,
    "rrf": _Search._rrf,
}

