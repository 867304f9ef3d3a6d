"""Datasets in BEIR layout: `corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv`.

The document is the unit: each corpus entry is one passage (title and text, as
BEIR evaluations embed them), so a run ranks documents directly.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ..embed import Embedder
from ..errors import InputError
from ..index.dense import DenseIndex
from ..index.lexical import BM25Index
from ..ingest.passages import Passage
from ..retrieval import Retriever
from ..settings import RetrievalParams
from ..store import Store, memory_store
from ..text import normalize
from .cache import encode_cached


@dataclass(frozen=True)
class Dataset:
    name: str
    docs: list[Passage]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_qrels(folder: str | Path, split: str = "test") -> dict[str, dict[str, int]]:
    """Judgments of a BEIR folder: query id -> corpus id -> grade."""
    path = Path(folder) / "qrels" / f"{split}.tsv"
    if not path.is_file():
        raise InputError(f"not a BEIR folder, missing: {path}")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) >= 3 and row[2].lstrip("-").isdigit():  # the header line is not
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def load_queries(folder: str | Path) -> dict[str, str]:
    """Queries of a BEIR folder: id -> text."""
    path = Path(folder) / "queries.jsonl"
    if not path.is_file():
        raise InputError(f"not a BEIR folder, missing: {path}")
    return {str(row["_id"]): row["text"] for row in (json.loads(x) for x in _jsonl(path) if x.strip())}


def read_corpus(folder: str | Path, limit: int | None = None) -> list[dict]:
    """The rows of a BEIR `corpus.jsonl`, in file order (the first `limit` if given)."""
    path = Path(folder) / "corpus.jsonl"
    if not path.is_file():
        raise InputError(f"not a BEIR folder, missing: {path}")
    rows = []
    for line in _jsonl(path):
        if line.strip():
            rows.append(json.loads(line))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def load_beir(folder: str | Path, split: str = "test") -> Dataset:
    """Read a BEIR folder; only queries with judgments are kept."""
    root = Path(folder)
    qrels = load_qrels(root, split)
    queries = {q: text for q, text in load_queries(root).items() if q in qrels}
    docs = []
    for row in read_corpus(root):
        text = " ".join(x for x in (row.get("title", ""), row.get("text", "")) if x)
        docs.append(Passage(str(row["_id"]), str(row["_id"]), 0, len(text), text))
    return Dataset(root.name, docs, queries, qrels)


def store_for(dataset: Dataset, embedder: Embedder, cache_dir: str | Path, *, progress: bool = True) -> Store:
    """A dataset's corpus indexed in memory (embeddings cached by model and text)."""
    texts = [normalize(d.text) for d in dataset.docs]
    vectors = encode_cached(embedder, texts, cache_dir, progress=progress)
    return memory_store(dataset.docs, DenseIndex.build(vectors), BM25Index.build(texts))


def retriever_for(dataset: Dataset, embedder: Embedder, cache_dir: str | Path, params: RetrievalParams = RetrievalParams(),
                  *, progress: bool = True) -> Retriever:
    """A retriever over `store_for`'s index."""
    return Retriever(store_for(dataset, embedder, cache_dir, progress=progress), embedder, params)


def _jsonl(path: Path) -> list[str]:
    # Split on "\n" only: str.splitlines() would also split inside JSON strings at U+2028 and friends.
    return path.read_text(encoding="utf-8").split("\n")


def corpus_digest(folder: str | Path) -> str:
    """SHA-256 of a BEIR folder's corpus file (what an index of it was made from)."""
    import hashlib

    h = hashlib.sha256()
    with (Path(folder) / "corpus.jsonl").open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
