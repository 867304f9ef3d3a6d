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


# Snowball stemmers (PyStemmer) by ISO 639-1 code. A language without one is tokenised into
# unstemmed words; Chinese, Japanese and Korean text is cut into character bigrams (below).
STEMMERS = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "et": "estonian", "eu": "basque", "fa": "persian", "fi": "finnish", "fr": "french",
    "ga": "irish", "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}
# Stop words bm25s ships (from NLTK), by the same codes.
STOPWORDS = frozenset({"en", "de", "nl", "fr", "es", "pt", "it", "ru", "sv", "no", "zh", "tr", "ko", "da"})
# Runs of Han, kana and Hangul: no spaces between words, so BM25 sees overlapping character pairs, as
# Lucene's CJK analyser does ("北京是首都" -> 北京 京是 是首 首都).
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=None)
def _stemmer(language: str):
    import Stemmer

    name = STEMMERS.get(language)
    return Stemmer.Stemmer(name) if name else None


def _bigrams(m: re.Match) -> str:
    run = m.group(0)
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " " if len(run) > 1 else " "


def stemmed(language: str) -> bool:
    """Whether BM25 stems words of `language` (else it matches them unstemmed)."""
    return language in STEMMERS


def load_bm25s():
    """bm25s, imported on first use; it sets its logger to DEBUG on import, which would print
    "Building index from tokens" on every build, so that logger is put back to WARNING."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(texts: list[str], languages: list[str] | None = None) -> list[list[str]]:
    """Lower-cased word tokens of each text, stemmed and stop words removed by its language (ISO 639-1;
    None: English for all), Chinese, Japanese and Korean runs as character bigrams."""
    bm25s = load_bm25s()
    languages = languages or [DEFAULT_LANGUAGE] * len(texts)
    out: list[list[str]] = [[] for _ in texts]
    for language in dict.fromkeys(languages):
        rows = [i for i, lang in enumerate(languages) if lang == language]
        prepared = [normalize(texts[i]) for i in rows]
        prepared = [CJK_RE.sub(_bigrams, t) if CJK_RE.search(t) else t for t in prepared]
        tokens = bm25s.tokenize(prepared, stopwords=language if language in STOPWORDS else [],
                                stemmer=_stemmer(language), return_ids=False, show_progress=False)
        for i, row in zip(rows, tokens):
            out[i] = list(row)
    return out


def query_terms(text: str, languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)) -> list[str]:
    """The tokens of one question or query, as `tokenize` makes them for each of `languages` (the
    languages of the documents it is asked of), each token once after the first language's."""
    if len(languages) == 1:
        return tokenize([text], list(languages))[0]
    terms = tokenize([text] * len(languages), list(languages))
    first = terms[0]
    seen = set(first)
    return first + [t for row in terms[1:] for t in row if not (t in seen or seen.add(t))]
