"""Passages: runs of whole sentences, with overlap, that never touch excluded text.

A passage is a contiguous span of the raw text, so `raw[start:end] == text`
holds for it as for the quotes taken from it. Passages are cut inside the
content segments left between exclusions, so clutter can never be retrieved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .clutter import Exclusion
from .documents import Document
from ..text import normalize
from .sentences import Sentence, split_sentences


# For sizing, a sentence counts at least one word per this many characters, so a run of unbroken
# tokens (URLs, one long "word") cannot make a passage grow without bound; prose averages about 6.
# With sentences cut at 1,000 characters, no passage is longer than about 1,800.
CHARS_PER_WORD = 12


@dataclass(frozen=True)
class Passage:
    """A retrievable unit of a document.

    Attributes:
        id: stable id `source:start-end`.
        source: document path relative to the sources folder.
        start, end: character offsets into the raw document text.
        text: `raw[start:end]`, verbatim.
        sentence_start, sentence_stop: the passage's sentences in the quote index,
            `[sentence_start, sentence_stop)` (empty for corpora indexed without sentences).
    """

    id: str
    source: str
    start: int
    end: int
    text: str
    sentence_start: int = 0
    sentence_stop: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_row(cls, *, source: str, start: int, end: int, text: str, sentence_start: int = 0,
                 sentence_stop: int = 0) -> "Passage":
        """A passage from its stored fields (the id is derived from them)."""
        return cls(f"{source}:{start}-{end}", source, start, end, text, sentence_start, sentence_stop)

    @property
    def embed_text(self) -> str:
        """What the models see: the normalised text."""
        return normalize(self.text)


def content_segments(text: str, exclusions: list[Exclusion]) -> list[tuple[int, int]]:
    """The spans of `text` between exclusions."""
    segments: list[tuple[int, int]] = []
    pos = 0
    for ex in sorted(exclusions, key=lambda e: e.start):
        if ex.start > pos:
            segments.append((pos, ex.start))
        pos = max(pos, ex.end)
    if pos < len(text):
        segments.append((pos, len(text)))
    return segments


def document_sentences(doc: Document, exclusions: list[Exclusion]) -> list[list[Sentence]]:
    """Sentences of each content segment of `doc`."""
    out = []
    for start, end in content_segments(doc.text, exclusions):
        sentences = split_sentences(doc.text, start, end)
        if sentences:
            out.append(sentences)
    return out


def split_document(
    doc: Document,
    exclusions: list[Exclusion],
    *,
    max_words: int = 80,
    overlap: int = 1,
    first_sentence: int = 0,
) -> tuple[list[Sentence], list[Passage]]:
    """Split a document once into its sentences and its passages of whole sentences.

    Args:
        doc: the document.
        exclusions: its boilerplate spans (never part of a passage or a sentence).
        max_words: a passage takes sentences until the next would pass this many
            words; a longer single sentence is a passage by itself.
        overlap: sentences repeated at the start of the next passage.
        first_sentence: the number of this document's first sentence in the corpus,
            so each passage records its sentences by their corpus numbers.

    Returns:
        The sentences and the passages, both in document order.
    """
    all_sentences: list[Sentence] = []
    passages: list[Passage] = []
    for sentences in document_sentences(doc, exclusions):
        base = first_sentence + len(all_sentences)
        for first, last in _windows([max(s.words, len(s.text) // CHARS_PER_WORD) for s in sentences],
                                    max_words, overlap):
            start, end = sentences[first].start, sentences[last].end
            passages.append(Passage(f"{doc.source}:{start}-{end}", doc.source, start, end, doc.text[start:end],
                                    base + first, base + last + 1))
        all_sentences.extend(sentences)
    return all_sentences, passages


def split_passages(doc: Document, exclusions: list[Exclusion], *, max_words: int = 80, overlap: int = 1) -> list[Passage]:
    """The passages of `split_document`."""
    return split_document(doc, exclusions, max_words=max_words, overlap=overlap)[1]


def _windows(lengths: list[int], max_words: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy windows over sentence lengths: (first, last) sentence index pairs, inclusive."""
    windows: list[tuple[int, int]] = []
    first = 0
    while first < len(lengths):
        last, words = first, lengths[first]
        while last + 1 < len(lengths) and words + lengths[last + 1] <= max_words:
            last += 1
            words += lengths[last]
        windows.append((first, last))
        if last + 1 >= len(lengths):
            break
        nxt = last + 1
        first = max(first + 1, nxt - overlap)
        # Overlap only as far as it leaves room for the next new sentence.
        while first < nxt and sum(lengths[first : nxt + 1]) > max_words:
            first += 1
    return windows
