"""Find the clutter in a saved web page: ads, paywall prompts, link lists, menus, banners, footers.

Such text is never indexed, retrieved or quoted. Every exclusion carries the
rule that made it, so it can be inspected (`qa build --show-excluded`,
`excluded.jsonl` in the index).

The unit is the *block* (a paragraph, a bullet, a heading, a standalone date or
URL line; `layout.split_blocks`), so an exclusion never cuts a sentence in two.
The signals are general, about how pages are built rather than what particular
sites say, and were checked on corpora none of the rules were written from
(docs/evaluation.md, "Clutter"):

Strong, each enough alone:
- metadata: a URL line, a "Publisher:"-style field, a date-only line, a byline,
  a photo credit, a tag list;
- a call to action: a short block with an imperative offer (a sentence that
  starts with a verb like subscribe, sign up, share, try, get, claim) *and* an
  offer object (money, free, trial, discount, newsletter, e-mail, account, app);
- a site label: "Advertisement", "Skip to content", "Back to top", comment counts;
- a cookie notice, a copyright footer, a row of labels split by `|`;
- template clutter: a short block that recurs verbatim in several documents of
  the folder (`find_clutter_corpus`);
- a list heading ("Related articles", "Most read", "More from …").

Structural, from the neighbours:
- link lists: two or more teaser titles next to date lines, and the titles under a
  list heading;
- menus: three or more short labels in a row;
- clutter blocks: a short run of *weak* blocks between two excluded ones, or in
  the trailing run after the article when that run holds strong clutter, goes
  with them. Weak means title-like, or written in another register than the
  article: addressing the reader ("you") or speaking as the site ("we", "our
  team") outside quotation marks when the article does not.

Deliberately not signals: a single "you" (health and how-to pages are written to
the reader), the words "subscribers" or "newsletter" in a news sentence, a
sentence or block that merely repeats across documents when it is long prose.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .layout import (
    BULLET_RE,
    BYLINE_RE,
    CREDIT_RE,
    META_LINE_RE,
    SENTENCE_END_RE,
    URL_LINE_RE,
    WORD_RE,
    Block,
    is_date_line,
    is_label_row,
    split_blocks,
)
from ..text import normalize

# -- vocabularies: the generic words of web page furniture, in the languages the labels are seen in --

_OFFER_VERBS = (
    r"subscribe|sign\s*up|sign\s*in|log\s*in|register|join|download|install|get|claim|unlock|try|start|save|"
    r"buy|order|shop|donate|enter|see|read|watch|listen|click|tap|follow|learn|discover|upgrade|"
    r"become|grab|share|tweet|email|send|like this"
)
# A sentence (or the block) starts with an imperative offer verb.
IMPERATIVE_RE = re.compile(rf"(?:^|[.!?]\s+|\?\s*)(?:{_OFFER_VERBS})\b", re.IGNORECASE)
OFFER_OBJECT_RE = re.compile(
    r"[$€£¥]\s?\d|\d\s?%|\b(?:free|trial|discount|offer|deal|newsletters?|subscriptions?|subscribers?|premium|"
    r"membership|members?|account|inbox|e-?mail|app|podcast|today|now|here|below|unlimited|access|report|"
    r"colleague|friends?|facebook|twitter|linkedin|whatsapp|telegram|instagram|updates|alerts)\b",
    re.IGNORECASE,
)
LABEL_RE = re.compile(
    r"^\s*(?:advertisement|advertising|anzeige|publicidad|publicité|werbung|sponsored(?: content)?|ad|"
    r"skip to (?:main )?content|skip navigation|back to top|to top|menu|search|home|log ?in|sign ?in|"
    r"sign ?up|subscribe|free trial|my account|share(?: this)?(?: (?:article|story|page))?|tweet|print|"
    r"comments?|leave a (?:comment|reply)|reply|view comments|show comments|"
    r"\d[\d,.]*\s*(?:comments?|shares|replies|kommentare|comentarios|commentaires)|"
    r"(?:comments?|kommentare|comentarios|commentaires)\s*\(?\d+\)?|"
    r"partager|teilen|compartir|imprimer|drucken)\s*[:.!]?\s*$",
    re.IGNORECASE,
)
LIST_HEADING_RE = re.compile(
    r"^\s*(?:(?:latest|related|recommended|more|top|popular|trending|most read|most popular|editor'?s picks|"
    r"also|further)\s+(?:news|stories|articles|posts|videos|headlines|reads|reading|links|coverage|"
    r"on this topic)\b|you (?:may|might) also like|read (?:more|next|also)\b|see also\s*$|more from\b|"
    r"related\s*:?\s*$|recommended for you|what to read next|around the web|"
    r"weitere artikel|mehr zum thema|noticias relacionadas|à lire aussi|lire aussi)",
    re.IGNORECASE,
)
COOKIE_RE = re.compile(r"\bcookies?\b", re.IGNORECASE)
CONSENT_RE = re.compile(
    r"\b(?:consent|polic(?:y|ies)|settings|preferences|privacy|accept|agree|browsing|website|site|device|"
    r"analytics|experience|"
    r"datenschutz|akzeptier\w*|einwillig\w*|aceptar|acepto|política|accepter|politique|consentement)\b",
    re.IGNORECASE,
)
# "©" after "Ã" is mojibake of "é" and friends, not a copyright sign.
FOOTER_RE = re.compile(r"(?<!Ã)©|\(c\)\s*\d{4}|\ball rights reserved\b|\balle rechte vorbehalten\b|"
                       r"\btodos los derechos reservados\b|\btous droits réservés\b", re.IGNORECASE)
DISCLOSURE_RE = re.compile(r"\baffiliate (?:links?|commissions?|partners?|programs?)\b", re.IGNORECASE)
TAGS_RE = re.compile(r"^\s*(?:tags?|topics?|filed under|categories|category|schlagwörter|etiquetas)\s*:", re.IGNORECASE)
# The page speaking to its reader, or as itself ("you", "we", "our team"), outside quotation marks.
# ("us" is left out: it is also the United States.)
REGISTER_RE = re.compile(r"\b(?:you|your|yours|yourself|you[’'](?:ll|re|ve|d)|we|our|ours|we[’'](?:ll|re|ve|d))\b",
                         re.IGNORECASE)
QUOTED_RE = re.compile(r"“[^”]*(?:”|$)|\"[^\"]*(?:\"|$)|«[^»]*(?:»|$)|„[^“”]*(?:[“”]|$)")
CONTENT_WORD_RE = re.compile(r"[^\W\d_]{4,}")

# Structural thresholds; docs/evaluation.md ("Clutter") says how they were checked.
SHORT_BLOCK_WORDS = 30  # calls to action and banners are short; prose paragraphs are not
FOOTER_WORDS = 40
LABEL_WORDS = 4  # a menu entry or a site label
TITLE_WORDS = 20  # a headline or teaser
TEMPLATE_MIN_DOCUMENTS = 3  # a block in this many documents of a folder is the site's template
TEMPLATE_MAX_WORDS = 40  # ... when it is short: long prose that repeats is quoted text, not template
MAX_RUN = 3  # weak blocks taken along between two exclusions
ON_TOPIC = 0.5  # a block addressing the reader is weak only if it shares less than this with the article



@dataclass(frozen=True)
class Exclusion:
    """A span of the raw text that is left out, and the rule that left it out."""

    start: int
    end: int
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def find_clutter(text: str, *, template: frozenset[str] = frozenset()) -> list[Exclusion]:
    """Return the spans of `text` that are clutter or metadata, in order.

    Args:
        text: the raw document text.
        template: keys (`block_key`) of blocks that recur across the folder's documents.

    Returns:
        Non-overlapping exclusions, one per block, sorted by offset.
    """
    blocks = split_blocks(text)
    if not blocks:
        return []
    features = [_Features.of(text, b) for b in blocks]
    reasons: list[Rule | None] = [_block_rule(f, template) for f in features]
    _link_lists(features, reasons)
    _menus(features, reasons)
    _weak_runs(features, reasons)
    _keep_some_prose(features, reasons)
    return [Exclusion(b.start, b.end, r.name) for b, r in zip(blocks, reasons) if r is not None]


def find_clutter_corpus(texts: dict[str, str], *, min_documents: int = TEMPLATE_MIN_DOCUMENTS) -> dict[str, list[Exclusion]]:
    """Clutter of every document of a folder, with template clutter: short blocks that recur in
    `min_documents` or more of its documents (a site's menus, footers and boxes)."""
    seen: dict[str, int] = {}
    for text in texts.values():
        for key in block_keys(text):
            seen[key] = seen.get(key, 0) + 1
    template = frozenset(k for k, n in seen.items() if n >= min_documents)
    return {name: find_clutter(text, template=template) for name, text in texts.items()}


def block_keys(text: str) -> set[str]:
    """The keys of a document's blocks that are short enough to be template, each once: all that
    its clutter takes from the rest of the folder is which of these recur (`find_clutter_corpus`)."""
    return {k for k in (block_key(text, b) for b in split_blocks(text)) if k}


def block_key(text: str, block: Block) -> str:
    """What identifies a block across documents: its normalised text, if short enough to be template."""
    body = normalize(text[block.start : block.end]).lower()
    if len(WORD_RE.findall(body)) > TEMPLATE_MAX_WORDS:
        return ""
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Features:
    text: str  # the block as one line
    raw: str  # the block as written
    key: str
    words: int
    lines: int
    sentence: bool  # ends like a sentence
    title_like: bool  # short, no sentence end, not starting in lower case
    you: bool  # addresses the reader, or speaks as the site, outside quotation marks
    bullet: bool
    title_lines: bool  # every line a short title and none ends a sentence (a list of links)
    headline: bool  # one short line in title case ("Will Nvidia's Report Spark a Rebound?")
    content: frozenset[str]  # content words, lower-cased and cut to their first six letters (a crude stem)

    @classmethod
    def of(cls, raw: str, block: Block) -> "_Features":
        flat = " ".join(raw[block.start : block.end].split())
        words = len(WORD_RE.findall(flat))
        sentence = bool(SENTENCE_END_RE.search(flat))
        title_like = 0 < words <= TITLE_WORDS and not sentence and not flat[:1].islower()
        unquoted = QUOTED_RE.sub(" ", flat)
        long_words = CONTENT_WORD_RE.findall(flat)
        headline = (len(block.lines) == 1 and 3 <= words <= TITLE_WORDS and len(long_words) >= 3
                    and sum(w[0].isupper() for w in long_words) >= 0.8 * len(long_words))
        title_lines = len(block.lines) > 1 and all(
            0 < ln.words <= TITLE_WORDS and not SENTENCE_END_RE.search(ln.text) and not ln.starts_lower
            for ln in block.lines)
        return cls(flat, raw[block.start : block.end], block_key(raw, block), words, len(block.lines), sentence, title_like,
                   bool(REGISTER_RE.search(unquoted)), bool(BULLET_RE.match(block.lines[0].text)), title_lines,
                   headline, frozenset(w.lower()[:6] for w in long_words))

    @property
    def label(self) -> bool:
        return self.title_like and self.words <= LABEL_WORDS and self.lines == 1 and not self.bullet


@dataclass(frozen=True)
class Rule:
    """A named clutter rule: what `excluded.jsonl` calls it, and what it means to the other rules.

    Attributes:
        name: the reason an exclusion records.
        strong: enough alone to make the trailing run after the article clutter (`_weak_runs`).
        describes: describes the document (metadata, a dateline), so it stays out even when a
            document would otherwise lose every sentence (`_keep_some_prose`).
        test: for a rule that judges a block alone, whether it holds of the block's features,
            given the folder's template keys; None for a rule that only the neighbours apply.
    """

    name: str
    strong: bool = False
    describes: bool = False
    test: Callable[["_Features", frozenset[str]], bool] | None = None


SOURCE_URL = Rule("metadata: source URL", describes=True,
                  test=lambda f, t: f.lines == 1 and bool(URL_LINE_RE.match(f.text)))
DATE_LINE = Rule("date line", strong=True, describes=True, test=lambda f, t: f.lines == 1 and is_date_line(f.text))
PUBLICATION = Rule("metadata: publication line", describes=True,
                   test=lambda f, t: bool(META_LINE_RE.match(f.text)) and f.words <= 20)
TAGS = Rule("metadata: tags", describes=True, test=lambda f, t: bool(TAGS_RE.match(f.text)) and f.words <= 40)
BYLINE = Rule("metadata: byline", strong=True, describes=True,
              test=lambda f, t: f.words <= 12 and not f.sentence and bool(BYLINE_RE.match(f.text)))
PHOTO_CREDIT = Rule("metadata: photo credit", strong=True, describes=True,
                    test=lambda f, t: f.words <= 15 and bool(CREDIT_RE.match(f.text)))
SITE_LABEL = Rule("site label", strong=True, test=lambda f, t: bool(LABEL_RE.match(f.text)))
LIST_HEADING = Rule("list heading", strong=True,
                    test=lambda f, t: f.words <= TITLE_WORDS and bool(LIST_HEADING_RE.match(f.text)))
# a list heading and its teasers, with no blank line between them; also the teasers `_link_lists` finds
LINK_LIST = Rule("link list", strong=True, test=lambda f, t: f.title_lines and bool(LIST_HEADING_RE.match(f.raw)))
COOKIE_NOTICE = Rule("cookie notice", strong=True,
                     test=lambda f, t: f.words <= 60 and bool(COOKIE_RE.search(f.text)) and bool(CONSENT_RE.search(f.text)))
AFFILIATE_DISCLOSURE = Rule("affiliate disclosure",
                            test=lambda f, t: f.words <= FOOTER_WORDS and bool(DISCLOSURE_RE.search(f.text)))
FOOTER = Rule("footer", strong=True, test=lambda f, t: f.words <= FOOTER_WORDS and bool(FOOTER_RE.search(f.text)))
CALL_TO_ACTION = Rule("call to action", strong=True,
                      test=lambda f, t: (f.words <= SHORT_BLOCK_WORDS and bool(IMPERATIVE_RE.search(f.text))
                                         and bool(OFFER_OBJECT_RE.search(f.text))))
# a row of labels split by `|`; also three or more short labels in a row (`_menus`)
MENU = Rule("menu", strong=True, test=lambda f, t: f.lines == 1 and is_label_row(f.raw))
TEMPLATE = Rule("template clutter", strong=True, test=lambda f, t: bool(f.key) and f.key in t)
INSIDE_CLUTTER = Rule("inside a clutter block")
TRAILING_CLUTTER = Rule("trailing clutter")

# The rules that judge a block alone, in the order they are tried: the first that holds names it.
BLOCK_RULES = (SOURCE_URL, DATE_LINE, PUBLICATION, TAGS, BYLINE, PHOTO_CREDIT, SITE_LABEL, LIST_HEADING, LINK_LIST,
               COOKIE_NOTICE, AFFILIATE_DISCLOSURE, FOOTER, CALL_TO_ACTION, MENU, TEMPLATE)
RULES = (*BLOCK_RULES, INSIDE_CLUTTER, TRAILING_CLUTTER)


def _block_rule(f: _Features, template: frozenset[str]) -> Rule | None:
    return next((rule for rule in BLOCK_RULES if rule.test(f, template)), None)


def _link_lists(features: list[_Features], reasons: list[Rule | None]) -> None:
    """Teasers: titles next to date lines when there are two or more such pairs, and titles under a list heading."""
    n = len(features)
    dated = [i for i, r in enumerate(reasons) if r is DATE_LINE]
    teasers = {j for i in dated for j in (i - 1, i + 1)
               if 0 <= j < n and reasons[j] is None and features[j].title_like}
    if len(teasers) >= 2:
        for j in teasers:
            reasons[j] = LINK_LIST
    for i, r in enumerate(list(reasons)):
        if r is not LIST_HEADING:
            continue
        j = i + 1
        while j < n and (reasons[j] in (None, DATE_LINE, LINK_LIST) and
                         (features[j].title_like or features[j].title_lines or reasons[j] is not None
                          or _teaser(features[j]))):
            reasons[j] = reasons[j] or LINK_LIST
            j += 1


def _teaser(f: _Features) -> bool:
    """A headline-length line, even one ending with a full stop (some sites punctuate teasers)."""
    return f.lines == 1 and f.words <= TITLE_WORDS


def _menus(features: list[_Features], reasons: list[Rule | None], *, run: int = 3) -> None:
    """Three or more short labels in a row, with no sentence among them, are a menu."""
    i = 0
    while i < len(features):
        j = i
        while j < len(features) and features[j].label and not any(c.isdigit() for c in features[j].text):
            j += 1
        if j - i >= run:
            for k in range(i, j):
                reasons[k] = reasons[k] or MENU
        i = max(j, i + 1)


def _weak_runs(features: list[_Features], reasons: list[Rule | None]) -> None:
    """Take weak blocks along with the clutter around them: short runs between two exclusions,
    and the trailing run after the article when it holds strong clutter."""
    n = len(features)
    kept = [i for i in range(n) if reasons[i] is None]
    body_you = _share_addressing(features, kept)
    title = _title(features, reasons)
    lead = _lead(features, reasons, title)
    weak = [reasons[i] is None and i != title and _weak(features[i], i, lead, features, body_you) for i in range(n)]
    i = 0
    while i < n:
        if reasons[i] is not None:
            i += 1
            continue
        j = i
        while j < n and reasons[j] is None:
            j += 1
        if 0 < i and j < n and j - i <= MAX_RUN and all(weak[i:j]):
            for k in range(i, j):
                reasons[k] = INSIDE_CLUTTER
        i = j
    # The trailing run: upward from the end through excluded and weak blocks, across single ordinary
    # blocks below prose in the reader's register (not every sentence of an ad's copy shows a signal;
    # headings do not carry the walk, since articles alternate headings and paragraphs).
    marked = [reasons[k] is not None or weak[k] for k in range(n)]
    carries = [weak[k] and features[k].you for k in range(n)]
    start = n
    while start > 0 and (marked[start - 1] or (start > 1 and carries[start - 2] and start < n)):
        start -= 1
    tail = range(start, n)
    if any(reasons[k] is not None and reasons[k].strong for k in tail) and start > 0:
        for k in tail:
            reasons[k] = reasons[k] or TRAILING_CLUTTER


def _prose(f: _Features, reason: Rule | None) -> bool:
    """A kept paragraph of the article: sentences, and more than a caption's length."""
    return reason is None and f.sentence and f.words >= 15


def _first_prose(features: list[_Features], reasons: list[Rule | None]) -> int:
    return next((i for i, (f, r) in enumerate(zip(features, reasons)) if _prose(f, r)), len(features))


def _title(features: list[_Features], reasons: list[Rule | None]) -> int | None:
    """The headline: the first title-like block of four or more words before the first prose
    paragraph. It is not clutter however much clutter surrounds it."""
    for i in range(_first_prose(features, reasons)):
        f = features[i]
        if reasons[i] is None and (f.title_like or f.headline) and f.words >= 4:
            return i
    return None


def _lead(features: list[_Features], reasons: list[Rule | None], title: int | None, paragraphs: int = 2) -> list[int]:
    """What the article is about: its headline and its first prose paragraphs."""
    first = _first_prose(features, reasons)
    prose = [i for i in range(first, len(features)) if _prose(features[i], reasons[i])][:paragraphs]
    return ([title] if title is not None else []) + prose


def _share_addressing(features: list[_Features], kept: list[int]) -> float:
    """Share of the kept prose (by words) in blocks that address the reader."""
    total = sum(features[i].words for i in kept)
    return sum(features[i].words for i in kept if features[i].you) / total if total else 0.0


def _weak(f: _Features, i: int, lead: list[int], features: list[_Features], body_you: float) -> bool:
    """A block that does not read like the article: a title-like line, or prose that speaks to the
    reader (or as the site) when the article does not, about something its lead does not."""
    if f.title_like or f.headline or f.title_lines:
        return True
    # The lead, not the neighbours, is the reference: clutter comes in runs whose blocks share
    # words with each other.
    others: set[str] = set()
    for j in lead:
        if j != i:
            others |= features[j].content
    shared = len(f.content & others) / len(f.content) if f.content and len(others) >= 12 else None
    # The page speaks to the reader here, and almost nowhere else, about something else. (Word
    # overlap alone is no signal: measured, one paragraph of an ad and one of the article share
    # 0 to 40 % of their words with the article's lead alike.)
    return f.you and body_you < 0.3 and (shared is None or shared < ON_TOPIC)


def _keep_some_prose(features: list[_Features], reasons: list[Rule | None]) -> None:
    """Clutter is relative to an article: a document whose every sentence would go is kept whole,
    but for its metadata (a file holding only a promotion was still put there on purpose)."""
    if any(r is None and f.sentence for f, r in zip(features, reasons)):
        return
    for i, (f, r) in enumerate(zip(features, reasons)):
        if r is not None and f.sentence and not r.describes:
            reasons[i] = None
