"""How the PDF reader fares on a folder of real PDFs, and what it costs next to raw PDFium.

For every *.pdf below FOLDER: read it with `qa.ingest.formats.read` (timed), record whether it was read
or refused (and why), its pages, characters, excluded spans, pages labelled other than their number,
whether every excluded span and page span lies within the text, in order, and whether the text can be
hashed as the build hashes it (UTF-8). The same file is then
read with plain pypdfium2 (`get_text_range` per page) for the cost of the extraction itself.

    .venv/bin/python eval/pdf_reading.py FOLDER [--json]   # FOLDER: for example py-pdf/sample-files checked out

A refusal that is a wrapped exception ("cannot be read as pdf (TypeError: ...)") is a reader bug, as is
any other exception: both are counted as crashed and printed to stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import pypdfium2 as pdfium

from qa.ingest import formats


@dataclass
class Row:
    file: str
    pages: int = 0
    result: str = "read"  # "read", "refused", "crashed"
    reason: str = ""
    chars: int = 0
    excluded: int = 0
    labelled: int = 0  # pages whose label is not their physical number
    violations: int = 0  # spans outside the text, overlapping or out of order
    seconds: float = 0.0
    raw_seconds: float | None = None  # None where PDFium alone cannot read it either


def span_violations(reading: formats.Reading) -> int:
    """Spans of `reading` (excluded, then pages) not within its text, or not sorted and disjoint."""
    bad = 0
    for spans in (reading.excluded, reading.pages):
        end = 0
        for s in spans:
            bad += not (0 <= s.start <= s.end <= len(reading.text)) or s.start < end
            end = max(end, s.end)
    return bad


def raw_pdfium(data: bytes) -> tuple[int, float | None]:
    """Pages and seconds for plain PDFium text extraction; seconds None when it cannot open the file or
    one of its pages."""
    start = time.perf_counter()
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return 0, None
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            page.get_textpage().get_text_range()
        return len(pdf), time.perf_counter() - start
    except pdfium.PdfiumError:  # a page PDFium cannot load
        return len(pdf), None
    finally:
        pdf.close()


def measure(path: Path, root: Path) -> Row:
    row, data = Row(str(path.relative_to(root))), path.read_bytes()
    start = time.perf_counter()
    try:
        reading = formats.read(path.name, data)
        row.seconds = time.perf_counter() - start
        row.chars, row.excluded = len(reading.text), len(reading.excluded)
        row.labelled = len({p.page for p in reading.pages if p.label is not None and p.label != str(p.page)})
        row.violations = span_violations(reading)
        reading.sha256  # noqa: B018 - the build hashes the text: it must encode (no lone surrogates)
    except formats.Unreadable as exc:
        row.seconds, row.reason = time.perf_counter() - start, str(exc)
        row.result = "crashed" if row.reason.startswith("cannot be read as") else "refused"
    except Exception as exc:  # noqa: BLE001 - formats.read must never raise anything but Unreadable
        row.seconds, row.result, row.reason = time.perf_counter() - start, "crashed", f"{type(exc).__name__}: {exc}"
    row.pages, row.raw_seconds = raw_pdfium(data)
    if row.result == "crashed":
        print(f"!!! CRASH {row.file}: {row.reason}", file=sys.stderr)
    return row


def reason_group(reason: str) -> str:
    return re.split(r"[:(]", reason)[0].strip()


def summary(rows: list[Row]) -> dict:
    read = [r for r in rows if r.result == "read" and r.pages]
    both = [r for r in read if r.raw_seconds]
    pages = sum(r.pages for r in both)
    return {
        "files": len(rows), "read": len(read),
        "refused": dict(Counter(reason_group(r.reason) for r in rows if r.result == "refused")),
        "crashed": sum(r.result == "crashed" for r in rows),
        "pages": sum(r.pages for r in rows), "pages_read": sum(r.pages for r in read), "span_violations": sum(r.violations for r in read),
        "pages_per_s_ours": pages / sum(r.seconds for r in both) if both else 0.0,
        "pages_per_s_raw": pages / sum(r.raw_seconds or 0 for r in both) if both else 0.0,
        "median_ms_per_page_ours": statistics.median(1000 * r.seconds / r.pages for r in both) if both else 0.0,
        "median_ms_per_page_raw": statistics.median(1000 * (r.raw_seconds or 0) / r.pages for r in both) if both else 0.0,
    }


def markdown(rows: list[Row], s: dict) -> str:
    refused = "; ".join(f"{k} ×{v}" for k, v in sorted(s["refused"].items())) or "none"
    out = [("| files | read | refused | crashed | pages (read) | span violations | pages/s ours | pages/s raw PDFium "
           "| median ms/page ours | median ms/page raw |"), "|" + "---:|" * 10,
           (f"| {s['files']} | {s['read']} | {refused} | {s['crashed']} | {s['pages']} ({s['pages_read']}) | {s['span_violations']} "
           f"| {s['pages_per_s_ours']:.1f} | {s['pages_per_s_raw']:.1f} | {s['median_ms_per_page_ours']:.1f} "
           f"| {s['median_ms_per_page_raw']:.2f} |"), "",
           "| file | pages | result | chars | excluded | labelled | violations | s ours | s raw |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        result = r.result if r.result == "read" else f"{r.result}: {r.reason[:90]}"
        raw = f"{r.raw_seconds:.3f}" if r.raw_seconds is not None else "—"
        out.append(f"| {r.file} | {r.pages} | {result} | {r.chars} | {r.excluded} | {r.labelled} | {r.violations} "
                   f"| {r.seconds:.3f} | {raw} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", metavar="FOLDER", type=Path)
    parser.add_argument("--json", action="store_true", help="print the rows and the summary as JSON")
    args = parser.parse_args()
    paths = sorted(args.folder.rglob("*.pdf"), key=lambda p: str(p).lower())
    if paths:
        measure(paths[0], args.folder)  # warm-up: PDFium's first document loads its fonts
    rows = [measure(p, args.folder) for p in paths]
    s = summary(rows)
    print(json.dumps({"summary": s, "files": [asdict(r) for r in rows]}, indent=1) if args.json else markdown(rows, s))
    if s["crashed"]:
        print(f"!!! {s['crashed']} file(s) crashed the reader (see stderr)", file=sys.stderr)


if __name__ == "__main__":
    main()
