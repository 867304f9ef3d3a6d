"""Document formats, one reader per file behind the `Reader` protocol, picked by the file's suffix.

    plain  .txt .md     the file itself
    pdf    .pdf         the text layer (pypdfium2), pages and boxes
    html   .html .htm   the article (readability-lxml and trafilatura), byte offsets in the saved page
    docx   .docx        paragraphs, tables and footnotes (python-docx)

Readers import their library when they first read a file, so nothing heavy is imported with this package.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from .base import PageSpan, Reader, Reading, Span, Unreadable, max_bytes, max_pages
from .docx import Docx
from .html import Html
from .pdf import Pdf
from .pdf import render_page as render_pdf_page
from .plain import PlainText

READERS: tuple[Reader, ...] = (PlainText(), Pdf(), Html(), Docx())
BY_SUFFIX: dict[str, Reader] = {suffix: r for r in READERS for suffix in r.suffixes}
SUFFIXES = tuple(BY_SUFFIX)
BY_FORMAT: dict[str, Reader] = {r.format: r for r in READERS}

__all__ = ["BY_FORMAT", "PageSpan", "READERS", "Reader", "Reading", "SUFFIXES", "Span", "Unreadable",
           "max_bytes", "max_pages", "read", "reader_for", "render_pdf_page"]


def reader_for(name: str) -> Reader | None:
    """The reader of the file `name`, by its suffix; None for a format that is not read."""
    return BY_SUFFIX.get(PurePosixPath(name).suffix.lower())


def read(name: str, data: bytes) -> Reading:
    """The file `name`, whose bytes are `data`, as the product reads it.

    Raises:
        Unreadable: with the one-line reason (a format not read, a malformed or encrypted file, ...).
    """
    reader = reader_for(name)
    if reader is None:
        suffix = PurePosixPath(name).suffix.lower() or "a file without an extension"
        raise Unreadable(f"{suffix}: format not supported (read: {', '.join(SUFFIXES)})")
    if not data:
        raise Unreadable("empty (0 bytes)")
    try:
        return reader.read(data, name)
    except Unreadable:
        raise
    except Exception as exc:  # a reader's library failing on a strange file: reported, never fatal
        raise Unreadable(f"cannot be read as {reader.format} ({type(exc).__name__}: {str(exc)[:160]})") from None
