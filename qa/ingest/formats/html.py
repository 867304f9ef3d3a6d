"""Web pages (`.html`, `.htm`) as a browser saved them: the article, read by the page's structure.

Which parts of a page are its article, two extractors decide: readability-lxml (the DOM's text and
link density, scored per block) and trafilatura (its own rules on the DOM). Where their articles
overlap, what both keep is the article; where they chose different parts of the page,
trafilatura's is (measured against each alone and jusText in docs/formats.md). Neither returns
positions, so the page is also parsed here with the standard library's `html.parser`, which
keeps them: its text (scripts, styles and the head left out, entities decoded, white space
collapsed as a browser shows it) is a stream whose every character knows the source characters
it came from. Each paragraph an extractor keeps is found in that stream, and the derived text is
the article's runs of the stream, joined by blank lines. So the derived text is the page's own
text, never an extractor's rewriting of it, and `Reading.locate` gives any span's byte offsets
in the saved file (`source_start_byte`, `source_end_byte`).

The page is decoded by its byte-order mark, else as UTF-8 when its bytes are valid UTF-8 (saved
pages often declare another charset than they hold), else by its declared charset (`<meta charset>`
or an XML declaration), else as windows-1252. A page without an article (a listing, an empty
JavaScript shell) is reported, not indexed as menus.
"""

from __future__ import annotations

import codecs
import logging
import re
from html.parser import HTMLParser

import numpy as np

from .base import Reading, Unreadable, version_of

READER_VERSION = 3  # this module's own parsing and locating; part of the extractor's name
MIN_ARTICLE_WORDS = 10  # a page whose article has fewer words is reported as having none
AGREE_SHARE = 0.3  # the two extractors agree when what both keep is this share of what either keeps
MAX_LINK_SHARE = 0.7  # nor is one whose article text is mostly the text of links (a listing)
WORD_GAP = 20  # characters between two words of a paragraph beyond which they are two runs of it
BYLINE_CHARS = 100  # text this short between the headline and the article (a byline, a date) goes with them
# Their own messages about a page ("parsed tree length: 0", "discarding data", readability's traceback for an
# empty document) would stand beside the build's one-line report as if they were the product's.
EXTRACTOR_LOGGERS = ("trafilatura", "readability", "htmldate", "courlan", "justext")
SKIPPED = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object", "canvas"}
BLOCKS = {"p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "h1", "h2", "h3", "h4",
          "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "thead", "tbody", "tfoot", "caption",
          "blockquote", "pre", "figure", "figcaption", "form", "br", "hr", "address", "details", "summary"}
CELLS = {"td", "th"}
HEAD_ONLY = {"title", "meta", "link", "base", "style", "script", "noscript", "template", "head", "html"}
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_RE = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_SAVED_FROM_RE = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.IGNORECASE)
_REF_RE = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")
_LINK_RE = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_BULLET_RE = re.compile(r"^(?:[-*•]\s+)")


class Html:
    format = "html"
    suffixes = (".html", ".htm")

    def extractor(self) -> str:
        return f"{version_of('readability-lxml')}; {version_of('trafilatura')}; qa html {READER_VERSION}"

    def read(self, data: bytes, name: str) -> Reading:
        import trafilatura

        for library in EXTRACTOR_LOGGERS:  # the build reports an unreadable page in one line of its own
            logging.getLogger(library).setLevel(logging.CRITICAL)
        page, encoding, skip = decode(data)
        stream, starts, ends, linked = text_stream(page)
        linked = np.asarray(linked, bool)
        try:
            main = trafilatura.extract(page, output_format="txt", include_comments=False, include_tables=True)
        except Exception:  # noqa: BLE001 - a page trafilatura fails on is still read by readability
            main = None
        segments = agreed_article(
            locate_lines(readability_lines(page), stream),
            locate_lines((main or "").splitlines(), stream),
            stream,
            linked,
        )
        meta = metadata(page, trafilatura)
        segments = with_headline(meta.get("title"), stream, segments)
        problem = _not_an_article(segments, stream, linked)
        if problem:
            raise Unreadable(f"no article found {problem}")
        pieces = [stream[a:b].strip(" \n") for a, b in segments]
        text_parts, src_start, src_end = [], [], []
        for (a, b), piece in zip(segments, pieces):
            if not piece:
                continue
            a += len(stream[a:b]) - len(stream[a:b].lstrip(" \n"))
            if text_parts:
                text_parts.append("\n\n")
                src_start.extend([-1, -1])
                src_end.extend([-1, -1])
            text_parts.append(piece)
            src_start.extend(starts[a : a + len(piece)])
            src_end.extend(ends[a : a + len(piece)])
        text = "".join(text_parts)
        starts_arr, ends_arr = np.asarray(src_start, np.int64), np.asarray(src_end, np.int64)
        offsets = _ByteOffsets(page, encoding, skip)
        return Reading(text, self.format, self.extractor(), metadata=meta,
                       locate=lambda start, end: _locate(starts_arr, ends_arr, offsets, start, end))


def agreed_article(
    first: list[tuple[int, int]], second: list[tuple[int, int]], stream: str, linked: np.ndarray
) -> list[tuple[int, int]]:
    """The article's spans of `stream`, in its order, from two extractors' (`first` readability's,
    `second` trafilatura's); `linked` tells, per character, whether it is the text of a link.

    Where the two overlap by at least `AGREE_SHARE` (characters both keep, of those either keeps), the
    article runs from the line where both first keep text to the line where they last do, and holds what
    either keeps there (one extractor's filters drop a paragraph inside the article that the other
    keeps). Where they chose different parts of the page, it is `second`'s. An article of fewer than
    `MIN_ARTICLE_WORDS` words, or one that is mostly link text (`MAX_LINK_SHARE`: a listing), is not
    taken while the other extractor's is neither."""
    a, b = _mask(first, len(stream)), _mask(second, len(stream))
    either = int(np.count_nonzero(a | b))
    if either and np.count_nonzero(a & b) >= AGREE_SHARE * either:
        both = _runs(a & b)
        end = stream.find("\n", both[-1][1])
        inside = np.zeros(len(stream), bool)
        inside[stream.rfind("\n", 0, both[0][0]) + 1 : end if end >= 0 else len(stream)] = True
        candidates = ((a | b) & inside, a, b)
    else:
        candidates = (b, a)
    return _runs(next((m for m in candidates if not _not_an_article(_runs(m), stream, linked)), candidates[0]))


def _not_an_article(segments: list[tuple[int, int]], stream: str, linked: np.ndarray) -> str:
    """Why `segments` of `stream` are no article ("" where they are one): fewer than `MIN_ARTICLE_WORDS`
    words, or over `MAX_LINK_SHARE` of their characters the text of links (a listing)."""
    if _words(segments, stream) < MIN_ARTICLE_WORDS:
        return f"(a listing or a page built by JavaScript?): fewer than {MIN_ARTICLE_WORDS} words of main text"
    kept = sum(b - a for a, b in segments)
    link_chars = int(sum(np.count_nonzero(linked[a:b]) for a, b in segments))
    if link_chars > MAX_LINK_SHARE * kept:
        return f"(a listing?): {link_chars / kept:.0%} of its main text is the text of links"
    return ""


def _mask(segments: list[tuple[int, int]], n: int) -> np.ndarray:
    mask = np.zeros(n, bool)
    for start, end in segments:
        mask[start:end] = True
    return mask


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """The (start, end) of each run of True in `mask`."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2])]


def _words(segments: list[tuple[int, int]], stream: str) -> int:
    return sum(len(stream[a:b].split()) for a, b in segments)


def with_headline(title: str | None, stream: str, segments: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`segments` led by the page's headline: the last line of `stream` before the article that is its
    title, where there is one (extractors keep the body and drop the headline above it), and the text
    between the two when it is short (`BYLINE_CHARS`: a byline, a date)."""
    if not title or not segments:
        return segments
    at = stream.rfind(title, 0, segments[0][0])
    while at >= 0:
        end = at + len(title)
        if (at == 0 or stream[at - 1] == "\n") and (end == len(stream) or stream[end] == "\n"):
            between = stream[end : segments[0][0]]
            if 0 < len(between.strip()) <= BYLINE_CHARS:
                return [(at, end), (end + len(between) - len(between.lstrip()), segments[0][0]), *segments]
            return [(at, end), *segments]
        at = stream.rfind(title, 0, at)
    return segments


def readability_lines(page: str) -> list[str]:
    """The paragraphs of the article readability-lxml finds in `page`, as a browser lays them out; [] where
    it finds none."""
    from readability import Document
    from readability.readability import Unparseable

    try:
        article = Document(page).summary(html_partial=True)
    except (Unparseable, ValueError):  # an empty or unparseable document: no article
        return []
    return text_stream(article)[0].splitlines()


def decode(data: bytes) -> tuple[str, str, int]:
    """The page's text, the encoding it was decoded with, and the bytes of a byte-order mark skipped."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding), encoding, len(bom)
            except UnicodeDecodeError:
                break
    declared = _XML_RE.match(data[:200]) or _CHARSET_RE.search(data[:8192])
    candidates = ["utf-8"]  # bytes that are valid UTF-8 are UTF-8, whatever a page declares (saved pages often lie)
    if declared:
        try:
            candidates.append(codecs.lookup(declared.group(1).decode("ascii")).name)
        except LookupError:
            pass
    candidates += ["cp1252", "latin-1"]  # latin-1 decodes every byte: the last resort
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding, 0
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


class _Stream(HTMLParser):
    """The page's visible text as a browser lays it out, each character with the source characters it came from."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=False)
        self.page = page
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\n|\r", page)]
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.linked: list[bool] = []  # per character: inside a link
        self.skipping: list[str] = []
        self.links = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _emit(self, ch: str, start: int, end: int) -> None:
        if ch.isspace():
            if not self.chars or self.chars[-1] in " \n":
                if self.chars and self.chars[-1] == " ":
                    self.ends[-1] = end
                return
            ch = " "
        self.chars.append(ch)
        self.starts.append(start)
        self.ends.append(end)
        self.linked.append(self.links > 0)

    def _break(self) -> None:
        if self.chars and self.chars[-1] == " ":
            self.chars[-1] = "\n"
        elif self.chars and self.chars[-1] != "\n":
            at = self._offset()
            self.chars.append("\n")
            self.starts.append(at)
            self.ends.append(at)
            self.linked.append(False)

    def handle_starttag(self, tag, attrs):
        if tag == "a" and any(k == "href" for k, _ in attrs):
            self.links = 1  # links do not nest (a browser closes the one open)
        if tag == "body" or (self.skipping == ["head"] and tag not in HEAD_ONLY):
            self.skipping.clear()  # a head left open ends where the body's content starts
        if tag in SKIPPED:
            self.skipping.append(tag)
        elif not self.skipping and tag in BLOCKS:
            self._break()
        elif not self.skipping and tag in CELLS and self.chars and self.chars[-1] not in " \n":
            at = self._offset()
            self._emit(" ", at, at)

    def handle_startendtag(self, tag, attrs):
        if not self.skipping and tag in BLOCKS:
            self._break()

    def handle_endtag(self, tag):
        if tag == "a" or tag in BLOCKS:  # an unclosed link ends with its block
            self.links = 0
        if self.skipping:
            if tag in self.skipping:
                del self.skipping[self.skipping.index(tag):]
            return
        if tag in BLOCKS:
            self._break()

    def handle_data(self, data):
        if self.skipping:
            return
        at = self._offset()
        for i, ch in enumerate(data):
            self._emit(ch, at + i, at + i + 1)

    def _reference(self) -> None:
        if self.skipping:
            return
        at = self._offset()
        m = _REF_RE.match(self.page, at)
        if m is None:
            return
        from html import unescape

        for ch in unescape(m.group(0)):
            self._emit(ch, at, m.end())

    def handle_entityref(self, name):
        self._reference()

    def handle_charref(self, name):
        self._reference()


def text_stream(page: str) -> tuple[str, list[int], list[int], list[bool]]:
    """The page's visible text and, per character, the source characters `[start, end)` it came from and
    whether it is the text of a link."""
    parser = _Stream(page)
    parser.feed(page)
    parser.close()
    return "".join(parser.chars), parser.starts, parser.ends, parser.linked


def locate_lines(lines: list[str], stream: str) -> list[tuple[int, int]]:
    """Where each of `lines` (an extractor's paragraphs) is in `stream`, in order. A line is found whole
    where it can be; otherwise word by word, in order, and kept as the runs of its words that stand
    together in the stream (so text the extractor dropped between them stays out). A line most of
    whose words are not found in order is left out."""
    segments, cursor = [], 0
    for line in lines:
        line = " ".join(line.replace("|", " ").split())  # table cells: "| a | b |"
        line = _BULLET_RE.sub("", line)
        if not line:
            continue
        # After the last line found, else anywhere: an extractor may give a table's cells in another order.
        found = _find(line, stream, cursor) or (_find(line, stream, 0) if cursor else [])
        if found:
            segments.extend(found)
            cursor = found[-1][1]
    return segments


def _find(line: str, stream: str, cursor: int) -> list[tuple[int, int]]:
    """The runs of `stream` after `cursor` that hold `line`, whole or word by word, or []."""
    at = stream.find(line, cursor)
    if at >= 0:
        return [(at, at + len(line))]
    words = line.split()
    found, pos = [], cursor
    for w in words:
        at = stream.find(w, pos, pos + 200 + 4 * len(line)) if found else stream.find(w, cursor)
        if at >= 0:
            found.append((at, at + len(w)))
            pos = at + len(w)
    if len(found) < max(1, 0.6 * len(words)):
        return []
    runs = [[found[0]]]
    for span in found[1:]:
        if span[0] - runs[-1][-1][1] > WORD_GAP:
            runs.append([])
        runs[-1].append(span)
    return [(run[0][0], run[-1][1]) for run in runs if len(run) > 1 or len(found) == 1]


class _ByteOffsets:
    """Byte offsets in the saved file of character offsets in the decoded page (computed on first use)."""

    def __init__(self, page: str, encoding: str, skip: int) -> None:
        self.page, self.encoding, self.skip = page, encoding, skip
        self._prefix: np.ndarray | None = None

    def __call__(self, char: int) -> int:
        if self.encoding in ("latin-1", "iso8859-1", "cp1252", "ascii"):  # one byte a character
            return self.skip + char
        if self._prefix is None:
            sizes = [len(c.encode(self.encoding, errors="surrogatepass")) for c in self.page]
            self._prefix = np.concatenate([[0], np.cumsum(sizes)])
        return self.skip + int(self._prefix[char])


def _locate(starts: np.ndarray, ends: np.ndarray, offsets: _ByteOffsets, start: int, end: int) -> dict:
    mapped = np.flatnonzero(starts[start:end] >= 0) + start
    if not len(mapped):
        return {"source_start_byte": None, "source_end_byte": None}
    return {"source_start_byte": offsets(int(starts[mapped[0]])), "source_end_byte": offsets(int(ends[mapped[-1]]))}


def metadata(page: str, trafilatura) -> dict:
    """Title, site, date and URL: the page's `<title>`, `og:*`, `article:published_time`, JSON-LD and
    `<time>` (as trafilatura reads them), the canonical link, or the browser's "saved from" comment."""
    out = {}
    try:
        found = trafilatura.extract_metadata(page)
    except Exception:  # metadata is optional; the text is what matters
        found = None
    if found is not None:
        for key, value in (("title", found.title), ("publisher", found.sitename), ("date", found.date),
                           ("url", found.url)):
            if value:
                out[key] = " ".join(str(value).split())
    if "url" not in out:
        canonical = next((m for m in _LINK_RE.findall(page) if re.search(r"rel=[\"']?canonical", m, re.I)), None)
        href = re.search(r"href=[\"']([^\"']+)", canonical or "")
        saved = _SAVED_FROM_RE.search(page[:4096])
        url = href.group(1) if href else saved.group(1) if saved else None
        if url:
            out["url"] = url
    return out
