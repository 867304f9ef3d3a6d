"""Source documents: read every file of a folder with its format's reader (`formats`).

A `.txt` or `.md` document's `text` is what `open(path, encoding="utf-8", newline="").read()`
returns: no newline translation, no stripping, so every offset computed later indexes
the file as an analyst will open it. A PDF, web page or Word file is read as the text its
reader derives, recorded with the extractor's name and version and the text's SHA-256.
No file is left out silently: a file that is empty, binary, not UTF-8, malformed,
encrypted, without a text layer, too large for its format or of a format that is not
read is skipped with its one-line reason, which the build reports, never fatal. Hidden paths (a
name starting with ".") and the folder's `catalog.json` are not documents.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import SourceError
from ..settings import FORMAT_LIMITS
from .formats import SUFFIXES, Reading, Unreadable, max_bytes, read, reader_for

log = logging.getLogger(__name__)

CATALOG_NAME = "catalog.json"  # the folder's metadata (`metadata.load_catalog`), not a document


def limit_for(name: str) -> int:
    """The size limit of the file `name`, in bytes, by its format (`settings.FORMAT_LIMITS`); a file of a
    format that is not read is not read at all, so any size is reported as not supported."""
    reader = reader_for(name)
    return max_bytes(reader.format if reader else "text")


@dataclass(frozen=True)
class Document:
    """One source file and what it says about itself.

    Attributes:
        source: path relative to the sources folder, with `/` separators.
        text: the text it is read as (`formats.Reading.text`: for .txt/.md the file's text).
        sha256: hash of the file's bytes.
        title, publisher, date, url: metadata; None where unknown.
        reading: how it was read (format, extractor, pages, excluded furniture).
    """

    source: str
    text: str
    sha256: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    reading: Reading | None = None

    def info(self) -> "SourceInfo":
        """Metadata without the text, as stored in the index and shown in citations."""
        r = self.reading
        derived = r is not None and r.derived
        return SourceInfo(self.source, self.title, self.publisher, self.date, self.url, self.sha256, len(self.text),
                          r.format if r else "text", r.extractor if r else "", r.sha256 if derived else "",
                          [p.to_list() for p in r.pages] if r else [], notes=list(r.notes) if r else [])


@dataclass(frozen=True)
class SourceInfo:
    """What a citation says about a document."""

    source: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    sha256: str = ""
    chars: int = 0
    format: str = "text"  # the reader's (`formats`): text, pdf, html, docx
    extractor: str = ""  # name and version of what derived the text ("" for .txt/.md: the file is the text)
    derived_sha256: str = ""  # SHA-256 of the derived text ("" for .txt/.md)
    pages: list = field(default_factory=list)  # PDF: [page, label, start, end] for every span of the text
    language: str = ""  # ISO 639-1 (`language.detect`); "" when too short to tell
    notes: list = field(default_factory=list)  # what of the file could not be read while the rest was

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict) -> "SourceInfo":
        """A documents table row (which may hold more, such as the derived text) as a SourceInfo."""
        return cls(**{k: v for k, v in row.items() if k in _INFO_FIELDS})

    def page_of(self, start: int, end: int) -> tuple[int | None, str | None]:
        """The first page of characters `[start, end)` and its label (None for a document without pages)."""
        for page, label, a, b in self.pages:
            if a < end and start < b:
                return page, label
        return None, None


@dataclass(frozen=True)
class Skipped:
    """A file that was not read, and why."""

    source: str
    reason: str
    sha256: str = ""


_INFO_FIELDS = frozenset(f.name for f in fields(SourceInfo))


@dataclass(frozen=True)
class RawFile:
    """A file as read: its bytes' hash and the text it is read as."""

    source: str
    text: str
    sha256: str
    reading: Reading | None = None

    @property
    def derived(self) -> bool:
        """Whether its text was derived by an extractor (a PDF, web page or Word file), not the file itself."""
        return self.reading is not None and self.reading.derived


def all_files(folder: str | Path) -> list[Path]:
    """Every file below `folder` a build reads or reports, in a stable order: hidden paths and the
    catalog are left out."""
    root = Path(folder)
    if not root.is_dir():
        raise SourceError(f"sources folder {str(root)!r} does not exist; pass --seeds DIR or create it")
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.relative_to(root).as_posix() != CATALOG_NAME
    )


def source_files(folder: str | Path) -> list[Path]:
    """The files below `folder` of a format that is read (`SUFFIXES`)."""
    return [p for p in all_files(folder) if p.suffix.lower() in SUFFIXES]


def stat_sources(folder: str | Path) -> dict[str, tuple[int, int]]:
    """(size, modification time in ns) of every file a build reads or reports, keyed by relative path."""
    root = Path(folder)
    out = {}
    for p in all_files(root):
        st = p.stat()
        out[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def fingerprint(folder: str | Path, known: dict[str, tuple[tuple, str]] | None = None) -> dict[str, str]:
    """SHA-256 of every source file's bytes, keyed by relative path (a file over its format's size
    limit, which is skipped unread, by its size: `read_sources` records the same).

    Args:
        known: per file, a (size, mtime_ns) pair and the hash recorded with it; a file whose size
            and modification time are still those keeps that hash without being read.
    """
    root = Path(folder)
    known = known or {}
    out = {}
    for p in all_files(root):
        name = p.relative_to(root).as_posix()
        st = p.stat()
        stat, digest = known.get(name, (None, None))
        if st.st_size > limit_for(name):
            out[name] = _too_large(st.st_size)
        elif stat == (st.st_size, st.st_mtime_ns):
            out[name] = digest
        else:
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _too_large(size: int) -> str:
    return f"too-large:{size}"


def read_sources(folder: str | Path, *, max_bytes: int | None = None) -> tuple[list[RawFile], list[Skipped]]:
    """Read every source file; return the readable ones and the skipped ones.

    Args:
        max_bytes: files larger than this are skipped unread (default: each format's limit, `limit_for`).
    """
    root = Path(folder)
    files: list[RawFile] = []
    skipped: list[Skipped] = []
    for path in all_files(root):
        item = read_source(root, path.relative_to(root).as_posix(), max_bytes)
        (files if isinstance(item, RawFile) else skipped).append(item)
    return files, skipped


def read_source(root: Path, name: str, limit: int | None = None) -> RawFile | Skipped:
    """Read one source file (`name` relative to `root`) with its format's reader, or say why it is skipped.

    Args:
        limit: the size limit in bytes (default: its format's, `limit_for`).
    """
    path = root / name
    size = path.stat().st_size
    limit = limit_for(name) if limit is None else limit
    reader = reader_for(name)
    if size > limit and reader is not None:
        variable = FORMAT_LIMITS[reader.format].megabytes_variable
        reason = (f"too large ({size / 1024 / 1024:.1f} MB; the limit for {reader.format} files is "
                  f"{limit / 1024 / 1024:.0f} MB: set {variable} to raise it)")
        log.info("skipping %s: %s", name, reason)
        return Skipped(name, reason, _too_large(size))
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        reading = read(name, data)
    except Unreadable as exc:
        log.info("skipping %s: %s", name, exc)
        return Skipped(name, str(exc), digest)
    return RawFile(name, reading.text, digest, reading)
