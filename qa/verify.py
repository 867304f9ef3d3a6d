"""Check an export against the source files as they are now: does every quote still hold?

For each quote: the file must exist, its bytes must still have the recorded SHA-256,
and the recorded offsets must still give the quoted text (in code points, and in
UTF-8 bytes). A quote whose file is gone is *vanished*, or *moved* when a file with
the same bytes is found under another name; one whose file has other bytes is
*changed* (the report says where the quoted text is now, if it is still there).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .ingest.documents import source_files


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
            text = data.decode("utf-8", errors="replace")
            if hashlib.sha256(data).hexdigest() != q["source_sha256"]:
                where = text.find(q["text"])
                now = f"the quoted text is now at {where}-{where + len(q['text'])}" if where >= 0 else \
                    "the quoted text is no longer in it"
                problems.append(Problem("changed", source, n, question, f"the file's bytes changed; {now}"))
                continue
            start_byte, end_byte = q.get("start_byte"), q.get("end_byte")
            if text[q["start"] : q["end"]] != q["text"] or (
                    start_byte is not None and data[start_byte:end_byte].decode("utf-8", errors="replace") != q["text"]):
                problems.append(Problem("offsets", source, n, question, "the offsets do not give the quoted text"))
    return checked, problems
