"""Embedding a build's texts: known vectors reused by text key, the rest embedded in batches that
are checkpointed as they finish, so a killed build resumes from the last one."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np

from ..embed import Embedder
from ..index.known_vectors import KnownVectors, key_strings
from ..index.rows import release

EMBED_BATCH = 4096  # texts embedded between two checkpoints
_BATCHES = itertools.count()  # numbers this process's checkpointed batches (with its pid: unique in a folder)


def embed_reusing(texts: list[str], keys: np.ndarray, embedder: Embedder, known: KnownVectors, progress: bool,
                   checkpoint: Path | None = None) -> tuple[np.ndarray, int, int]:
    """Vectors of `texts` (`keys`: their text keys, (n, KEY_BYTES) uint8): known ones by key, each
    distinct new text embedded once, in batches saved to `checkpoint` as they finish. The new
    vectors join `known` (memory-mapped from the checkpoint when there is one), so a later call
    of the same build embeds none of these texts again.

    Returns:
        The vectors, how many texts reused a vector known before the build (the build's own, of a
        text repeated, do not count), and how many distinct texts were embedded.
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
    out: np.ndarray | None = None  # made with the first vectors: a build that embeds nothing loads no model
    new: list[tuple[np.ndarray, np.ndarray]] = []
    for start in batches:
        part = todo[start : start + EMBED_BATCH]
        vectors = np.asarray(embedder.encode([texts[i] for i in first[part]],
                                             progress=progress and len(todo) <= EMBED_BATCH), np.float32)
        if out is None:
            out = np.zeros((len(unique), vectors.shape[1]), np.float32)
        out[part] = vectors
        batch_keys = np.ascontiguousarray(keys[first[part]])
        if checkpoint is not None:
            vectors = _save_batch(checkpoint, f"batch-{os.getpid()}-{next(_BATCHES):06d}", batch_keys, vectors)
        new.append((batch_keys, vectors))
    for a in np.unique(array[array >= 0]).tolist():
        source = known.vectors(a)
        if out is None:
            out = np.zeros((len(unique), source.shape[1]), np.float32)
        hits = np.flatnonzero(array == a)
        out[hits] = source[row[hits]]
        release(source)
    reused = int(np.count_nonzero(known.external(array[inverse])))
    for batch_keys, vectors in new:
        known.add(batch_keys, vectors, own=True)
    return out[inverse.ravel()], reused, len(todo)


def _save_batch(folder: Path, name: str, keys: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Save a batch (vectors first, then its keys: a batch is whole once its keys are there) and
    return its vectors memory-mapped from the file."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, array in ((".npy", vectors), (".keys.npy", keys)):
        tmp = folder / f".{name}{suffix}"
        with tmp.open("wb") as fh:
            np.save(fh, array, allow_pickle=False)
        os.replace(tmp, folder / f"{name}{suffix}")
    return np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
