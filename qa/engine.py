"""The engine: an open index and a loaded model, answering questions. Surfaces hold one.

It joins the store, retrieval and the answer. `ask` reads top to bottom: the question is checked,
tokenised and embedded once, goes down through retrieval (`retrieval`) and the answer
(`answer.compose`), with the conversation (`answer.conversation`) when it has earlier questions,
and comes back up once, as an `Answer`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from .answer.compose import Answer, check_question, compose
from .answer.conversation import Conversation, Query
from .answer.follow_up import FollowUp
from .build.build import BuildReport, auto_model, ensure, open_checked, recorded_settings
from .build.model_choice import AUTO
from .embed import Embedder, load_embedder
from .errors import InputError, ModelMismatchError, SourceChangedError
from .index.lexical import Lexicon, Weights
from .ingest.documents import SourceInfo
from .ingest.formats import Reading, Unreadable
from .ingest.formats import read as read_document
from .ingest.formats import render_pdf_page
from .ingest.language import detect_among
from .retrieval import MODES, Hit, Retriever
from .settings import AnswerParams, ConversationParams, IndexSettings, RetrievalParams
from .store import Store, StoreConfig, backend_for
from .text import DEFAULT_LANGUAGE, normalize, query_terms
from .threads import answering

log = logging.getLogger(__name__)

MAX_K = 50
READINGS_KEPT = 16  # derived documents kept read, to locate their quotes
PAGES_KEPT = 32  # PDF pages kept rendered
PAGE_SCALE = 1.5  # pixels a point of a rendered PDF page


class Engine:
    """Answers questions from one index. Safe to share between threads."""

    def __init__(self, retriever: Retriever, *, answer: AnswerParams | None = None,
                 conversation: ConversationParams = ConversationParams(), build: str | None = None) -> None:
        self.retriever = retriever
        self.store = retriever.store
        self.embedder = retriever.embedder
        self.sources: dict[str, SourceInfo] = retriever.store.sources
        # None: the defaults, with what was measured for this model (`settings.FOR_MODEL`).
        self.answer_params = answer or AnswerParams.for_model(retriever.embedder.model_id)
        self.conversation = Conversation(conversation, _Answerer(self))
        self.build = build  # the index build that answers, recorded in every answer
        self.guard_sources = True  # refuse quotes from files changed since the build (off for a replay)
        self._stats: dict[str, tuple[int, int, bool]] = {}
        self._vectors: dict[str, np.ndarray] = {}  # question embeddings: a conversation repeats its questions
        self._cache_lock = threading.Lock()
        self.build_report: BuildReport | None = None
        self.seeds: Path | None = None
        self._readings: dict[str, Reading | None] = {}  # derived documents read again to locate quotes
        self._pages: dict[tuple, tuple[bytes, float, float]] = {}  # PDF pages rendered to show quotes on
        self._excluded: dict[str, list[tuple[int, int, str]]] = {}
        for e in self.store.exclusions:
            self._excluded.setdefault(e["source"], []).append((e["start"], e["end"], e["reason"]))

    @classmethod
    def from_store(cls, store: Store, embedder: Embedder, *, retrieval: RetrievalParams = RetrievalParams(),
                   answer: AnswerParams | None = None,
                   conversation: ConversationParams = ConversationParams()) -> "Engine":
        """An engine over an open store (refuses an index built with another model)."""
        built = store.manifest.get("model")
        if built != embedder.model_id:
            raise ModelMismatchError(f"index was built with {built!r} but the query model is {embedder.model_id!r}; "
                                     f"rebuild with `qa build --model {embedder.model_id}`")
        return cls(Retriever(store, embedder, retrieval), answer=answer, conversation=conversation, build=store.name)

    @classmethod
    def from_index(cls, index, embedder: Embedder, *, retrieval: RetrievalParams = RetrievalParams(),
                   answer: AnswerParams | None = None,
                   conversation: ConversationParams = ConversationParams()) -> "Engine":
        """An engine over a loaded local index (`build.load_index`)."""
        return cls.from_store(index.store(), embedder, retrieval=retrieval, answer=answer, conversation=conversation)

    @classmethod
    def open(
        cls,
        seeds: str | Path = "seeds",
        index_dir: str | Path = "index",
        settings: IndexSettings | None = None,
        *,
        model: str | None = None,
        device: str | None = None,
        rebuild: bool = True,
        progress: bool = False,
        notify: Callable[[str], None] = log.warning,
        build: str | None = None,
        store: StoreConfig | None = None,
        conversation: ConversationParams = ConversationParams(),
    ) -> "Engine":
        """Open the index of `seeds`; build or rebuild it first when missing or stale (if `rebuild`).

        Args:
            settings: what the index must have been built with; None means the
                settings it was built with (or the defaults when there is none yet).
            model: require this embedding model (the index is rebuilt if it was made with another);
                "auto" chooses it by the folder's languages (`build.model_choice`), as happens when
                there is no index yet and neither `settings` nor `model` names one.
            device: where the model embeds ("auto", "cpu", "cuda"; None: auto).
            build: answer from this kept build (`index_build` of an earlier answer) instead of the
                live one, as it was: never rebuilt, whatever the sources are now.
            store: which backend holds the index (default: the local files under `index_dir`).
        """
        backend = backend_for(store or StoreConfig(), index_dir)
        if build is not None:  # a backend that keeps no earlier builds says so, in one line
            opened = open_checked(backend, build=build)
            engine = cls.from_store(opened, load_embedder(model or opened.manifest["settings"]["model"], device=device),
                                    conversation=conversation)
            engine.seeds = Path(seeds)
            engine.guard_sources = False  # a replay answers as that build did, whatever the files are now
            return engine
        recorded = recorded_settings(backend)
        choice = None
        if model == AUTO or (settings is None and model is None and recorded is None):
            # No index yet, or asked for: the model is chosen by the folder's languages (a recorded choice kept).
            choice = auto_model(backend, seeds)
            notify(choice.reason)
            settings, model = settings or recorded or IndexSettings(), choice.model
        settings = settings or recorded or IndexSettings()
        if model:
            settings = replace(settings, model=model)
        embedder = load_embedder(settings.model, device=device)
        opened, report = ensure(backend, seeds, settings, embedder, progress=progress, notify=notify, rebuild=rebuild,
                                choice=choice)
        engine = cls.from_store(opened, embedder, conversation=conversation)
        engine.build_report = report
        engine.seeds = Path(seeds)
        return engine

    def excluded(self, source: str) -> list[tuple[int, int, str]]:
        """The (start, end, rule) spans of a source that were left out as clutter or metadata."""
        return list(self._excluded.get(source, []))

    def document(self, source: str) -> str:
        """The text of an indexed source as quotes' offsets index it: a .txt/.md file's raw text, or the
        text derived from a PDF, web page or Word file, as the build kept it.

        Raises:
            InputError: the source is unknown, or a .txt/.md file is unreadable or has changed since it was indexed.
        """
        info = self.sources.get(source)
        if info is not None and source in self.store.derived:
            return self.store.derived[source]
        if info is None or self.seeds is None:
            raise InputError(f"unknown source {source!r}")
        try:
            data = (self.seeds / source).read_bytes()
        except OSError as exc:
            raise InputError(f"source {source!r} cannot be read ({exc.strerror})") from exc
        if info.sha256 and hashlib.sha256(data).hexdigest() != info.sha256:
            raise InputError(f"source {source!r} changed since it was indexed; restart to rebuild the index")
        return data.decode("utf-8")

    def locate(self, source: str, start: int, end: int) -> dict:
        """Where characters `[start, end)` of a derived text lie in the original file: a PDF's pages and
        boxes, a web page's source bytes, a Word file's paragraph (`ingest.formats`); {} for .txt/.md,
        whose offsets are the file's own. The file is read again (once, then kept) and used only while
        its bytes and the text derived from them are those indexed; otherwise only a PDF's page is given."""
        info = self.sources.get(source)
        if info is None or info.format == "text":
            return {}
        reading = self._reading(source, info)
        if reading is not None:
            return reading.locate(start, end)
        page, label = info.page_of(start, end)
        return {"page": page, "page_label": label} if info.format == "pdf" else {}

    def _reading(self, source: str, info: SourceInfo) -> Reading | None:
        with self._cache_lock:
            if source in self._readings:
                return self._readings[source]
        reading = None
        try:
            data = self._indexed_bytes(source, info)
            if data is not None:
                reading = read_document(source, data)
                if reading.sha256 != info.derived_sha256:
                    log.warning("%s: the text derived from it now differs from the indexed one (%s, indexed with "
                                "%s); run `qa build`", source, reading.extractor, info.extractor)
                    reading = None
        except (OSError, Unreadable) as exc:
            log.warning("%s cannot be located in its file (%s)", source, exc)
        return self._remember(self._readings, source, reading, READINGS_KEPT)

    def _indexed_bytes(self, source: str, info: SourceInfo) -> bytes | None:
        """The source file's bytes if they are still those indexed, else None (OSError when unreadable)."""
        if self.seeds is None:
            return None
        data = (self.seeds / source).read_bytes()
        return data if hashlib.sha256(data).hexdigest() == info.sha256 else None

    def _remember(self, cache: dict, key, value, limit: int):
        """`value` kept in `cache` under `key`, the oldest entry dropped beyond `limit`; returns `value`."""
        with self._cache_lock:
            if len(cache) >= limit:
                cache.pop(next(iter(cache)))
            cache[key] = value
        return value

    def page_image(self, source: str, page: int, scale: float = PAGE_SCALE) -> tuple[bytes, float, float] | None:
        """Page `page` of an indexed PDF as a PNG, as displayed, with its width and height in points (the
        frame of its quotes' boxes); None when the file is gone or changed since the build. Kept once made."""
        info = self.sources.get(source)
        if info is None or info.format != "pdf" or self.seeds is None:
            return None
        key = (source, page, scale)
        with self._cache_lock:
            if key in self._pages:
                return self._pages[key]
        try:
            data = self._indexed_bytes(source, info)
            if data is None:
                return None
            image = render_pdf_page(data, page, scale)
        except (OSError, Unreadable) as exc:
            log.warning("%s: page %s cannot be shown (%s)", source, page, exc)
            return None
        return self._remember(self._pages, key, image, PAGES_KEPT)

    def search(self, query: str, *, mode: str = "hybrid", k: int = 10, sources: list[str] | None = None) -> list[Hit]:
        """Ranked passages for `query`, optionally only from the named source files."""
        with answering(self.embedder):
            q = self.read(check_question(query))
            return self.search_with(q.terms, q.vector, mode, _check_k(k), sources, q.language)

    def ask(self, question: str, *, k: int = 5, sources: list[str] | None = None,
            history: list[str] | tuple[str, ...] = ()) -> Answer:
        """Answer `question` by quoting the `k` best passages, or abstain.

        Args:
            question: 1 to 2,000 characters.
            k: passages to retrieve and quote from (1 to 50).
            sources: restrict to these source files (names as in citations).
            history: the earlier questions of the conversation, oldest first; used only
                when the question needs them (`answer.conversation`), and then shown in `read_as`.
        """
        question = check_question(question)
        k = _check_k(k)
        earlier = self.conversation.earlier(history)
        with answering(self.embedder):
            query = self.read(question)
            answer = self.conversation.respond(query, earlier, k, sources)
        changed = sorted({q.source for q in answer.quotes if not self._unchanged(q.source)})
        if changed:
            raise SourceChangedError(
                f"{', '.join(changed)} changed since the index was built, so its quotes cannot be trusted; "
                "run `qa build` (a running app picks the new build up by itself)")
        quotes = tuple(replace(q, location={**q.location, **self.locate(q.source, q.start, q.end)}) for q in answer.quotes)
        return replace(answer, quotes=quotes, index_build=self.build, model=self.embedder.model_id)

    def _unchanged(self, source: str) -> bool:
        """Whether a source file still has the bytes it was indexed from (hashed only when its size or
        modification time changed since last looked at)."""
        info = self.sources.get(source)
        if not self.guard_sources or self.seeds is None or info is None or not info.sha256:
            return True
        try:
            st = (self.seeds / source).stat()
        except OSError:
            return False
        cached = self._stats.get(source)
        if cached and cached[:2] == (st.st_size, st.st_mtime_ns):
            return cached[2]
        try:
            same = hashlib.sha256((self.seeds / source).read_bytes()).hexdigest() == info.sha256
        except OSError:
            same = False
        self._stats[source] = (st.st_size, st.st_mtime_ns, same)
        return same

    # -- one question ---------------------------------------------------------------------------

    def read(self, text: str) -> Query:
        """A question tokenised (once) and embedded (once, then cached)."""
        languages = self.retriever.languages
        language = detect_among(text, tuple(dict.fromkeys((*languages, DEFAULT_LANGUAGE))))
        return Query(text, query_terms(text, languages), self.embed([text])[0], language)

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        """The texts' vectors, each embedded once and then cached (a conversation repeats its
        questions and the names its follow-ups put in them); the missing ones in one batch."""
        keys = [normalize(t) for t in texts]
        with self._cache_lock:
            found = {k: self._vectors[k] for k in keys if k in self._vectors}
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            vectors = [self.embedder.encode_one(missing[0])] if len(missing) == 1 else self.embedder.encode_queries(missing)
            with self._cache_lock:
                for k, v in zip(missing, vectors):
                    if len(self._vectors) >= 1024:
                        self._vectors.pop(next(iter(self._vectors)))
                    self._vectors[k] = found[k] = v
        return [found[k] for k in keys]

    def answer(self, query: Query, k: int, sources, *, vector=None, lexical=None, weights=None, keep=None,
               pool: int | None = None, follow_up: FollowUp | None = None, ranker=None, ranking=None) -> Answer:
        """Answer from the best `max(k, pool)` passages (`pool`: the answer settings' `quote_from`);
        `ranking`: the vector and term weights the quotes are ranked by, when not `vector`'s."""
        lexicon = self.store.lexicon
        vector = query.vector if vector is None else vector
        lexical = lexicon.weights(query.terms) if lexical is None else lexical
        weights = lexicon.idf_by_id(query.terms) if weights is None else weights
        hits = self.search_with(lexical, vector, "hybrid", max(k, pool or self.answer_params.quote_from), sources,
                                query.language)
        return compose(query.text, vector, weights, hits, self.store, self.sources, self.answer_params, k=k, keep=keep,
                       follow_up=follow_up, ranker=ranker, ranking=ranking, language=query.language)

    def search_with(self, query: list[str] | Weights, vector, mode, k, sources, language: str = "") -> list[Hit]:
        """Ranked passages for a question already tokenised (or weighted) and embedded, in `language`."""
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        if not sources:
            return self.retriever.search_vector(query, vector, mode=mode, k=k, language=language)
        self._check_sources(sources)
        return self.retriever.search_vector(query, vector, mode=mode, k=k, sources=sources, language=language)

    def _check_sources(self, sources: list[str] | None) -> None:
        if not sources:
            return
        unknown = sorted(set(sources) - set(self.sources))
        if unknown:
            raise InputError(f"unknown source {unknown[0]!r}; known: {', '.join(sorted(self.sources))}")


class _Answerer:
    """What the engine lends its conversation: reading, embedding and answering, all going down."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def lexicon(self) -> Lexicon:
        return self._engine.store.lexicon

    def read(self, text: str) -> Query:
        return self._engine.read(text)

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        return self._engine.embed(texts)

    def sentence_vector(self, sentence: int) -> np.ndarray:
        return self._engine.store.sentences(np.array([sentence], dtype=np.int64)).vectors[0]

    def answer(self, query: Query, k: int, sources, **reading) -> Answer:
        return self._engine.answer(query, k, sources, **reading)


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) and not (isinstance(k, float) and k.is_integer()):
        raise InputError(f"k must be a whole number, got {k!r}")
    k = int(k)
    if not 1 <= k <= MAX_K:
        raise InputError(f"k must be between 1 and {MAX_K}, got {k}")
    return k
