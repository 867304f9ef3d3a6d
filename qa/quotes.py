"""Verbatim quotes: the sentences of the retrieved passages that best answer the question.

A quote is a complete sentence of a retrieved passage, with offsets into the
raw source, so `raw[start:end] == text` holds by construction. A sentence's
*relevance* is the cosine of its embedding with the question's plus the
IDF-weighted share of the question's terms it contains (so rare names count
more than common words); relevance is comparable across questions and is what
abstention thresholds. Quotes are *ranked* by relevance plus the hybrid score
of the passage they come from. The weights were measured on the gold set
(README, "Answer settings").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .documents import SourceInfo
from .embeddings import Embedder
from .lexical import BM25Index, tokenize
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


@dataclass(frozen=True, eq=False)
class Candidate:
    """A scored sentence before it is numbered as a quote.

    Compared by identity (`eq=False`): it holds a NumPy vector, whose `==` has no single truth value.
    """

    text: str
    source: str
    start: int
    end: int
    score: float
    relevance: float
    passage_id: str
    vector: np.ndarray


# A sentence ends with terminal punctuation (then closing quotes or footnote
# markers); headlines, captions and labels do not, and are never quoted.
COMPLETE_RE = re.compile(r"""[.!?…]["'”’)\]]*(?:\[\d+\])*$""")


def candidates(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    embedder: Embedder,
    bm25: BM25Index,
    *,
    min_words: int = 5,
    lexical_weight: float = 0.3,
    passage_weight: float = 0.5,
) -> list[Candidate]:
    """Every complete sentence of the hits' passages, scored, best first (each span once)."""
    seen: set[tuple[str, int, int]] = set()
    spans = []
    for hit in hits:
        p = hit.passage
        for s in split_sentences(p.text):
            key = (p.source, p.start + s.start, p.start + s.end)
            if s.words >= min_words and COMPLETE_RE.search(s.text) and key not in seen:
                seen.add(key)
                spans.append((key, s.text, hit))
    if not spans:
        return []
    texts = [text for _, text, _ in spans]
    vectors = embedder.encode([normalize(t) for t in texts])
    relevance = vectors @ question_vector + lexical_weight * term_overlap(question, texts, bm25)
    out = [
        Candidate(text, source, start, end, float(rel + passage_weight * hit.score), float(rel), hit.passage.id, vectors[i])
        for i, (((source, start, end), text, hit), rel) in enumerate(zip(spans, relevance))
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


def term_overlap(question: str, texts: list[str], bm25: BM25Index) -> np.ndarray:
    """IDF-weighted share of the question's terms that each text contains (0 to 1)."""
    tokens = tokenize([question, *texts])
    idf = bm25.idf(set(tokens[0]))
    total = sum(idf.values())
    if total <= 0:
        return np.zeros(len(texts))
    return np.array([sum(w for t, w in idf.items() if t in set(toks)) / total for toks in tokens[1:]])
