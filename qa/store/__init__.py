"""Where an index lives: one small interface (`base.Store`), one module per backend.

- `local`: the embedded default, files under `index/` (FAISS or exact dense search, bm25s, span tables);
- `milvus`: a Milvus collection pair, on milvus-lite (a `.db` path) or a server/cluster (`http://...`);
  needs the optional extra: `pip install -e '.[milvus]'`.

Fusion, feedback and quote scoring sit above the interface (`retrieval`, `quotes`), so both
backends give the same answers.
"""

from .base import BACKENDS, SentenceRows, Store, StoreConfig

__all__ = ["BACKENDS", "SentenceRows", "Store", "StoreConfig"]
