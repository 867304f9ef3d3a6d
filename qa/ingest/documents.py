"""Source documents: read every `.txt` and `.md` file of a folder, exactly as stored.

A document's `text` is what `open(path, encoding="utf-8", newline="").read()`
returns: no newline translation, no stripping, so every offset computed later
indexes the file as an analyst will open it. No file is left out silently: a file
that is empty, binary, not UTF-8, too large or of a format that is not read is
skipped with its reason, which the build reports, never fatal. Hidden paths (a
name starting with ".") and the folder's `catalog.json` are not documents.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import SourceError

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")  # the formats read; every other file is reported as not supported
CATALOG_NAME = "catalog.json"  # the folder's metadata (`metadata.load_catalog`), not a document
MAX_FILE_BYTES = 10 * 1024 * 1024  # larger files are skipped; QA_MAX_FILE_MB or read_sources(max_bytes=...)


def max_file_bytes() -> int:
    """The size limit per source file: `QA_MAX_FILE_MB` megabytes, 10 by default."""
    value = os.environ.get("QA_MAX_FILE_MB")
    if not value:
        return MAX_FILE_BYTES
    try:
        mb = float(value)
        if mb <= 0:
            raise ValueError
    except ValueError:
        raise SourceError(f"QA_MAX_FILE_MB must be a positive number of megabytes, not {value!r}") from None
    return int(mb * 1024 * 1024)


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
    """SHA-256 of every source file's bytes, keyed by relative path (a file over the size limit,
    which is skipped unread, by its size: `read_sources` records the same).

    Args:
        known: per file, a (size, mtime_ns) pair and the hash recorded with it; a file whose size
            and modification time are still those keeps that hash without being read.
    """
    root = Path(folder)
    limit = max_file_bytes()
    known = known or {}
    out = {}
    for p in all_files(root):
        name = p.relative_to(root).as_posix()
        st = p.stat()
        stat, digest = known.get(name, (None, None))
        if st.st_size > limit:
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
        max_bytes: files larger than this are skipped unread (default: `max_file_bytes()`).
    """
    root = Path(folder)
    limit = max_file_bytes() if max_bytes is None else max_bytes
    files: list[RawFile] = []
    skipped: list[Skipped] = []
    for path in all_files(root):
        item = read_source(root, path.relative_to(root).as_posix(), limit)
        (files if isinstance(item, RawFile) else skipped).append(item)
    return files, skipped


def read_source(root: Path, name: str, limit: int) -> RawFile | Skipped:
    """Read one source file (`name` relative to `root`), or say why it is skipped."""
    path = root / name
    size = path.stat().st_size
    if size > limit:
        reason = (f"too large ({size / 1024 / 1024:.1f} MB; the limit is {limit / 1024 / 1024:.0f} MB: "
                  "set QA_MAX_FILE_MB to raise it)")
        log.warning("skipping %s: %s", name, reason)
        return Skipped(name, reason, _too_large(size))
    if path.suffix.lower() not in SUFFIXES:
        reason = (f"{path.suffix.lower() or 'a file without an extension'}: format not supported "
                  f"(read: {', '.join(SUFFIXES)})")
        log.warning("skipping %s: %s", name, reason)
        return Skipped(name, reason, hashlib.sha256(path.read_bytes()).hexdigest())
    data = path.read_bytes()
    reason = _unreadable(data)
    if reason is None:
        try:
            text = data.decode("utf-8")  # same as open(encoding="utf-8", newline="").read()
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r})"
    if reason is not None:
        log.warning("skipping %s: %s", name, reason)
        return Skipped(name, reason, hashlib.sha256(data).hexdigest())
    return RawFile(name, text, hashlib.sha256(data).hexdigest())


def _unreadable(data: bytes) -> str | None:
    if not data.strip():
        return "empty"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(data[:4096]):
        # Quotes must reproduce from open(..., encoding="utf-8"); a UTF-16 file cannot.
        return "UTF-16: convert to UTF-8 (for example: iconv -f UTF-16 -t UTF-8)"
    if b"\x00" in data[:8192]:
        return "binary (contains NUL bytes)"
    return None


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 text without a byte-order mark: NUL in every other byte of mostly ASCII text."""
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return odd.count(0) > 0.8 * len(odd) or even.count(0) > 0.8 * len(even)
