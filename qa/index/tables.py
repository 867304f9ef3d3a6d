"""How a build's tables are laid out by document, so that a build can carry documents over.

An index is its documents' rows one document after another, in every table (passages,
sentences, excluded spans, short-block keys); `ptr[table][d]` to `ptr[table][d + 1]` are
document `d`'s rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PASSAGE_COLUMNS = ("sentence_start", "sentence_stop")  # a passage's sentences, in the passage span table
DOCUMENT_ROWS = ("passages", "sentences", "excluded", "blocks")  # the tables a document has rows in
BLOCK_KEY_BYTES = 20  # a block's key (`ingest.clutter.block_key`) as bytes


def save_rows(block_keys: np.ndarray, ptr: dict[str, np.ndarray], folder: Path) -> None:
    """Write what locates each document's rows (and its block keys) into a new folder."""
    folder.mkdir()
    np.save(folder / "block_keys.npy", block_keys, allow_pickle=False)
    for name in DOCUMENT_ROWS:
        np.save(folder / f"{name}_ptr.npy", np.asarray(ptr[name], np.int64), allow_pickle=False)


def load_rows(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """What `save_rows` wrote: the block keys and the row pointers."""
    keys = np.load(folder / "block_keys.npy", allow_pickle=False)
    if keys.ndim != 2 or keys.shape[1] != BLOCK_KEY_BYTES:
        raise ValueError(f"block keys have shape {keys.shape}")
    return keys, {name: np.load(folder / f"{name}_ptr.npy", allow_pickle=False) for name in DOCUMENT_ROWS}
