"""Follow-up questions, read together with the conversation only where they need it.

There is no generative model to rewrite "When?" into a full question, so a
follow-up is read the way retrieval systems read conversational queries: its
vector moves toward the earlier turns (their questions and the quotes that
answered them, the most recent weighing most), and the earlier turns' terms
and the names in those quotes are added, with a lower weight, to its BM25
query and term overlap.

Context is used only when the question needs it:
- it refers back: a pronoun or a demonstrative ("he", "they", "there", "that");
- it continues: it starts with "and", "but", "what about", "how about";
- it is too short to stand alone (at most one content term: "When?", "Why?");
- or, standing alone, it finds nothing relevant enough and the context does (not
  for a question with words the documents never use: it is about something else).

A question read with context must still hold on by itself, or the context would
answer in its place: the first quote must contain one of the question's own terms,
or (when it has none, as "When?") offer the kind of answer it asks for. An
off-topic question after a conversation therefore still abstains. The weights were
measured on the gold conversations' dev part (README, "Conversations").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

REFERS_BACK = frozenset("he him his she her hers it its they them their theirs there that this these those then "
                        "latter former".split())
CONTINUES_RE = re.compile(r"^\s*(?:and|but|also|so|plus|what about|how about|what of|and what|and how)\b", re.I)
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# Words that say how a question is asked, not what about; BM25's stop list keeps some of them.
FUNCTION_WORDS = (
    "what when where who whom whose which why how he him his she her hers it its they them their theirs "
    "there that this these those then do does did is are was were be been being can could would will shall "
    "should may might must have has had about and but also so plus else other anything something"
)
NAME_RE = re.compile(r"(?<=[\w,;:)] )[A-Z][\w’'\-]+(?: [A-Z][\w’'\-]+)*")


@dataclass(frozen=True)
class ConversationParams:
    """How follow-ups are read; the defaults are the measured choice.

    Attributes:
        turns: how many earlier turns are used (the most recent ones).
        decay: weight of each turn relative to the next more recent one.
        context_weight: weight of the conversation's vector against the question's (1).
        lexical_weight: weight of the conversation's terms in BM25 and term overlap (the question's: 1).
        use_quotes: whether the quotes that answered earlier turns are part of the context.
        concatenate: embed the earlier questions and the question as one text (one more
            embedding per follow-up) instead of moving the question's vector toward theirs.
    """

    turns: int = 3
    decay: float = 0.5
    context_weight: float = 1.0
    lexical_weight: float = 0.5
    use_quotes: bool = False  # measured: the earlier answers' quotes pulled follow-ups back to the old topic
    concatenate: bool = False  # measured: equal to the blend on the dev part, at one more embedding


@lru_cache(maxsize=1)
def _function_terms() -> frozenset[str]:
    from .lexical import query_terms

    return frozenset(query_terms(FUNCTION_WORDS))


def content_terms(terms: list[str]) -> list[str]:
    """A question's BM25 terms without its question words, pronouns and auxiliaries."""
    function = _function_terms()
    return [t for t in terms if t not in function]


def context_reason(question: str, terms: list[str]) -> str | None:
    """Why `question` cannot stand alone, or None when it can.

    Args:
        question: the question as asked.
        terms: its BM25 terms (stop words already removed).
    """
    if CONTINUES_RE.match(question):
        return "it continues the conversation"
    words = [w.lower() for w in WORD_RE.findall(question)]
    if any(w in REFERS_BACK for w in words):
        return "it refers back to it"
    if len(content_terms(terms)) <= 1:
        return "it is too short to stand alone"
    return None


def recency_weights(n: int, decay: float) -> np.ndarray:
    """Weights of `n` earlier turns, oldest first, summing to 1; the latest weighs most."""
    w = decay ** np.arange(n - 1, -1, -1, dtype=np.float64)
    return w / w.sum()


def blend(question: np.ndarray, context: list[np.ndarray], weights: np.ndarray, context_weight: float) -> np.ndarray:
    """The question's unit vector moved toward the weighted mean of the context vectors; a unit vector."""
    if not context or context_weight <= 0:
        return question
    mean = np.average(np.stack(context), axis=0, weights=weights)
    norm = np.linalg.norm(mean)
    if norm == 0:
        return question
    moved = question + context_weight * mean / norm
    return (moved / np.linalg.norm(moved)).astype(np.float32)


def names(text: str) -> list[str]:
    """Capitalised names inside a sentence (not its first word): the entities a quote is about."""
    return NAME_RE.findall(text)


def read_as(question: str, earlier: list[str]) -> str:
    """How a question read with context is shown to the reader."""
    quoted = "; ".join(f"“{q}”" for q in earlier)
    plural = "s" if len(earlier) > 1 else ""
    return f"Read with your earlier question{plural}: {quoted}"
