"""Normalisation of text for embedding and tokenising only; quoted text is never normalised."""

from __future__ import annotations

import re
import unicodedata

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
SPACE_RE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Return `text` as the models should see it.

    Curly quotes and dashes become ASCII, footnote markers like `[32]` and bullet
    glyphs are dropped, and hard line breaks and runs of white space become
    single spaces.
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = FOOTNOTE_RE.sub("", text)
    return SPACE_RE.sub(" ", text).strip()
