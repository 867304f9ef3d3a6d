"""`.txt` and `.md`: the file is the text, exactly as stored (UTF-8, no newline translation)."""

from __future__ import annotations

import codecs

from .base import Reading, Unreadable


class PlainText:
    format = "text"
    suffixes = (".txt", ".md")

    def extractor(self) -> str:
        return ""

    def read(self, data: bytes, name: str) -> Reading:
        reason = _unreadable(data)
        if reason is not None:
            raise Unreadable(reason)
        try:
            text = data.decode("utf-8")  # same as open(encoding="utf-8", newline="").read()
        except UnicodeDecodeError as exc:
            raise Unreadable(f"not UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None
        return Reading(text, self.format)


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
