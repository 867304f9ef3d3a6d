"""The interface between retrieval and the stores that hold an index.

Passages and sentences are addressed by row number (the corpus order of the build), in every
backend. A query reaches a store already embedded (a unit vector) and already tokenised (BM25
`Weights` over the index's vocabulary, made by its `Lexicon`), so tokenisation, fusion,
feedback and quote scoring stay above the seam and do not depend on the backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..documents import SourceInfo
from ..lexical import Lexicon, Weights
from ..passages import Passage
from ..quote_index import SentenceSpan

BACKENDS = ("faiss", "milvus")


@dataclass(frozen=True)
class StoreConfig:
    """Which backend holds the index, and where (`--backend`, `--milvus-uri`; env QA_BACKEND, QA_MILVUS_URI).

    Attributes:
        backend: "faiss" (files under the index folder: FAISS or exact dense search, bm25s) or "milvus".
        milvus_uri: a path ending in `.db` (milvus-lite, embedded) or `http://host:19530` (a server or cluster).
        collection: the name readers look up (a Milvus alias, switched to each new build).
    """

    backend: str = "faiss"
    milvus_uri: str = ""
    collection: str = "qa_cite"

    def __post_init__(self) -> None:
        from ..errors import InputError

        if self.backend not in BACKENDS:
            raise InputError(f"unknown backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}")
        if self.backend == "milvus" and not self.milvus_uri:
            raise InputError("the milvus backend needs --milvus-uri (a path ending in .db, or http://host:19530)")

    @classmethod
    def from_env(cls, backend: str | None = None, milvus_uri: str | None = None) -> "StoreConfig":
        """Arguments first, then QA_BACKEND and QA_MILVUS_URI, then the defaults."""
        backend = backend or os.environ.get("QA_BACKEND") or "faiss"
        uri = milvus_uri or os.environ.get("QA_MILVUS_URI") or ""
        return cls(backend, uri)


@dataclass(frozen=True)
class SentenceRows:
    """Some sentences of an index, by row number: what quote scoring reads."""

    ids: np.ndarray  # int64 row numbers
    spans: list[SentenceSpan]
    vectors: np.ndarray  # float32 unit vectors, one per row
    quotable: np.ndarray  # bool
    terms: list[np.ndarray]  # each sentence's distinct BM25 vocabulary ids


class Store(Protocol):
    """An index's passages and sentences with their vectors and terms, searchable.

    `sources` filters name source files; None means every source.
    """

    manifest: dict  # the recorded model, dimension, settings, counts and source fingerprints
    sources: dict[str, SourceInfo]
    exclusions: list[dict]
    lexicon: Lexicon

    def __len__(self) -> int:
        """How many passages."""

    def sentence_count(self) -> int:
        """How many sentences."""

    def dense(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` passages nearest `vector` (inner product), best first: (row numbers, scores)."""

    def lexical(self, weights: Weights, k: int, sources: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` passages of highest positive BM25 score, best first (ties by row): (rows, scores)."""

    def lexical_of(self, weights: Weights, ids: np.ndarray) -> np.ndarray:
        """The BM25 scores of the passages `ids` (0 where no term matches)."""

    def passages(self, ids: Sequence[int]) -> list[Passage]:
        """The passages `ids`, in that order."""

    def passage_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of the passages `ids`, in that order."""

    def sentences(self, ids: np.ndarray) -> SentenceRows:
        """The sentences `ids`, in that order."""

    def close(self) -> None:
        """Release connections and files."""


def top_positive(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` highest positive scores, best first, ties by row number."""
    keep = scores > 0
    ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]
