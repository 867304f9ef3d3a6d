"""Embedding a build's texts: known vectors reused by text key, the rest embedded in batches that
are checkpointed as they finish, so a killed build resumes from the last one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..embed import Embedder
from ..index.known_vectors import KnownVectors, key_strings

EMBED_BATCH = 4096  # texts embedded between two checkpoints


def embed_reusing(texts: list[str], keys: np.ndarray, embedder: Embedder, known: KnownVectors, progress: bool,
                   checkpoint: Path | None = None) -> tuple[np.ndarray, int, int]:
    """Vectors of `texts` (`keys`: their text keys, (n, KEY_BYTES) uint8): known ones by key, each
    distinct new text embedded once, in batches saved to `checkpoint` as they finish.

    Returns:
        The vectors, how many texts reused a known vector, and how many distinct texts were embedded.
    """
    if not texts:
        return np.zeros((0, embedder.dimension), np.float32), 0, 0
    unique, first, inverse = np.unique(key_strings(keys), return_index=True, return_inverse=True)
    known.prefetch([bytes(k) for k in keys[first]])
    array, row = known.find(unique)
    todo = np.flatnonzero(array < 0)
    todo = todo[np.argsort(first[todo], kind="stable")]  # in the order the texts come
    batches = range(0, len(todo), EMBED_BATCH)
    if progress and len(batches) > 1:
        from tqdm import tqdm

        batches = tqdm(batches, desc="embedding", unit="batch")
    out: np.ndarray | None = None
    for n, start in enumerate(batches):
        part = todo[start : start + EMBED_BATCH]
        vectors = np.asarray(embedder.encode([texts[i] for i in first[part]],
                                             progress=progress and len(todo) <= EMBED_BATCH), np.float32)
        if checkpoint is not None:
            _save_batch(checkpoint, f"batch-{os.getpid()}-{n:06d}.npz", keys[first[part]], vectors)
        if out is None:
            out = np.zeros((len(unique), vectors.shape[1]), np.float32)
        out[part] = vectors
    for a in np.unique(array[array >= 0]).tolist():
        source = known.vectors(a)
        if out is None:
            out = np.zeros((len(unique), source.shape[1]), np.float32)
        hits = np.flatnonzero(array == a)
        out[hits] = source[row[hits]]
    reused = int(np.count_nonzero(array[inverse] >= 0))
    return out[inverse.ravel()], reused, len(todo)


def _save_batch(folder: Path, name: str, keys: np.ndarray, vectors: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}"
    with tmp.open("wb") as fh:
        np.savez(fh, keys=keys, vectors=vectors)
    os.replace(tmp, folder / name)
