"""Where an index lives: one small interface (`base.Store`), a registry of backends, one file each.

- `faiss` (`local.py`): the embedded default, files under `index/` (FAISS or exact dense search,
  bm25s, span tables);
- `milvus` (`milvus.py`): a Milvus collection pair, on milvus-lite (a `.db` path) or a
  server/cluster (`http://...`); needs the optional extra: `pip install -e '.[milvus]'`.

Fusion, feedback and quote scoring sit above the interface (`retrieval`, `answer`), so every
backend gives the same answers. Surfaces name no backend: they take `StoreConfig.from_env` and
list the choices from `BACKENDS`. See docs/backends.md.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from .base import BACKENDS, DEFAULT_BACKEND, Backend, SentenceRows, Store, StoreConfig

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Backend", "SentenceRows", "Store", "StoreConfig", "backend_for", "backends_help",
           "memory_store"]


def backends_help() -> str:
    """Every backend of the registry and what it is, for an option's help text."""
    return "; ".join(f"{name}: {entry.summary}" for name, entry in BACKENDS.items())


def backend_for(config: StoreConfig, index_dir: str | Path) -> Backend:
    """The backend `config` names, for the index folder `index_dir` (where a backend that keeps its
    index elsewhere still keeps its build lock and embedding checkpoint)."""
    return import_module(BACKENDS[config.backend].module).Backend(config, Path(index_dir))


def memory_store(passages, dense, bm25, quotes=None, *, sources=None, derived=None, exclusions=None,
                 manifest=None) -> Store:
    """An index held in memory (a corpus being built or evaluated) behind the `Store` interface."""
    from .local import LocalStore

    return LocalStore(passages, dense, bm25, quotes, sources=sources, derived=derived, exclusions=exclusions,
                      manifest=manifest)
