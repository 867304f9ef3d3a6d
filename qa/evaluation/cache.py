"""Embeddings of an evaluation corpus, cached on disk by model and texts (a BEIR corpus is embedded once)."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from ..embed import Embedder

log = logging.getLogger(__name__)


def text_fingerprint(texts: list[str]) -> str:
    """SHA-256 over a list of texts, order included."""
    h = hashlib.sha256()
    for t in texts:
        data = t.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def encode_cached(embedder: Embedder, texts: list[str], cache_dir: str | Path, *, progress: bool = True) -> np.ndarray:
    """Embed a corpus, reusing an earlier result for the same model and texts.

    The cache file is keyed by the model id and the fingerprint of the texts and
    written atomically, so an interrupted run never leaves a bad cache entry.
    """
    key = hashlib.sha256(f"{embedder.model_id}\n{text_fingerprint(texts)}".encode()).hexdigest()[:32]
    path = Path(cache_dir) / f"{key}.npy"
    if path.is_file():
        try:
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape[0] == len(texts):
                log.info("embeddings for %d texts read from cache %s", len(texts), path)
                return vectors
        except (OSError, ValueError):
            log.warning("cache file %s is unreadable; embedding again", path)
    vectors = embedder.encode(texts, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
    with os.fdopen(fd, "wb") as fh:
        np.save(fh, vectors, allow_pickle=False)
    os.replace(tmp, path)
    return vectors
