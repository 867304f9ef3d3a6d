"""What is embedded or tokenised, made from a text: its normalised form and its BM25 tokens.

Quoted text is never normalised: quotes are offsets into the text a document is read as.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TRANSLATE = str.maketrans(
    {
        "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
        "‘": "'", "’": "'", "‚": "'", "′": "'",
        "–": "-", "—": "-", "−": "-",
        "•": " ", "▪": " ", "◦": " ", "●": " ",
        "\u00ad": "", "\u200b": "", "\ufeff": "",
    }
)
FOOTNOTE_RE = re.compile(r"\[\d{1,3}\]")
# A word broken across lines ("dis-\ncussed", as a PDF's text layer keeps it): one word again.
LINE_HYPHEN_RE = re.compile(r"(?<=[^\W\d_])-[ \t]*\r?\n[ \t]*(?=[^\W\d_])")
SPACE_RE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Return `text` as the models should see it.

    Curly quotes and dashes become ASCII, footnote markers like `[32]` and bullet
    glyphs are dropped, a word hyphenated across a line break is joined when it
    goes on in lower case, and hard line breaks and runs of white space become
    single spaces.
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    if "-" in text:
        text = LINE_HYPHEN_RE.sub(_join_hyphenated, text)
    text = FOOTNOTE_RE.sub("", text)
    return SPACE_RE.sub(" ", text).strip()


def _join_hyphenated(m: re.Match) -> str:
    after = m.string[m.end()]
    return "" if after.islower() else "-"


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def load_bm25s():
    """bm25s, imported on first use; it sets its logger to DEBUG on import, which would print
    "Building index from tokens" on every build, so that logger is put back to WARNING."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stemmed word tokens of each text, English stop words removed."""
    bm25s = load_bm25s()

    return bm25s.tokenize(
        [normalize(t) for t in texts],
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )


def query_terms(text: str) -> list[str]:
    """The tokens of one question or query, as `tokenize` makes them."""
    return tokenize([text])[0]
