"""PDF: the text layer, read as a careful reader reads the page (PDFium, through pypdfium2).

The derived text is the body of every page in reading order, then, after it, each page's
footnotes and furniture:

    body of page 1 ⏎ body of page 2 ⏎ … ⏎⏎ notes of page 1 ⏎⏎ head and foot of page 1 ⏎⏎ …

So a sentence that runs from one page onto the next is one span with nothing of the running
heads, page numbers or footnotes inside it. Lines are joined by "\n", paragraphs by "\n\n".

- **Lines** are PDFium's, cut again where the text jumps across a wide gap (a column gutter,
  a table cell).
- **Reading order**: a recursive XY cut of each page's line boxes, so a multi-column page is
  read column by column, and a title across the columns first.
- **Furniture** is found by repetition, not by a word list (`_furniture`): among the top and
  bottom lines of each page, a line whose text (digits taken as one sign) recurs on several
  pages, or that stands at the same height set apart from the body on several pages, is a
  running head or foot; a number alone there is a page number. Furniture is excluded: never
  embedded, never quoted.
- **Footnotes**: lines at the foot of a page in a smaller type than its body, beginning with a
  marker, move to the notes after the body; they stay readable and quotable.
- **Figures and tables** that stand between the two halves of a sentence (one at the top of the
  column or page the sentence runs on into) move after the line that ends it (`_floats_moved`):
  a line that runs on (a full body line, no sentence end) is followed, in the same column, by
  blocks that are mostly not body text and then by a paragraph that begins in lower case.
- **Hyphens**: a word broken across lines keeps its hyphen ("dis-⏎cussed", PDFium's U+FFFE
  marker written as "-"), so a quote is what a PDF viewer's search finds; `text.normalize`
  joins the word for embedding and BM25.

Every character of the derived text knows its page (`Reading.pages`) and, where it was
drawn, its box: `Reading.locate` gives a span's boxes per line, in PDF points from the top
left corner of the page as displayed (its CropBox, its /Rotate applied), as a viewer shows it.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from .base import PageSpan, Reading, Span, Unreadable, max_pages, version_of

READER_VERSION = 4  # this module's own layout rules; part of the extractor's name
HEAD_BAND = 0.12  # the top and bottom fractions of a page where running heads and feet sit
NUMBER_BAND = 0.2  # and where page numbers may sit
BAND_LINES = 3  # lines looked at in each band
REPEAT_SHARE = 0.3  # a line is furniture when its pattern recurs on this share of pages (and at least 2)
PLACE_SHARE = 0.5  # or when it stands apart at the same height on this share of pages (and at least 3)
PLACE_POINTS = 3.0  # running furniture stands within this many points of the same height on every page
APART_SIZES = 2.0  # "apart": this many type sizes of white space between it and the body
FOOTNOTE_SIZE = 0.88  # footnote type is at most this fraction of the body's
GAP_FONT_SIZES = 2.5  # a horizontal gap this many font sizes wide ends a line
COLUMN_CHARS = 20  # lines of a column of text are at least this long (typically): shorter ones are table cells
PARAGRAPH_STEP = 1.5  # a line step this many times the page's usual one starts a paragraph
FULL_LINE = 0.8  # a line this share of its page's typical length, or longer, is full: not a paragraph's last
SAME_SIZE = 0.15  # two sizes within this share of the larger are one type; a change beyond starts a paragraph
ROW_SHARE = 0.5  # lines sharing this much of their height stand in one row (a table's cells): joined by a space
HYPHENS = "-\u00ad\ufffe\x02"  # characters a line may end with when a word breaks across it
_ROMAN_RE = re.compile(r"^[ivxlcdm]+$", re.IGNORECASE)
_DIGITS_RE = re.compile(r"\d+")
_MARKER_RE = re.compile(r"^\s*(?:\d{1,3}|[*†‡§¶])")
_SENTENCE_END_RE = re.compile(r"[.!?:;…。！？][\"'”’)\]]*$")
_RUNS_ON_RE = re.compile(r"[^\W\d_][,\-]?$")  # a line that ends in a word, a comma or a broken word's hyphen
_GOES_ON_RE = re.compile(r"[^\W\d_](?:[^\W\d_]| [^\W\d_])")  # a line that begins with a word ("a set", "through")


@dataclass
class Line:
    """A line of text on a page: its characters and, for those drawn, their boxes as displayed (`boxes`)
    and in the text's own frame (`frames`: the page turned so that its text runs left to right, top down)."""

    page: int
    text: list[str] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float] | None] = field(default_factory=list)
    frames: list[tuple[float, float, float, float] | None] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)

    def add(self, ch: str, box, frame, size: float) -> None:
        self.__dict__.pop("box", None)  # measured again when next asked
        self.__dict__.pop("size", None)
        self.text.append(ch)
        self.boxes.append(box)
        self.frames.append(frame)
        if box is not None:
            self.sizes.append(size)

    def strip(self) -> "Line":
        """The line without white space at either end."""
        first = next((i for i, c in enumerate(self.text) if not c.isspace()), len(self.text))
        last = next((i for i in range(len(self.text) - 1, -1, -1) if not self.text[i].isspace()), -1) + 1
        return Line(self.page, self.text[first:last], self.boxes[first:last], self.frames[first:last], self.sizes)

    @property
    def string(self) -> str:
        return "".join(self.text)

    @cached_property  # asked for tens of times per line by the layout rules
    def box(self) -> tuple[float, float, float, float]:
        """The line's box in the text's frame."""
        drawn = [b for b in self.frames if b is not None]
        return (min(b[0] for b in drawn), min(b[1] for b in drawn), max(b[2] for b in drawn), max(b[3] for b in drawn))

    @cached_property
    def size(self) -> float:
        return statistics.median(self.sizes) if self.sizes else 0.0

    @property
    def drawn(self) -> bool:
        return any(b is not None for b in self.boxes)


class Pdf:
    format = "pdf"
    suffixes = (".pdf",)

    def extractor(self) -> str:
        return f"{version_of('pypdfium2')}; qa pdf {READER_VERSION}"

    def read(self, data: bytes, name: str) -> Reading:
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            message = str(exc)
            if "password" in message.lower():
                raise Unreadable("encrypted: it needs a password to open (remove it, for example with qpdf "
                                 "--decrypt --password=…, and add the file again)") from None
            raise Unreadable(f"malformed PDF ({message.rstrip('.')})") from None
        try:
            limit = max_pages(self.format)
            if len(pdf) > limit:
                raise Unreadable(f"too many pages ({len(pdf)}; the limit is {limit}: set QA_MAX_PDF_PAGES to raise it)")
            if len(pdf) == 0:
                raise Unreadable("no pages")
            pages, heights, missing = [], [], {}
            for i in range(len(pdf)):
                try:
                    lines, height = _page_lines(pdf, i)
                except Unreadable as exc:  # a broken page: the others are read, and the gap is said
                    lines, height, missing[i] = [], 0.0, str(exc)
                pages.append(lines)
                heights.append(height)
            if len(missing) == len(pdf):
                raise Unreadable(f"malformed PDF ({missing[0]})" if len(pdf) == 1
                                 else f"malformed PDF (none of its {len(pdf)} pages can be loaded)")
            labels = [_label(pdf, i) for i in range(len(pdf))]
            metadata = _metadata(pdf)
        finally:
            pdf.close()
        _check_readable([ln for page in pages for ln in page], name)
        return _assemble(pages, heights, labels, metadata, self.extractor(), missing)


def _page_lines(pdf, index: int) -> tuple[list[Line], float]:
    """The page's lines, cut at wide gaps, with boxes as displayed and in the text's frame; and the page's
    height in that frame."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    page = None
    try:
        page = pdf[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        if page is not None:
            page.close()
        raise Unreadable(f"page {index + 1} of {len(pdf)} cannot be loaded") from None
    bbox = page.get_bbox()  # the CropBox within the MediaBox, inherited ones included
    to_display, _ = _turned(bbox, page.get_rotation() % 360)
    to_frame, height = _turned(bbox, _text_angle(textpage))
    lines: list[Line] = []
    line = Line(index)
    last_box = None
    try:
        count = textpage.count_chars()
        codes = [raw.FPDFText_GetUnicode(textpage.raw, i) for i in range(count)]
        for i in range(count):
            if i and _pair(codes[i - 1], codes[i]):
                continue  # the second half of a character past the BMP, read with the first
            ch = _char(codes[i], codes[i + 1] if i + 1 < count else 0)
            generated = raw.FPDFText_IsGenerated(textpage.raw, i) == 1
            if ch in "\r\n":
                if ch == "\n" or not generated:
                    lines.append(line)
                    line, last_box = Line(index), None
                continue
            if unicodedata.category(ch) == "Cc" and ch != "\x02":  # control characters (but the hyphen marker): not text
                continue
            if generated or ch.isspace():
                line.add(" " if ch.isspace() or generated else ch, None, None, 0.0)
                continue
            charbox = textpage.get_charbox(i)
            box = to_frame(charbox)
            size = raw.FPDFText_GetFontSize(textpage.raw, i)
            if last_box is not None and _jumps(last_box, box, size):
                lines.append(line)
                line = Line(index)
            line.add("-" if ch in "\ufffe\x02" else ch, to_display(charbox), box, size)
            last_box = box
        lines.append(line)
    finally:
        textpage.close()
        page.close()
    return [s for s in (ln.strip() for ln in lines) if s.text and s.drawn], height


def _char(code: int, following: int = 0) -> str:
    """The character PDFium gives for a code point. A character past the BMP comes as a UTF-16 surrogate
    pair, this code and the `following` one; U+FFFD for none, a lone surrogate, or a value past Unicode (a
    broken font map can give any 32-bit number)."""
    if _pair(code, following):
        return chr(0x10000 + ((code - 0xD800) << 10) + (following - 0xDC00))
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def _pair(high: int, low: int) -> bool:
    return 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF


def _jumps(last, box, size: float) -> bool:
    """Whether `box` starts a new line after `last`: far to the right, back to the left, or on another baseline."""
    height = max(size, last[3] - last[1], 1.0)
    if abs((box[1] + box[3]) - (last[1] + last[3])) / 2 > 0.7 * height:
        return True
    return box[0] - last[2] > GAP_FONT_SIZES * max(size, 1.0) or box[2] < last[0] - height


def _text_angle(textpage) -> int:
    """The direction most of a page's text runs in, in page space: 0, 90, 180 or 270 degrees counterclockwise."""
    import pypdfium2.raw as raw

    votes = [0, 0, 0, 0]
    for i in range(0, textpage.count_chars(), max(1, textpage.count_chars() // 400)):
        angle = raw.FPDFText_GetCharAngle(textpage.raw, i)
        if angle >= 0:
            votes[round(angle / (math.pi / 2)) % 4] += 1
    return 90 * votes.index(max(votes))


def _turned(bbox, degrees: int):
    """A function from a PDFium character box (page space: points, origin bottom left of user space) to
    the box on the page `bbox` turned clockwise by `degrees` (0, 90, 180 or 270), in points from its top
    left corner; and the turned page's height.

    Turned by its /Rotate, that is the page as a viewer displays it. Turned by the angle its text runs
    at (counterclockwise in page space), it is the text's own frame: lines left to right, top down.
    """
    left, bottom, right, top = bbox

    def point(x: float, y: float) -> tuple[float, float]:
        if degrees == 90:
            return y - bottom, x - left
        if degrees == 180:
            return right - x, y - bottom
        if degrees == 270:
            return top - y, right - x
        return x - left, top - y

    def convert(box) -> tuple[float, float, float, float]:
        (ax, ay), (bx, by) = point(box[0], box[1]), point(box[2], box[3])
        return (round(min(ax, bx), 2), round(min(ay, by), 2), round(max(ax, bx), 2), round(max(ay, by), 2))

    return convert, (right - left if degrees in (90, 270) else top - bottom)


def _label(pdf, index: int) -> str | None:
    try:
        label = pdf.get_page_label(index)
    except Exception:  # no labels, or a malformed /PageLabels tree: physical numbers only
        return None
    return label or None


def _metadata(pdf) -> dict:
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    except Exception:
        return {}
    out = {}
    if info.get("Title", "").strip():
        out["title"] = " ".join(info["Title"].split())
    if info.get("Author", "").strip():
        out["publisher"] = " ".join(info["Author"].split())
    m = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", info.get("CreationDate", ""))
    if m and 1 <= int(m[2]) <= 12 and 1 <= int(m[3]) <= 31:
        out["date"] = f"{m[1]}-{m[2]}-{m[3]}"
    return out


def _check_readable(lines: list[Line], name: str) -> None:
    """Raise `Unreadable` for a text layer that is absent or is not text a reader could search."""
    chars = [c for ln in lines for c in ln.text if not c.isspace()]
    if len(chars) < 20:
        raise Unreadable(f"almost no text ({len(chars)} characters: a scanned PDF? text is not recognised from images)")
    bad = sum(1 for c in chars if unicodedata.category(c) in ("Co", "Cc", "Cn") or c == "\ufffd")
    if bad > 0.2 * len(chars):
        raise Unreadable(f"the text layer is not readable text ({bad} of {len(chars)} characters are private-use "
                         "glyphs or unmapped: a broken ToUnicode map)")
    spaced = [w for ln in lines for w in ln.string.split() if any(_alphabetic(c) for c in w)]
    letters = sum(sum(1 for c in w if _alphabetic(c)) for w in spaced)
    if spaced and letters > 200 and letters / len(spaced) > 25:
        raise Unreadable(f"the text layer has no spaces between words ({letters / len(spaced):.0f} letters a word)")


def _alphabetic(c: str) -> bool:
    """A letter of a script that puts spaces between words (Latin, Greek, Cyrillic, ...)."""
    return c.isalpha() and ord(c) < 0x0590


def _furniture(pages: list[list[Line]], heights: list[float]) -> dict[tuple[int, int], str]:
    """(page, line number) of every running head, running foot and page number, with its reason.

    Among the top and bottom lines of each page, a line is furniture when, on enough pages
    (`REPEAT_SHARE`, and at least 2):
    - its text recurs at about the same height, digits taken as one sign (a running head or foot);
    - or, on most pages (`PLACE_SHARE`, and at least 3), a line stands at the same height, set apart
      from the body by twice its type size (a running head whose text changes: a section title);
    - or, a little further from the edge, it is a number alone, the one nearest the edge (a page number;
      a number in a table's last row above it stays body).
    Furniture never takes a page's last line of body.
    """
    needed = max(2, math.ceil(REPEAT_SHARE * len(pages)))
    placed = max(3, math.ceil(PLACE_SHARE * len(pages)))  # a head known by its place alone: most pages
    candidates = []  # page, line, band, pattern, height, in the narrow band, set apart
    for p, lines in enumerate(pages):
        order = sorted(range(len(lines)), key=lambda i: lines[i].box[1])
        for band, picked in (("head", order[:BAND_LINES]), ("foot", order[::-1][:BAND_LINES])):
            for k, i in enumerate(picked):
                box = lines[i].box
                depth = box[1] if band == "head" else heights[p] - box[3]
                if depth > NUMBER_BAND * heights[p]:
                    continue
                rest = [lines[j].box for j in order if j not in picked[: k + 1]]
                gap = min((b[1] - box[3] if band == "head" else box[1] - b[3] for b in rest
                           if (b[1] >= box[3] if band == "head" else b[3] <= box[1])), default=0.0)
                candidates.append((p, i, band, _pattern(lines[i].string), depth,
                                   depth <= HEAD_BAND * heights[p], gap >= APART_SIZES * max(lines[i].size, 1.0)))
    texts: dict[tuple, list[tuple[int, float]]] = {}  # (band, pattern) -> (page, depth) of its lines
    places: dict[tuple, set[int]] = {}
    for p, _, band, pattern, at, narrow, apart in candidates:
        texts.setdefault((band, pattern), []).append((p, at))
        if narrow and apart:
            places.setdefault((band, round(at / 2)), set()).add(p)

    def recurs(band: str, pattern: str, at: float) -> int:
        """Pages where the pattern stands at about this height (running furniture keeps its place)."""
        return len({q for q, d in texts[(band, pattern)] if abs(d - at) <= PLACE_POINTS})

    nearest = {}  # (page, band) -> the depth of its number nearest the edge: a page has one page number there
    for p, _, band, pattern, at, *_ in candidates:
        if pattern == "#":
            nearest[(p, band)] = min(at, nearest.get((p, band), at))
    out = {}
    for p, i, band, pattern, at, narrow, apart in candidates:
        if pattern == "#" and len({q for q, _ in texts[(band, pattern)]}) >= needed and at == nearest[(p, band)]:
            out[(p, i)] = "page number"
        elif narrow and (recurs(band, pattern, at) >= needed
                         or (apart and len(places.get((band, round(at / 2)), ())) >= placed)):
            out[(p, i)] = f"running {band}"
    for p, lines in enumerate(pages):  # a page that would be all furniture keeps its lines as body
        if lines and all((p, i) in out for i in range(len(lines))):
            for i in range(len(lines)):
                out.pop((p, i))
    return out


def _pattern(text: str) -> str:
    """A line's text with every number as "#" (and a lone roman numeral, a page number, as "#")."""
    words = text.lower().split()
    if len(words) == 1 and _ROMAN_RE.match(words[0].strip(".-–—()[]")):
        return "#"
    key = _DIGITS_RE.sub("#", " ".join(words))
    stripped = key.strip(" .-–—()[]|/")
    if stripped in ("#", "# / #", "# of #") or (key.replace("#", "").strip(" .-–—()[]|/") == "" and "#" in key):
        return "#"
    return key


def _footnotes(lines: list[Line]) -> set[int]:
    """Line numbers of the notes at the foot of a page or of one of its columns: the bottom lines of the
    column in a smaller type than the page's body, none of them in a row of body text (a subscript).
    They are notes from the first that begins with a marker, or all of them when white space of
    `APART_SIZES` body sizes sets them apart from the text above (a paper's copyright block at the foot
    of its first column)."""
    if len(lines) < 3:
        return set()
    body = _body_size(lines)
    boxes = [ln.box for ln in lines]
    small = {i for i, ln in enumerate(lines) if ln.size and ln.size <= FOOTNOTE_SIZE * body}
    notes: set[int] = set()
    for region in _foot_regions(lines, list(range(len(lines)))):
        block: list[int] = []
        for i in sorted(region, key=lambda i: boxes[i][1], reverse=True):
            if i not in small or any(j not in small and _same_row(boxes[i], boxes[j]) for j in region):
                break
            block.append(i)
        if not block:
            continue
        top = boxes[block[-1]]
        above = [boxes[j][3] for j in range(len(lines)) if j not in block and boxes[j][3] <= top[1]
                 and min(boxes[j][2], top[2]) > max(boxes[j][0], top[0])]
        if not (above and top[1] - max(above) >= APART_SIZES * body):
            while block and not _MARKER_RE.match(lines[block[-1]].string):
                block.pop()  # the topmost footnote line starts with its marker
        notes.update(block)
    return notes if len(notes) < len(lines) else set()


def _foot_regions(lines: list[Line], indices: list[int]) -> list[list[int]]:
    """The parts of the page that end a column, as the reading order cuts it: each column's last band."""
    columns, bands = _cut(lines, indices)
    if columns:
        return [region for column in columns for region in _foot_regions(lines, column)]
    return _foot_regions(lines, bands[-1]) if bands else [indices]


def _reading_order(lines: list[Line], indices: list[int]) -> list[int]:
    """`indices` in reading order: a recursive XY cut of their boxes (columns left to right, bands top down)."""
    columns, bands = _cut(lines, indices)
    if columns or bands:
        return [i for part in columns or bands for i in _reading_order(lines, part)]
    boxes = {i: lines[i].box for i in indices}
    return [i for row in _rows(indices, boxes) for i in sorted(row, key=lambda i: boxes[i][0])]


def _cut(lines: list[Line], indices: list[int]) -> tuple[list[list[int]], list[list[int]]]:
    """One step of the XY cut: `indices` split at their widest vertical gap into two columns of text, or
    else at horizontal gaps into bands, top down; ([], []) where neither cut applies. Two sides that are a
    table's cells or a contents page's numbers are not columns: those read row by row."""
    if len(indices) <= 1:
        return [], []
    boxes = {i: lines[i].box for i in indices}
    size = statistics.median(lines[i].size or (boxes[i][3] - boxes[i][1]) for i in indices)
    cut = _widest_gap([(boxes[i][0], boxes[i][2]) for i in indices], min_gap=0.8 * size)
    if cut is not None:
        left = [i for i in indices if boxes[i][2] <= cut]
        right = [i for i in indices if boxes[i][2] > cut]
        if left and right and min(_typical_length(lines, left), _typical_length(lines, right)) >= COLUMN_CHARS:
            return [left, right], []
    bands = _bands(indices, boxes, min_gap=1.2 * size)
    return [], (bands if len(bands) > 1 else [])


def _rows(indices: list[int], boxes: dict) -> list[list[int]]:
    """`indices` grouped top down into rows: lines that share most of their height (a table's cells, whose
    boxes differ by their letters' descenders)."""
    rows: list[list[int]] = []
    for i in sorted(indices, key=lambda i: (boxes[i][1] + boxes[i][3]) / 2):
        if rows and _same_row(boxes[rows[-1][0]], boxes[i]):
            rows[-1].append(i)
        else:
            rows.append([i])
    return rows


def _same_row(a, b) -> bool:
    """Whether two line boxes share at least half the height of the shorter one."""
    shared = min(a[3], b[3]) - max(a[1], b[1])
    return shared >= ROW_SHARE * min(a[3] - a[1], b[3] - b[1])


def _typical_length(lines: list[Line], indices: list[int]) -> int:
    """The length of the line that holds the middle character of `indices`' text: the median weighted by
    length, so a column's figure labels and code, many but short, do not make it look like a table."""
    return _of_middle_character([(len(lines[i].text), lines[i]) for i in indices], 0)


def _of_middle_character(values: list[tuple[float, Line]], default):
    """Of (value, line) pairs, the value of the line that holds the middle character of their text (the
    median weighted by each line's length)."""
    ordered = sorted(values, key=lambda v: v[0])
    half, seen = sum(len(line.text) for _, line in ordered) / 2, 0
    for value, line in ordered:
        seen += len(line.text)
        if seen >= half:
            return value
    return default


def _widest_gap(intervals: list[tuple[float, float]], *, min_gap: float) -> float | None:
    """The middle of the widest gap between the union of `intervals`, if one is at least `min_gap`."""
    best, where = min_gap, None
    intervals = sorted(intervals)
    reach = intervals[0][1]
    for start, end in intervals[1:]:
        if start - reach >= best:
            best, where = start - reach, (start + reach) / 2
        reach = max(reach, end)
    return where


def _bands(indices: list[int], boxes: dict, *, min_gap: float) -> list[list[int]]:
    """`indices` split top down at horizontal gaps at least `min_gap` tall."""
    order = sorted(indices, key=lambda i: boxes[i][1])
    bands, reach = [[order[0]]], boxes[order[0]][3]
    for i in order[1:]:
        if boxes[i][1] - reach >= min_gap:
            bands.append([])
        bands[-1].append(i)
        reach = max(reach, boxes[i][3])
    return bands


class _Builder:
    """The derived text, written piece by piece, with the page, line and box of every character."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.page: list[int] = []
        self.line: list[int] = []
        self.boxes: list = []
        self.lines = 0

    def separator(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)
        self.page.extend([-1] * len(text))
        self.line.extend([-1] * len(text))
        self.boxes.extend([None] * len(text))

    def add(self, line: Line) -> tuple[int, int]:
        start = self.length
        self.parts.append(line.string)
        self.length += len(line.text)
        self.page.extend([line.page] * len(line.text))
        self.line.extend([self.lines] * len(line.text))
        self.boxes.extend(line.boxes)
        self.lines += 1
        return start, self.length


def _assemble(pages: list[list[Line]], heights: list[float], labels: list[str | None], metadata: dict,
              extractor: str, missing: dict[int, str] | None = None) -> Reading:
    """The derived text of the pages' lines; `missing`: pages (0-based) that could not be loaded, with why
    (no text runs across one)."""
    missing = missing or {}
    furniture = _furniture(pages, heights)
    out = _Builder()
    spans: list[PageSpan] = []
    tail: list[tuple[int, list[Line], list[tuple[Line, str]]]] = []  # per page: notes, furniture
    flow: list[_Flowing] = []
    for p, lines in enumerate(pages):
        kept = [i for i in range(len(lines)) if (p, i) not in furniture]
        notes = _footnotes([lines[i] for i in kept])
        body = [kept[j] for j in range(len(kept)) if j not in notes]
        note_lines = [lines[i] for i in _reading_order(lines, [kept[j] for j in notes])]
        tail.append((p, note_lines, [(lines[i], furniture[(p, i)]) for i in sorted(
            (i for i in range(len(lines)) if (p, i) in furniture), key=lambda i: lines[i].box[1])]))
        order = _reading_order(lines, body)
        step, typical = _usual_step([lines[i] for i in order]), _typical_length(lines, order)
        flow.extend(_Flowing(lines[i], step, typical) for i in order)
    previous: Line | None = None
    page_start = None
    for item in _floats_moved(flow):
        line = item.line
        if previous is not None and line.page != previous.page and page_start is not None:
            spans.append(PageSpan(previous.page + 1, labels[previous.page], page_start, out.length))
            page_start = None
        if previous is not None:
            gap = item.apart or any(q in missing for q in range(previous.page + 1, line.page))
            out.separator("\n\n" if gap else _join(previous, line, item.step))
        start, _ = out.add(line)
        page_start = start if page_start is None else page_start
        previous = line
    if previous is not None and page_start is not None:
        spans.append(PageSpan(previous.page + 1, labels[previous.page], page_start, out.length))
    excluded: list[Span] = []
    for p, note_lines, furniture_lines in tail:
        first = None
        step = _usual_step(note_lines)
        for lines, kind in ((note_lines, None), ([ln for ln, _ in furniture_lines], "furniture")):
            for k, line in enumerate(lines):
                # A note's lines are joined as the body's are, but each note (a marker after a sentence's end, or
                # the next column's notes) is a paragraph; each running head or foot stands alone.
                out.separator(_join_note(lines[k - 1], line, step) if k and not kind else "\n\n" if out.length else "")
                start, end = out.add(line)
                first = start if first is None else first
                if kind:
                    excluded.append(Span(start, end, furniture_lines[k][1]))
        if first is not None:
            spans.append(PageSpan(p + 1, labels[p], first, out.length))
    text = "".join(out.parts)
    page_of = np.asarray(out.page, np.int32)
    line_of = np.asarray(out.line, np.int32)
    boxes = np.asarray([b if b is not None else (np.nan,) * 4 for b in out.boxes], np.float32).reshape(-1, 4)
    return Reading(text, "pdf", extractor, tuple(sorted(excluded, key=lambda s: s.start)), tuple(spans), metadata,
                   locate=lambda start, end: locate(page_of, line_of, boxes, labels, start, end),
                   notes=tuple(f"{why}: left out" for _, why in sorted(missing.items())))


@dataclass(frozen=True)
class _Flowing:
    """A body line in the order the text is written: its page's usual step and body size (`_usual_step`) and
    typical line length; `apart`: a paragraph of its own begins with it (a moved figure, and what follows)."""

    line: Line
    step: tuple[float, float]
    typical: int
    apart: bool = False


def _floats_moved(flow: list[_Flowing]) -> list[_Flowing]:
    """`flow` with each figure or table that stands between the two halves of a sentence moved after the
    line that ends the sentence (`_float_at`), as its own paragraphs."""
    flow = list(flow)
    k = 1
    while k < len(flow):
        found = _float_at(flow, k)
        if found is None:
            k += 1
            continue
        m, n = found
        block = [replace(flow[k], apart=True), *flow[k + 1 : m]]
        after = [replace(flow[n], apart=True), *flow[n + 1 :]] if n < len(flow) else []
        flow = flow[:k] + flow[m:n] + block + after
        k += n - m + len(block)
    return flow


def _float_at(flow: list[_Flowing], k: int) -> tuple[int, int] | None:
    """Where `flow[k]` begins a column or page inside a sentence that goes on below a float: the indices m
    and n such that `flow[k:m]` is the float (a figure's labels and caption, a table) and `flow[m:n]` the
    lines that end the sentence; None where it does not.

    The line before k runs on (a full line of body text that ends in a word in lower case, or a comma or
    hyphen after one) and line k does not go on with it (`_goes_on`); further down the same column, a
    paragraph that goes on with it begins with a full line or one that ends a sentence, and fewer than half
    the lines between are full lines of body text. The float moves after the first line from there that
    ends a sentence or the paragraph, on the same page: as near its place as it can stand without cutting
    a sentence."""
    previous, first = flow[k - 1], flow[k].line
    new_column = first.page != previous.line.page or _goes_up(previous.line, first)
    runs_on = _RUNS_ON_RE.search(previous.line.string)
    if (not new_column or not runs_on or not runs_on[0][0].islower() or not _full_body(previous)
            or _goes_on(first, previous.line)):
        return None
    for m in range(k + 1, len(flow)):
        line, above = flow[m].line, flow[m - 1].line
        if line.page != first.page or _goes_up(above, line):
            return None  # the column ends with no sentence going on in it
        if (_goes_on(line, previous.line) and _join(above, line, flow[m].step) == "\n\n"
                and (_full_body(flow[m]) or _SENTENCE_END_RE.search(line.string))):
            break  # prose: a full line, or one that ends the sentence (not a table's cell)
    else:
        return None
    if 2 * sum(_full_body(item) for item in flow[k:m]) >= m - k:
        return None  # body text, not a float
    for n in range(m, len(flow)):
        if flow[n].line.page != first.page:
            return None  # no sentence ends on this page: the float would stand inside one wherever it went
        if _SENTENCE_END_RE.search(flow[n].line.string) or (
                n + 1 < len(flow) and _join(flow[n].line, flow[n + 1].line, flow[n + 1].step) == "\n\n"):
            return m, n + 1
    return m, len(flow)


def _goes_up(previous: Line, line: Line) -> bool:
    """Whether `line` stands higher on the page than `previous`, not in its row: the next column begins."""
    return line.box[1] < previous.box[1] and not _same_row(previous.box, line.box)


def _goes_on(line: Line, previous: Line) -> bool:
    """Whether `line` may go on with the sentence `previous` leaves unended: it begins with a word in lower case
    (not a formula's letter, an item's "d)"), in the same type (not a figure's label)."""
    return line.string[:1].islower() and bool(_GOES_ON_RE.match(line.string)) and _same_size(line.size, previous.size)


def _full_body(item: _Flowing) -> bool:
    """Whether a line is a full line of its page's body text (not a paragraph's last line, a label, a caption in
    smaller type)."""
    return len(item.line.text) >= FULL_LINE * item.typical and _same_size(item.line.size, item.step[1])


def _same_size(a: float, b: float) -> bool:
    """Whether two type sizes are one type (within `SAME_SIZE` of the larger)."""
    return bool(a and b) and abs(a - b) <= SAME_SIZE * max(a, b)


def _usual_step(lines: list[Line]) -> tuple[float, float]:
    """The usual distance from one line's top to the next's on a page, and the page's body size, for
    paragraph breaks."""
    steps = [b.box[1] - a.box[1] for a, b in zip(lines, lines[1:])
             if 0 < b.box[1] - a.box[1] and not _same_row(a.box, b.box)]
    return (statistics.median(steps) if steps else 0.0), _body_size(lines)


def _body_size(lines: list[Line]) -> float:
    """The type size of the page's middle character (a formula's many short sub- and superscripts weigh
    little)."""
    return _of_middle_character([(ln.size, ln) for ln in lines if ln.size], 0.0)


def _join(previous: Line, line: Line, step: tuple[float, float]) -> str:
    """" " between the cells of a row, "\n" within a paragraph, "\n\n" between paragraphs: a wider step than
    usual (between two lines in type larger than the body's, as much wider as the type: a title's lines),
    or a change of type size."""
    if previous.page == line.page and _same_row(previous.box, line.box):
        return " "
    if previous.size and line.size and not _same_size(previous.size, line.size):
        return "\n\n"
    usual, body = step
    if previous.page == line.page:
        gap = line.box[1] - previous.box[1]
        if usual and gap > PARAGRAPH_STEP * usual * max(1.0, min(previous.size, line.size) / body if body else 1.0):
            return "\n\n"
        return "\n"
    return "\n"


def _join_note(previous: Line, line: Line, step: tuple[float, float]) -> str:
    """As `_join`, but a line that goes back up (the next column's notes), or one that begins with a marker
    after a line that ends a sentence, starts a note of its own."""
    if _goes_up(previous, line):
        return "\n\n"
    if _MARKER_RE.match(line.string) and _SENTENCE_END_RE.search(previous.string.rstrip()):
        return "\n\n"
    return _join(previous, line, step)


def locate(page_of: np.ndarray, line_of: np.ndarray, boxes: np.ndarray, labels: list[str | None],
           start: int, end: int) -> dict:
    """The pages of `text[start:end]` and its boxes, one per line it covers (display points)."""
    pages = sorted({int(p) for p in page_of[start:end] if p >= 0})
    out: dict = {"page": pages[0] + 1 if pages else None,
                 "page_label": labels[pages[0]] if pages else None,
                 "pages": [p + 1 for p in pages], "boxes": []}
    drawn = np.flatnonzero(~np.isnan(boxes[start:end, 0])) + start
    if not len(drawn):
        return out
    for line in dict.fromkeys(line_of[drawn].tolist()):
        rows = drawn[line_of[drawn] == line]
        b = boxes[rows]
        out["boxes"].append({"page": int(page_of[rows[0]]) + 1, "x0": round(float(b[:, 0].min()), 1),
                             "y0": round(float(b[:, 1].min()), 1), "x1": round(float(b[:, 2].max()), 1),
                             "y1": round(float(b[:, 3].max()), 1)})
    return out


def render_page(data: bytes, page: int, scale: float) -> tuple[bytes, float, float]:
    """Page `page` (1-based) of the PDF in `data` as a PNG image, as a viewer displays it (CropBox, /Rotate),
    `scale` pixels a point; and the page's displayed width and height in points (the boxes' frame)."""
    import io

    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        if not 1 <= page <= len(pdf):
            raise Unreadable(f"no page {page} (the PDF has {len(pdf)})")
        p = pdf[page - 1]
        left, bottom, right, top = p.get_bbox()
        turned = p.get_rotation() % 180 == 90
        width, height = (top - bottom, right - left) if turned else (right - left, top - bottom)
        image = p.render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        p.close()
    finally:
        pdf.close()
    return out.getvalue(), width, height
