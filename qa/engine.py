"""The engine: an open index and a loaded model, answering questions. Surfaces hold one."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from pathlib import Path
from typing import Callable

from .answer import Answer, AnswerParams, check_question, compose
from .documents import SourceInfo
from .embeddings import Embedder
from .errors import InputError
from .index import BuildReport, Index, ensure_index, load_index, recorded_settings
from .lexical import query_terms
from .normalize import normalize
from .quote_index import QuoteIndex
from .retrieval import MODES, Hit, RetrievalParams, Retriever
from .settings import IndexSettings

log = logging.getLogger(__name__)

MAX_K = 50


class Engine:
    """Answers questions from one index. Safe to share between threads."""

    def __init__(self, retriever: Retriever, quotes: QuoteIndex, sources: dict[str, SourceInfo], *,
                 answer: AnswerParams = AnswerParams(), exclusions: list[dict] = ()) -> None:
        self.retriever = retriever
        self.quotes = quotes
        self.embedder = retriever.embedder
        self.sources = sources
        self.answer_params = answer
        self.build_report: BuildReport | None = None
        self.seeds: Path | None = None
        self._excluded: dict[str, list[tuple[int, int, str]]] = {}
        for e in exclusions:
            self._excluded.setdefault(e["source"], []).append((e["start"], e["end"], e["reason"]))

    @classmethod
    def from_index(cls, index: Index, embedder: Embedder, *, retrieval: RetrievalParams = RetrievalParams(),
                   answer: AnswerParams = AnswerParams()) -> "Engine":
        """An engine over a loaded index (refuses an index built with another model)."""
        return cls(index.retriever(embedder, retrieval), index.quotes, index.sources, answer=answer,
                   exclusions=index.exclusions)

    @classmethod
    def open(
        cls,
        seeds: str | Path = "seeds",
        index_dir: str | Path = "index",
        settings: IndexSettings | None = None,
        *,
        model: str | None = None,
        rebuild: bool = True,
        progress: bool = False,
        notify: Callable[[str], None] = log.warning,
    ) -> "Engine":
        """Open the index of `seeds`; build or rebuild it first when missing or stale (if `rebuild`).

        Args:
            settings: what the index must have been built with; None means the
                settings it was built with (or the defaults when there is none yet).
            model: require this embedding model (the index is rebuilt if it was made with another).
        """
        settings = settings or recorded_settings(index_dir) or IndexSettings()
        if model:
            settings = replace(settings, model=model)
        embedder = Embedder(settings.model)
        if rebuild:
            index, report = ensure_index(seeds, index_dir, settings, embedder=embedder, progress=progress, notify=notify)
        else:
            index, report = load_index(index_dir, seeds=seeds, settings=settings), None
        engine = cls.from_index(index, embedder)
        engine.build_report = report
        engine.seeds = Path(seeds)
        return engine

    def excluded(self, source: str) -> list[tuple[int, int, str]]:
        """The (start, end, rule) spans of a source that were left out as clutter or metadata."""
        return list(self._excluded.get(source, []))

    def document(self, source: str) -> str:
        """The raw text of an indexed source file, exactly as quotes' offsets index it.

        Raises:
            InputError: the source is unknown, unreadable, or has changed since it was indexed.
        """
        info = self.sources.get(source)
        if info is None or self.seeds is None:
            raise InputError(f"unknown source {source!r}")
        try:
            data = (self.seeds / source).read_bytes()
        except OSError as exc:
            raise InputError(f"source {source!r} cannot be read ({exc.strerror})") from exc
        if info.sha256 and hashlib.sha256(data).hexdigest() != info.sha256:
            raise InputError(f"source {source!r} changed since it was indexed; restart to rebuild the index")
        return data.decode("utf-8")

    def search(self, query: str, *, mode: str = "hybrid", k: int = 10, sources: list[str] | None = None) -> list[Hit]:
        """Ranked passages for `query`, optionally only from the named source files."""
        query = check_question(query)
        k = _check_k(k)
        vector = self.embedder.encode([normalize(query)])[0]
        return self._search(query_terms(query), vector, mode, k, sources)

    def ask(self, question: str, *, k: int = 5, sources: list[str] | None = None) -> Answer:
        """Answer `question` by quoting the `k` best passages, or abstain.

        Args:
            question: 1 to 2,000 characters.
            k: passages to retrieve and quote from (1 to 50).
            sources: restrict to these source files (names as in citations).
        """
        question = check_question(question)
        k = _check_k(k)
        vector = self.embedder.encode([normalize(question)])[0]
        terms = query_terms(question)  # tokenised once: for BM25 and for the quotes' term overlap
        hits = self._search(terms, vector, "hybrid", max(k, self.answer_params.quote_from), sources)
        weights = self.retriever.bm25.idf_by_id(terms)
        return compose(question, vector, weights, hits, self.quotes, self.sources, self.answer_params, k=k)

    def _search(self, query: list[str], vector, mode, k, sources) -> list[Hit]:
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        if not sources:
            return self.retriever.search_vector(query, vector, mode=mode, k=k)
        unknown = sorted(set(sources) - set(self.sources))
        if unknown:
            raise InputError(f"unknown source {unknown[0]!r}; known: {', '.join(sorted(self.sources))}")
        wanted = set(sources)
        pool = self.retriever.search_vector(query, vector, mode=mode, k=len(self.retriever.passages))
        kept = [h for h in pool if h.passage.source in wanted][:k]
        return [Hit(h.passage, h.score, r + 1, h.dense, h.bm25) for r, h in enumerate(kept)]


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) and not (isinstance(k, float) and k.is_integer()):
        raise InputError(f"k must be a whole number, got {k!r}")
    k = int(k)
    if not 1 <= k <= MAX_K:
        raise InputError(f"k must be between 1 and {MAX_K}, got {k}")
    return k
