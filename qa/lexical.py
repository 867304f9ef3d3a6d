"""BM25 over normalised, stemmed, stop-word-filtered tokens (bm25s + PyStemmer)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .normalize import normalize


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _bm25s():
    """bm25s, imported on first use; it sets its logger to DEBUG on import, which would print
    "Building index from tokens" on every build, so that logger is put back to WARNING."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stemmed word tokens of each text, English stop words removed."""
    bm25s = _bm25s()

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


class BM25Index:
    """A bm25s index that scores every passage for a query."""

    def __init__(self, model) -> None:
        self._model = model

    @classmethod
    def build(cls, texts: list[str], *, k1: float = 1.2, b: float = 0.75) -> "BM25Index":
        bm25s = _bm25s()

        model = bm25s.BM25(k1=k1, b=b)
        tokens = tokenize(texts)
        if not any(tokens):
            # No passage has a single term (emoji, symbols): every BM25 score is 0, but bm25s needs a
            # vocabulary. "<none>" is a term the tokeniser can never produce from a query.
            tokens = [["<none>"] for _ in texts]
        model.index(tokens, show_progress=False)
        return cls(model)

    def __len__(self) -> int:
        return int(self._model.scores["num_docs"])

    def scores(self, query: str | list[str]) -> np.ndarray:
        """BM25 score of every passage for a query, or for its tokens (zeros when no term matches)."""
        vocab = self._model.vocab_dict
        tokens = query_terms(query) if isinstance(query, str) else query
        terms = [t for t in tokens if t in vocab]
        if not terms:
            return np.zeros(len(self), dtype=np.float32)
        return np.asarray(self._model.get_scores(terms), dtype=np.float32)

    def term_ids(self, tokens: list[str]) -> list[int]:
        """Vocabulary ids of the tokens this index knows (others are dropped)."""
        vocab = self._model.vocab_dict
        return [vocab[t] for t in tokens if t in vocab]

    def idf_by_id(self, tokens: list[str]) -> dict[int, float]:
        """IDF of each known token, keyed by vocabulary id (what the quote index stores)."""
        vocab = self._model.vocab_dict
        known = {t for t in tokens if t in vocab}
        return {vocab[t]: w for t, w in self.idf(known).items()}

    def idf(self, terms: set[str]) -> dict[str, float]:
        """BM25's inverse document frequency of each (tokenised) term; unseen terms get the highest."""
        n = len(self)
        indptr = self._model.scores["indptr"]
        vocab = self._model.vocab_dict
        out = {}
        for t in terms:
            i = vocab.get(t)
            df = int(indptr[i + 1] - indptr[i]) if i is not None and i + 1 < len(indptr) else 0
            out[t] = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return out

    def save(self, folder: str | Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: str | Path) -> "BM25Index":
        bm25s = _bm25s()

        return cls(bm25s.BM25.load(str(folder), show_progress=False, allow_pickle=False))
