"""The embedded store: an index's files under `index/` (the default backend).

Passages and sentences are span tables, vectors are memory-mapped `.npy` files searched
exactly or through a FAISS HNSW graph (`dense.DenseIndex`), and BM25 is bm25s's matrix of
precomputed term scores (`lexical.BM25Index`). Building and loading the files is `index`'s
work; this module only answers the `Store` interface over what it loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from ..dense import DenseIndex
from ..documents import SourceInfo
from ..lexical import BM25Index, Lexicon, Weights
from ..passages import Passage
from ..quote_index import QuoteIndex
from ..spans import SpanTable
from .base import SentenceRows, top_positive


class LocalStore:
    """Passages, their dense and BM25 indexes, and (for a built index) the quote index, in memory or mapped."""

    kind = "faiss"

    def __init__(self, passages: Sequence[Passage], dense: DenseIndex, bm25: BM25Index, quotes: QuoteIndex | None = None,
                 *, sources: dict[str, SourceInfo] | None = None, exclusions: list[dict] | None = None,
                 manifest: dict | None = None) -> None:
        if not (len(passages) == len(dense) == len(bm25)):
            raise ValueError(f"index parts disagree: {len(passages)} passages, {len(dense)} vectors, {len(bm25)} BM25 docs")
        self._passages = passages
        self.dense_index = dense
        self.bm25 = bm25
        self.quotes = quotes
        self.sources = sources or {}
        self.exclusions = exclusions or []
        self.manifest = manifest or {}
        self.lexicon: Lexicon = bm25.lexicon
        self._rows: dict[tuple[str, ...], np.ndarray] = {}
        self._last: tuple[tuple, np.ndarray] | None = None  # the last query's BM25 scores (one question asks several times)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._passages)

    def sentence_count(self) -> int:
        return len(self.quotes) if self.quotes is not None else 0

    @property
    def all_passages(self) -> Sequence[Passage]:
        return self._passages

    def rows_of(self, sources: Sequence[str]) -> np.ndarray:
        """The row numbers of the passages of `sources`, ascending."""
        key = tuple(sorted(set(sources)))
        rows = self._rows.get(key)
        if rows is None:
            if isinstance(self._passages, SpanTable):
                rows = self._passages.rows_of(list(key))
            else:
                wanted = set(key)
                rows = np.array([i for i, p in enumerate(self._passages) if p.source in wanted], dtype=np.int64)
            with self._lock:
                if len(self._rows) >= 64:
                    self._rows.pop(next(iter(self._rows)))
                self._rows[key] = rows
        return rows

    def dense(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        allowed = None if sources is None else self.rows_of(sources)
        if allowed is not None and not len(allowed):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores, ids = self.dense_index.search(np.asarray(vector, dtype=np.float32)[None, :], k, allowed)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def _scores(self, weights: Weights) -> np.ndarray:
        key = tuple(sorted(weights.items()))
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        scores = self.bm25.scores(weights)
        self._last = (key, scores)
        return scores

    def lexical(self, weights: Weights, k: int, sources: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        scores = self._scores(weights)
        rows = np.flatnonzero(scores > 0) if sources is None else self.rows_of(sources)
        rows = rows[scores[rows] > 0]
        if len(rows) > k:  # keep every row tied with the k-th best, then order them
            kth = np.partition(scores[rows], len(rows) - k)[len(rows) - k]
            rows = rows[scores[rows] >= kth]
        return top_positive(rows, scores[rows], k)

    def lexical_of(self, weights: Weights, ids: np.ndarray) -> np.ndarray:
        return self._scores(weights)[np.asarray(ids, dtype=np.int64)]

    def passages(self, ids: Sequence[int]) -> list[Passage]:
        return [self._passages[int(i)] for i in ids]

    def passage_vectors(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.dense_index.vectors[np.asarray(ids, dtype=np.int64)])

    def sentences(self, ids: np.ndarray) -> SentenceRows:
        if self.quotes is None:
            raise ValueError("this index has no sentences (a passage-only corpus)")
        ids = np.asarray(ids, dtype=np.int64)
        q = self.quotes
        return SentenceRows(ids, [q.spans[int(i)] for i in ids], np.asarray(q.vectors[ids]), np.asarray(q.quotable[ids]),
                            [np.asarray(q.terms(int(i))) for i in ids])

    def close(self) -> None:
        pass
