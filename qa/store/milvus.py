"""The Milvus store: an index in Milvus collections, on milvus-lite (a `.db` file) or a server or cluster.

Needs the optional extra: `pip install -e '.[milvus]'` (pymilvus; milvus-lite for `.db` paths).

A build is three collections named after its content (`<alias>_b<digest>`):
    <name>              passages: id (row number), passage_id, source, start, end, text, sentence_start/stop,
                        vector (inner product; a FLAT index, or HNSW from as many passages as the local
                        index, `AnnSettings.threshold`) and terms (SPARSE_FLOAT_VECTOR,
                        inverted index, inner product): each term's BM25 weight in the passage
    <name>_sentences    sentences: id, source, start, end, text, vector, quotable, terms (their
                        distinct BM25 vocabulary ids)
    <name>_meta         the manifest, the sources' descriptions, the exclusions and the BM25
                        vocabulary, as JSON in chunks (Milvus has no blob field)

Readers look up one alias (`StoreConfig.collection`, default `qa_cite`), which names the passages
collection of the live build; a new build is loaded completely, then the alias is switched to it,
so readers see the old build or the new one, never a mix (the build before stays until the next one,
for readers that opened it). Rows are inserted in batches, in row order: a killed build that is run
again finds its collections (same content, same name), drops a batch cut short and goes on from
the last complete one.

BM25 is the project's own (bm25s's term weights, the same tokeniser and vocabulary) stored as
sparse vectors: a query's BM25 score is the inner product of its term counts with them, so both
backends score alike. Milvus's built-in BM25 function analyses text its own way (no Snowball
stemming, other stop words), which would change answers from one backend to the other.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..ingest.documents import SourceInfo
from ..errors import IndexCorruptError, IndexMissingError, InputError
from ..index.known_vectors import KnownVectors
from ..index.lexical import Lexicon, Weights
from ..ingest.passages import Passage
from ..index.quote_index import SentenceSpan
from .base import SentenceRows, StoreConfig, top_positive

log = logging.getLogger(__name__)

BATCH = 2000  # rows per insert: well under the 64 MB gRPC message limit at 384 float32 dimensions
CHUNK = 60_000  # characters of JSON per metadata row (VARCHAR holds at most 65,535 bytes)
TEXT_BYTES = 65_535
MAX_IDS = 16_384  # Milvus's largest top-k and query window


def client_for(uri: str):
    """A MilvusClient for a `.db` path (milvus-lite, embedded) or a server URI, or a one-line error."""
    # gRPC's C core logs keep-alive chatter with the embedded server ("too_many_pings") to stderr.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise InputError("the milvus backend needs its extra: pip install -e '.[milvus]'") from exc
    for name in ("pymilvus", "milvus_lite"):  # both log a traceback for every failed call, even a handled one
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri)
    except Exception as exc:  # connection refused, a locked .db file, a bad URI
        hint = ""
        if uri.endswith(".db"):
            hint = ("; milvus-lite lets one process open a .db file at a time: stop the other one, or serve the file "
                    f"with `milvus-lite server --data-dir {uri}` and give its http:// address")
        raise InputError(f"cannot open Milvus at {uri!r} ({type(exc).__name__}: {_first_line(exc)}){hint}") from exc


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


class MilvusStore:
    """An index built into Milvus, read through the `Store` interface."""

    kind = "milvus"

    def __init__(self, client, name: str, manifest: dict, sources: dict[str, SourceInfo], exclusions: list[dict],
                 lexicon: Lexicon, derived: dict[str, str] | None = None) -> None:
        self.client = client
        self.name = name
        self.manifest = manifest
        self.sources = sources
        self.derived = derived or {}
        self.exclusions = exclusions
        self.lexicon = lexicon
        counts = manifest.get("counts") or {}
        self._passages = int(counts.get("passages", 0))
        self._sentences = int(counts.get("sentences", 0))
        self._ef = int(((manifest.get("settings") or {}).get("ann") or {}).get("ef_search", 512))

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, config: StoreConfig, *, client=None) -> "MilvusStore":
        """The live build behind `config.collection`.

        Raises:
            IndexMissingError: no build has been made live there.
            IndexCorruptError: its collections disagree with its manifest.
        """
        client = client or client_for(config.milvus_uri)
        name = live_collection(client, config.collection)
        if name is None:
            raise IndexMissingError(f"no index in Milvus at {config.milvus_uri} (alias {config.collection!r}); "
                                    f"run `qa build --backend milvus --milvus-uri {config.milvus_uri}`")
        try:
            meta = read_meta(client, f"{name}_meta")
            manifest = meta["manifest"]
            lexicon = Lexicon({t: i for i, t in enumerate(meta["vocab"])}, np.asarray(meta["df"], dtype=np.int64),
                              int(manifest["counts"]["passages"]))
            sources = {d["source"]: SourceInfo.from_row(d) for d in meta["documents"]}
            store = cls(client, name, manifest, sources, meta["excluded"], lexicon, meta.get("derived"))
        except Exception as exc:
            raise IndexCorruptError(f"index in Milvus at {config.milvus_uri} is unreadable ({name}: "
                                    f"{type(exc).__name__}: {_first_line(exc)}); run `qa build --backend milvus`") from exc
        counts = {"passages": _count(client, name), "sentences": _count(client, f"{name}_sentences")}
        if counts["passages"] != store._passages or counts["sentences"] != store._sentences:
            raise IndexCorruptError(f"index in Milvus at {config.milvus_uri} is incomplete ({name}: {counts}, the manifest "
                                    f"says {store._passages} passages and {store._sentences} sentences); "
                                    "run `qa build --backend milvus`")
        return store

    # -- the Store interface --------------------------------------------------------------------

    def __len__(self) -> int:
        return self._passages

    def sentence_count(self) -> int:
        return self._sentences

    def dense(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        if sources is not None and not sources:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        params = {"ef": max(self._ef, k)} if self.manifest.get("dense_index") == "milvus-hnsw" else {}
        found = self.client.search(self.name, data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="vector",
                                   limit=min(k, MAX_IDS), filter=_source_filter(sources),
                                   search_params={"metric_type": "IP", "params": params}, output_fields=["id"])[0]
        return _ids_scores(found)

    def lexical(self, weights: Weights, k: int, sources: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        if not weights or (sources is not None and not sources):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        # Ask for more than k so that rows tied with the k-th come back and the tie is broken by row, as locally.
        found = self.client.search(self.name, data=[_sparse(weights)], anns_field="terms", limit=min(k + 32, MAX_IDS),
                                   filter=_source_filter(sources),
                                   search_params={"metric_type": "IP", "params": {"drop_ratio_search": 0.0}},
                                   output_fields=["id"])[0]
        ids, scores = _ids_scores(found)
        return top_positive(ids, scores, k)

    def lexical_of(self, weights: Weights, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros(len(ids), dtype=np.float32)
        if not weights or not len(ids):
            return out
        found = self.client.search(self.name, data=[_sparse(weights)], anns_field="terms", limit=min(len(ids), MAX_IDS),
                                   filter=f"id in {ids.tolist()}",
                                   search_params={"metric_type": "IP", "params": {"drop_ratio_search": 0.0}},
                                   output_fields=["id"])[0]
        where = {int(i): n for n, i in enumerate(ids)}
        for hit in found:
            out[where[int(hit["id"])]] = hit["distance"]
        return out

    def passages(self, ids: Sequence[int]) -> list[Passage]:
        rows = self._get(self.name, ids, ["passage_id", "source", "start", "end", "text", "sentence_start",
                                          "sentence_stop"])
        return [Passage(r["passage_id"], r["source"], r["start"], r["end"], r["text"], r["sentence_start"],
                        r["sentence_stop"]) for r in rows]

    def passage_vectors(self, ids: np.ndarray) -> np.ndarray:
        return _vectors(self._get(self.name, ids, ["vector"]), self.manifest["dimension"])

    def sentences(self, ids: np.ndarray) -> SentenceRows:
        ids = np.asarray(ids, dtype=np.int64)
        rows = self._get(f"{self.name}_sentences", ids, ["source", "start", "end", "text", "vector", "quotable", "terms"])
        return SentenceRows(ids, [SentenceSpan(r["source"], r["start"], r["end"], r["text"]) for r in rows],
                            _vectors(rows, self.manifest["dimension"]), np.array([bool(r["quotable"]) for r in rows]),
                            [_term_array(r["terms"]) for r in rows])

    def close(self) -> None:
        self.client.close()

    def _get(self, collection: str, ids: Sequence[int], fields: list[str]) -> list[dict]:
        """Rows by id, in the order asked (Milvus returns them in its own order)."""
        wanted = [int(i) for i in ids]
        got: dict[int, dict] = {}
        for first in range(0, len(wanted), MAX_IDS):
            for row in self.client.get(collection, ids=wanted[first : first + MAX_IDS], output_fields=["id", *fields]):
                got[int(row["id"])] = row
        missing = [i for i in wanted if i not in got]
        if missing:
            raise IndexCorruptError(f"Milvus collection {collection} lacks rows {missing[:5]}; run `qa build --backend milvus`")
        return [got[i] for i in wanted]


# -- writing a build --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MilvusBuild:
    """What `write` did."""

    name: str
    passages: int
    sentences: int
    resumed_from: int
    seconds: float


def build_name(alias: str, manifest: dict) -> str:
    """A build's collection name: the alias and a digest of what it holds (so a rerun finds it again)."""
    content = {k: manifest.get(k) for k in ("model", "dimension", "settings", "sources", "catalog", "counts", "format")}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return f"{alias}_b{digest}"


def write(client, alias: str, store, manifest: dict, *, keys: np.ndarray | None = None, progress: bool = False,
          notify: Callable[[str], None] = log.info) -> MilvusBuild:
    """Write an index held in memory (a `LocalStore` with its quote index, or passages only) into
    Milvus as a new build, then make it live by switching `alias` to it.

    Args:
        store: the corpus: passages, their vectors and BM25 index, and its sentences (`quotes`, may be None).
        manifest: the build's manifest (model, dimension, settings, source fingerprints, counts).
        keys: each text's key (`index.known_vectors.KEY_BYTES` bytes; passages, then sentences), stored so that the
            next build reuses the vectors of unchanged texts.
    """
    t0 = time.perf_counter()
    n, dim = len(store), int(manifest["dimension"])
    quotes = store.quotes
    manifest = {**manifest, "counts": {**(manifest.get("counts") or {}), "passages": n,
                                       "sentences": len(quotes) if quotes is not None else 0}}
    name = build_name(alias, manifest)
    if live_collection(client, alias) == name and _count(client, name) == n:
        notify(f"Milvus alias {alias!r} already names this build ({name})")
        return MilvusBuild(name, n, manifest["counts"]["sentences"], n, round(time.perf_counter() - t0, 2))
    ann = (manifest.get("settings") or {}).get("ann") or {}
    graph = {"M": ann["hnsw_m"], "efConstruction": ann["ef_construction"]} if n >= ann.get("threshold", n + 1) else None
    manifest["dense_index"] = "milvus-hnsw" if graph else "milvus-flat"
    _create(client, name, dim, sentences=False, graph=graph)
    _create(client, f"{name}_sentences", dim, sentences=True)
    _create_meta(client, f"{name}_meta")
    ptr, term_ids, weights = store.bm25.passage_terms()
    passages = store.all_passages
    hexes = [bytes(k).hex() for k in keys] if keys is not None else [""] * (n + manifest["counts"]["sentences"])

    def passage_rows(first: int, last: int) -> list[dict]:
        vectors = np.asarray(store.dense_index.vectors[first:last], dtype=np.float32)
        rows = []
        for i in range(first, last):
            p = passages[i]
            a, b = ptr[i], ptr[i + 1]
            rows.append({"id": i, "passage_id": p.id, "source": p.source, "start": p.start, "end": p.end,
                         "text": _fit(p.text),
                         "sentence_start": p.sentence_start, "sentence_stop": p.sentence_stop,
                         "vector": vectors[i - first].tolist(), "key": hexes[i],
                         "terms": {int(t): float(w) for t, w in zip(term_ids[a:b], weights[a:b])} or {0: 0.0}})
        return rows

    def sentence_rows(first: int, last: int) -> list[dict]:
        vectors = np.asarray(quotes.vectors[first:last], dtype=np.float32)
        rows = []
        for i in range(first, last):
            s = quotes.spans[i]
            rows.append({"id": i, "source": s.source, "start": s.start, "end": s.end, "text": _fit(s.text),
                         "vector": vectors[i - first].tolist(), "key": hexes[n + i], "quotable": bool(quotes.quotable[i]),
                         "terms": _fit(" ".join(str(int(t)) for t in quotes.terms(i)))})
        return rows

    resumed = _insert_all(client, name, n, passage_rows, progress, "passages to Milvus")
    if quotes is not None:
        _insert_all(client, f"{name}_sentences", len(quotes), sentence_rows, progress, "sentences to Milvus")
    lexicon = store.lexicon
    vocab = [""] * len(lexicon.vocab)
    for term, i in lexicon.vocab.items():
        vocab[i] = term
    write_meta(client, f"{name}_meta", {
        "manifest": manifest, "documents": [s.to_dict() for s in store.sources.values()], "excluded": store.exclusions,
        "derived": store.derived,
        "vocab": vocab, "df": np.asarray(lexicon.df).tolist()})
    for collection in (name, f"{name}_sentences", f"{name}_meta"):
        client.flush(collection)
        client.load_collection(collection)
    old = live_collection(client, alias)
    if old is None:
        client.create_alias(collection_name=name, alias=alias)
    else:
        client.alter_alias(collection_name=name, alias=alias)
    # Readers now open the new build. The one before it stays, for readers that opened it earlier; older ones go.
    _drop_builds(client, alias, keep={name, old})
    return MilvusBuild(name, n, manifest["counts"]["sentences"], resumed, round(time.perf_counter() - t0, 2))


def live_collection(client, alias: str) -> str | None:
    """The collection `alias` names, or None."""
    try:
        if alias not in client.list_aliases().get("aliases", []):
            return None
        return client.describe_alias(alias=alias)["collection_name"]
    except Exception:
        return None


def _create(client, name: str, dim: int, *, sentences: bool, graph: dict | None = None) -> None:
    """A build's collection; the passages' vectors get an HNSW graph (`graph`: its M and efConstruction)
    from the same size as the local index does, else a FLAT (exact) index. Sentences are only
    fetched by id, never searched."""
    from pymilvus import DataType

    if client.has_collection(name):
        return  # an interrupted build of the same content: go on filling it
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("source", DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("key", DataType.VARCHAR, max_length=64)  # the text's key, for reuse by the next build
    index = client.prepare_index_params()
    if graph:  # nested "params": milvus-lite ignores index parameters passed flat (a server takes both)
        index.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params={"params": graph})
    else:
        index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    if sentences:
        schema.add_field("quotable", DataType.BOOL)
        schema.add_field("terms", DataType.VARCHAR, max_length=TEXT_BYTES)
    else:
        schema.add_field("passage_id", DataType.VARCHAR, max_length=TEXT_BYTES)  # `source:start-end`, or a corpus's own
        schema.add_field("sentence_start", DataType.INT64)
        schema.add_field("sentence_stop", DataType.INT64)
        schema.add_field("terms", DataType.SPARSE_FLOAT_VECTOR)
        index.add_index(field_name="terms", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=index)


def _create_meta(client, name: str) -> None:
    from pymilvus import DataType

    if client.has_collection(name):
        client.drop_collection(name)  # rewritten whole at the end of every build
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("key", DataType.VARCHAR, max_length=256)
    schema.add_field("part", DataType.INT64)
    schema.add_field("value", DataType.VARCHAR, max_length=TEXT_BYTES)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs a vector field in every collection
    index = client.prepare_index_params()
    index.add_index(field_name="vector", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)


def write_meta(client, name: str, values: dict) -> None:
    """Each value as JSON in chunks of at most `CHUNK` characters (whole UTF-8 characters, under 64 KiB)."""
    rows = []
    for key, value in values.items():
        text = json.dumps(value, ensure_ascii=True)  # ASCII: a chunk's characters are its bytes
        for part, first in enumerate(range(0, max(len(text), 1), CHUNK)):
            rows.append({"id": len(rows), "key": key, "part": part, "value": text[first : first + CHUNK],
                         "vector": [0.0, 0.0]})
    for first in range(0, len(rows), 200):
        client.insert(name, rows[first : first + 200])
    client.flush(name)


def read_meta(client, name: str, keys: Sequence[str] | None = None) -> dict:
    """The values `write_meta` stored (only `keys`, if given: the manifest alone is small, the vocabulary is not)."""
    client.load_collection(name)
    parts: dict[str, list[tuple[int, str]]] = {}
    total = _count(client, name)
    only = f" and key in {json.dumps(list(keys))}" if keys is not None else ""
    for first in range(0, total, MAX_IDS):
        for row in client.query(name, filter=f"id >= {first} and id < {first + MAX_IDS}{only}",
                                output_fields=["key", "part", "value"]):
            parts.setdefault(row["key"], []).append((row["part"], row["value"]))
    return {key: json.loads("".join(v for _, v in sorted(chunks))) for key, chunks in parts.items()}


def _insert_all(client, name: str, total: int, rows: Callable[[int, int], list[dict]], progress: bool,
                desc: str) -> int:
    """Insert rows 0..total in batches, starting after the batches a killed build already wrote."""
    present = _count(client, name)
    done = (present // BATCH) * BATCH
    if present > done:  # a batch cut short by the kill: its rows go, and it is written again
        client.delete(name, filter=f"id >= {done}")
        client.flush(name)
    batches = range(done, total, BATCH)
    if progress and len(batches) > 1:
        from tqdm import tqdm

        batches = tqdm(batches, desc=desc, unit="batch")
    for first in batches:
        client.insert(name, rows(first, min(first + BATCH, total)))
    client.flush(name)
    return done


def _drop_builds(client, alias: str, keep: set) -> None:
    """Drop the collections of `alias`'s builds other than `keep` (older builds, or unfinished ones
    whose content changed before they went live)."""
    live = {f"{n}{part}" for n in keep if n for part in ("", "_sentences", "_meta")}
    ours = re.compile(rf"{re.escape(alias)}_b[0-9a-f]{{12}}(_sentences|_meta)?")
    for collection in client.list_collections():
        if ours.fullmatch(collection) and collection not in live:
            client.drop_collection(collection)


def _count(client, name: str) -> int:
    if not client.has_collection(name):
        return 0
    client.load_collection(name)
    rows = client.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")
    return int(rows[0]["count(*)"]) if rows else 0


def _source_filter(sources: Sequence[str] | None) -> str:
    return "" if sources is None else f"source in {json.dumps(sorted(set(sources)))}"


def _sparse(weights: Weights) -> dict[int, float]:
    return {int(i): float(w) for i, w in weights.items() if w}


def _ids_scores(found: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.array([int(h["id"]) for h in found], dtype=np.int64)
    scores = np.array([h["distance"] for h in found], dtype=np.float32)
    return ids, scores


def _vectors(rows: list[dict], dim: int) -> np.ndarray:
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    return np.asarray([r["vector"] for r in rows], dtype=np.float32)


def _term_array(text: str) -> np.ndarray:
    return np.array([int(t) for t in text.split()], dtype=np.int32)


def _fit(text: str) -> str:
    """A text for a VARCHAR field (at most 65,535 UTF-8 bytes), or a one-line error: a passage is far shorter."""
    if len(text.encode("utf-8")) > TEXT_BYTES:
        raise InputError(f"a text of {len(text):,} characters does not fit a Milvus VARCHAR (64 KiB)")
    return text


# -- the backend -------------------------------------------------------------------------------------


class Backend:
    """The Milvus index of a configuration (`base.Backend`). One client serves every call: milvus-lite
    lets a process open a `.db` file once."""

    def __init__(self, config: StoreConfig, index_dir: Path) -> None:
        self.config = config
        self.root = Path(index_dir)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = client_for(self.config.milvus_uri)
        return self._client

    def describe(self) -> str:
        name = live_collection(self.client, self.config.collection)
        return f"{self.config.milvus_uri}#{name}" if name else self.config.milvus_uri

    def open(self, *, check: Callable[[dict, str], None] | None = None, ann=None, build: str | None = None) -> "MilvusStore":
        if build is not None:
            raise InputError("--build replays a kept build of the local index; the milvus backend keeps only "
                             "the live build and the one before it")
        store = MilvusStore.open(self.config, client=self.client)
        if check is not None:
            check(store.manifest, f"{self.config.milvus_uri} ({store.name})")
        return store

    def manifest(self) -> dict | None:
        try:
            name = live_collection(self.client, self.config.collection)
            return read_meta(self.client, f"{name}_meta", ["manifest"])["manifest"] if name else None
        except Exception:  # missing or unreadable: the caller falls back to defaults and rebuilds
            return None

    def live_build(self) -> str | None:
        return None  # a running app answers from the build live when it started (docs/backends.md)

    def reusable(self, model_id: str, check: Callable[[dict, str], None]) -> tuple[dict | None, KnownVectors]:
        return None, _LiveVectors(self.client, self.config.collection, model_id)

    def write(self, corpus, manifest: dict, *, keep_builds: int, started: float, on_step=None, progress: bool = False,
              notify: Callable[[str], None] = log.info) -> str:
        done = write(self.client, self.config.collection, corpus.store(), manifest, keys=corpus.text_keys,
                     progress=progress, notify=notify)
        if on_step is not None:
            on_step("pointed")  # the alias names the new build
        return f"{self.config.milvus_uri}#{done.name}"

    def evaluation_store(self, name: str, memory, manifest: dict, *, progress: bool = False,
                         notify: Callable[[str], None] = log.info) -> "MilvusStore":
        """An evaluation corpus held in memory, written under its own alias beside the product's index."""
        from dataclasses import replace

        alias = f"{self.config.collection}_eval_{re.sub(r'[^0-9A-Za-z]+', '_', name).strip('_').lower()}"
        write(self.client, alias, memory, manifest, progress=progress, notify=notify)
        return MilvusStore.open(replace(self.config, collection=alias), client=self.client)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class _LiveVectors(KnownVectors):
    """The vectors the live Milvus build holds for a new build's texts, fetched by key in chunks."""

    def __init__(self, client, alias: str, model_id: str) -> None:
        super().__init__()
        self.client, self.name = client, live_collection(client, alias)
        if self.name is not None:
            try:
                same = read_meta(client, f"{self.name}_meta", ["manifest"])["manifest"].get("model") == model_id
            except Exception:  # an unreadable build: embed everything
                same = False
            self.name = self.name if same else None

    def prefetch(self, keys: list[bytes]) -> None:
        if self.name is None:
            return
        wanted = sorted({k.hex() for k in keys if k not in self})
        for collection in (self.name, f"{self.name}_sentences"):
            for first in range(0, len(wanted), 1000):
                rows = self.client.query(collection, filter=f"key in {json.dumps(wanted[first : first + 1000])}",
                                         output_fields=["key", "vector"])
                if rows:
                    found = np.frombuffer(b"".join(bytes.fromhex(r["key"]) for r in rows), dtype=np.uint8)
                    self.add(found.reshape(len(rows), -1), np.asarray([r["vector"] for r in rows], dtype=np.float32))
