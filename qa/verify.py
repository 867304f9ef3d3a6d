"""Check an export against the source files as they are now: does every quote still hold?

For each quote: the file must exist, its bytes must still have the recorded SHA-256,
and the recorded offsets must still give the quoted text (in code points, and in
UTF-8 bytes). A quote whose file is gone is *vanished*, or *moved* when a file with
the same bytes is found under another name; one whose file has other bytes is
*changed* (the report says where the quoted text is now, if it is still there).

A quote of a PDF, web page or Word file indexes the text derived from the file, so
that text is derived again, with the extractor installed now: one whose name, version
or derived text (by SHA-256) differs from the export's is *extractor* (an upgrade that
shifted the text is reported, not silently wrong), and the offsets are checked in it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .ingest.documents import source_files
from .ingest.formats import Reading, Unreadable
from .ingest.formats import read as read_document


@dataclass(frozen=True)
class Problem:
    """A quote that no longer holds, and why."""

    kind: str  # "changed", "moved", "vanished", "offsets"
    source: str
    n: int
    question: str
    detail: str

    def describe(self) -> str:
        return f"{self.kind}: {self.source} (quote [{self.n}] of “{self.question}”): {self.detail}"


def verify(records: list[dict], seeds: str | Path) -> tuple[int, list[Problem]]:
    """Check every quote of export records against the files in `seeds`.

    Returns:
        How many quotes were checked, and the problems found (empty when all hold).
    """
    root = Path(seeds)
    by_hash: dict[str, list[str]] | None = None
    checked, problems = 0, []
    cache: dict[str, bytes | None] = {}
    readings: dict[str, Reading | str] = {}
    for r in records:
        for q in r.get("quotes", []):
            checked += 1
            source, n, question = q["source"], q["n"], r["question"]
            if source not in cache:
                path = root / source
                cache[source] = path.read_bytes() if path.is_file() else None
            data = cache[source]
            if data is None:
                if by_hash is None:
                    by_hash = {}
                    for p in source_files(root):
                        by_hash.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), []).append(
                            p.relative_to(root).as_posix())
                elsewhere = by_hash.get(q["source_sha256"])
                if elsewhere:
                    problems.append(Problem("moved", source, n, question, f"the same file is now {', '.join(elsewhere)}"))
                else:
                    problems.append(Problem("vanished", source, n, question, f"no file {source} in {root}"))
                continue
            text, raw = data.decode("utf-8", errors="replace"), data
            if hashlib.sha256(data).hexdigest() != q["source_sha256"]:
                where = text.find(q["text"])
                now = f"the quoted text is now at {where}-{where + len(q['text'])}" if where >= 0 else \
                    "the quoted text is no longer in it"
                problems.append(Problem("changed", source, n, question, f"the file's bytes changed; {now}"))
                continue
            if q.get("format", "text") != "text":
                if source not in readings:
                    try:
                        readings[source] = read_document(source, data)
                    except Unreadable as exc:
                        readings[source] = str(exc)
                reading = readings[source]
                problem = _derivation(reading, q)
                if problem:
                    problems.append(Problem("extractor", source, n, question, problem))
                    continue
                text = reading.text
                raw = text.encode("utf-8")
            start_byte, end_byte = q.get("start_byte"), q.get("end_byte")
            if text[q["start"] : q["end"]] != q["text"] or (
                    start_byte is not None and raw[start_byte:end_byte].decode("utf-8", errors="replace") != q["text"]):
                problems.append(Problem("offsets", source, n, question, "the offsets do not give the quoted text"))
    return checked, problems


def _derivation(reading: Reading | str, q: dict) -> str | None:
    """Why the text derived from the file now is not the one the quote indexes, or None."""
    if isinstance(reading, str):
        return f"the file cannot be read now ({reading})"
    if reading.extractor != q.get("extractor"):
        return (f"the extractor changed: the export's text was derived by {q.get('extractor')!r}, "
                f"the installed one is {reading.extractor!r}")
    if reading.sha256 != q.get("derived_sha256"):
        return "the text derived from the file differs from the export's (same extractor, other text)"
    return None
