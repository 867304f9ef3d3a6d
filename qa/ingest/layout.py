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
TERMINAL_RE = re.compile(r"""[.!?:;…。！？؟：；]["'”’)\]」』]*(?:\[\d+\])*\s*$""")
# A sentence's end: terminal punctuation, then closing quotes or footnote markers. (TERMINAL_RE
# also takes ":" and ";", which end a line of prose but not a quotable sentence.)
SENTENCE_END_RE = re.compile(r"""[.!?…。！？؟]["'”’)\]」』]*(?:\[\d+\])*\s*$""")
NEWLINE_RE = re.compile(r"\r\n|\r|\n")
# Ideographs and kana count one word each: those scripts put no spaces between words.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD_RE = re.compile(rf"[{CJK}]|(?:(?![{CJK}])\w)+(?:[’'\-.](?:(?![{CJK}])\w)+)*", re.UNICODE)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# A line that is only a date or a time stamp: a dateline, a teaser's date, "5 hours ago".
DATE_LINE_RE = re.compile(
    rf"""^\s*(?:(?:updated|published|posted)[:\s]+)?(?:
        \d{{1,2}}[./\s-]+{_MONTH}\.?[./\s-]+\d{{2,4}}          # 09.Jan.2026, 14 Jan 2026
      | {_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}    # January 5, 2026
      | \d{{4}}-\d{{2}}-\d{{2}}                                 # 2026-01-09
      | \d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}                     # 09/01/2026
      | \d+\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago # 5 hours ago
      | (?:yesterday|today)(?:,?\s*\d{{1,2}}:\d{{2}})?         # Yesterday, 14:05
    )(?:\s*[,|]?\s*\d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{{2,4}})?)?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
URL_LINE_RE = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)
META_LINE_RE = re.compile(
    r"^\s*(?:publication|publisher|published(?: on)?|updated|posted|author|by|date|source)\s*:", re.IGNORECASE
)
# A date anywhere in a line, and the words that go with time stamps ("Published ... | Updated ... at 7:15 a.m.").
DATE_ANY_RE = re.compile(
    rf"""\b(?:\d{{1,2}}[./\s-]+{_MONTH}\.?(?:[./\s-]+\d{{2,4}})?|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?
      |\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}|\d+\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago
      |\d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\.?)?)\b\.?""",
    re.IGNORECASE | re.VERBOSE,
)
STAMP_WORDS_RE = re.compile(
    r"\b(?:published|updated|posted|last|modified|reviewed|edited|at|on|am|pm|a\.m|p\.m|utc|gmt|[ecmp][sd]t|cet|cest|"
    rf"bst|ist|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun|{_MONTH}|\d+)\b\.?",
    re.IGNORECASE,
)
# "By Jane Doe", "By Jane Doe, Staff Writer | March 3, 2025", "Von Anna Becker".
BYLINE_RE = re.compile(r"^\s*(?:[Bb]y|BY|[Vv]on|[Pp]or|[Pp]ar|[Dd]i)\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}"
                       r"(?:\s*(?:,|and|&|\||–|—|-|·)\s*.*|\s+(?:last\s+)?(?:updated|published|posted)\b.*)?$")
# "Photo: Jane Doe/Reuters", "Image credit: ...", "(Source: ...)".
CREDIT_RE = re.compile(
    r"^\s*\(?\s*(?:photo|photograph|image|picture|video|credit|illustration|graphic|foto|bild|imagen|"
    r"source)s?(?:\s+(?:by|credit|courtesy|via))?\s*[:/©(]", re.IGNORECASE)
# Parts of a row of labels: split by |, bullets, breadcrumb arrows or wide gaps.
LABEL_SPLIT_RE = re.compile(r"\s*[|•·›»>/]\s*|\s{2,}|\t+")


def is_date_line(text: str) -> bool:
    """A line that is only a date or time stamp, with at most the words that go with one."""
    if DATE_LINE_RE.match(text):
        return True
    if len(text) > 160 or not DATE_ANY_RE.search(text):
        return False
    rest = STAMP_WORDS_RE.sub(" ", DATE_ANY_RE.sub(" ", text))
    return not re.search(r"[^\W\d_]{2,}", rest)


def is_label_row(text: str) -> bool:
    """Three or more short labels on one line (a menu bar, a share row, breadcrumbs, a footer menu)."""
    if TERMINAL_RE.search(text) and not text.rstrip().endswith(":"):
        return False
    parts = [p for p in LABEL_SPLIT_RE.split(text.strip()) if p.strip()]
    sizes = [len(WORD_RE.findall(p)) for p in parts]
    # Two labels make a row when a separator sign joins them ("Jump to Recipe · Print Recipe").
    enough = 3 if not re.search(r"\s[|·•›»]\s", text) else 2
    return len(parts) >= enough and max(sizes) <= 6 and sum(sizes) <= 4 * len(sizes)


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
    def standalone(self) -> bool:
        """A line that is a unit by itself, never part of a paragraph: a date, a URL, a metadata field,
        a byline, a photo credit, a row of labels."""
        text = self.text
        return bool(is_date_line(text) or URL_LINE_RE.match(text) or META_LINE_RE.match(text)
                    or (len(text) < 120 and (BYLINE_RE.match(text) or CREDIT_RE.match(text) or is_label_row(text))))

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
    if prev is not None and not prev.blank and not prev.ends_sentence and not prev.is_bullet and not prev.standalone:
        return False
    if nxt is not None and not nxt.blank and nxt.starts_lower:
        return False
    return True


def joins_next(prev: Line | None, line: Line, nxt: Line, after: Line | None = None) -> bool:
    """Whether `nxt` continues the paragraph of `line` (a hard line break inside prose).

    `after` is the line after `nxt`: a short unpunctuated line with a blank line (or the end)
    after it is a heading under whatever precedes it, not the end of a paragraph.
    """
    if line.blank or nxt.blank or nxt.is_bullet or line.standalone or nxt.standalone:
        return False
    if is_heading(prev, line, nxt):
        return False
    if (after is None or after.blank) and not line.ends_sentence and is_heading(None, nxt, after):
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
        after = lines[i + 2] if i + 2 < len(lines) else None
        if nxt is None or not joins_next(prev, line, nxt, after):
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
