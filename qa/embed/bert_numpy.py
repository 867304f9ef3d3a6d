"""A BERT sentence encoder in NumPy: questions embedded without torch.

A question is one short text, and a process that answers it should not load the training stack
(torch, transformers, sentence-transformers: seconds of imports) to embed it. For a
sentence-transformers folder whose model is a BERT encoder with mean pooling and a final
normalisation (all-MiniLM-L6-v2, the default, is one), this module computes the same vector from
the same files: the tokenizer with `tokenizers`, the weights with `safetensors`, the layers in
float32 NumPy. Builds still embed with sentence-transformers; `tests/test_embed.py` holds the two
routes to the same vectors (cosine at least 0.9999) and the same answers.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import numpy as np

SUPPORTED_ARCHITECTURES = ("BertModel",)


def supports(folder: str | Path) -> bool:
    """Whether `folder` holds a model this encoder computes exactly: a BERT encoder in safetensors,
    mean pooling over tokens, then normalisation to unit length."""
    root = Path(folder)
    try:
        config = json.loads((root / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((root / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((root / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, IndexError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                                 "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"))
    lowered = _read_json(root / "sentence_bert_config.json").get("do_lower_case", False)  # done before tokenizing
    return (kinds == ["Transformer", "Pooling", "Normalize"] and bool(mean_only) and not lowered
            and config.get("architectures") == list(SUPPORTED_ARCHITECTURES) and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (root / "tokenizer.json").is_file() and _float_weights(root / "model.safetensors"))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _float_weights(path: Path) -> bool:
    """Whether a safetensors file holds its weights as float32 or float16 (NumPy has no bfloat16);
    read from the file's header, without loading it."""
    try:
        with path.open("rb") as fh:
            header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    except (OSError, ValueError):
        return False
    dtypes = {v["dtype"] for k, v in header.items() if k != "__metadata__"}
    return bool(dtypes) and dtypes <= {"F32", "F16", "I64"}


class BertEncoder:
    """The encoder of one model folder, loaded on first use; safe to call from several threads."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        self.dimension = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        st = json.loads((self.folder / "sentence_bert_config.json").read_text(encoding="utf-8")) \
            if (self.folder / "sentence_bert_config.json").is_file() else {}
        self.max_length = int(st.get("max_seq_length") or config.get("max_position_embeddings", 512))
        self._weights: dict[str, np.ndarray] | None = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._weights is not None:
                return
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.enable_truncation(self.max_length)
            weights = {k.removeprefix("bert."): v.astype(np.float32, copy=False)
                       for k, v in load_file(str(self.folder / "model.safetensors")).items()}
            # Matrices transposed once, so each layer is `x @ W + b`.
            for k in list(weights):
                if k.endswith(".weight") and weights[k].ndim == 2 and not k.startswith("embeddings."):
                    weights[k] = np.ascontiguousarray(weights[k].T)
            self._tokenizer, self._weights = tokenizer, weights

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one row per text, in one forward pass (shorter texts padded and masked out)."""
        self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        n = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), n), dtype=np.int64)
        mask = np.zeros((len(texts), n), dtype=np.float32)
        for i, e in enumerate(encodings):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1.0
        hidden = self._forward(ids, mask)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The encoder's last hidden states, (texts, tokens, dimension); padding attends to nothing."""
        w = self._weights
        b, n = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        d = x.shape[-1]
        h = self.heads
        scale = np.float32(1.0 / math.sqrt(d // h))
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # (b, 1, 1, keys), as transformers does
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = (x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"]).reshape(b, n, h, -1)
            k = (x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"]).reshape(b, n, h, -1)
            v = (x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"]).reshape(b, n, h, -1)
            scores = np.einsum("bqhd,bkhd->bhqk", q, k) * scale + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = np.einsum("bhqk,bkhd->bqhd", probs, v).reshape(b, n, d)
            attended = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(attended + x, w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"], self.eps)
            inner = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inner @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        return x


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(eps)) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU as BERT defines it, x * Phi(x), with the error function to float32 precision."""
    return (0.5 * x * (1.0 + _erf(x / np.float32(math.sqrt(2.0))))).astype(np.float32)


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function, fractional error below 1.2e-7 everywhere (Numerical Recipes' erfc by a
    Chebyshev fit), computed in float64."""
    z = np.abs(x.astype(np.float64))
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0)
