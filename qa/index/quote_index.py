"""The quote index: every sentence of the corpus, found once at build time, with its vector and terms.

Quotes are whole sentences of retrieved passages. Everything about a sentence
that does not depend on the question is computed when the index is built: its
span in the raw document (found on the whole document by the same splitter the
passages use, so a passage that starts mid-line cannot change it), its
embedding, and its stemmed terms as ids into the BM25 vocabulary. A question
then pays for one embedding and a few dot products.

On disk (a folder `quotes/` of the build):
    spans/          every sentence's source, offsets and text, in corpus order (`spans.SpanTable`)
    vectors.npy     float32 unit vectors, one row per sentence (memory-mapped on open)
    quotable.npy    bool, whether the sentence may be quoted (complete, long enough)
    term_ptr.npy    int64 CSR row pointers into term_ids.npy
    term_ids.npy    int32 BM25 vocabulary ids of each sentence's distinct terms
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..ingest.layout import SENTENCE_END_RE
from ..ingest.sentences import Sentence
from .spans import SpanTable
from .rows import save

MIN_QUOTE_WORDS = 5


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence of a source document; `text` is `raw[start:end]`."""

    source: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


def is_quotable(sentence: Sentence) -> bool:
    """Only complete sentences of some length are quoted: headlines, captions and labels, which end
    without terminal punctuation, and fragments are not."""
    return sentence.words >= MIN_QUOTE_WORDS and bool(SENTENCE_END_RE.search(sentence.text))


class QuoteIndex:
    """Sentence spans, vectors and term ids, addressed by a global sentence number."""

    def __init__(self, spans: Sequence[SentenceSpan], vectors: np.ndarray, quotable: np.ndarray,
                 term_ptr: np.ndarray, term_ids: np.ndarray) -> None:
        n = len(spans)
        if not (len(vectors) == len(quotable) == n and len(term_ptr) == n + 1):
            raise ValueError(f"quote index parts disagree: {n} spans, {len(vectors)} vectors, "
                             f"{len(quotable)} flags, {len(term_ptr) - 1} term rows")
        self.spans = spans
        self.vectors = vectors
        self.quotable = quotable
        self.term_ptr = term_ptr
        self.term_ids = term_ids

    def __len__(self) -> int:
        return len(self.spans)

    @classmethod
    def build(cls, spans: list[SentenceSpan], vectors: np.ndarray, quotable: list[bool],
              terms: list[list[int]]) -> "QuoteIndex":
        """Assemble from per-sentence parts; `terms` are BM25 vocabulary ids (duplicates dropped here)."""
        rows = [np.unique(np.asarray(t, dtype=np.int32)) for t in terms]
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(r) for r in rows]) if rows else []
        ids = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        return cls(spans, np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(spans), dim),
                   np.asarray(quotable, dtype=bool), ptr, ids)

    def terms(self, i: int) -> np.ndarray:
        """The distinct BM25 vocabulary ids of sentence `i`."""
        return self.term_ids[self.term_ptr[i] : self.term_ptr[i + 1]]

    def save(self, folder: Path) -> None:
        folder.mkdir()
        if isinstance(self.spans, SpanTable):
            self.spans.save(folder / "spans")
        else:
            SpanTable.write(folder / "spans", self.spans)
        save(folder / "vectors.npy", self.vectors)
        for name, array in (("quotable", self.quotable), ("term_ptr", self.term_ptr), ("term_ids", self.term_ids)):
            np.save(folder / f"{name}.npy", array, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "QuoteIndex":
        spans = SpanTable.open(folder / "spans", SentenceSpan)
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                  for name in ("vectors", "quotable", "term_ptr", "term_ids")}
        return cls(spans, **arrays)
