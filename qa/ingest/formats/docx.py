"""Word files (`.docx`): paragraphs, tables and footnotes, through python-docx.

The derived text is the body's paragraphs in document order, a table's cells row by row
(each cell's paragraphs), then the footnotes, each paragraph separated from the next by a
blank line. Every paragraph is numbered in that order, and `Reading.locate` gives a span's
paragraph (`paragraph`, 0-based), where in it the span starts and ends (`paragraph_start`,
`paragraph_end`, in characters), and the part of the file it is in (`part`: body, table or
footnote); a span that covers several paragraphs gives the first and `paragraph_last`.
"""

from __future__ import annotations

import io
import zipfile
from bisect import bisect_right

from .base import Reading, Unreadable, version_of

READER_VERSION = 1
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class Docx:
    format = "docx"
    suffixes = (".docx",)

    def extractor(self) -> str:
        return f"{version_of('python-docx')}; qa docx {READER_VERSION}"

    def read(self, data: bytes, name: str) -> Reading:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = docx.Document(io.BytesIO(data))
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise Unreadable(f"not a readable Word file ({type(exc).__name__}: {str(exc)[:120]})") from None
        paragraphs = list(_paragraphs(document))
        kept = [(part, " ".join(text.split())) for part, text in paragraphs]
        kept = [(part, text) for part, text in kept if text]
        if not kept:
            raise Unreadable("no text (an empty document, or only images)")
        starts, parts, pieces, at = [], [], [], 0
        for part, text in kept:
            starts.append(at)
            parts.append(part)
            pieces.append(text)
            at += len(text) + 2
        text = "\n\n".join(pieces)
        props = document.core_properties
        meta = {k: v for k, v in (("title", props.title), ("publisher", props.author),
                                  ("date", props.created.date().isoformat() if props.created else None)) if v}
        return Reading(text, self.format, self.extractor(), metadata=meta,
                       locate=lambda start, end: locate(starts, parts, start, end))


def _paragraphs(document):
    """(part, text) of every paragraph: body paragraphs and table cells in document order, then footnotes."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def cells(table: Table):
        for row in table.rows:
            seen = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell appears once
                    continue
                seen.add(id(cell._tc))
                for block in cell.iter_inner_content():
                    if isinstance(block, Paragraph):
                        yield "table", block.text
                    else:
                        yield from cells(block)

    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield "body", block.text
        else:
            yield from cells(block)
    for part in document.part.package.parts:
        if str(part.partname).endswith("/footnotes.xml"):
            from lxml import etree

            root = etree.fromstring(part.blob)
            for note in root.iter(f"{W}footnote"):
                if note.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                    continue
                for p in note.iter(f"{W}p"):
                    yield "footnote", "".join(t.text or "" for t in p.iter(f"{W}t"))


def locate(starts: list[int], parts: list[str], start: int, end: int) -> dict:
    first = bisect_right(starts, start) - 1
    last = bisect_right(starts, max(start, end - 1)) - 1
    out = {"paragraph": first, "paragraph_start": start - starts[first], "part": parts[first]}
    out["paragraph_end"] = end - starts[last]
    if last != first:
        out["paragraph_last"] = last
    return out
