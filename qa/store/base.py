"""The interface between retrieval and the stores that hold an index, and the registry of backends.

Passages and sentences are addressed by row number (the corpus order of the build), in every
backend. A query reaches a store already embedded (a unit vector) and already tokenised (BM25
`Weights` over the index's vocabulary, made by its `Lexicon`), so tokenisation, fusion,
feedback and quote scoring stay above the seam and do not depend on the backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..ingest.documents import SourceInfo
from ..index.known_vectors import KnownVectors
from ..index.lexical import Lexicon, Weights
from ..ingest.passages import Passage
from ..index.quote_index import SentenceSpan

@dataclass(frozen=True)
class BackendEntry:
    """A backend of the registry: the module that implements it, and what it needs to be reached."""

    module: str
    needs_uri: bool = False
    summary: str = ""


# The registry: every surface lists its choices from here. Each module has a `Backend(config, index_dir)`.
BACKENDS = {
    "faiss": BackendEntry("qa.store.local", summary="files in the index folder: FAISS or exact dense search, bm25s"),
    "milvus": BackendEntry("qa.store.milvus", needs_uri=True,
                           summary="Milvus collections; needs pip install -e '.[milvus]' and --milvus-uri"),
}
DEFAULT_BACKEND = "faiss"


@dataclass(frozen=True)
class StoreConfig:
    """Which backend holds the index, and where (`--backend`, `--milvus-uri`; env QA_BACKEND, QA_MILVUS_URI).

    Attributes:
        backend: a name of `BACKENDS`.
        milvus_uri: for a backend that needs one: a path ending in `.db` (milvus-lite, embedded) or
            `http://host:19530` (a server or cluster).
        collection: the name readers look up (a Milvus alias, switched to each new build).
    """

    backend: str = DEFAULT_BACKEND
    milvus_uri: str = ""
    collection: str = "qa_cite"

    def __post_init__(self) -> None:
        from ..errors import InputError

        if self.backend not in BACKENDS:
            raise InputError(f"unknown backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}")
        if BACKENDS[self.backend].needs_uri and not self.milvus_uri:
            raise InputError(f"the {self.backend} backend needs --milvus-uri (a path ending in .db, or http://host:19530)")

    @classmethod
    def from_env(cls, backend: str | None = None, milvus_uri: str | None = None) -> "StoreConfig":
        """Arguments first, then QA_BACKEND and QA_MILVUS_URI, then the defaults. A URI is kept only
        for a backend that needs one."""
        backend = backend or os.environ.get("QA_BACKEND") or DEFAULT_BACKEND
        uri = milvus_uri or os.environ.get("QA_MILVUS_URI") or ""
        needs = backend in BACKENDS and BACKENDS[backend].needs_uri
        return cls(backend, uri if needs else "")


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
    name: str | None  # the build it holds (None: an index held only in memory)
    sources: dict[str, SourceInfo]
    derived: dict[str, str]  # the text each PDF, web page or Word file is read as, by source (quotes index it)
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


class Backend(Protocol):
    """Where the index of one configuration lives, as the build and the engine use it. Each backend
    module defines one (`Backend(config, index_dir)`); its `open` and `write` are its own.

    Attributes:
        root: the index folder, where builds are locked and embedded batches checkpointed.
    """

    root: Path

    def describe(self) -> str:
        """Where the index is, for messages."""

    def open(self, *, check=None, ann=None, build: str | None = None) -> Store:
        """The live build (or the kept `build`; a backend that keeps none says so) as a `Store`;
        `check(manifest, where)` vets it before its data is read.

        Raises:
            IndexMissingError, IndexCorruptError, and what `check` raises.
        """

    def manifest(self) -> dict | None:
        """The live build's manifest, or None when there is none."""

    def live_build(self) -> str | None:
        """The live build's name, cheaply, for a server that follows new builds; None: not followed."""

    def reusable(self, model_id: str, check) -> tuple[dict | None, "KnownVectors"]:
        """What a new build may carry over from the live one (documents' rows, or None) and its vectors by text key."""

    def write(self, corpus, manifest: dict, *, keep_builds: int, started: float, on_step=None, progress: bool = False,
              notify=None) -> str:
        """Write a built corpus as a new build, make it live atomically (then `on_step("pointed")`), and
        return where it is."""

    def evaluation_store(self, name: str, memory: Store, manifest: dict, *, progress: bool = False,
                         notify=None) -> Store:
        """An evaluation corpus held in memory (`memory_store`), as this backend searches it."""

    def close(self) -> None:
        """Release connections."""
