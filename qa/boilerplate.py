"""Find the clutter in a saved web page: ads, paywall prompts, link lists, menus.

Such text is never indexed, retrieved or quoted. Detection is by general rules
about how clutter looks on any news site, not by sentences of particular
files, and every exclusion carries the rule that made it so it can be
inspected (`qa build --show-excluded`, `excluded.jsonl` in the index).

The unit is the line: clutter on web pages is line-shaped (a button label, a
bullet, a teaser title, a date under it), while the prose around it is
paragraphs. Rules in order:

1. line rules: calls to action, text that addresses the reader ("you", "your")
   outside quotation marks, lines that are only a date, metadata lines
   (a bare URL, "Publication: ...");
2. link lists: teaser titles next to a date line;
3. menus: three or more short title lines in a row;
4. clutter blocks: a line between two excluded lines, or in the trailing run
   of short or sales-flavoured lines after the article, goes with them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .layout import Line, split_lines

_CTA = [
    r"\bfree trial\b",
    r"\bstart (?:your|a) (?:free )?trial\b",
    r"\bsubscri(?:be|ption|ber)s?\b",
    r"\bsign (?:up|in)\b",
    r"\blog in (?:to|now)\b",
    r"\bnewsletters?\b",
    r"\blimited[- ]time\b",
    r"\b(?:special|exclusive) offer\b",
    r"\b(?:claim|get|save|your) (?:\w+ ){0,3}discount\b",
    r"\bpromo code\b",
    r"\bclaim your\b",
    r"\bunlock (?:these|this|your|full|exclusive|premium|unlimited)\b",
    r"\bget (?:this|our|your|the|a) free\b",
    r"\bfree report\b",
    r"\bfor (?:only|just) \$",
    r"\btry \d+ (?:days?|weeks?|months?)\b",
    r"\benter your e-?mail\b",
    r"\be-?mail address below\b",
    r"\bshare (?:it|this)(?: \w+)? with\b",
    r"\bshare (?:on|via) (?:facebook|twitter|x|linkedin|whatsapp|telegram|e-?mail)\b",
    r"\blike this (?:article|story|post)\b",
    r"\b(?:click|tap) here\b",
    r"^\s*(?:read|see|learn) more\b",
    r"\bsee (?:the|our|all) (?:\w+ ){0,6}here\b",
    r"\bfollow us\b",
    r"\bjoin us on\b",
    r"^\s*(?:advertisement|advertising|sponsored(?: content)?|ad)\s*$",
    r"\bsponsored (?:content|post)\b",
    r"\bpaid (?:content|partner(?:ship)?)\b",
    r"\bwe use cookies\b",
    r"\bcookie (?:policy|settings|consent)\b",
    r"\baccept (?:all )?cookies\b",
    r"\ball rights reserved\b",
    r"©",
    r"\b(?:stocks?|shares) to buy\b",
    r"\bbuy now\b",
    r"\binvest \$",
    r"^\s*(?:latest|related|recommended|more|top|popular|trending|most read)\s+"
    r"(?:news|stories|articles|posts|videos|headlines|reads)\b",
    r"\byou may also like\b",
    r"\bdon[’']t miss\b",
]
CTA_RE = re.compile("|".join(f"(?:{p})" for p in _CTA), re.IGNORECASE)

SECOND_PERSON_RE = re.compile(r"\b(?:you|your|yours|yourself|you[’'](?:ll|re|ve|d))\b", re.IGNORECASE)
MONEY_RE = re.compile(r"[$€£]\s?\d")
QUOTED_RE = re.compile(r"“[^”]*(?:”|$)|\"[^\"]*(?:\"|$)")
SALES_RE = re.compile(
    r"\b(?:stocks?|shares|investors?|investing|invest(?:ment)?s?|tickers?|portfolios?|dividends?|"
    r"analysts?|wall street|trades?|trading|market|offers?|reports?|videos?)\b",
    re.IGNORECASE,
)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
DATE_LINE_RE = re.compile(
    rf"""^\s*(?:
        \d{{1,2}}[./\s-]+{_MONTH}\.?[./\s-]+\d{{2,4}}          # 09.Jan.2026, 14 Jan 2026
      | {_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}    # January 5, 2026
      | \d{{4}}-\d{{2}}-\d{{2}}                                 # 2026-01-09
      | \d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}                     # 09/01/2026
      | \d+\s+(?:minutes?|hours?|days?|weeks?)\s+ago           # 5 hours ago
    )(?:\s*[,|]?\s*\d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\.?)?)?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
URL_LINE_RE = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)
META_LINE_RE = re.compile(
    r"^\s*(?:publication|publisher|published(?: on)?|updated|posted|author|by|date)\s*:", re.IGNORECASE
)

STRONG = frozenset({"call to action", "addresses the reader", "date line", "link list", "menu"})


@dataclass(frozen=True)
class Exclusion:
    """A span of the raw text that is left out, and the rule that left it out."""

    start: int
    end: int
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def find_boilerplate(text: str) -> list[Exclusion]:
    """Return the spans of `text` that are clutter or metadata, in order.

    Args:
        text: the raw document text.

    Returns:
        Non-overlapping exclusions, one per line, sorted by offset.
    """
    lines = [ln for ln in split_lines(text) if not ln.blank]
    reasons: list[str | None] = [_line_rule(ln) for ln in lines]
    _link_lists(lines, reasons)
    _menus(lines, reasons)
    _clutter_blocks(lines, reasons)
    return [
        Exclusion(*_trimmed(ln), reason)  # type: ignore[arg-type]
        for ln, reason in zip(lines, reasons)
        if reason is not None
    ]


def _line_rule(line: Line) -> str | None:
    text = line.text
    if URL_LINE_RE.match(text):
        return "metadata: source URL"
    if META_LINE_RE.match(text) and line.words <= 20:
        return "metadata: publication line"
    if DATE_LINE_RE.match(text):
        return "date line"
    if CTA_RE.search(text):
        return "call to action"
    unquoted = QUOTED_RE.sub(" ", text)
    you = len(SECOND_PERSON_RE.findall(unquoted))
    if you >= 2 or (you == 1 and MONEY_RE.search(unquoted)):
        return "addresses the reader"
    return None


def _is_title_like(line: Line, max_words: int = 25) -> bool:
    """A headline, teaser or menu label: short and not ending like a sentence."""
    stripped = line.text.strip()
    return (
        0 < line.words <= max_words
        and not stripped.endswith(".")
        and not line.starts_lower
    )


def _link_lists(lines: list[Line], reasons: list[str | None]) -> None:
    """Teaser titles printed next to a date line are a list of links."""
    for i, reason in enumerate(list(reasons)):
        if reason != "date line":
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(lines) and reasons[j] is None and _is_title_like(lines[j]):
                reasons[j] = "link list"


def _menus(lines: list[Line], reasons: list[str | None], *, run: int = 3, max_words: int = 6) -> None:
    """Three or more short labels in a row, with no sentence among them, are a menu."""
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _is_title_like(lines[j], max_words) and not lines[j].ends_sentence:
            j += 1
        if j - i >= run:
            for k in range(i, j):
                reasons[k] = reasons[k] or "menu"
        i = max(j, i + 1)


def _salesy(line: Line) -> bool:
    return len(SALES_RE.findall(line.text)) >= 2


def _clutter_blocks(lines: list[Line], reasons: list[str | None]) -> None:
    """Extend exclusions to the weak lines that sit inside or after a clutter block."""
    changed = True
    while changed:
        changed = False
        for i in range(1, len(lines) - 1):
            if reasons[i] is None and reasons[i - 1] and reasons[i + 1]:
                if _is_title_like(lines[i]) or _salesy(lines[i]):
                    reasons[i] = "inside a clutter block"
                    changed = True
    # The trailing run after the article: only excluded, short or sales lines
    # down to the end. If it holds real clutter, all of it is clutter.
    i = len(lines)
    while i > 0 and (reasons[i - 1] or _is_title_like(lines[i - 1]) or _salesy(lines[i - 1])):
        i -= 1
    tail = range(i, len(lines))
    if any(reasons[k] in STRONG for k in tail):
        for k in tail:
            reasons[k] = reasons[k] or "trailing clutter"


def _trimmed(line: Line) -> tuple[int, int]:
    lead = len(line.text) - len(line.text.lstrip())
    trail = len(line.text) - len(line.text.rstrip())
    return line.start + lead, line.end - trail
