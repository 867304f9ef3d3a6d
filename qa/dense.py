"""Exact inner-product search over unit vectors with FAISS (inner product = cosine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class DenseIndex:
    """A FAISS `IndexFlatIP` plus access to the stored vectors (for feedback and fusion)."""

    def __init__(self, index) -> None:
        self._index = index
        self._vectors: np.ndarray | None = None

    @classmethod
    def build(cls, vectors: np.ndarray) -> "DenseIndex":
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(index)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = self._index.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dimension), np.float32)
        return self._vectors

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` (scores, ids) per query row; ids are -1 where fewer exist."""
        k = max(1, min(k, len(self)))
        return self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def save(self, path: str | Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: str | Path) -> "DenseIndex":
        import faiss

        return cls(faiss.read_index(str(path)))
