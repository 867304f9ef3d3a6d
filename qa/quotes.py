"""Verbatim quotes: the sentences of the retrieved passages that best answer the question.

A quote is a sentence span of a retrieved passage, with offsets into the raw
source, so `raw[start:end] == text` holds by construction. Sentences are scored
by the cosine of their embedding with the question's, plus a small bonus for
sharing the question's content words (BM25's tokens), which helps where the
question names a thing the model knows little about.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .documents import SourceInfo
from .embeddings import Embedder
from .lexical import tokenize
from .normalize import normalize
from .retrieval import Hit
from .sentences import split_sentences


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
        }


@dataclass(frozen=True)
class Candidate:
    """A scored sentence before it is numbered as a quote."""

    text: str
    source: str
    start: int
    end: int
    score: float
    passage_id: str
    vector: np.ndarray


def candidates(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    embedder: Embedder,
    *,
    min_words: int = 5,
    lexical_weight: float = 0.1,
) -> list[Candidate]:
    """Every sentence of the hits' passages, scored and sorted best first (each span once)."""
    seen: set[tuple[str, int, int]] = set()
    spans = []
    for hit in hits:
        p = hit.passage
        for s in split_sentences(p.text):
            key = (p.source, p.start + s.start, p.start + s.end)
            if s.words >= min_words and key not in seen:
                seen.add(key)
                spans.append((key, s.text, p.id))
    if not spans:
        return []
    vectors = embedder.encode([normalize(text) for _, text, _ in spans])
    cosine = vectors @ question_vector
    overlap = _term_overlap(question, [text for _, text, _ in spans])
    scores = cosine + lexical_weight * overlap
    out = [
        Candidate(text, source, start, end, float(score), pid, vectors[i])
        for i, (((source, start, end), text, pid), score) in enumerate(zip(spans, scores))
    ]
    return sorted(out, key=lambda c: -c.score)


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


def number(chosen: list[Candidate], sources: dict[str, SourceInfo]) -> list[Quote]:
    """Turn candidates into numbered quotes with their citation metadata."""
    out = []
    for n, c in enumerate(chosen, start=1):
        info = sources.get(c.source) or SourceInfo(c.source, c.source)
        out.append(Quote(n, c.text, c.source, c.start, c.end, c.score, info.title, info.publisher, info.date, info.url, c.passage_id))
    return out


def _term_overlap(question: str, texts: list[str]) -> np.ndarray:
    """Share of the question's content terms that each text contains."""
    tokens = tokenize([question, *texts])
    terms = set(tokens[0])
    if not terms:
        return np.zeros(len(texts))
    return np.array([len(terms & set(t)) / len(terms) for t in tokens[1:]])
