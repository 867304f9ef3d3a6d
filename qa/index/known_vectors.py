"""Vectors a build may reuse, found by the key of their text.

A text's key is the first 16 bytes of its UTF-8 SHA-256; `text_keys.npy` in a build holds the
key of every vector. Lookups are sorted-array searches, not a dict of every key (2.8 s at 100k
passages), and vectors are gathered by array indexing, not row by row.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


KEY_BYTES = 16  # a text's key: the first 16 bytes of its UTF-8 SHA-256


class KnownVectors:
    """Vectors that a build may reuse instead of embedding again, found by text key: the live
    build's (memory-mapped) and those a killed build left in its checkpoint."""

    def __init__(self) -> None:
        self._keys: list[np.ndarray] = []
        self._vectors: list[np.ndarray] = []
        self._own: list[bool] = []  # added by the running build itself (a text it repeats), not known before it
        self._index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, keys: np.ndarray, vectors: np.ndarray, *, own: bool = False) -> None:
        """Vectors and their texts' keys, (n, KEY_BYTES) uint8; a key added before keeps its vector.

        Args:
            own: the running build embedded these (see `external`).
        """
        self._keys.append(np.ascontiguousarray(keys, np.uint8).reshape(-1, KEY_BYTES))
        self._vectors.append(vectors)
        self._own.append(own)
        self._index = None

    def external(self, arrays: np.ndarray) -> np.ndarray:
        """For array numbers as `find` gives them, whether each is a vector known before the build."""
        own = np.asarray(self._own + [True], bool)  # -1 (not found) reads the last: not external
        return ~own[arrays]

    def prefetch(self, keys: list[bytes]) -> None:
        """Called with every key a build looks up before it looks any up: a store kept elsewhere
        (Milvus) fetches the vectors it holds for them here. These are all in memory already."""

    def add_checkpoint(self, folder: Path) -> None:
        """The batches a killed build saved in `folder`: keys in memory, vectors memory-mapped."""
        for path in sorted(folder.glob("batch-*.keys.npy")):
            vectors = path.with_name(path.name[: -len(".keys.npy")] + ".npy")
            try:
                keys = np.load(path, allow_pickle=False)
                array = np.load(vectors, mmap_mode="r", allow_pickle=False)
                if array.ndim != 2 or len(array) != len(keys):
                    raise ValueError(f"{len(keys)} keys for vectors of shape {array.shape}")
                self.add(keys, array)
            except Exception:  # a batch cut short by the kill: embedded again
                path.unlink(missing_ok=True)
                vectors.unlink(missing_ok=True)
        for path in sorted(folder.glob("batch-*.npz")):  # an earlier version's batches
            try:
                with np.load(path, allow_pickle=False) as data:
                    self.add(data["keys"], data["vectors"])
            except Exception:
                path.unlink(missing_ok=True)

    def __contains__(self, key: bytes) -> bool:
        return bool(self.find(np.array([key], dtype=f"S{KEY_BYTES}"))[0][0] >= 0)

    def __len__(self) -> int:
        return len(np.unique(self._sorted()[0]))

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each key (`KEY_BYTES`-byte strings), which added array holds its vector and at which row
        (-1 and -1 where none does)."""
        sorted_keys, array, row = self._sorted()
        if not len(sorted_keys):
            return np.full(len(keys), -1), np.full(len(keys), -1)
        pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
        hit = sorted_keys[pos] == keys
        return np.where(hit, array[pos], -1), np.where(hit, row[pos], -1)

    def vectors(self, array: int) -> np.ndarray:
        return self._vectors[array]

    def _sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._index is None:
            keys = np.concatenate([key_strings(k) for k in self._keys]) if self._keys else np.zeros(0, f"S{KEY_BYTES}")
            array = np.repeat(np.arange(len(self._keys)), [len(k) for k in self._keys])
            row = np.concatenate([np.arange(len(k)) for k in self._keys]) if self._keys else np.zeros(0, np.int64)
            order = np.argsort(keys, kind="stable")  # equal keys: the first added comes first, and is found
            self._index = (keys[order], array[order], row[order])
        return self._index


def key_strings(keys: np.ndarray) -> np.ndarray:
    """(n, KEY_BYTES) uint8 rows as n byte strings, which sort and compare as wholes."""
    return np.ascontiguousarray(keys, np.uint8).reshape(-1, KEY_BYTES).view(f"S{KEY_BYTES}").ravel()


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES]
