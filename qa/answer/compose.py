"""The `Answer`: quotes with citations, the passages they came from, or an abstention.

This is the one type every surface adapts: `to_dict()` is the JSON contract of
`qa ask --json`, of the app's `ask` endpoint and of the evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InputError
from ..ingest.documents import SourceInfo
from ..retrieval import Hit
from ..settings import AnswerParams, FollowUpRanker
from ..store import Store
from . import answer_type, disagreement, quotes
from .disagreement import Disagreement
from .follow_up import FollowUp, rank_follow_up
from .quotes import Candidate, Quote

MAX_QUESTION_CHARS = 2000
ABSTAIN_TEXT = "The sources don't say."


@dataclass(frozen=True)
class Answer:
    """What the product says to a question.

    Attributes:
        question: the question as asked (stripped).
        abstained: True when the sources don't answer it; `quotes` is then empty.
        answer: the reply as plain text, with citation numbers.
        quotes: verbatim sentences, most relevant first, numbered from 1.
        passages: the retrieved passages, best first.
        disagreements: facts on which quoted sources differ.
        relevance: the best sentence relevance, which the abstention threshold is compared with.
        read_as: how the question was read when the conversation was used (None when it stood alone).
        context_used: whether earlier questions of the conversation were used.
        index_build: the build of the index that answered (None for an index held only in memory).
        model: the embedding model of that index.
    """

    question: str
    abstained: bool
    answer: str
    quotes: tuple[Quote, ...] = ()
    passages: tuple[Hit, ...] = ()
    disagreements: tuple[Disagreement, ...] = ()
    relevance: float = 0.0
    read_as: str | None = None
    context_used: bool = False
    index_build: str | None = None
    model: str | None = None

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "abstained": self.abstained,
            "answer": self.answer,
            "quotes": [q.to_dict() for q in self.quotes],
            "passages": [h.to_dict() for h in self.passages],
            "disagreements": [d.to_dict() for d in self.disagreements],
            "relevance": round(self.relevance, 6),
            "read_as": self.read_as,
            "context_used": self.context_used,
            "index_build": self.index_build,
            "model": self.model,
        }


MAX_HISTORY = 20


def check_history(history: object) -> list[str]:
    """Earlier questions of a conversation, oldest first, each a valid question."""
    if history is None:
        return []
    if isinstance(history, str) or not isinstance(history, (list, tuple)):
        raise InputError("history must be a list of earlier questions, oldest first")
    if len(history) > MAX_HISTORY:
        history = list(history)[-MAX_HISTORY:]
    out = []
    for n, q in enumerate(history, start=1):
        try:
            out.append(check_question(q))
        except InputError as exc:
            raise InputError(f"earlier question {n}: {exc}") from exc
    return out


def check_question(question: object) -> str:
    """The question stripped, or an `InputError` that says what is wrong with it."""
    if not isinstance(question, str):
        raise InputError(f"the question must be text, not {type(question).__name__}")
    text = question.strip()
    if not text:
        raise InputError("the question is empty; type a question")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    return text


def compose(
    question: str,
    question_vector: np.ndarray,
    question_weights: dict[int, float],
    hits: list[Hit],
    store: Store,
    sources: dict[str, SourceInfo],
    params: AnswerParams = AnswerParams(),
    *,
    k: int | None = None,
    keep: Callable[[Candidate], bool] | None = None,
    follow_up: FollowUp | None = None,
    ranker: FollowUpRanker | None = None,
    ranking: tuple[np.ndarray, dict[int, float]] | None = None,
    language: str = "",
) -> Answer:
    """Choose quotes from the hits, detect disagreements, or abstain.

    Args:
        question_vector: the question's unit embedding (the only one an answer needs).
        question_weights: the question's BM25 vocabulary ids and their IDF.
        hits: retrieved passages, best first; quotes come from all of them.
        store: the store the passages come from, which holds their sentences' vectors and terms.
        k: how many passages the answer lists (default: all); a passage beyond
            `k` that a quote comes from is listed as well.
        keep: only sentences it accepts may be quoted (a follow-up read with the conversation
            quotes only sentences that bear on the follow-up itself), or, with a `ranker`, only
            they decide whether to answer (the best relevance among them).
        follow_up, ranker: a follow-up read with the conversation: its quotes are ranked by the
            fitted model (`follow_up`) among all candidates, once `keep` has let it answer.
        ranking: a unit vector and term weights to rank quotes by instead of the question's (a
            follow-up ranks with less of the conversation than it was searched with); relevance,
            and so abstention, stays the question's.
        language: the question's language: the sentences of documents in another language are scored
            without term overlap, which across languages matches only by accident (names, numbers,
            words a stemmer left alone), and each sentence's cosine loses the model's offset for the
            two languages (`AnswerParams.offset`).
    """
    shown = hits[:k] if k else hits
    kind = answer_type.question_type(question)

    def language_of(source: str) -> str:
        """A source's language ("": unknown), looked up per candidate only."""
        info = sources.get(source)
        return info.language if info is not None else ""

    def foreign(source: str) -> bool:
        """Whether a source is in another language than the question's."""
        return bool(language) and language_of(source) not in ("", language)

    def offset(source: str) -> float:
        """The model's offset for the question's language and the source's."""
        return params.offset(language, language_of(source))

    ranked = _candidates(kind, question_vector, question_weights, hits, store, params, ranking, foreign,
                         offset if params.language_offsets else None)
    bearing = ranked if keep is None else [c for c in ranked if keep(c)]
    relevance = max((c.relevance for c in bearing), default=0.0)

    def passes(c: Candidate) -> bool:
        return c.relevance >= params.threshold(foreign(c.source))

    if not any(passes(c) for c in bearing):
        closest = max(bearing, key=lambda c: c.relevance, default=None)
        needed = params.threshold(closest is not None and foreign(closest.source))
        return Answer(question, True, _abstention(hits, relevance, needed), (), tuple(shown), (), relevance)
    modelled = follow_up is not None and ranker is not None
    rows: dict[tuple[str, int], np.ndarray] = {}  # a modelled sentence's features, for its `why`
    if modelled:
        scored = rank_follow_up(ranked, follow_up, ranker)
        ranked, rows = [c for c, _ in scored], {(c.source, c.start): row for c, row in scored}
    else:
        ranked = bearing
    margin = ranker.margin if modelled else params.margin
    chosen = quotes.select(ranked, max_quotes=params.max_quotes, per_source=params.per_source, margin=margin)
    pool = [c for c in ranked[: params.disagreement_pool] if passes(c) and c not in chosen]
    best = len(chosen)
    chosen += _conflicting(chosen, pool, params)
    by_id = {h.passage.id: h for h in hits}
    whys = [quotes.why(c, by_id.get(c.passage_id), params, kind=kind,
                       reason="relevance" if i < best else "disagreement")
            for i, c in enumerate(chosen)]
    if modelled:
        for w, c in zip(whys, chosen):
            w["score"], w["ranked_by"] = ranker.parts(rows[c.source, c.start]), "follow-up model"
    elif ranking is not None:
        for w in whys:
            w["ranked_by"] = "follow-up question"
    numbered = quotes.number(chosen, sources, whys)
    found = disagreement.find(
        [q.text for q in numbered],
        [q.source for q in numbered],
        np.stack([c.vector for c in chosen]),
        [q.n for q in numbered],
        similarity=params.disagreement_similarity,
    )
    quoted = {q.passage_id for q in numbered}
    listed = [h for h in hits if h in shown or h.passage.id in quoted]
    return Answer(question, False, render(numbered, found), tuple(numbered), tuple(listed), tuple(found), relevance)


def candidates(question: str, question_vector: np.ndarray, question_weights: dict[int, float], hits: list[Hit],
               store: Store, params: AnswerParams = AnswerParams(), *,
               ranking: tuple[np.ndarray, dict[int, float]] | None = None) -> list[Candidate]:
    """Every quotable sentence of the hits, scored for the question with the answer settings, best first
    (`ranking`: as in `compose`)."""
    return _candidates(answer_type.question_type(question), question_vector, question_weights, hits, store, params,
                       ranking)


def _candidates(kind: str | None, question_vector: np.ndarray, question_weights: dict[int, float], hits: list[Hit],
                store: Store, params: AnswerParams, ranking=None, foreign: Callable[[str], bool] | None = None,
                offset: Callable[[str], float] | None = None) -> list[Candidate]:
    """`candidates`, for a question whose kind of answer (`answer_type.question_type`) is known."""
    return quotes.candidates(question_vector, question_weights, hits, store, params, kind=kind, ranking=ranking,
                             foreign=foreign, offset=offset)


def _conflicting(chosen: list[Candidate], pool: list[Candidate], params: AnswerParams, limit: int = 2) -> list[Candidate]:
    """Relevant candidates left out that contradict a chosen quote or each other: both sides must be shown."""
    extra: list[Candidate] = []
    for i, c in enumerate(pool):
        if len(extra) >= limit:
            break
        for q in [*chosen, *pool[:i]]:
            pair = [q, c]
            if disagreement.find([x.text for x in pair], [x.source for x in pair], np.stack([x.vector for x in pair]),
                                 [0, 1], similarity=params.disagreement_similarity):
                extra += [x for x in pair if x not in chosen and x not in extra]
                break
    return extra


def citation(q: Quote) -> str:
    """`Title (Publisher, date) — file:start-end`, and a PDF quote's page (with its label where the PDF has one)."""
    details = ", ".join(x for x in (q.publisher, q.date) if x)
    page, label = q.location.get("page"), q.location.get("page_label")
    where = "" if page is None else f" (page {page}{f', labelled {label}' if label and label != str(page) else ''})"
    return f"{q.title}{f' ({details})' if details else ''} — {q.source}:{q.start}-{q.end}{where}"


def render(numbered: list[Quote], found: list[Disagreement]) -> str:
    """The reply as plain text: each quote with its number and citation, then any disagreement."""
    lines = [f"[{q.n}] “{' '.join(q.text.split())}” — {citation(q)}" for q in numbered]
    lines += [d.describe() for d in found]
    return "\n".join(lines)


def _abstention(hits: list[Hit], relevance: float, needed: float) -> str:
    if not hits:
        return f"{ABSTAIN_TEXT} No passage matches the question."
    return (f"{ABSTAIN_TEXT} The closest sentence has relevance {relevance:.2f}, below the "
            f"{needed:.2f} needed to quote it.")
