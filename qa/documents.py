"""Source documents: read every `.txt` and `.md` file of a folder, exactly as stored.

A document's `text` is what `open(path, encoding="utf-8", newline="").read()`
returns: no newline translation, no stripping, so every offset computed later
indexes the file as an analyst will open it. Files that are empty, binary or
not UTF-8 are skipped with a warning naming them, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import SourceError

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class Document:
    """One source file and what it says about itself.

    Attributes:
        source: path relative to the sources folder, with `/` separators.
        text: the raw file text.
        sha256: hash of the file's bytes.
        title, publisher, date, url: metadata; None where unknown.
    """

    source: str
    text: str
    sha256: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None

    def info(self) -> "SourceInfo":
        """Metadata without the text, as stored in the index and shown in citations."""
        return SourceInfo(self.source, self.title, self.publisher, self.date, self.url, self.sha256, len(self.text))


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

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Skipped:
    """A file that was not read, and why."""

    source: str
    reason: str
    sha256: str = ""


@dataclass(frozen=True)
class RawFile:
    source: str
    text: str
    sha256: str


def source_files(folder: str | Path) -> list[Path]:
    """All `.txt` and `.md` files below `folder`, in a stable order; hidden paths are ignored."""
    root = Path(folder)
    if not root.is_dir():
        raise SourceError(f"sources folder {str(root)!r} does not exist; pass --seeds DIR or create it")
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def fingerprint(folder: str | Path) -> dict[str, str]:
    """SHA-256 of every source file's bytes, keyed by relative path."""
    root = Path(folder)
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in source_files(root)
    }


def read_sources(folder: str | Path) -> tuple[list[RawFile], list[Skipped]]:
    """Read every source file; return the readable ones and the skipped ones."""
    root = Path(folder)
    files: list[RawFile] = []
    skipped: list[Skipped] = []
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        data = path.read_bytes()
        reason = _unreadable(data)
        if reason is None:
            try:
                text = data.decode("utf-8")  # same as open(encoding="utf-8", newline="").read()
            except UnicodeDecodeError as exc:
                reason = f"not UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r})"
        if reason is not None:
            log.warning("skipping %s: %s", rel, reason)
            skipped.append(Skipped(rel, reason, hashlib.sha256(data).hexdigest()))
            continue
        files.append(RawFile(rel, text, hashlib.sha256(data).hexdigest()))
    return files, skipped


def _unreadable(data: bytes) -> str | None:
    if not data.strip():
        return "empty"
    if b"\x00" in data[:8192]:
        return "binary (contains NUL bytes)"
    return None
