"""Where sources disagree: the same quantity with different values in similar quotes.

Two quotes from different documents disagree when they say much the same thing
(their embeddings are close) and give different values for *the same quantity*:
- counts of the same thing, or of what the same act produced: "12 cooperation
  documents" and "a package of 13 documents" count documents, and "signed 12
  memorandums" and "signed 13 agreements" count what was signed; "75 soldiers"
  and "the bodies of 30 soldiers" do
  not count the same thing (after a partitive "bodies of", the bodies are
  counted; after a container like "a package of", the documents are), nor do
  "16 stations" and "9 stations planned" (a planned figure is not an actual one);
- the day of the same event: two dates of one month in quotes closer still
  (a meeting's date and the report's publication date are two events).
Durations ("40 years"), years and codes ("S-400") are not counts. The thresholds
were checked on hand-written pairs (tests/data/disagreement_pairs.json).
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
_IRREGULAR = "people|men|women|children|police|staff|personnel|troops|crew|cattle|sheep|fish"
COUNT_RE = re.compile(
    r"(?<![\w$€£.,\-/])(?P<value>\d{1,3}(?:,\d{3})+|\d{1,4})\s+"
    rf"(?P<noun>(?:[A-Za-z][\w\-]*\s+){{0,2}}?(?:[A-Za-z][\w\-]*s|{_IRREGULAR}))\b",
    re.IGNORECASE,
)
NOT_COUNTS = re.compile(
    r"\b(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|percent|times|"
    r"kilometers|kilometres|miles|meters|metres|dollars|euros|points)\b",
    re.IGNORECASE,
)
# "a package of 13 documents" counts documents; "the bodies of 30 soldiers" counts bodies.
PARTITIVE_RE = re.compile(r"\b(?P<noun>[A-Za-z]+)\s+of\s+(?:the\s+|some\s+|about\s+|at least\s+|nearly\s+)?$", re.I)
CONTAINERS = frozenset(
    "package set total number group batch series pair couple dozen dozens crowd list range handful host "
    "array bundle round wave".split()
)
MODAL_RE = re.compile(r"\b(?:planned|plans?|expected|expects?|projected|proposed|target(?:ed)?|originally|initially|"
                      r"at first|would|will|could|might|estimated to|forecast)\b", re.I)
SKIP = frozenset("a an the of some about nearly almost around roughly at least more than over under up to "
                 "only just another further total record new".split())
REPORTING = frozenset("said says say told tells reported reports announced announces stated states according "
                      "confirmed estimated".split())
DATE_SIMILARITY = 0.8  # two dates are of one event only in quotes this close (cosine)


@dataclass(frozen=True)
class Fact:
    kind: str  # "count" or "date"
    key: str  # what is compared: the month for dates, the counted thing for counts
    value: str  # normalised value
    text: str  # as written in the quote
    modal: bool = False  # a planned, expected or projected figure
    verb: str = ""  # the word that governs a count ("signed 12 ...", "signed a package of 13 ...")


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
        value = int(m.group("value").replace(",", ""))
        if 1900 <= value <= 2100 and "," not in m.group("value"):
            continue  # a year, not a count
        window = text[max(0, m.start() - 40) : m.end() + 30]
        out.append(Fact("count", counted(text, m.start(), noun), str(value), f"{m.group('value')} {noun}",
                        bool(MODAL_RE.search(window)), governing(text, m.start())))
    return out


def counted(text: str, start: int, noun: str) -> str:
    """What a count counts: the noun after the number, or the noun of a partitive before it."""
    before = PARTITIVE_RE.search(text[max(0, start - 40) : start])
    if before and before.group("noun").lower() not in CONTAINERS:
        return singular(before.group("noun"))
    return singular(noun.split()[-1])


def governing(text: str, start: int) -> str:
    """The word a count hangs on, skipping articles, prepositions, hedges and containers before it
    ("signed a package of 13 documents" -> "signed"); "" for a reporting verb, which says nothing
    about what is counted."""
    words = re.findall(r"[A-Za-z]+", text[max(0, start - 60) : start])
    for w in reversed(words):
        lw = w.lower()
        if lw in SKIP or lw in CONTAINERS:
            continue
        return "" if lw in REPORTING else lw[:6]
    return ""


def singular(word: str) -> str:
    w = word.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def same_quantity(a: Fact, b: Fact, similarity: float) -> bool:
    """Whether two facts of quotes with this cosine similarity state the same quantity."""
    if a.kind != b.kind or a.modal != b.modal:
        return False
    if a.kind == "count":
        return a.key == b.key or bool(a.verb) and a.verb == b.verb
    return a.key == b.key and similarity >= DATE_SIMILARITY


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
                    if a.value != b.value and same_quantity(a, b, float(sims[i, j])):
                        shared_act = a.kind == "count" and a.verb and a.verb == b.verb
                        group = found.setdefault((a.kind, a.verb if shared_act else a.key), {})
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
