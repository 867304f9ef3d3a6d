"""What every document format's reader gives: the text a document is read as, and where its parts came from.

A reader turns a file's bytes into a `Reading`. For `.txt` and `.md` the text is the file
itself. For every other format it is a text derived by a pinned extractor, recorded with
its name and version (`Reading.extractor`) and its SHA-256, so that `qa verify` can derive
it again and tell when an upgrade shifted it. Quotes are offsets into this text, and
`Reading.locate` says where such a span lies in the original file: pages and boxes of a PDF,
byte offsets of a web page's source, paragraphs of a Word file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ...errors import SourceError
from ...settings import FORMAT_LIMITS


class Unreadable(Exception):
    """A file that cannot be read as a document; the message is the one-line reason the build reports."""


@dataclass(frozen=True)
class Span:
    """A part of the derived text that is not the body's running text, and why (as `clutter.Exclusion`)."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class PageSpan:
    """Characters `[start, end)` of a PDF's derived text come from physical page `page` (1-based), labelled
    `label` where the PDF defines page labels. A page may have several spans: its body in the running
    text, its notes and furniture after the body."""

    page: int
    label: str | None
    start: int
    end: int

    def to_list(self) -> list:
        return [self.page, self.label, self.start, self.end]


@dataclass(frozen=True)
class Reading:
    """A document as the product reads it.

    Attributes:
        text: the text quotes index (for .txt/.md, the file's text).
        format: "text", "pdf", "html" or "docx".
        extractor: name and version of what derived `text` ("" for .txt/.md).
        excluded: spans of `text` that are not the body (running heads and feet, page numbers),
            in order; they are never quoted.
        pages: for a PDF, the page of every character of `text` but the separators between pages.
        metadata: title, author/publisher, date and url where the file states them.
        locate: where `text[start:end]` lies in the original file, as JSON fields.
        notes: what of the file could not be read while the rest was, one line each ("page 3 of 40 cannot
            be loaded: left out"); the build reports them and keeps them with the document.
    """

    text: str
    format: str
    extractor: str = ""
    excluded: tuple[Span, ...] = ()
    pages: tuple[PageSpan, ...] = ()
    metadata: dict = field(default_factory=dict)
    locate: Callable[[int, int], dict] = field(default=lambda start, end: {}, compare=False, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def derived(self) -> bool:
        """Whether `text` was derived by an extractor (not the file itself)."""
        return self.format != "text"

    @property
    def sha256(self) -> str:
        """SHA-256 of the derived text's UTF-8 bytes."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class Reader(Protocol):
    """One document format: the file suffixes it reads, and how."""

    format: str
    suffixes: tuple[str, ...]

    def extractor(self) -> str:
        """Name and version of the extractor, recorded with every derived text ("" for plain text)."""
        ...

    def read(self, data: bytes, name: str) -> Reading:
        """The document in `data` (the file `name`), or `Unreadable` with the reason."""
        ...


def version_of(package: str) -> str:
    """`package` and its installed version, as an extractor names itself."""
    from importlib.metadata import version

    return f"{package} {version(package)}"


def max_bytes(format: str) -> int:
    """The size limit of a file of `format`, in bytes (`settings.FORMAT_LIMITS`, or its variable)."""
    limit = FORMAT_LIMITS[format]
    return int(_number(limit.megabytes_variable, limit.megabytes) * 1024 * 1024)


def max_pages(format: str) -> int | None:
    """The page limit of a file of `format`, where it has one."""
    limit = FORMAT_LIMITS[format]
    return None if limit.pages is None else int(_number(limit.pages_variable, limit.pages))


def _number(variable: str, default: float) -> float:
    value = os.environ.get(variable)
    if not value:
        return default
    try:
        number = float(value)
        if number <= 0:
            raise ValueError
    except ValueError:
        raise SourceError(f"{variable} must be a positive number, not {value!r}") from None
    return number
