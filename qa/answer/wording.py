"""How a question is worded: whether it leans on the conversation, and the words a follow-up turns on.

Pure functions over the question's text and BM25 terms, used by `conversation`: whether a
question needs the earlier ones (`context_reason`), what "And Iran?" asks about (`follow_on`)
and what it replaces (`mentioned_names`, `substitute`), which acronyms a sentence spells out,
and how the conversation's vectors are blended. The word lists are English.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from ..settings import ConversationParams
from ..text import query_terms


REFERS_BACK = frozenset("he him his she her hers it its they them their theirs there that this these those then "
                        "latter former meanwhile afterwards afterward instead likewise similarly otherwise thereafter".split())
CONTINUES_RE = re.compile(r"^\s*(?:and|but|also|so|plus|what about|how about|what of|and what|and how)\b", re.I)
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# Words that say how a question is asked, not what about; BM25's stop list keeps some of them.
FUNCTION_WORDS = (
    "what when where who whom whose which why how he him his she her hers it its they them their theirs "
    "there that this these those then do does did is are was were be been being can could would will shall "
    "should may might must have has had about and but also so plus else other anything something "
    "much many one ones some any each every few several more most less lot lots"  # quantifiers ("how much", "one of those")
)
FUNCTION_WORD_SET = frozenset(FUNCTION_WORDS.split())
# How a whole English question opens: a question word, an auxiliary or modal verb, or a request.
# A question that opens otherwise and has no question word ("Even after the new sanctions?",
# "In 2024?", "Belarus too?") is a fragment of one: it leans on the conversation.
QUESTION_WORDS = frozenset("what when where who whom whose which why how".split())
OPENERS = frozenset((
    "is are was were am be do does did done can could will would shall should may might must has have had "
    "isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't shouldn't hasn't haven't "
    "tell list name describe explain give show summarize summarise compare define find please"
).split())
# A fragment is asked ("Even after the new sanctions?"); words typed without a question mark
# ("causes of military suicide") are a search, which stands alone.
ASKED_RE = re.compile(r"\?\s*$")
NAME_RE = re.compile(r"(?<=[\w,;:)] )[A-Z][\w’'\-]+(?: [A-Z][\w’'\-]+)*")


ACRONYM_RE = re.compile(r"\b[A-Z]{2,6}\b")


def acronyms(question: str) -> list[str]:
    """The all-capital words of a question ("US", "SCO"): names a sentence may spell out."""
    return ACRONYM_RE.findall(question)


def spells_out(acronym: str, text: str) -> bool:
    """Whether `text` holds capitalised words whose initials make `acronym` ("United States" for
    "US", "Shanghai Cooperation Organization" for "SCO"; short linking words may sit between)."""
    parts = [rf"{c}[\w’'\-]*" for c in acronym]
    return re.search(r"\b" + r"(?:\s+(?:of|and|for|the|de|du|des|la|le)\b)*\s+".join(parts) + r"\b", text) is not None


def context_weight(base: float, own_terms: int, discount: float) -> float:
    """The conversation's weight for a question with `own_terms` content terms the documents use:
    `base` for one with none ("When?"), less for one that says more by itself."""
    return base / (1.0 + discount * own_terms)


@lru_cache(maxsize=1)
def _function_terms() -> frozenset[str]:
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
    bare = [re.split(r"['’]", w)[0] for w in words]  # "what's" -> "what"
    if (ASKED_RE.search(question) and bare and bare[0] not in OPENERS and words[0] not in OPENERS
            and not QUESTION_WORDS.intersection(bare)):
        return "it is not a whole question"
    return None


def leans_on_source(content: int, known: int, params: ConversationParams) -> bool:
    """Whether a follow-up with `content` terms of its own, `known` of them words the documents use,
    may quote any sentence of the documents that answered the previous turn: it says too little by
    itself to need its words in the answer, and none of them names something the documents lack."""
    return known == content and content <= params.lean_on_source


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


FOLLOW_ON_RE = re.compile(r"^\s*(?:and|but|also|so|plus|what about|how about|what of|and what about|and how about)\s+"
                          r"(?:the\s+)?(?P<what>[^?.!,;]+?)\s*[?.!]*\s*$", re.I)
NAME_ONLY_RE = re.compile(r"^[A-Z][\w’'\-]*(?:\s+[A-Z][\w’'\-]*)*$")
POSSESSIVE_RE = re.compile(r"['’]s?$")


def follow_on(question: str) -> str | None:
    """What a question asks about in place of something in the earlier one ("Iran" in "And Iran?",
    "media" in "What about media?"), or None when the question is not of that form."""
    m = FOLLOW_ON_RE.match(question)
    if not m or len(m["what"].split()) > 3:
        return None
    return POSSESSIVE_RE.sub("", m["what"])


def is_name(text: str) -> bool:
    return NAME_ONLY_RE.match(text) is not None


def words_of(question: str) -> list[str]:
    """The content words of a question (not its question words, pronouns or auxiliaries), each once."""
    out: list[str] = []
    for w in WORD_RE.findall(question):
        if len(w) > 2 and w.lower() not in FUNCTION_WORD_SET and w not in out:
            out.append(w)
    return out


def mentioned_names(question: str) -> list[str]:
    """The names in a question (capitalised words after its first, possessives cut off), each once."""
    out: list[str] = []
    for n in names(question):
        n = POSSESSIVE_RE.sub("", n)
        if n and n not in out:
            out.append(n)
    return out


def substitute(question: str, old: str, new: str) -> str:
    """`question` with its first mention of the name `old` replaced by `new` ("What sanctions does
    the US impose on Belarus?", "Belarus", "Iran" -> "... impose on Iran?")."""
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", lambda _: new, question, count=1)


def names(text: str) -> list[str]:
    """Capitalised names inside a sentence (not its first word): the entities a quote is about."""
    return NAME_RE.findall(text)


def read_as(question: str, earlier: list[str], as_asked: str | None = None) -> str:
    """How a question read with context is shown to the reader (`as_asked`: the question it was
    read as, when a name took the place of one in an earlier question)."""
    quoted = "; ".join(f"“{q}”" for q in earlier)
    plural = "s" if len(earlier) > 1 else ""
    return f"Read with your earlier question{plural}: {quoted}" + (f", as “{as_asked}”" if as_asked else "")
