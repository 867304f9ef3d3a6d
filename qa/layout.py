"""The physical layout of a raw source text: lines and the blocks they form.

Web articles saved as text come with hard line breaks inside paragraphs,
bullet lists, headings and blank lines. Everything here works on offsets into
the raw text and never changes it, so that any span found later can be quoted
verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BULLET_RE = re.compile(r"[ \t]*(?:[•▪◦·●\-*–—]|\d{1,2}[.)])[ \t]+")
TERMINAL_RE = re.compile(r"""[.!?:;…]["'”’)\]]*(?:\[\d+\])*\s*$""")
NEWLINE_RE = re.compile(r"\r\n|\r|\n")
WORD_RE = re.compile(r"\w+(?:[’'\-.]\w+)*", re.UNICODE)


@dataclass(frozen=True)
class Line:
    """One line of the raw text, without its line terminator.

    Attributes:
        start: offset of the first character.
        end: offset just past the last character (before any `\\r` or `\\n`).
        text: `raw[start:end]`.
    """

    start: int
    end: int
    text: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()

    @property
    def words(self) -> int:
        return len(WORD_RE.findall(self.text))

    @property
    def ends_sentence(self) -> bool:
        return bool(TERMINAL_RE.search(self.text))

    @property
    def is_bullet(self) -> bool:
        return bool(BULLET_RE.match(self.text)) and len(self.text.strip()) > 2

    @property
    def starts_lower(self) -> bool:
        stripped = self.text.lstrip()
        return bool(stripped) and stripped[0].islower()


def split_lines(text: str, start: int = 0, end: int | None = None) -> list[Line]:
    """Split `text[start:end]` into lines, keeping absolute offsets.

    `\\n`, `\\r\\n` and lone `\\r` all end a line; the terminators are not part of a line.
    """
    end = len(text) if end is None else end
    out: list[Line] = []
    pos = start
    if pos == 0 and text.startswith("\ufeff"):
        pos = 1  # a byte-order mark is not text: no line, title or quote starts with it
    for m in NEWLINE_RE.finditer(text, start, end):
        out.append(Line(pos, m.start(), text[pos : m.start()]))
        pos = m.end()
    if pos < end:
        out.append(Line(pos, end, text[pos:end]))
    return out


def is_heading(prev: Line | None, line: Line, nxt: Line | None, *, max_words: int = 10) -> bool:
    """A short line that stands alone: a heading, caption label or menu entry.

    Hard-wrapped prose also has short lines; those continue a sentence that the
    previous line left open, or are continued by a line that starts in lower case.
    """
    if line.blank or line.words > max_words or line.ends_sentence:
        return False
    if prev is not None and not prev.blank and not prev.ends_sentence and not prev.is_bullet:
        return False
    if nxt is not None and not nxt.blank and nxt.starts_lower:
        return False
    return True


def joins_next(prev: Line | None, line: Line, nxt: Line) -> bool:
    """Whether `nxt` continues the paragraph of `line` (a hard line break inside prose)."""
    if line.blank or nxt.blank or nxt.is_bullet:
        return False
    if is_heading(prev, line, nxt):
        return False
    if nxt.starts_lower:
        return True
    return not line.ends_sentence


@dataclass(frozen=True)
class Block:
    """A paragraph, bullet item or heading: consecutive lines that belong together."""

    start: int
    end: int
    lines: tuple[Line, ...]


def split_blocks(text: str, start: int = 0, end: int | None = None) -> list[Block]:
    """Group the lines of `text[start:end]` into blocks (paragraphs, bullets, headings)."""
    lines = split_lines(text, start, end)
    blocks: list[Block] = []
    current: list[Line] = []
    for i, line in enumerate(lines):
        if line.blank:
            if current:
                blocks.append(_block(current))
                current = []
            continue
        current.append(line)
        prev = lines[i - 1] if i > 0 else None
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is None or not joins_next(prev, line, nxt):
            blocks.append(_block(current))
            current = []
    if current:
        blocks.append(_block(current))
    return blocks


def _block(lines: list[Line]) -> Block:
    first, last = lines[0], lines[-1]
    lead = len(first.text) - len(first.text.lstrip())
    trail = len(last.text) - len(last.text.rstrip())
    return Block(first.start + lead, last.end - trail, tuple(lines))
