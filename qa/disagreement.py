"""Where sources disagree: the same kind of fact with different values in similar quotes.

Two quotes from different documents disagree when they say much the same thing
(their embeddings are close) but give a different count ("12 memorandums" vs
"13 agreements") or a different day of the same month ("August 19" vs
"August 20"). Durations ("40 years"), years and codes ("S-400") are not counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

MONTHS = (
    "january february march april may june july august september october november december".split()
)
_MONTH_RE = r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
DATE_RE = re.compile(rf"\b{_MONTH_RE}\s+(?P<day>\d{{1,2}})\b(?!\s*(?:%|-))|\b(?P<day2>\d{{1,2}})\s+{_MONTH_RE.replace('month', 'month2')}\b")
COUNT_RE = re.compile(
    r"(?<![\w$€£.,\-/])(?P<value>\d{1,3})\s+(?P<noun>(?:[A-Za-z][\w\-]*\s+){0,2}?[A-Za-z][\w\-]*s)\b",
    re.IGNORECASE,
)
NOT_COUNTS = re.compile(
    r"\b(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|percent|times|"
    r"kilometers|kilometres|miles|meters|metres|dollars|euros|points)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Fact:
    kind: str  # "count" or "date"
    key: str  # what is compared: the month for dates, "count" for counts
    value: str  # normalised value
    text: str  # as written in the quote


@dataclass(frozen=True)
class Disagreement:
    """Quotes that give different values for the same fact."""

    kind: str
    values: tuple[tuple[str, tuple[int, ...]], ...]  # (value as written, quote numbers)

    def describe(self) -> str:
        what = "the number" if self.kind == "count" else "the date"
        parts = [f"{_cite(ns)} {'say' if len(ns) > 1 else 'says'} {value}" for value, ns in self.values]
        return f"The sources differ on {what}: " + "; ".join(parts) + "."

    def to_dict(self) -> dict:
        return {"kind": self.kind, "values": [{"value": v, "quotes": list(ns)} for v, ns in self.values]}


def facts(text: str) -> list[Fact]:
    """Counts and month-day dates stated in a sentence."""
    out = []
    for m in DATE_RE.finditer(text):
        month = (m.group("month") or m.group("month2"))[:3].lower()
        day = int(m.group("day") or m.group("day2"))
        if 1 <= day <= 31:
            out.append(Fact("date", month, str(day), m.group(0)))
    for m in COUNT_RE.finditer(text):
        noun = m.group("noun")
        if NOT_COUNTS.search(noun) or _inside_date(text, m.start()):
            continue
        out.append(Fact("count", "count", str(int(m.group("value"))), f"{m.group('value')} {noun}"))
    return out


def find(texts: list[str], sources: list[str], vectors: np.ndarray, numbers: list[int], *, similarity: float = 0.6) -> list[Disagreement]:
    """Disagreements among quotes.

    Args:
        texts, sources, vectors, numbers: per quote, its text, document, unit
            embedding and citation number.
        similarity: how close two quotes must be to count as saying the same thing.
    """
    found: dict[tuple[str, str], dict[str, dict]] = {}
    per_quote = [facts(t) for t in texts]
    sims = vectors @ vectors.T if len(texts) else np.zeros((0, 0))
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if sources[i] == sources[j] or sims[i, j] < similarity:
                continue
            for a in per_quote[i]:
                for b in per_quote[j]:
                    if a.kind == b.kind and a.key == b.key and a.value != b.value:
                        group = found.setdefault((a.kind, a.key), {})
                        for fact, n in ((a, numbers[i]), (b, numbers[j])):
                            entry = group.setdefault(fact.value, {"text": fact.text, "quotes": set()})
                            entry["quotes"].add(n)
    out = []
    for (kind, _), values in found.items():
        ordered = sorted(values.values(), key=lambda e: min(e["quotes"]))
        out.append(Disagreement(kind, tuple((e["text"], tuple(sorted(e["quotes"]))) for e in ordered)))
    return out


def _inside_date(text: str, pos: int) -> bool:
    before = text[max(0, pos - 12) : pos].lower()
    return any(before.rstrip(" .").endswith(m[:3]) or before.rstrip(" .").endswith(m) for m in MONTHS)


def _cite(numbers: tuple[int, ...]) -> str:
    return ", ".join(f"[{n}]" for n in numbers)
