"""The BM25 tokens of every passage and sentence, kept with a build so the next one tokenises only new text.

Tokenising took a fifth of a 100k-passage build, most of it for documents that had not
changed. A build keeps each passage's tokens in order (BM25 counts them) and each sentence's
distinct tokens (a quote's term overlap needs no more), as ids into `vocab`: every token that
occurs, sorted. Sorted, the ids depend on nothing but the tokens, so a build that carries
tokens over from the last one gets the ids, BM25 arrays and quote terms a build from scratch gets.

On disk (a folder `tokens/` of the build):
    vocab.json         the tokens, sorted
    passage_ids.npy    int32, each passage's tokens in order, end to end
    passage_ptr.npy    int64, where each passage's tokens start (one more than passages)
    sentence_ids.npy   int32, each sentence's distinct tokens, ascending
    sentence_ptr.npy   int64
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .lexical import BM25Index, tokenize
from .rows import Appender, save

ARRAYS = ("passage_ids", "passage_ptr", "sentence_ids", "sentence_ptr")


@dataclass
class Tokens:
    """Token ids of passages and sentences (rows of ragged arrays) and the vocabulary they index."""

    vocab: list[str]
    passage_ids: np.ndarray
    passage_ptr: np.ndarray
    sentence_ids: np.ndarray
    sentence_ptr: np.ndarray

    @classmethod
    def of(cls, passage_texts: list[str], sentence_texts: list[str], passage_languages: list[str] | None = None,
           sentence_languages: list[str] | None = None) -> "Tokens":
        """Tokenise texts as BM25 and the quote index see them (`text.tokenize`), each by its document's language."""
        passages, sentences = tokenize(passage_texts, passage_languages), tokenize(sentence_texts, sentence_languages)
        vocab = sorted({t for row in passages for t in row} | {t for row in sentences for t in row})
        index = {t: i for i, t in enumerate(vocab)}
        p_ids, p_ptr = _ragged([[index[t] for t in row] for row in passages])
        s_ids, s_ptr = _ragged([sorted({index[t] for t in row}) for row in sentences])
        return cls(vocab, p_ids, p_ptr, s_ids, s_ptr)

    @classmethod
    def empty(cls) -> "Tokens":
        return cls([], np.zeros(0, np.int32), np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(1, np.int64))

    @property
    def passages(self) -> int:
        return len(self.passage_ptr) - 1

    @property
    def sentences(self) -> int:
        return len(self.sentence_ptr) - 1

    def take(self, passages: tuple[int, int], sentences: tuple[int, int]) -> "Tokens":
        """The rows of passages `[first, stop)` and of sentences `[first, stop)`, as views."""
        (p0, p1), (s0, s1) = passages, sentences
        pp, sp = self.passage_ptr, self.sentence_ptr
        return Tokens(self.vocab, self.passage_ids[pp[p0] : pp[p1]], np.asarray(pp[p0 : p1 + 1]) - pp[p0],
                      self.sentence_ids[sp[s0] : sp[s1]], np.asarray(sp[s0 : s1 + 1]) - sp[s0])

    @classmethod
    def concat(cls, parts: Sequence["Tokens"]) -> "Tokens":
        """The parts' rows one after the other, their ids moved to the vocabulary of the tokens that occur."""
        vocabs: dict[int, tuple[list[str], np.ndarray]] = {}  # parts cut from one build share its vocabulary
        for t in parts:
            vocab, seen = vocabs.setdefault(id(t.vocab), (t.vocab, np.zeros(len(t.vocab), bool)))
            seen[t.passage_ids] = True
            seen[t.sentence_ids] = True
        if len(vocabs) == 1:
            vocab, seen = next(iter(vocabs.values()))
            if seen.all():  # nothing to renumber (one build's rows, none of its tokens gone)
                return cls(vocab, *_join(parts, [None] * len(parts)))
        words = sorted(set().union(*({vocab[i] for i in np.flatnonzero(seen)} for vocab, seen in vocabs.values())))
        index = {t: i for i, t in enumerate(words)}
        moves = {}
        for key, (vocab, seen) in vocabs.items():
            move = np.full(len(vocab), -1, np.int32)
            kept = np.flatnonzero(seen)
            move[kept] = [index[vocab[i]] for i in kept]
            moves[key] = move
        return cls(words, *_join(parts, [moves[id(t.vocab)] for t in parts]))

    def bm25(self, *, k1: float = 1.2, b: float = 0.75) -> tuple[BM25Index, np.ndarray, np.ndarray]:
        """The BM25 index of the passages, and each sentence's distinct BM25 vocabulary ids (the
        quote index's `term_ptr`, `term_ids`; a sentence's tokens that no passage has are left out)."""
        used = np.flatnonzero(np.bincount(self.passage_ids, minlength=len(self.vocab)))
        move = np.full(len(self.vocab), -1, np.int32)  # int32: no array of every token in int64
        move[used] = np.arange(len(used))
        bm25 = BM25Index.from_ids(move[self.passage_ids], self.passage_ptr,
                                  [self.vocab[i] for i in used], k1=k1, b=b)
        terms = move[self.sentence_ids]
        known = terms >= 0
        counts = np.zeros(len(terms) + 1, np.int64)
        np.cumsum(known, out=counts[1:])
        # Ids move in order (both vocabularies are sorted), so each row stays ascending.
        return bm25, counts[np.asarray(self.sentence_ptr)], terms[known]

    def save(self, folder: Path) -> None:
        folder.mkdir()
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        for name in ARRAYS:
            save(folder / f"{name}.npy", np.asarray(getattr(self, name)))

    @classmethod
    def load(cls, folder: Path) -> "Tokens":
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        if len(arrays["passage_ptr"]) < 1 or len(arrays["sentence_ptr"]) < 1:
            raise ValueError("token row pointers are empty")
        return cls(vocab, **arrays)


class TokenWriter:
    """Tokens of parts, one after the other, written to a folder as they come under one growing
    vocabulary, then renumbered to the sorted vocabulary (`close`): `Tokens.concat` of the parts,
    without holding their ids, or a vocabulary per part, in memory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._words: dict[str, int] = {}  # in order of first occurrence
        self._ids = {kind: Appender(folder / f"{kind}_ids.i32", 1, np.int32) for kind in ("passage", "sentence")}
        self._lengths: dict[str, list[np.ndarray]] = {"passage": [], "sentence": []}

    def append(self, tokens: "Tokens") -> None:
        words = self._words
        move = np.fromiter((words.setdefault(w, len(words)) for w in tokens.vocab), np.int32, count=len(tokens.vocab))
        for kind in ("passage", "sentence"):
            self._ids[kind].append(move[np.asarray(getattr(tokens, f"{kind}_ids"))].reshape(-1, 1))
            self._lengths[kind].append(np.diff(np.asarray(getattr(tokens, f"{kind}_ptr"))))

    def close(self) -> "Tokens":
        """The tokens, their ids memory-mapped from the folder."""
        vocab = sorted(self._words)
        rank = np.empty(len(vocab), np.int32)
        rank[np.fromiter((self._words[w] for w in vocab), np.int64, count=len(vocab))] = np.arange(len(vocab))
        # Each part's ids were in the order of its own sorted vocabulary, so renumbering keeps a sentence's ascending.
        self._words = {}
        final = self.folder / "tokens"
        final.mkdir(parents=True, exist_ok=True)
        for kind in ("passage", "sentence"):
            ids = self._ids[kind].close().reshape(-1)
            save(final / f"{kind}_ids.npy", ids, transform=lambda part: rank[part])
            ptr = np.zeros(sum(len(x) for x in self._lengths[kind]) + 1, np.int64)
            np.cumsum(np.concatenate(self._lengths[kind]) if self._lengths[kind] else [], out=ptr[1:])
            np.save(final / f"{kind}_ptr.npy", ptr, allow_pickle=False)
        (final / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        return Tokens.load(final)


def _ragged(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(rows) + 1, np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    return np.fromiter((i for r in rows for i in r), np.int32, count=int(ptr[-1])), ptr


def _join(parts: Sequence[Tokens], moves: list[np.ndarray | None]) -> tuple[np.ndarray, ...]:
    out = []
    for ids, ptr in (("passage_ids", "passage_ptr"), ("sentence_ids", "sentence_ptr")):
        pieces, ptrs, offset = [], [np.zeros(1, np.int64)], 0
        for t, move in zip(parts, moves):
            rows = np.asarray(getattr(t, ids))
            pieces.append(rows if move is None else move[rows])
            ptrs.append(np.asarray(getattr(t, ptr)[1:]) + offset)
            offset += int(getattr(t, ptr)[-1])
        out += [np.concatenate(pieces).astype(np.int32) if pieces else np.zeros(0, np.int32), np.concatenate(ptrs)]
    return tuple(out)
