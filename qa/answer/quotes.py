"""Verbatim quotes: the sentences of the retrieved passages that best answer the question.

A quote is a sentence of the quote index (found once, at build time, on the
whole document), so `raw[start:end] == text` holds by construction and nothing
is split or embedded per question. A sentence's *relevance* is the cosine of
its stored embedding with the question's plus the IDF-weighted share of the
question's terms it contains (so rare names count more than common words);
relevance is comparable across questions and is what abstention thresholds.
Each model's cosines sit higher or lower by the languages of the question and
the sentence (multilingual-e5's Chinese pairs run high, its pairs across
languages low), so the model's measured offset for the pair is taken off the
cosine (`AnswerParams.offset`): the thresholds then hold for every pair.
Quotes are *ranked* by relevance plus the hybrid score of the passage they
come from (a follow-up ranks them with a question that leans less on the
conversation than the one it was searched with: `ranking`). The weights were
measured on the gold set (docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable

import numpy as np

from . import answer_type
from ..ingest.documents import SourceInfo
from ..retrieval import Hit
from ..settings import AnswerParams
from ..store import Store


@dataclass(frozen=True)
class Quote:
    """A sentence quoted from a source, with everything a citation needs."""

    n: int
    text: str
    source: str
    start: int
    end: int
    score: float
    title: str
    publisher: str | None
    date: str | None
    url: str | None
    passage_id: str
    sentence: int = -1  # its number in the quote index (not part of the JSON: it changes with every build)
    source_sha256: str = ""
    why: dict = field(default_factory=dict, compare=False)
    format: str = "text"  # the source's format (`ingest.formats`)
    language: str = ""  # the source's language (ISO 639-1; "" when too short to tell)
    location: dict = field(default_factory=dict, compare=False)  # where it is in the original: page and boxes, ...

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "text": self.text,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 6),
            "title": self.title,
            "url": self.url,
            "publisher": self.publisher,
            "date": self.date,
            "passage_id": self.passage_id,
            "source_sha256": self.source_sha256,
            "format": self.format,
            "language": self.language,
            **self.location,
            "why": self.why,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Quote":
        """A quote from its JSON form (`to_dict`): the location's fields gathered back into `location`."""
        own = {f.name for f in fields(cls)} - {"location"}
        return cls(**{k: v for k, v in data.items() if k in own},
                   location={k: v for k, v in data.items() if k not in own})


@dataclass(frozen=True, eq=False)
class Candidate:
    """A scored sentence before it is numbered as a quote.

    Compared by identity (`eq=False`): it holds a NumPy vector, whose `==` has no single truth value.

    Attributes:
        score: what quotes are ranked by: relevance (or, with a separate ranking question, its
            similarity and term overlap) plus the weighted passage score and bonuses.
        relevance: what abstention is decided on: similarity (with `AnswerParams.passage_share` of it
            the passage's cosine), less the language offset, plus the weighted term overlap.
        similarity, overlap: the parts of relevance (cosine; weighted share of question terms).
        offset: how far the model's cosines sit above its English ones for the question's language
            and the sentence's (`AnswerParams.offset`; 0 for English, and for a model with none).
        ranked_similarity, ranked_overlap: the same for the question it is ranked with, which are
            `similarity` and `overlap` unless a separate ranking question was given.
        sentence: the sentence's number in the quote index.
        passage_similarity: the question's cosine with the sentence's passage (computed only when
            `AnswerParams.passage_share` gives it a part in relevance; 0 otherwise).
    """

    text: str
    source: str
    start: int
    end: int
    score: float
    relevance: float
    passage_id: str
    vector: np.ndarray
    similarity: float = 0.0
    overlap: float = 0.0
    sentence: int = -1
    passage_score: float = 0.0
    type_match: bool = False
    terms: tuple[int, ...] = ()  # its distinct BM25 vocabulary ids
    ranked_similarity: float = 0.0
    ranked_overlap: float = 0.0
    offset: float = 0.0
    passage_similarity: float = 0.0


def candidates(
    question_vector: np.ndarray,
    question_weights: dict[int, float],
    hits: list[Hit],
    index: Store,
    params: AnswerParams,
    *,
    kind: str | None = None,
    ranking: tuple[np.ndarray, dict[int, float]] | None = None,
    foreign: Callable[[str], bool] | None = None,
    offset: Callable[[str], float] | None = None,
) -> list[Candidate]:
    """Every quotable sentence of the hits' passages, scored, best first (each sentence once).

    Args:
        question_vector: the question's unit embedding.
        question_weights: the question's BM25 vocabulary ids and their IDF.
        hits: retrieved passages, best first; a sentence in several takes the best one's score.
        index: the store the passages and their sentences come from.
        params: the weights: `lexical_weight` (term overlap in relevance), `passage_share` (the
            passage's cosine in relevance, as a share of the similarity), `passage_weight` (the
            passage's score in the ranking), `type_weight` (added to the ranking score of a sentence
            that offers the kind of answer asked for) and `overlap_bonus` (term overlap in the ranking
            beyond its weight in relevance). The last two do not change relevance, so neither turns
            an abstention into an answer.
        kind: the kind of answer the question asks for (`answer_type.question_type`).
        ranking: another unit vector and term weights to rank by instead of the question's (a
            follow-up is searched with the conversation, then ranks its sentences with less of it);
            relevance, and so abstention, stays the question's.
        foreign: whether a source is in another language than the question's: when a sentence of one is
            a candidate, no sentence gets term overlap (it could favour only those in the question's language).
        offset: per source, the language offset taken off its sentences' cosines (None: none). It
            shifts every sentence of one language alike, so it reorders only sentences of different
            languages.
    """
    lexical_weight, passage_weight = params.lexical_weight, params.passage_weight
    type_weight, overlap_bonus = params.type_weight, params.overlap_bonus
    chosen: dict[int, Hit] = {}
    for hit in hits:
        for i in range(hit.passage.sentence_start, hit.passage.sentence_stop):
            chosen.setdefault(i, hit)
    if not chosen:
        return []
    rows = index.sentences(np.fromiter(chosen, dtype=np.int64, count=len(chosen)))
    keep = np.flatnonzero(rows.quotable)
    if not len(keep):
        return []
    vectors = rows.vectors[keep]
    terms = [rows.terms[r] for r in keep]
    similarity = vectors @ question_vector
    # Sentences in the question's language and in others compete: term overlap, which only the former
    # can have, would rank them above better ones in another language, so none of them gets it.
    across = foreign is not None and any(foreign(rows.spans[r].source) for r in keep)
    overlap = np.zeros(len(keep)) if across else term_overlap(terms, question_weights)
    base = np.zeros(len(keep)) if offset is None else np.array([offset(rows.spans[r].source) for r in keep])
    share = params.passage_share
    passage_similarity = (_passage_cosines([chosen[int(rows.ids[r])] for r in keep], index, question_vector)
                          if share else np.zeros(len(keep)))  # a store read per answer only where it counts
    relevance = (1 - share) * similarity + share * passage_similarity - base + lexical_weight * overlap
    if ranking is None:
        ranked_similarity, ranked_overlap = similarity, overlap
    else:
        ranked_similarity = vectors @ ranking[0]
        ranked_overlap = np.zeros(len(keep)) if across else term_overlap(terms, ranking[1])
    ranked_relevance = ranked_similarity - base + lexical_weight * ranked_overlap
    out = []
    for row, r in enumerate(keep):
        i, span = int(rows.ids[r]), rows.spans[r]
        hit = chosen[i]
        match = answer_type.offers(kind, span.text)
        score = (ranked_relevance[row] + passage_weight * hit.score + type_weight * match
                 + overlap_bonus * ranked_overlap[row])
        out.append(Candidate(span.text, span.source, span.start, span.end, float(score), float(relevance[row]),
                             hit.passage.id, vectors[row], float(similarity[row]), float(overlap[row]), i,
                             float(hit.score), match, tuple(int(t) for t in rows.terms[r]),
                             float(ranked_similarity[row]), float(ranked_overlap[row]), float(base[row]),
                             float(passage_similarity[row])))
    return sorted(out, key=lambda c: -c.score)


def _passage_cosines(hits: list[Hit], store: Store, question_vector: np.ndarray) -> np.ndarray:
    """The question's cosine with each hit's passage (by the passage's vector in the store)."""
    rows = np.array([h.row for h in hits], dtype=np.int64)
    distinct, at = np.unique(rows, return_inverse=True)
    return (store.passage_vectors(distinct) @ question_vector)[at]


def term_overlap(terms: list[np.ndarray], weights: dict[int, float]) -> np.ndarray:
    """Per sentence (its distinct vocabulary ids): the weighted share of the question's terms it contains (0 to 1)."""
    total = sum(weights.values())
    if total <= 0:
        return np.zeros(len(terms))
    return np.array([sum(weights.get(int(t), 0.0) for t in row) / total for row in terms])


def select(
    ranked: list[Candidate],
    *,
    max_quotes: int = 4,
    per_source: int = 2,
    margin: float = 0.15,
) -> list[Candidate]:
    """The best candidates: within `margin` of the best score, at most `per_source` per document."""
    if not ranked:
        return []
    floor = ranked[0].score - margin
    chosen: list[Candidate] = []
    count: dict[str, int] = {}
    for c in ranked:
        if c.score < floor or len(chosen) >= max_quotes:
            break
        if count.get(c.source, 0) < per_source:
            chosen.append(c)
            count[c.source] = count.get(c.source, 0) + 1
    return chosen


def number(chosen: list[Candidate], sources: dict[str, SourceInfo], whys: list[dict] | None = None) -> list[Quote]:
    """Turn candidates into numbered quotes with their citation metadata (and why each was chosen)."""
    out = []
    for n, c in enumerate(chosen, start=1):
        info = sources.get(c.source) or SourceInfo(c.source, c.source)
        out.append(Quote(n, c.text, c.source, c.start, c.end, c.score, info.title, info.publisher, info.date, info.url,
                         c.passage_id, c.sentence, info.sha256, whys[n - 1] if whys else {}, info.format,
                         info.language, _derivation(info, c.start, c.end)))
    return out


def _derivation(info: SourceInfo, start: int, end: int) -> dict:
    """For a quote of a derived text: what derived it, the text's hash, and a PDF quote's page, as the
    build recorded them (the engine adds the rest of its location)."""
    if info.format == "text":
        return {}
    out = {"extractor": info.extractor, "derived_sha256": info.derived_sha256}
    if info.format == "pdf":
        out["page"], out["page_label"] = info.page_of(start, end)
    return out


def why(c: Candidate, hit, params: AnswerParams, *, kind: str | None, reason: str) -> dict:
    """Why a sentence was quoted: what found its passage, and the parts of its score.

    Args:
        hit: the retrieved passage the sentence was scored in.
        reason: "relevance" (among the best), or "disagreement" (the other side of a conflict).
    """
    return {
        "chosen_for": reason,
        "passage": {"id": c.passage_id, "ranks": dict(hit.ranks) if hit is not None else {},
                    "hybrid_score": round(c.passage_score, 6)},
        "similarity": round(c.similarity, 6),
        "passage_similarity": round(c.passage_similarity, 6) if params.passage_share else None,
        "passage_share": params.passage_share,
        "language_offset": round(c.offset, 6),
        "term_overlap": round(c.overlap, 6),
        "relevance": round(c.relevance, 6),
        "score": {
            "total": round(c.score, 6),
            "similarity": round(c.ranked_similarity, 6),
            "language_offset": round(-c.offset, 6),
            "term_overlap": round((params.lexical_weight + params.overlap_bonus) * c.ranked_overlap, 6),
            "passage": round(params.passage_weight * c.passage_score, 6),
            "question_type": round(params.type_weight * c.type_match, 6),
        },
        "question_type": kind,
        "type_match": c.type_match if kind else None,
    }
