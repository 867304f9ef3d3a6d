"""BM25 over the tokens of `text.tokenize` (bm25s): the vocabulary, query weights and scores."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..text import load_bm25s, query_terms, tokenize


Weights = dict[int, float]  # a lexical query: vocabulary id -> weight (a term's count, or less for context)


class Lexicon:
    """The query side of BM25: the vocabulary of an index and each term's document frequency.

    A query becomes `Weights` here, above any store; a store scores passages for them. BM25 is
    linear in the query's term counts, so a weighted sum of queries (a conversation's turns) is
    one query with summed weights.
    """

    def __init__(self, vocab: dict[str, int], df: np.ndarray, documents: int) -> None:
        self.vocab = vocab
        self.df = df
        self.documents = documents

    def term_ids(self, tokens: list[str]) -> list[int]:
        """Vocabulary ids of the tokens this index knows (others are dropped)."""
        vocab = self.vocab
        return [vocab[t] for t in tokens if t in vocab]

    def weights(self, tokens: list[str], scale: float = 1.0) -> Weights:
        """A query's known terms and their counts, times `scale`."""
        out: Weights = {}
        for i in self.term_ids(tokens):
            out[i] = out.get(i, 0.0) + scale
        return out

    def idf_by_id(self, tokens: list[str]) -> dict[int, float]:
        """IDF of each known token, keyed by vocabulary id (what the quote index stores)."""
        n = self.documents
        return {i: float(np.log(1.0 + (n - self.df[i] + 0.5) / (self.df[i] + 0.5))) for i in set(self.term_ids(tokens))}


def add_weights(total: Weights, more: Weights, scale: float = 1.0) -> Weights:
    """`total` plus `scale` times `more`, as a new dict."""
    out = dict(total)
    for i, w in more.items():
        out[i] = out.get(i, 0.0) + scale * w
    return out


class BM25Index:
    """A bm25s index that scores every passage for a query."""

    def __init__(self, model) -> None:
        self._model = model

    @classmethod
    def build(cls, texts: list[str], *, k1: float = 1.2, b: float = 0.75) -> "BM25Index":
        tokens = tokenize(texts)
        vocab = sorted({t for row in tokens for t in row})
        index = {t: i for i, t in enumerate(vocab)}
        ids = np.array([index[t] for row in tokens for t in row], dtype=np.int32)
        ptr = np.zeros(len(tokens) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(row) for row in tokens])
        return cls.from_ids(ids, ptr, vocab, k1=k1, b=b)

    @classmethod
    def from_ids(cls, ids: np.ndarray, ptr: np.ndarray, vocab: list[str], *, k1: float = 1.2,
                 b: float = 0.75) -> "BM25Index":
        """The index of passages given as token ids: passage `i` is `vocab[ids[ptr[i]:ptr[i + 1]]]`.

        Scores are bm25s's (Lucene BM25) to the bit: the same operations in the same precision, for
        all passages at once instead of a Python loop per passage (that loop took 6 s of a 100k build).

        Args:
            vocab: every token of the passages, each once; a token's id is its position.
        """
        bm25s = load_bm25s()

        if not len(ids):
            # No passage has a single term (emoji, symbols): every BM25 score is 0, but bm25s needs a
            # vocabulary. "<none>" is a term the tokeniser can never produce from a query.
            ids, ptr, vocab = np.zeros(len(ptr) - 1, np.int32), np.arange(len(ptr), dtype=np.int64), ["<none>"]
        n, size = len(ptr) - 1, len(vocab)
        ptr = np.asarray(ptr, np.int64)
        lengths = np.diff(ptr)
        average = lengths.mean()  # float64, as bm25s averages its list of lengths
        df = np.zeros(size, np.int64)
        for doc, term, _ in _pairs(ids, ptr, size):
            df += np.bincount(term, minlength=size)
        idf = np.array([math.log(1 + (n - d + 0.5) / (d + 0.5)) if d else 0.0 for d in df.tolist()], dtype=np.float32)
        indptr = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        # Term-major order (the matrix's columns), filled by a counting sort a slice of passages at a
        # time: the same matrix as sorting all (term, passage) pairs at once, without holding them all.
        data = np.empty(int(indptr[-1]), np.float32)
        indices = np.empty(int(indptr[-1]), np.int32)
        cursor = indptr[:-1].copy()
        for doc, term, tf in _pairs(ids, ptr, size):
            tf = tf.astype(np.float32).astype(np.float64)
            tfc = tf / (k1 * ((1 - b) + b * lengths[doc] / average) + tf)
            scores = (idf[term].astype(np.float64) * tfc).astype(np.float32)
            order = np.argsort(term, kind="stable")  # passages stay ascending within a term
            term = term[order]
            counts = np.bincount(term, minlength=size)
            within = np.arange(len(term)) - (np.cumsum(counts) - counts)[term]
            place = cursor[term] + within
            data[place] = scores[order]
            indices[place] = doc[order]
            cursor += counts
        model = bm25s.BM25(k1=k1, b=b)
        model.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n}
        model.nonoccurrence_array = None
        model.vocab_dict = {t: i for i, t in enumerate(vocab)}
        model.vocab_dict[""] = size  # bm25s's empty token, as `BM25.index` adds it
        model.unique_token_ids_set = set(model.vocab_dict.values())
        return cls(model)

    def __len__(self) -> int:
        return int(self._model.scores["num_docs"])

    def scores(self, query: str | list[str] | Weights) -> np.ndarray:
        """BM25 score of every passage for a query, its tokens or its weights (zeros when no term matches)."""
        weights = query if isinstance(query, dict) else self.lexicon.weights(
            query_terms(query) if isinstance(query, str) else query)
        data, indices, indptr = (self._model.scores[k] for k in ("data", "indices", "indptr"))
        out = np.zeros(len(self), dtype=np.float32)
        for i, w in weights.items():  # a term's column names each passage once
            start, end = indptr[i], indptr[i + 1]
            out[indices[start:end]] += np.float32(w) * data[start:end]
        return out

    @property
    def lexicon(self) -> Lexicon:
        lexicon = getattr(self, "_lexicon", None)
        if lexicon is None:
            indptr = np.asarray(self._model.scores["indptr"])
            self._lexicon = lexicon = Lexicon(self._model.vocab_dict, np.diff(indptr).astype(np.int64), len(self))
        return lexicon

    def term_ids(self, tokens: list[str]) -> list[int]:
        """Vocabulary ids of the tokens this index knows (others are dropped)."""
        return self.lexicon.term_ids(tokens)

    def idf_by_id(self, tokens: list[str]) -> dict[int, float]:
        """IDF of each known token, keyed by vocabulary id (what the quote index stores)."""
        return self.lexicon.idf_by_id(tokens)

    def passage_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every passage's terms and their BM25 weights, as CSR (row pointers, term ids, weights):
        a passage's score for a query is the dot product of these with the query's `Weights`."""
        data, indices, indptr = (np.asarray(self._model.scores[k]) for k in ("data", "indices", "indptr"))
        terms = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
        order = np.lexsort((terms, indices))
        ptr = np.zeros(len(self) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum(np.bincount(indices, minlength=len(self)))
        return ptr, terms[order], data[order].astype(np.float32)

    def save(self, folder: str | Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: str | Path) -> "BM25Index":
        bm25s = load_bm25s()

        return cls(bm25s.BM25.load(str(folder), show_progress=False, allow_pickle=False))


PAIR_ROWS = 1 << 20  # tokens counted into (passage, term) pairs at a time


def _pairs(ids: np.ndarray, ptr: np.ndarray, size: int):
    """Each passage's distinct terms and their counts, `PAIR_ROWS` tokens of passages at a time:
    (passage, term, count) arrays, ordered by passage, then term."""
    n = len(ptr) - 1
    first = 0
    while first < n:
        stop = max(first + 1, int(np.searchsorted(ptr, ptr[first] + PAIR_ROWS, side="right")) - 1)
        stop = min(stop, n)
        lo, hi = int(ptr[first]), int(ptr[stop])
        rows = np.repeat(np.arange(first, stop, dtype=np.int64), np.diff(ptr[first : stop + 1]))
        pairs, tf = np.unique(rows * size + np.asarray(ids[lo:hi], np.int64), return_counts=True)
        yield (pairs // size).astype(np.int64), (pairs % size).astype(np.int64), tf
        first = stop
