"""The gold question set of a sources folder: evidence as verbatim text, not passage ids.

Each line of the JSONL file:
    {"id", "question", "type", "split": "dev"|"test",
     "evidence": [{"source": file, "text": exact substring of the file}],
     "history": [earlier questions of the conversation, oldest first] (optional)}

Types: "single", "multi", "conflict" (the sources disagree), "unanswerable"; in
conversations also "followup" (needs the earlier turns), "standalone" (a later turn
that stands on its own) and "offtopic" (a later turn the sources don't answer).
Settings are chosen on the dev part and reported on the test part.
A passage is relevant to a question when its span overlaps an evidence span, so
the set stays valid whatever the passage settings are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..ingest.passages import Passage

TYPES = ("single", "multi", "conflict", "unanswerable", "followup", "standalone", "offtopic")
UNANSWERABLE = ("unanswerable", "offtopic")
SPLITS = ("dev", "test")


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
    split: str = "test"
    history: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.type not in UNANSWERABLE

    def on_evidence(self, part) -> bool:
        """Whether a quote, candidate sentence or passage (its `source`, `start`, `end`) overlaps the evidence."""
        return any(s.overlaps(part.source, part.start, part.end) for s in self.spans)


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
            split, history = row.get("split", "test"), tuple(row.get("history", []))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{n}: expected an object with id, question, type ({exc})") from exc
        if kind not in TYPES:
            raise InputError(f"{path}:{n}: type {kind!r} is not one of {', '.join(TYPES)}")
        if split not in SPLITS:
            raise InputError(f"{path}:{n}: split {split!r} is not one of {', '.join(SPLITS)}")
        if (kind in UNANSWERABLE) == bool(evidence):
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
        out.append(GoldQuestion(qid, question, kind, tuple(spans), split, history))
    return out


def load_gold_files(paths: list[str | Path], seeds: str | Path, split: str = "all") -> list[GoldQuestion]:
    """Questions of several gold files, of one split ("dev", "test") or all."""
    out = [g for path in paths for g in load_gold(path, seeds)]
    return out if split == "all" else [g for g in out if g.split == split]


def passage_qrels(gold: list[GoldQuestion], passages: list[Passage]) -> dict[str, dict[str, int]]:
    """Binary relevance of passages: 1 where a passage overlaps an evidence span."""
    return {
        g.id: {p.id: 1 for p in passages if g.on_evidence(p)}
        for g in gold
        if g.answerable and not g.history
    }


def _occurrences(text: str, needle: str) -> list[int]:
    out, pos = [], text.find(needle)
    while pos >= 0:
        out.append(pos)
        pos = text.find(needle, pos + 1)
    return out
