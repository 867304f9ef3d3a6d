"""Follow-up questions, read together with the conversation only where they need it.

There is no generative model to rewrite "When?" into a full question, so a
follow-up is read the way retrieval systems read conversational queries:
- "And X?" / "What about X?" is read as the last question with X in place of what
  X stands in for ("What sanctions does the US impose on Belarus?" then "And Iran?"
  reads "What sanctions does the US impose on Iran?"), and the reader is told so;
- any other follow-up has its vector moved toward the earlier turns (the most
  recent weighing most, and the less the question says by itself, the more), and
  the earlier turns' terms are added, with a lower weight, to its BM25 query and
  term overlap. An earlier follow-up counts as it was read, not as typed. The
  conversation finds the passages and judges relevance; the sentences in them are
  ranked with less of it, so that the question picks which one it quotes.

Context is used only when the question needs it:
- it refers back: a pronoun, a demonstrative or an adverb such as "meanwhile";
- it continues: it starts with "and", "but", "what about", "how about";
- it is a fragment: asked with a question mark, but with no question word and not
  opening as a question does ("Even after the new sanctions?"); words typed without a
  question mark ("causes of military suicide") are a search, and stand alone;
- it is too short to stand alone (at most one content term: "When?", "Why?");
- or, standing alone, it finds nothing relevant enough and the context does (not
  for a question with words the documents never use: it is about something else).

A question read with context must still hold on by itself, or the context would
answer in its place: every quote must contain one of the question's own terms
(or spell out its acronym), or, when it has none ("When?"), offer the kind of
answer it asks for. An off-topic question after a conversation therefore still
abstains. Everything here was chosen on the gold conversations' dev part (docs/evaluation.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Callable, Protocol

import numpy as np

from ..index.lexical import Lexicon, Weights, add_weights
from ..settings import ConversationParams
from ..text import query_terms
from . import answer_type, wording
from .compose import Answer, check_history
from .follow_up import FollowUp
from .quotes import Quote


@dataclass(frozen=True, eq=False)
class Query:
    """A question as it is answered: its text, BM25 terms and unit vector (each made once)."""

    text: str
    terms: list[str]
    vector: np.ndarray
    language: str = ""  # the question's, among the documents' languages and English ("": unknown)


@dataclass(frozen=True, eq=False)
class Reading:
    """How a question was read: the vector it was searched with, its BM25 query weights and its
    term-overlap weights, the question it was read as when a name was put in an earlier one, and,
    for a follow-up, the vector and term weights its quotes are ranked by (None: the same)."""

    vector: np.ndarray
    lexical: Weights
    weights: Weights
    said: Query | None = None
    ranking: tuple[np.ndarray, Weights] | None = None


@dataclass(frozen=True, eq=False)
class Turn:
    """An earlier turn of a conversation and how it was read (with the quote that answered it,
    when earlier answers are used)."""

    query: Query
    reading: Reading


class Answerer(Protocol):
    """What a conversation is given to answer with, by the engine that holds it: nothing here calls up."""

    lexicon: Lexicon

    def read(self, text: str) -> Query:
        """A text as a `Query`: tokenised, and embedded once (then cached)."""

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        """The texts' vectors (cached)."""

    def sentence_vector(self, sentence: int) -> np.ndarray:
        """The stored vector of a sentence of the index."""

    def answer(self, query: Query, k: int, sources, *, vector=None, lexical=None, weights=None, keep=None,
               pool: int | None = None, follow_up: FollowUp | None = None, ranker=None, ranking=None) -> Answer:
        """Search with the query (or the reading's vector and weights) and compose the answer."""


class Conversation:
    """Answers a question with the earlier questions of its conversation, where it needs them."""

    def __init__(self, params: ConversationParams, answerer: Answerer) -> None:
        self.params = params
        self.answerer = answerer

    def respond(self, query: Query, earlier: list[str], k: int, sources) -> Answer:
        """The answer to `query` after the questions `earlier` (oldest first, already checked)."""
        context = self.context(earlier, k, sources) if earlier else []
        return self._respond(query, context, k, sources)

    def earlier(self, history) -> list[str]:
        """The earlier questions a question is read with: the last `turns`, each checked."""
        return check_history(history)[-self.params.turns:]

    def _respond(self, query: Query, context: list[Turn], k: int, sources) -> Answer:
        """Answer alone, or with the conversation when the question needs it (or only then finds something)."""
        if not context:
            return self.answerer.answer(query, k, sources)
        reason = wording.context_reason(query.text, query.terms)
        if reason is None:
            alone = self.answerer.answer(query, k, sources)
            content, known = self.own_terms(query)
            if not alone.abstained or len(known) < len(content):
                return alone
            read = self._answer_in_context(query, context, k, sources)
            return read if not read.abstained else alone
        return self._answer_in_context(query, context, k, sources)

    def context(self, earlier: list[str], k: int, sources) -> list[Turn]:
        """The earlier turns, oldest first, each read as the conversation read it: an earlier
        follow-up ("What about Iran?") carries its own context on to the next ("Why?")."""
        turns: list[Turn] = []
        for text in earlier:
            query = self.answerer.read(text)
            if turns and self.params.resolve_turns and self.needs_context(query):
                reading = self._reading(query, turns)
            else:
                reading = self._alone(query)
            if self.params.use_quotes:
                answer = self._respond(query, turns, k, sources)
                if answer.quotes:
                    reading = self._with_quote(reading, answer.quotes[0])
            turns.append(Turn(query, reading))
        return turns

    def needs_context(self, query: Query) -> bool:
        return wording.context_reason(query.text, query.terms) is not None

    def own_terms(self, query: Query) -> tuple[list[str], list[int]]:
        """A question's own content terms, and the vocabulary ids of those the documents use."""
        content = wording.content_terms(query.terms)
        return content, self.answerer.lexicon.term_ids(content)

    def _alone(self, query: Query, said: Query | None = None) -> Reading:
        lexicon = self.answerer.lexicon
        return Reading(query.vector, lexicon.weights(query.terms), lexicon.idf_by_id(query.terms), said)

    def _with_quote(self, reading: Reading, quote: Quote) -> Reading:
        """A turn's reading moved toward the quote that answered it (its vector, and the names in it)."""
        v = reading.vector + self.answerer.sentence_vector(quote.sentence)
        terms = query_terms(" ".join(wording.names(quote.text)))
        lexicon = self.answerer.lexicon
        return replace(reading, vector=(v / np.linalg.norm(v)).astype(np.float32),
                       lexical=add_weights(reading.lexical, lexicon.weights(terms), 1.0),
                       weights=add_weights(reading.weights, lexicon.idf_by_id(terms), 1.0))

    def _reading(self, query: Query, turns: list[Turn]) -> Reading:
        """The question read with the earlier turns.

        "And Iran?" after "What sanctions does the US impose on Belarus?" is read as that question
        with the name most like Iran replaced ("... impose on Iran?"). Any other follow-up has its
        vector moved toward the earlier turns' and their terms added to its BM25 query and term
        overlap, the most recent weighing most.
        """
        said = self._substituted(query, turns[-1])
        if said is not None:
            asked = self.answerer.read(said)
            return self._alone(asked, asked)
        p = self.params
        recency = wording.recency_weights(len(turns), p.decay)
        earlier = [t.reading.vector for t in turns]
        own = len(self.own_terms(query)[1])
        if p.concatenate:
            vector = rank_vector = self.answerer.read(" ".join([*(t.query.text for t in turns), query.text])).vector
        else:
            weight = wording.context_weight(p.context_weight, own, p.own_terms_discount)
            vector = wording.blend(query.vector, earlier, recency, weight)
            rank_vector = wording.blend(query.vector, earlier, recency, weight * p.quote_context)
        reading = self._alone(query)  # BM25 is linear in the query: the turns add their terms, weighted
        lexical, weights, rank_weights = reading.lexical, reading.weights, reading.weights
        for t, w in zip(turns, recency):
            lexical = add_weights(lexical, t.reading.lexical, p.lexical_weight * w)
            weights = add_weights(weights, t.reading.weights, p.lexical_weight * w)
            rank_weights = add_weights(rank_weights, t.reading.weights, p.lexical_weight * w * p.quote_context)
        # "When?" has no words of its own to pick a sentence with: it is ranked as it was searched
        ranking = (rank_vector, rank_weights) if p.quote_context != 1 and own else None
        return Reading(vector, lexical, weights, ranking=ranking)

    def _substituted(self, query: Query, last: Turn) -> str | None:
        """The last question (as it was read) with a name replaced by the one this question asks
        about instead, or None: the replaced name is the one whose embedding is nearest the new
        one's, so "And Iran?" replaces "Belarus", not "the Eurasian Economic Union"."""
        if not self.params.substitute:
            return None
        what = wording.follow_on(query.text)
        if not what:
            return None
        previous = (last.reading.said or last.query).text
        name = wording.is_name(what)
        candidates = wording.mentioned_names(previous)
        if not name:
            candidates += [w for w in wording.words_of(previous) if w not in candidates]
        candidates = [c for c in candidates if c.casefold() != what.casefold()]
        if not candidates:
            return None
        vectors = np.stack(self.answerer.embed([what, *candidates]))
        similarity = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarity))
        if not name and similarity[best] < self.params.substitute_floor:
            return None
        return wording.substitute(previous, candidates[best], what)

    def follow_up(self, query: Query, turns: list[Turn], k: int, sources, *, measured: bool):
        """A follow-up read with the turns: its reading, what its quotes must bear on, the question
        it asks ("And Iran?" asks the earlier question, with Iran in it) and, when `measured`, what
        the follow-up ranker measures its candidates against. The previous answer is found once,
        and without the ranker only for a follow-up that leans on it."""
        reading = self._reading(query, turns)
        previous = functools.cache(lambda: self._respond(turns[-1].query, turns[:-1], k, sources).quotes)
        quoted_sources = functools.cache(lambda: frozenset(q.source for q in previous()))
        asked_before = frozenset(term for t in turns for term in wording.content_terms(t.query.terms)) \
            if self.params.new_terms else frozenset()
        keep = self._bears_on(query, quoted_sources, asked_before)
        asked = reading.said or query
        if not measured:
            return reading, keep, asked, None
        follow_up = FollowUp(query.vector, turns[-1].query.vector, self.answerer.lexicon.idf_by_id(asked.terms),
                             frozenset(self.own_terms(query)[1]), quoted_sources(),
                             frozenset((q.source, q.start) for q in previous()))
        return reading, keep, asked, follow_up

    def _answer_in_context(self, query: Query, turns: list[Turn], k: int, sources) -> Answer:
        ranker = self.params.ranker
        reading, keep, asked, follow_up = self.follow_up(query, turns, k, sources, measured=ranker is not None)
        answer = self.answerer.answer(asked, k, sources, vector=reading.vector, lexical=reading.lexical,
                                      weights=reading.weights, keep=keep, pool=self.params.quote_from,
                                      follow_up=follow_up, ranker=ranker, ranking=reading.ranking)
        said = reading.said.text if reading.said else None
        return replace(answer, question=query.text,
                       read_as=wording.read_as(query.text, [t.query.text for t in turns], said), context_used=True)

    def _bears_on(self, query: Query, quoted: Callable[[], frozenset[str]] = frozenset,
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
        content, known = self.own_terms(query)
        asked = [t for t in content if t not in asked_before] or content  # what the conversation did not ask
        own = set(self.answerer.lexicon.term_ids(asked))
        spelled = wording.acronyms(query.text) if self.params.spell_out else []
        if asked and not own and not spelled:
            return lambda c: False  # its words are ones the documents never use ("How tall is he?")
        kind = answer_type.question_type(query.text) if not own else None
        if not own and not spelled and kind is None:
            return None
        leans = quoted() if wording.leans_on_source(len(content), len(known), self.params) else frozenset()

        def bears_on(c) -> bool:
            return (c.source in leans or bool(own.intersection(c.terms))
                    or any(wording.spells_out(a, c.text) for a in spelled) or answer_type.offers(kind, c.text))
        return bears_on
