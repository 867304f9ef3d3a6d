"""What kind of answer a question asks for, and whether a sentence offers that kind.

"How many agreements did they sign?" wants a number; "When did they meet?" a date;
"Who heads the delegation?" a person's name; "Where did they meet?" a place. A
sentence that holds the wanted kind is a better first quote than one that only
repeats the question's words ("The leaders signed new agreements on Wednesday"
against "... signed a package of 13 agreements"). English question words only;
other questions get no type and no bonus. Pure functions, no state.
"""

from __future__ import annotations

import re

_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 "twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens")

QUESTION_TYPES: dict[str, re.Pattern] = {
    "number": re.compile(r"^\s*(?:and\s+)?(?:how\s+(?:many|much|long|far|old|big|large|tall|high|often)|"
                         r"what\s+(?:number|percentage|share|amount|size|proportion)|how\s+many)\b", re.I),
    "date": re.compile(r"^\s*(?:and\s+)?(?:when|since when|until when|what\s+(?:date|day|year|month|time)|"
                       r"which\s+(?:date|day|year|month)|in\s+what\s+year|on\s+what\s+(?:date|day))\b", re.I),
    "person": re.compile(r"^\s*(?:and\s+)?(?:who|whom|whose|which\s+(?:official|minister|president|leader|person|"
                         r"officer|general|head))\b", re.I),
    "place": re.compile(r"^\s*(?:and\s+)?(?:where|in\s+which\s+(?:city|country|place)|which\s+(?:city|country|place))\b",
                        re.I),
}

OFFERS: dict[str, re.Pattern] = {
    # Digits are bounded by other digits, not by `\b`: in Chinese or Japanese a number abuts word
    # characters ("1850年"), and any script's digits count (`\d` is Unicode).
    "number": re.compile(rf"(?<!\d)\d[\d,.]*|\b(?:{_NUMBER_WORDS})\b", re.I),
    "date": re.compile(rf"\b{_MONTHS}\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTHS}|(?<!\d)(?:1[89]|20)\d{{2}}(?!\d)|"
                       r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today)\b|"
                       r"\b\d{4}-\d{2}-\d{2}\b", re.I),
    # Two capitalised words in a row, not at the start of the sentence: a name ("Aziz Nasirzadeh").
    "person": re.compile(r"(?<=[\w,;:)] )[A-Z][a-z’'\-]+(?: [A-Z][a-z’'\-]+)+"),
    "place": re.compile(r"\b(?:in|at|from|to|near)\s+(?:the\s+)?[A-Z][a-z]+"),
}


def question_type(question: str) -> str | None:
    """The kind of answer `question` asks for: number, date, person, place, or None."""
    for kind, pattern in QUESTION_TYPES.items():
        if pattern.search(question):
            return kind
    return None


def offers(kind: str | None, sentence: str) -> bool:
    """Whether `sentence` holds an answer of `kind` (False for no kind)."""
    return bool(kind) and bool(OFFERS[kind].search(sentence))
