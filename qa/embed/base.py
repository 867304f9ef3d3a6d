"""The interface between the product and an embedding model: texts in, unit vectors out.

Everything above this seam (the build, retrieval, the answer, the conversation) sees only an
`Embedder`; which library runs the model is the backend's business (`qa.embed.BACKENDS`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """A loaded (or lazily loading) embedding model.

    Attributes:
        model_id: what the index records as its model; vectors of two ids never mix.
    """

    model_id: str

    @property
    def dimension(self) -> int:
        """The length of every vector."""

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 rows, one per text (inner product = cosine)."""

    def encode_one(self, text: str) -> np.ndarray:
        """One question's unit vector; concurrent callers may share one forward pass."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """A few questions' unit vectors (the question path, where a backend may avoid heavy imports)."""
