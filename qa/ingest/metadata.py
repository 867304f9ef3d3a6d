"""Document metadata: what a document states about itself, corrected by an optional catalog.

Rules (each general, none about particular files):
- title: the first non-empty line that is not clutter; a line longer than a
  headline (a first paragraph) gives way to the URL's slug, then the file name;
- url: a line that is only a URL (the last such line wins);
- publisher: a "Publication:" / "Publisher:" line, else the URL's host;
- date: a "Published:" / "Date:" line, a dateline ("MINSK, Aug 20 (Reuters) -"),
  a date-only line among the first lines, else a date in the URL.

The catalog, `catalog.json` in the sources folder, maps a file name to any of
`title`, `publisher`, `date`, `url` and wins over the rules. A file without a
catalog entry works as well.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from urllib.parse import urlparse

from .clutter import Exclusion
from .documents import CATALOG_NAME, Document, RawFile
from .layout import DATE_LINE_RE, META_LINE_RE, URL_LINE_RE, split_lines

log = logging.getLogger(__name__)

FIELDS = ("title", "publisher", "date", "url")
MAX_TITLE_CHARS = 200

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        ["jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november", "dec december"]
    )
    for m in names.split()
}
_M = r"(?P<month>[A-Za-z]{3,9})\.?"
DATE_PATTERNS = [
    re.compile(r"(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})"),
    re.compile(rf"(?P<day>\d{{1,2}})[.\s/-]+{_M}[.\s/-]+(?P<year>\d{{4}})"),
    re.compile(rf"{_M}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})"),
    re.compile(rf"{_M}-(?P<day>\d{{1,2}})-(?P<year>\d{{4}})"),
    re.compile(r"/(?P<year>\d{4})/(?P<mnum>\d{1,2})/(?P<day>\d{1,2})/"),
]
DATELINE_RE = re.compile(
    r"^[A-Z][A-Z .'\-]{1,40},\s+(?P<date>[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s+\d{4})?)\s*(?:\([^)]*\))?\s*[-–—]"
)
PUBLICATION_RE = re.compile(r"^\s*(?:publication|publisher)\s*:\s*(?P<name>.+?)(?:\s+(?:volume|issue|vol\.)\s*:.*)?$", re.I)
PUBLISHED_RE = re.compile(r"^\s*(?:published(?: on)?|date)\s*:\s*(?P<date>.+)$", re.I)


def parse_date(text: str) -> str | None:
    """The first date in `text` as `YYYY-MM-DD`, or None."""
    for pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            parts = m.groupdict()
            month = int(parts["mnum"]) if parts.get("mnum") else MONTHS.get(parts["month"].lower())
            year, day = int(parts["year"]), int(parts["day"])
            if month and 1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2100:
                return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def describe(raw: RawFile, exclusions: list[Exclusion], catalog: dict[str, dict]) -> Document:
    """Build a `Document` with metadata from the text, then the catalog's corrections."""
    lines = [ln for ln in split_lines(raw.text) if not ln.blank]
    skip = [(e.start, e.end) for e in exclusions]

    url = next((ln.text.strip() for ln in reversed(lines) if URL_LINE_RE.match(ln.text)), None)
    publisher = None
    date = None
    for ln in lines:
        m = PUBLICATION_RE.match(ln.text)
        if m and publisher is None:
            publisher = m.group("name").strip()
        m = PUBLISHED_RE.match(ln.text)
        if m and date is None:
            date = parse_date(m.group("date"))
    for ln in lines[:6]:
        if date is None and DATE_LINE_RE.match(ln.text):
            date = parse_date(ln.text)
        m = DATELINE_RE.match(ln.text.strip())
        if date is None and m:
            date = parse_date(m.group("date"))
    if url:
        host = urlparse(url if "://" in url else "http://" + url).hostname or ""
        publisher = publisher or (host.removeprefix("www.") or None)
        date = date or parse_date(url)

    title = None
    for ln in lines:
        stripped = ln.text.strip()
        if any(s <= ln.start + 1 and ln.end - 1 <= e for s, e in skip) or META_LINE_RE.match(stripped):
            continue
        if len(stripped) <= MAX_TITLE_CHARS:
            title = stripped
        break
    if title is None:
        title = _title_from_url(url) or Path(raw.source).stem

    fields = {"title": title, "publisher": publisher, "date": date, "url": url}
    if raw.reading is not None:  # what the file's own structure states (a PDF's Info, a page's <title>, og:*)
        fields.update({k: v for k, v in raw.reading.metadata.items() if k in FIELDS and v})
    fields.update({k: v for k, v in catalog.get(raw.source, {}).items() if k in FIELDS and v})
    return Document(source=raw.source, text=raw.text, sha256=raw.sha256, reading=raw.reading, **fields)


def _title_from_url(url: str | None) -> str | None:
    if not url:
        return None
    slug = urlparse(url if "://" in url else "http://" + url).path.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"\.\w{2,5}$", "", slug)
    words = [w for w in re.split(r"[-_]+", slug) if w]
    if len(words) < 2:
        return None
    return " ".join(w if w.isdigit() else w.capitalize() for w in words)


def load_catalog(folder: str | Path) -> tuple[dict[str, dict], str | None]:
    """Read `catalog.json` from the sources folder.

    Returns:
        The entries by file name, and the SHA-256 of the catalog file (None if absent).
        A catalog that cannot be used is reported and ignored, so a typo never stops a build.
    """
    import hashlib

    path = Path(folder) / CATALOG_NAME
    if not path.is_file():
        return {}, None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        entries = json.loads(data.decode("utf-8"))
        if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
            raise ValueError("expected an object mapping file names to objects")
    except (UnicodeDecodeError, ValueError) as exc:
        log.warning("ignoring %s: %s; fix it or remove it", path, exc)
        return {}, digest
    for name, entry in entries.items():
        unknown = set(entry) - set(FIELDS)
        if unknown:
            log.warning("%s: entry %r has unknown fields %s (known: %s)", path, name, sorted(unknown), ", ".join(FIELDS))
    return entries, digest
