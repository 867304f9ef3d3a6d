"""A document's language (ISO 639-1), by py3langid (a maintained fork of langid.py: 97 languages, NumPy only).

BM25 stems and drops stop words by it (`text.tokenize`), `--model auto` chooses the embedding model by
the folder's languages, and every citation says it.
"""

from __future__ import annotations

# Varieties py3langid tells apart that write the same language for search purposes: Wu Chinese is
# written in the same characters as Mandarin, Nynorsk and Bokmål share one stemmer.
SAME_AS = {"wuu": "zh", "yue": "zh", "nn": "no", "nb": "no"}
SAMPLE_CHARS = 20_000  # enough text to tell; a long document is judged on its start
MIN_LETTERS = 20  # fewer letters than this: too little to tell (reported as "")


def detect(text: str) -> str:
    """The language of `text` as an ISO 639-1 code, or "" when there are too few letters to tell."""
    sample = text[:SAMPLE_CHARS]
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return ""
    import py3langid

    language, _ = py3langid.classify(sample)
    return SAME_AS.get(language, language)


def detect_among(text: str, languages: tuple[str, ...]) -> str:
    """The most likely of `languages` for a short text (a question), or "" when it has no letters."""
    if not languages or not any(c.isalpha() for c in text):
        return ""
    if len(languages) == 1:
        return languages[0]
    import py3langid

    allowed = set(languages)
    return next((SAME_AS.get(lang, lang) for lang, _ in py3langid.rank(text) if SAME_AS.get(lang, lang) in allowed), "")
