"""The gold question set of a sources folder: evidence as verbatim text, not passage ids.

Each line of the JSONL file:
    {"id", "question", "type": "single"|"multi"|"conflict"|"unanswerable",
     "evidence": [{"source": file, "text": exact substring of the file}]}
A passage is relevant to a question when its span overlaps an evidence span, so
the set stays valid whatever the passage settings are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..passages import Passage

TYPES = ("single", "multi", "conflict", "unanswerable")


@dataclass(frozen=True)
class Span:
    source: str
    start: int
    end: int

    def overlaps(self, source: str, start: int, end: int) -> bool:
        return source == self.source and start < self.end and self.start < end


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    type: str
    spans: tuple[Span, ...]

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def load_gold(path: str | Path, seeds: str | Path) -> list[GoldQuestion]:
    """Read a gold file and locate every evidence string in its source file.

    Raises:
        InputError: a line is malformed, or an evidence string is not verbatim in its file.
    """
    out = []
    texts: dict[str, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise InputError(f"cannot read gold file {path}: {exc.strerror}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            qid, question, kind = row["id"], row["question"], row["type"]
            evidence = row.get("evidence", [])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{n}: expected an object with id, question, type ({exc})") from exc
        if kind not in TYPES:
            raise InputError(f"{path}:{n}: type {kind!r} is not one of {', '.join(TYPES)}")
        if (kind == "unanswerable") == bool(evidence):
            raise InputError(f"{path}:{n}: {'unanswerable questions take no' if evidence else 'answerable questions need'} evidence")
        spans = []
        for ev in evidence:
            source = ev["source"]
            if source not in texts:
                try:
                    with open(Path(seeds) / source, encoding="utf-8", newline="") as fh:
                        texts[source] = fh.read()
                except OSError as exc:
                    raise InputError(f"{path}:{n}: evidence source {source!r} cannot be read ({exc.strerror})") from exc
            found = _occurrences(texts[source], ev["text"])
            if not found:
                raise InputError(f"{path}:{n}: evidence is not verbatim in {source}: {ev['text'][:60]!r}")
            spans += [Span(source, s, s + len(ev["text"])) for s in found]
        out.append(GoldQuestion(qid, question, kind, tuple(spans)))
    return out


def passage_qrels(gold: list[GoldQuestion], passages: list[Passage]) -> dict[str, dict[str, int]]:
    """Binary relevance of passages: 1 where a passage overlaps an evidence span."""
    return {
        g.id: {p.id: 1 for p in passages if any(s.overlaps(p.source, p.start, p.end) for s in g.spans)}
        for g in gold
        if g.answerable
    }


def _occurrences(text: str, needle: str) -> list[int]:
    out, pos = [], text.find(needle)
    while pos >= 0:
        out.append(pos)
        pos = text.find(needle, pos + 1)
    return out
