"""The engine: an open index and a loaded model, answering questions. Surfaces hold one."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from . import answer_type, conversation
from . import follow_up_quotes
from .answer import Answer, AnswerParams, candidates, check_history, check_question, compose
from .conversation import ConversationParams
from .documents import SourceInfo
from .embeddings import Embedder
from .errors import InputError, ModelMismatchError, SourceChangedError
from .follow_up_quotes import FollowUp
from .index import BuildReport, Index, ensure_index, load_index, recorded_settings
from .lexical import Weights, add_weights, query_terms
from .normalize import normalize
from .quotes import Candidate, Quote
from .retrieval import MODES, Hit, RetrievalParams, Retriever
from .settings import IndexSettings
from .store.base import StoreConfig

log = logging.getLogger(__name__)

MAX_K = 50


class Engine:
    """Answers questions from one index. Safe to share between threads."""

    def __init__(self, retriever: Retriever, *, answer: AnswerParams = AnswerParams(),
                 conversation: ConversationParams = ConversationParams(), build: str | None = None) -> None:
        self.retriever = retriever
        self.store = retriever.store
        self.embedder = retriever.embedder
        self.sources: dict[str, SourceInfo] = retriever.store.sources
        self.answer_params = answer
        self.conversation = conversation
        self.build = build  # the index build that answers, recorded in every answer
        self.guard_sources = True  # refuse quotes from files changed since the build (off for a replay)
        self._stats: dict[str, tuple[int, int, bool]] = {}
        self._vectors: dict[str, np.ndarray] = {}  # question embeddings: a conversation repeats its questions
        self._cache_lock = threading.Lock()
        self.build_report: BuildReport | None = None
        self.seeds: Path | None = None
        self._excluded: dict[str, list[tuple[int, int, str]]] = {}
        for e in self.store.exclusions:
            self._excluded.setdefault(e["source"], []).append((e["start"], e["end"], e["reason"]))

    @classmethod
    def from_index(cls, index: Index, embedder: Embedder, *, retrieval: RetrievalParams = RetrievalParams(),
                   answer: AnswerParams = AnswerParams()) -> "Engine":
        """An engine over a loaded index (refuses an index built with another model)."""
        return cls(index.retriever(embedder, retrieval), answer=answer, build=index.path.name)

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
        build: str | None = None,
        store: StoreConfig | None = None,
    ) -> "Engine":
        """Open the index of `seeds`; build or rebuild it first when missing or stale (if `rebuild`).

        Args:
            settings: what the index must have been built with; None means the
                settings it was built with (or the defaults when there is none yet).
            model: require this embedding model (the index is rebuilt if it was made with another).
            build: answer from this kept build (`index_build` of an earlier answer) instead of the
                live one, as it was: never rebuilt, whatever the sources are now.
            store: which backend holds the index (default: the local files under `index_dir`).
        """
        if store is not None and store.backend == "milvus":
            return cls._open_milvus(seeds, index_dir, settings, store, model=model, rebuild=rebuild,
                                    progress=progress, notify=notify, build=build)
        if build is not None:
            index = load_index(index_dir, build=build)
            engine = cls.from_index(index, Embedder(model or index.manifest["settings"]["model"]))
            engine.seeds = Path(seeds)
            engine.guard_sources = False  # a replay answers as that build did, whatever the files are now
            return engine
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

    @classmethod
    def _open_milvus(cls, seeds, index_dir, settings, config: StoreConfig, *, model, rebuild, progress, notify,
                     build) -> "Engine":
        from .store import milvus

        if build is not None:
            raise InputError("--build replays a kept build of the local index; the milvus backend keeps only "
                             "the live build and the one before it")
        client = milvus.client_for(config.milvus_uri)  # one connection: milvus-lite opens a .db once per process
        settings = settings or milvus.recorded_settings(config, client) or IndexSettings()
        if model:
            settings = replace(settings, model=model)
        embedder = Embedder(settings.model)
        live, report = milvus.ensure(seeds, index_dir, config, settings, embedder, progress=progress, notify=notify,
                                     rebuild=rebuild, client=client)
        if live.manifest.get("model") != embedder.model_id:
            raise ModelMismatchError(f"the Milvus index was built with {live.manifest.get('model')!r} but the query "
                                     f"model is {embedder.model_id!r}; rebuild with `qa build --backend milvus`")
        engine = cls(Retriever(live, embedder), build=live.name)
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
        q = self._query(check_question(query))
        return self._search(q.terms, q.vector, mode, _check_k(k), sources)

    def ask(self, question: str, *, k: int = 5, sources: list[str] | None = None,
            history: list[str] | tuple[str, ...] = ()) -> Answer:
        """Answer `question` by quoting the `k` best passages, or abstain.

        Args:
            question: 1 to 2,000 characters.
            k: passages to retrieve and quote from (1 to 50).
            sources: restrict to these source files (names as in citations).
            history: the earlier questions of the conversation, oldest first; used only
                when the question needs them (`conversation`), and then shown in `read_as`.
        """
        question = check_question(question)
        k = _check_k(k)
        earlier = check_history(history)[-self.conversation.turns:]
        context = self._context(earlier, k, sources) if earlier else []
        answer = self._respond(self._query(question), context, k, sources)
        changed = sorted({q.source for q in answer.quotes if not self._unchanged(q.source)})
        if changed:
            raise SourceChangedError(
                f"{', '.join(changed)} changed since the index was built, so its quotes cannot be trusted; "
                "run `qa build` (a running app picks the new build up by itself)")
        return replace(answer, index_build=self.build, model=self.embedder.model_id)

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

    def _query(self, text: str) -> "_Query":
        """A question embedded (once, then cached) and tokenised (once)."""
        return _Query(text, query_terms(text), self._embedded([text])[0])

    def _embedded(self, texts: list[str]) -> list[np.ndarray]:
        """The texts' vectors, each embedded once and then cached (a conversation repeats its
        questions and the names its follow-ups put in them); the missing ones in one batch."""
        keys = [normalize(t) for t in texts]
        with self._cache_lock:
            found = {k: self._vectors[k] for k in keys if k in self._vectors}
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            vectors = [self.embedder.encode_one(missing[0])] if len(missing) == 1 else self.embedder.encode(missing)
            with self._cache_lock:
                for k, v in zip(missing, vectors):
                    if len(self._vectors) >= 1024:
                        self._vectors.pop(next(iter(self._vectors)))
                    self._vectors[k] = found[k] = v
        return [found[k] for k in keys]

    def _respond(self, query: "_Query", context: list["_Turn"], k: int, sources) -> Answer:
        """Answer alone, or with the conversation when the question needs it (or only then finds something)."""
        if not context:
            return self._answer(query, k, sources)
        reason = conversation.context_reason(query.text, query.terms)
        if reason is None:
            alone = self._answer(query, k, sources)
            content, known = self._own_terms(query)
            if not alone.abstained or len(known) < len(content):
                return alone
            read = self._answer_in_context(query, context, k, sources)
            return read if not read.abstained else alone
        return self._answer_in_context(query, context, k, sources)

    def _answer(self, query: "_Query", k: int, sources, *, vector=None, lexical=None, weights=None, keep=None,
                pool: int | None = None, follow_up: FollowUp | None = None, ranker=None, ranking=None) -> Answer:
        """Answer from the best `max(k, pool)` passages (`pool`: the answer settings' `quote_from`);
        `ranking`: the vector and term weights the quotes are ranked by, when not `vector`'s."""
        lexicon = self.store.lexicon
        vector = query.vector if vector is None else vector
        lexical = lexicon.weights(query.terms) if lexical is None else lexical
        weights = lexicon.idf_by_id(query.terms) if weights is None else weights
        hits = self._search(lexical, vector, "hybrid", max(k, pool or self.answer_params.quote_from), sources)
        return compose(query.text, vector, weights, hits, self.store, self.sources, self.answer_params, k=k, keep=keep,
                       follow_up=follow_up, ranker=ranker, ranking=ranking)

    # -- conversations --------------------------------------------------------------------------

    def _context(self, earlier: list[str], k: int, sources) -> list["_Turn"]:
        """The earlier turns, oldest first, each read as the conversation read it: an earlier
        follow-up ("What about Iran?") carries its own context on to the next ("Why?")."""
        turns: list[_Turn] = []
        for text in earlier:
            query = self._query(text)
            if turns and self.conversation.resolve_turns and self._needs_context(query):
                reading = self._reading(query, turns)
            else:
                reading = self._alone(query)
            if self.conversation.use_quotes:
                answer = self._respond(query, turns, k, sources)
                if answer.quotes:
                    reading = self._with_quote(reading, answer.quotes[0])
            turns.append(_Turn(query, reading))
        return turns

    def _needs_context(self, query: "_Query") -> bool:
        return conversation.context_reason(query.text, query.terms) is not None

    def _own_terms(self, query: "_Query") -> tuple[list[str], list[int]]:
        """A question's own content terms, and the vocabulary ids of those the documents use."""
        content = conversation.content_terms(query.terms)
        return content, self.store.lexicon.term_ids(content)

    def _alone(self, query: "_Query", said: "_Query | None" = None) -> "_Reading":
        lexicon = self.store.lexicon
        return _Reading(query.vector, lexicon.weights(query.terms), lexicon.idf_by_id(query.terms), said)

    def _with_quote(self, reading: "_Reading", quote: Quote) -> "_Reading":
        """A turn's reading moved toward the quote that answered it (its vector, and the names in it)."""
        v = reading.vector + self.store.sentences([quote.sentence]).vectors[0]
        terms = query_terms(" ".join(conversation.names(quote.text)))
        lexicon = self.store.lexicon
        return replace(reading, vector=(v / np.linalg.norm(v)).astype(np.float32),
                       lexical=add_weights(reading.lexical, lexicon.weights(terms), 1.0),
                       weights=add_weights(reading.weights, lexicon.idf_by_id(terms), 1.0))

    def _reading(self, query: "_Query", turns: list["_Turn"]) -> "_Reading":
        """The question read with the earlier turns.

        "And Iran?" after "What sanctions does the US impose on Belarus?" is read as that question
        with the name most like Iran replaced ("... impose on Iran?"). Any other follow-up has its
        vector moved toward the earlier turns' and their terms added to its BM25 query and term
        overlap, the most recent weighing most.
        """
        said = self._substituted(query, turns[-1])
        if said is not None:
            asked = self._query(said)
            return self._alone(asked, asked)
        p = self.conversation
        recency = conversation.recency_weights(len(turns), p.decay)
        earlier = [t.reading.vector for t in turns]
        own = len(self._own_terms(query)[1])
        if p.concatenate:
            vector = rank_vector = self._query(" ".join([*(t.query.text for t in turns), query.text])).vector
        else:
            weight = conversation.context_weight(p.context_weight, own, p.own_terms_discount)
            vector = conversation.blend(query.vector, earlier, recency, weight)
            rank_vector = conversation.blend(query.vector, earlier, recency, weight * p.quote_context)
        reading = self._alone(query)  # BM25 is linear in the query: the turns add their terms, weighted
        lexical, weights, rank_weights = reading.lexical, reading.weights, reading.weights
        for t, w in zip(turns, recency):
            lexical = add_weights(lexical, t.reading.lexical, p.lexical_weight * w)
            weights = add_weights(weights, t.reading.weights, p.lexical_weight * w)
            rank_weights = add_weights(rank_weights, t.reading.weights, p.lexical_weight * w * p.quote_context)
        # "When?" has no words of its own to pick a sentence with: it is ranked as it was searched
        ranking = (rank_vector, rank_weights) if p.quote_context != 1 and own else None
        return _Reading(vector, lexical, weights, ranking=ranking)

    def _substituted(self, query: "_Query", last: "_Turn") -> str | None:
        """The last question (as it was read) with a name replaced by the one this question asks
        about instead, or None: the replaced name is the one whose embedding is nearest the new
        one's, so "And Iran?" replaces "Belarus", not "the Eurasian Economic Union"."""
        if not self.conversation.substitute:
            return None
        what = conversation.follow_on(query.text)
        if not what:
            return None
        previous = (last.reading.said or last.query).text
        name = conversation.is_name(what)
        candidates = conversation.mentioned_names(previous)
        if not name:
            candidates += [w for w in conversation.words_of(previous) if w not in candidates]
        candidates = [c for c in candidates if c.casefold() != what.casefold()]
        if not candidates:
            return None
        vectors = np.stack(self._embedded([what, *candidates]))
        similarity = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarity))
        if not name and similarity[best] < self.conversation.substitute_floor:
            return None
        return conversation.substitute(previous, candidates[best], what)

    def follow_up_candidates(self, question: str, history: list[str], *, k: int = 5,
                             sources: list[str] | None = None) -> tuple[list[Candidate], np.ndarray] | None:
        """The sentences a follow-up read with its conversation chooses its quotes from, ranked as its
        answer ranks them before the own-terms rule (`_bears_on`), and their `follow_up_quotes.FEATURES`
        (None when the question needs no context): what the follow-up ranker is fitted on
        (`eval/fit_follow_ups.py`), and how far down the evidence lies (`eval/sweep.py --ceiling`)."""
        query = self._query(check_question(question))
        if not history or not self._needs_context(query):
            return None
        turns = self._context(check_history(history)[-self.conversation.turns:], k, sources)
        reading, _, asked, follow_up = self._follow_up(query, turns, k, sources, measured=True)
        hits = self._search(reading.lexical, reading.vector, "hybrid", max(k, self.conversation.quote_from), sources)
        found = candidates(asked.text, reading.vector, reading.weights, hits, self.store, self.answer_params,
                           ranking=reading.ranking)
        return found, follow_up_quotes.features(found, follow_up)

    def _follow_up(self, query: "_Query", turns: list["_Turn"], k: int, sources, *, measured: bool):
        """A follow-up read with the turns: its reading, what its quotes must bear on, the question
        it asks ("And Iran?" asks the earlier question, with Iran in it) and, when `measured`, what
        the follow-up ranker measures its candidates against. The previous answer is found once,
        and without the ranker only for a follow-up that leans on it."""
        reading = self._reading(query, turns)
        previous = functools.cache(lambda: self._respond(turns[-1].query, turns[:-1], k, sources).quotes)
        quoted_sources = functools.cache(lambda: frozenset(q.source for q in previous()))
        asked_before = frozenset(term for t in turns for term in conversation.content_terms(t.query.terms)) \
            if self.conversation.new_terms else frozenset()
        keep = self._bears_on(query, quoted_sources, asked_before)
        asked = reading.said or query
        if not measured:
            return reading, keep, asked, None
        follow_up = FollowUp(query.vector, turns[-1].query.vector, self.store.lexicon.idf_by_id(asked.terms),
                             frozenset(self._own_terms(query)[1]), quoted_sources(),
                             frozenset((q.source, q.start) for q in previous()))
        return reading, keep, asked, follow_up

    def _answer_in_context(self, query: "_Query", turns: list["_Turn"], k: int, sources) -> Answer:
        ranker = self.conversation.ranker
        reading, keep, asked, follow_up = self._follow_up(query, turns, k, sources, measured=ranker is not None)
        answer = self._answer(asked, k, sources, vector=reading.vector, lexical=reading.lexical,
                              weights=reading.weights, keep=keep, pool=self.conversation.quote_from,
                              follow_up=follow_up, ranker=ranker, ranking=reading.ranking)
        said = reading.said.text if reading.said else None
        return replace(answer, question=query.text, read_as=conversation.read_as(query.text, [t.query.text for t in turns], said),
                       context_used=True)

    def _bears_on(self, query: "_Query", quoted: Callable[[], frozenset[str]] = frozenset,
                  asked_before: frozenset[str] = frozenset()):
        """What a sentence must hold to answer a follow-up read with context, so that the context does
        not answer in its place: one of the question's own terms (or a name its acronym spells out),
        or, for a question with no terms of its own ("When?"), the kind of answer it asks for. A
        question whose only terms the documents never use is answered by no sentence. Of its own
        terms, those that `asked_before` (the earlier questions' terms) lacks are what it asks, when
        there are any: "How much do those drones cost?" after questions about drones asks about
        "cost", and abstains where no sentence has it, or where the documents never use it.

        A short follow-up ("When did he die?", "Who won?") says little by itself and means the
        thing the conversation is about: it may also quote a sentence of a document that answered
        the previous turn (`quoted()`, asked only then), in its own words or not, as long as it has at most
        `lean_on_source` terms of its own and the documents use every one of them.
        """
        content, known = self._own_terms(query)
        asked = [t for t in content if t not in asked_before] or content  # what the conversation did not ask
        own = set(self.store.lexicon.term_ids(asked))
        spelled = conversation.acronyms(query.text) if self.conversation.spell_out else []
        if asked and not own and not spelled:
            return lambda c: False  # its words are ones the documents never use ("How tall is he?")
        kind = answer_type.question_type(query.text) if not own else None
        if not own and not spelled and kind is None:
            return None
        leans = quoted() if conversation.leans_on_source(len(content), len(known), self.conversation) else frozenset()

        def bears_on(c) -> bool:
            return (c.source in leans or bool(own.intersection(c.terms))
                    or any(conversation.spells_out(a, c.text) for a in spelled) or answer_type.offers(kind, c.text))
        return bears_on

    def _check_sources(self, sources: list[str] | None) -> None:
        if not sources:
            return
        unknown = sorted(set(sources) - set(self.sources))
        if unknown:
            raise InputError(f"unknown source {unknown[0]!r}; known: {', '.join(sorted(self.sources))}")

    def _search(self, query: list[str] | Weights, vector, mode, k, sources) -> list[Hit]:
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        if not sources:
            return self.retriever.search_vector(query, vector, mode=mode, k=k)
        self._check_sources(sources)
        return self.retriever.search_vector(query, vector, mode=mode, k=k, sources=sources)


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) and not (isinstance(k, float) and k.is_integer()):
        raise InputError(f"k must be a whole number, got {k!r}")
    k = int(k)
    if not 1 <= k <= MAX_K:
        raise InputError(f"k must be between 1 and {MAX_K}, got {k}")
    return k


@dataclass(frozen=True, eq=False)
class _Query:
    """A question as the engine works with it: its text, BM25 terms and unit vector."""

    text: str
    terms: list[str]
    vector: np.ndarray


@dataclass(frozen=True, eq=False)
class _Turn:
    """An earlier turn of a conversation and how it was read (with the quote that answered it,
    when earlier answers are used)."""

    query: _Query
    reading: "_Reading"


@dataclass(frozen=True, eq=False)
class _Reading:
    """How a question was read: the vector it was searched with, its BM25 query weights and its
    term-overlap weights, the question it was read as when a name was put in an earlier one, and,
    for a follow-up, the vector and term weights its quotes are ranked by (None: the same)."""

    vector: np.ndarray
    lexical: Weights
    weights: Weights
    said: _Query | None = None
    ranking: tuple[np.ndarray, Weights] | None = None
