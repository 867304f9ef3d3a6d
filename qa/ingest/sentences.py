"""Sentence spans in raw text, for passages and for verbatim quotes.

Sentences never cross a block boundary (blank line, bullet, heading), but do
cross the hard line breaks inside a paragraph. A sentence span starts after
any bullet marker and keeps trailing footnote markers (`ties.[32]`), so
`raw[start:end]` is exactly what the reader sees in the source.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .layout import BULLET_RE, WORD_RE, split_blocks

# Words that end with a period without ending a sentence.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen lt col maj capt sgt adm brig cmdr gov sen rep pres st jr sr
    vs etc al e.g i.e cf approx dept est fig no nos vol vols pp ed eds inc ltd co corp
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    u.s u.k u.n e.u u.s.a d.c a.m p.m
    """.split()
)

# Terminal punctuation, closing quotes/brackets, footnote markers; then the gap. Chinese and
# Japanese full stops end a sentence with no gap after them.
BOUNDARY_RE = re.compile(r"""[.!?…؟]+["'”’)\]]*(?:\[\d+\])*(?=\s+|$)|[。！？]+["”’)」』]*""")
OPENERS = "\"'“‘(["


# A "sentence" with no boundary for this long (a file with no punctuation, one huge line) is cut,
# at white space where there is some, so no sentence or passage grows without bound.
MAX_SENTENCE_CHARS = 1000


@dataclass(frozen=True)
class Sentence:
    """A sentence as offsets into the raw text; `text` is `raw[start:end]`."""

    start: int
    end: int
    text: str

    @property
    def words(self) -> int:
        return len(WORD_RE.findall(self.text))


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Split `text[start:end]` into sentences with absolute offsets.

    Args:
        text: the raw document text (never modified).
        start: where the region starts.
        end: where it ends (default: end of text).

    Returns:
        Sentences in order; none is empty and none starts or ends with white space.
    """
    out: list[Sentence] = []
    for block in split_blocks(text, start, end):
        s = block.start
        bullet = BULLET_RE.match(text, s, block.end)
        if bullet:
            s = bullet.end()
        for b_end in _boundaries(text, s, block.end):
            if b_end > s:
                out.append(Sentence(s, b_end, text[s:b_end]))
            gap = re.compile(r"\s*").match(text, b_end, block.end)
            s = gap.end() if gap else b_end
        if s < block.end:
            out.append(Sentence(s, block.end, text[s : block.end]))
    return [piece for x in out if x.text.strip() for piece in _cap(text, x)]


def _cap(text: str, sentence: Sentence, limit: int = MAX_SENTENCE_CHARS) -> list[Sentence]:
    """A sentence longer than `limit` cut into pieces at white space (or at the limit, if none)."""
    if sentence.end - sentence.start <= limit:
        return [sentence]
    pieces, s = [], sentence.start
    while sentence.end - s > limit:
        cut = text.rfind(" ", s + limit // 2, s + limit)
        cut = cut if cut > s else s + limit
        while cut < sentence.end and unicodedata.combining(text[cut]):
            cut += 1  # never separate a combining mark from its base
        end = cut
        while end > s and text[end - 1].isspace():
            end -= 1
        pieces.append(Sentence(s, end, text[s:end]))
        s = cut
        while s < sentence.end and text[s].isspace():
            s += 1
    if s < sentence.end:
        pieces.append(Sentence(s, sentence.end, text[s : sentence.end]))
    return [p for p in pieces if p.text.strip()]


def _boundaries(text: str, start: int, end: int) -> list[int]:
    """Offsets where a sentence ends inside one block."""
    found: list[int] = []
    for m in BOUNDARY_RE.finditer(text, start, end):
        if m.end() >= end:
            break
        if not _starts_sentence(text, m.end(), end, gap_needed=text[m.start()] not in "。！？"):
            continue
        if text[m.start()] == "." and _is_abbreviation(text, start, m.start()):
            continue
        found.append(m.end())
    return found


def _starts_sentence(text: str, pos: int, end: int, *, gap_needed: bool) -> bool:
    """Whether a new sentence can start at `pos`: after white space (unless the mark needs none),
    an optional opening quote or bracket, then a character that is not a lower-case letter
    (scripts without case, digits and bullets start sentences too)."""
    i = pos
    while i < end and text[i].isspace():
        i += 1
    if gap_needed and i == pos:
        return False
    if i < end and text[i] in OPENERS:
        i += 1
    return i < end and (text[i].isalnum() or text[i] == "•") and not text[i].islower()


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    word = re.search(r"[\w.]*$", text[max(start, dot - 12) : dot])
    token = word.group(0).lower() if word else ""
    if not token:
        return False
    if token in ABBREVIATIONS:
        return True
    # Single initials ("J. Smith") and dotted acronyms ("U.S.").
    return len(token) == 1 and token.isalpha() or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", token))
