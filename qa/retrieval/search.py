"""Ranked passages for a query: dense, BM25, and their hybrid.

Modes (a registry; `MODES` lists them for every surface):
- `dense`: cosine of the query embedding with each passage embedding (the store's dense search);
- `bm25`: BM25 on stemmed tokens;
- `rrf`: reciprocal rank fusion (k=60) of the two, the usual baseline;
- `hybrid` (default): dense retrieval with pseudo-relevance feedback, fused with
  BM25. The query vector moves toward the mean of its top dense passages
  (Rocchio), is searched again, and the result is fused with BM25 by a convex
  combination of min-max normalised scores over the union of both candidate
  lists. One setting for every corpus, chosen by measurement on the seeds gold
  set and two BEIR sets (docs/evaluation.md).

With a multilingual model (one with `LanguageOffsets`) and a question whose
language is known, the hybrid gives no feedback when a top passage is in another
language: their mean pulls the query toward their language more than toward
their topic. In a folder of several languages, each candidate's cosine also
loses the model's offset for the two languages before fusion (an English
question's cosines with English passages run higher than with Russian ones,
whatever they say). Both measured on XQuAD (docs/languages.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import fusion
from ..embed import Embedder
from ..errors import InputError
from ..index.lexical import Lexicon, Weights
from ..settings import LanguageOffsets, RetrievalParams
from ..text import DEFAULT_LANGUAGE, normalize, query_terms
from ..ingest.passages import Passage
from ..store import Store


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
        row: the passage's number in the store (`Store.passage_vectors`).
    """

    passage: Passage
    score: float
    rank: int
    dense: float
    bm25: float
    ranks: dict = field(default_factory=dict, compare=False)
    row: int = -1

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
    """Searches one store of passages with an embedder; fusion and feedback happen here, above the store."""

    def __init__(self, store: Store, embedder: Embedder, params: RetrievalParams = RetrievalParams()) -> None:
        self.store = store
        # The documents' languages: a question is tokenised for each (an index of an older format: English).
        self.languages = tuple((store.manifest or {}).get("languages") or (DEFAULT_LANGUAGE,))
        self.embedder = embedder
        self.params = params
        self.offsets = LanguageOffsets.for_model(embedder.model_id)

    @property
    def lexicon(self) -> Lexicon:
        return self.store.lexicon

    def search(self, query: str, *, mode: str = "hybrid", k: int = 10, params: RetrievalParams | None = None,
               sources: Sequence[str] | None = None, language: str = "") -> list[Hit]:
        """Rank passages for `query`.

        Args:
            query: the question or keywords.
            mode: one of `MODES`.
            k: how many hits to return.
            params: override the retriever's hybrid parameters.
            sources: only passages of these source files.
            language: the query's language (ISO 639-1; "" when unknown): the hybrid gives no feedback
                when a top passage is of a document in another language, and in a folder of several
                languages takes each language's offset off its passages' cosines.
        """
        vector = self.embedder.encode_queries([normalize(query)])[0]
        return self.search_vector(query, vector, mode=mode, k=k, params=params, sources=sources, language=language)

    def search_vector(self, query: str | list[str] | Weights, vector: np.ndarray, *, mode: str = "hybrid",
                      k: int = 10, params: RetrievalParams | None = None,
                      sources: Sequence[str] | None = None, language: str = "") -> list[Hit]:
        """As `search`, with the query already embedded.

        Args:
            query: the query text, its tokens, or its BM25 weights (`Lexicon.weights`).
            sources: if given, only passages of these source files are searched (the store filters
                inside its search, not after it).
        """
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        if not len(self.store) or (sources is not None and not sources):
            return []
        params = params or self.params
        params = replace(params, candidates=max(params.candidates, k))
        if isinstance(query, dict):
            weights = query
        else:
            weights = self.lexicon.weights(query_terms(query, self.languages) if isinstance(query, str) else query)
        lists: dict[str, np.ndarray] = {}
        # Only a model measured across languages (one with language offsets) searches by language: an
        # English model's folder is searched as it always was, whatever languages it holds.
        asked = None if not language or not self.offsets or self.languages == (language,) else language
        search = _Search(self.store, weights, None if sources is None else list(sources), asked,
                         self.offsets if len(self.languages) > 1 else LanguageOffsets())
        ids, scores = MODES[mode](search, vector, params, lists)
        if not len(ids):
            return []
        order = np.argsort(-scores, kind="stable")[:k]
        top = ids[order]
        dense = self.store.passage_vectors(top) @ vector
        lexical = self.store.lexical_of(weights, top)
        position = {name: {int(pid): r + 1 for r, pid in enumerate(ranked)} for name, ranked in lists.items()}
        return [
            Hit(passage, float(scores[i]), r + 1, float(dense[r]), float(lexical[r]),
                {**{name: pos[int(pid)] for name, pos in position.items() if int(pid) in pos}, "fused": r + 1},
                int(pid))
            for r, (i, pid, passage) in enumerate(zip(order, top, self.store.passages(top)))
        ]


@dataclass(frozen=True)
class _Search:
    """One search: the store, the query's BM25 weights, the sources it may return (None: all), the
    query's language (None: unknown, or the folder's only one) and the offsets taken off the cosines of
    passages in other languages (none unless the folder has several)."""

    store: Store
    weights: Weights
    sources: list[str] | None
    language: str | None = None
    offsets: LanguageOffsets = LanguageOffsets()
    _language_of: dict[int, str] = field(default_factory=dict, repr=False, compare=False)  # looked up once each

    # -- modes: each returns (candidate ids, their scores) and records the ranked lists it used -----

    def _dense(self, vector: np.ndarray, params: RetrievalParams, lists: dict, name: str = "dense"):
        ids, scores = self.store.dense(vector, params.candidates, self.sources)
        lists.setdefault(name, ids)
        return ids, scores

    def _bm25(self, vector: np.ndarray, params: RetrievalParams, lists: dict):
        ids, scores = self.store.lexical(self.weights, params.candidates, self.sources)
        lists.setdefault("bm25", ids)
        return ids, scores

    def _candidates(self, vector: np.ndarray, params: RetrievalParams, lists: dict, name: str = "dense"):
        """The union of both lists, with each candidate's dense and BM25 score."""
        dense_ids, _ = self._dense(vector, params, lists, name)
        lexical_ids, _ = self._bm25(vector, params, lists)
        ids = np.union1d(dense_ids, lexical_ids).astype(np.int64)
        vectors = self.store.passage_vectors(ids)
        return ids, vectors @ vector, self.store.lexical_of(self.weights, ids), vectors

    def _rrf(self, vector: np.ndarray, params: RetrievalParams, lists: dict):
        ids, dense, lexical, _ = self._candidates(vector, params, lists)
        return ids, fusion.rrf([dense, lexical], params.rrf_k)

    def _hybrid(self, vector: np.ndarray, params: RetrievalParams, lists: dict):
        ids, dense, lexical, vectors = self._candidates(vector, params, lists)
        dense = dense - self._offsets(ids)
        fused = fusion.convex(dense, lexical, params.alpha)
        if params.feedback_docs <= 0:
            return ids, fused
        first = dense if params.feedback_from == "dense" else fused
        top = np.argsort(-first, kind="stable")[: params.feedback_docs]
        if not self._in_language(ids[top]):
            return ids, fused
        moved = fusion.rocchio(vector, vectors[top], params.feedback_weight)
        ids, dense, lexical, _ = self._candidates(moved, params, lists, "feedback")
        return ids, fusion.convex(dense - self._offsets(ids), lexical, params.alpha)

    def _languages(self, ids: np.ndarray) -> list[str]:
        """The languages of the documents of passages `ids` ("": too short to tell); the feedback check
        and the offsets ask about the same candidates, so each passage is read once per search."""
        missing = [int(i) for i in ids if int(i) not in self._language_of]
        if missing:
            sources = self.store.sources
            for i, p in zip(missing, self.store.passages(missing)):
                self._language_of[i] = getattr(sources.get(p.source), "language", "")
        return [self._language_of[int(i)] for i in ids]

    def _in_language(self, ids: np.ndarray) -> bool:
        """Whether the passages `ids` may give feedback: each of a document in the query's language (or
        of one too short to tell), or the query's language is unknown or the folder's only one."""
        return self.language is None or all(x in ("", self.language) for x in self._languages(ids))

    def _offsets(self, ids: np.ndarray) -> np.ndarray | float:
        """Per passage, the model's offset for the query's language and the passage's (0: none)."""
        if self.language is None or not self.offsets:
            return 0.0
        return np.array([self.offsets(self.language, x) for x in self._languages(ids)])


MODES = {
    "hybrid": _Search._hybrid,
    "dense": _Search._dense,
    "bm25": _Search._bm25,
    "rrf": _Search._rrf,
}

