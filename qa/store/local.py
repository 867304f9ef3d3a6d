"""The local backend: an index's files under the index folder (the default).

Layout of an index folder:
    CURRENT              name of the live build folder (replaced with os.replace)
    build-*/             one complete build: manifest.json, documents.json,
                         passages/ (a span table), excluded.jsonl, dense/ (vectors,
                         and an HNSW graph for a large corpus), bm25/, quotes/ (every
                         sentence with its vector and terms), text_keys.npy, tokens/
                         (every passage's and sentence's BM25 tokens) and per_document/
                         (each document's rows and short-block keys): with these the
                         next build carries unchanged documents over (`build.corpus`)

A build is written into a temporary folder, renamed to `build-*`, and only then made live by
replacing `CURRENT`: a crash at any point leaves the previous build live. Opening checks every
artifact's size and a digest of its ends (`check_artifacts(full=True)` hashes them whole),
memory-maps the arrays and builds no Python object per passage. Passages and sentences are span
tables, vectors are memory-mapped `.npy` files searched exactly or through a FAISS HNSW graph
(`index.dense.DenseIndex`), and BM25 is bm25s's matrix of precomputed term scores
(`index.lexical.BM25Index`). What the manifest must say (format, model, settings, sources) is the
build's business (`build.manifest`); this module only stores and reads.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import IndexCorruptError, IndexMissingError, IndexStaleError
from ..index.dense import DenseIndex
from ..index.known_vectors import KnownVectors
from ..index.lexical import BM25Index, Lexicon, Weights
from ..index.quote_index import QuoteIndex
from ..index.spans import SpanTable
from ..index.tables import PASSAGE_COLUMNS, load_rows, save_rows
from ..index.tokens import Tokens
from ..ingest.documents import SourceInfo
from ..ingest.passages import Passage
from ..settings import AnnSettings, IndexSettings
from .base import SentenceRows, StoreConfig, top_positive
from .files import (check_artifacts, clean_leftovers, file_records, fsync_dir, fsync_tree, read_lines, remove_old_builds,
                    replace_text, write_json, write_lines)

log = logging.getLogger(__name__)

POINTER = "CURRENT"
ARTIFACTS = ("documents.json", "passages", "excluded.jsonl", "dense", "bm25", "quotes", "text_keys.npy", "tokens",
             "per_document")
# One index opened at a time in a process: `np.load` parses each header with `ast.literal_eval`, and
# CPython 3.11.7 can fail that with "SystemError: AST constructor recursion depth mismatch" when two
# threads parse at once (an app's request threads, a test's reader beside its main thread).
_OPENING = threading.Lock()
OLDER_FORMAT = 3  # a live build of this format lends its vectors to the next build (same layout of vectors)


class Backend:
    """The local index of `index_dir` (`base.Backend`)."""

    def __init__(self, config: StoreConfig, index_dir: str | Path) -> None:
        self.config = config
        self.root = Path(index_dir)

    def describe(self) -> str:
        return str(self.root)

    def open(self, *, check: Callable[[dict, str], None] | None = None, ann: AnnSettings | None = None,
             build: str | None = None) -> "LocalStore":
        """The live build (or the kept `build`) as a store; `check` vets its manifest first."""
        return load(self.root, check=check, ann=ann, build=build).store()

    def manifest(self) -> dict | None:
        """The live build's manifest, or None when there is no readable build."""
        try:
            return json.loads((live_build(self.root) / "manifest.json").read_text(encoding="utf-8"))
        except Exception:  # missing or unreadable: the caller falls back to defaults and rebuilds
            return None

    def live_build(self) -> str | None:
        """The name of the live build, read cheaply (a running app compares it between requests)."""
        try:
            return (self.root / POINTER).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def reusable(self, model_id: str, check: Callable[[dict, str], None]) -> tuple[dict | None, KnownVectors]:
        """What a new build may take from the live one (`check` raises IndexStaleError for a build
        of another format, which then lends only its vectors)."""
        return reusable(self.root, model_id, check)

    def write(self, corpus, manifest: dict, *, keep_builds: int, started: float,
              on_step: Callable[[str], None] = lambda step: None, progress: bool = False,
              notify: Callable[[str], None] = log.info) -> str:
        return str(write(self.root, corpus, manifest, keep_builds=keep_builds, started=started, on_step=on_step))

    def evaluation_store(self, name: str, memory: "LocalStore", manifest: dict, *, progress: bool = False,
                         notify: Callable[[str], None] = log.info) -> "LocalStore":
        """An evaluation corpus held in memory, as this backend searches it: where it is."""
        return memory

    def close(self) -> None:
        pass


@dataclass
class LocalIndex:
    """A loaded build: metadata, passages, and both search structures."""

    path: Path
    manifest: dict
    sources: dict[str, SourceInfo]
    derived: dict[str, str]
    passages: Sequence[Passage]
    exclusions: list[dict]
    dense: DenseIndex
    bm25: BM25Index
    quotes: QuoteIndex

    @property
    def model_id(self) -> str:
        return self.manifest["model"]

    def store(self) -> "LocalStore":
        """The build behind the `Store` interface."""
        return LocalStore(self.passages, self.dense, self.bm25, self.quotes, sources=self.sources, derived=self.derived,
                          exclusions=self.exclusions, manifest=self.manifest, name=self.path.name)


def load(root: str | Path, *, check: Callable[[dict, str], None] | None = None, ann: AnnSettings | None = None,
         build: str | None = None) -> LocalIndex:
    """The live build (or the kept `build`), its manifest vetted by `check` before its files are read.

    Raises:
        IndexMissingError, IndexCorruptError, and whatever `check` raises.
    """
    root = Path(root)
    if build is not None:
        return _load(root, _kept_build(root, build), check, ann)
    first = live_build(root)
    try:
        return _load(root, first, check, ann)
    except (IndexCorruptError, IndexMissingError):
        # A build made CURRENT while this one was being read can have removed the old one: read again once.
        again = live_build(root)
        if again == first:
            raise
        return _load(root, again, check, ann)


def _load(root: Path, build: Path, check: Callable[[dict, str], None] | None, ann: AnnSettings | None) -> LocalIndex:
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("manifest is not an object")
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index at {root} is unreadable (manifest: {exc}); run `qa build`") from exc
    if check is not None:
        check(manifest, str(root))
    bad = check_artifacts(build, manifest, full=False)
    if bad:
        raise IndexCorruptError(f"index at {root} is corrupt ({bad}); run `qa build`")
    with _OPENING:
        return _read_build(root, build, manifest, ann)


def _read_build(root: Path, build: Path, manifest: dict, ann: AnnSettings | None) -> LocalIndex:
    try:
        recorded = IndexSettings.from_dict(manifest["settings"])
        rows = json.loads((build / "documents.json").read_text(encoding="utf-8"))
        sources = {d["source"]: SourceInfo.from_row(d) for d in rows}
        derived = {d["source"]: d["derived_text"] for d in rows if "derived_text" in d}
        passages = SpanTable.open(build / "passages", Passage.from_row, PASSAGE_COLUMNS)
        exclusions = [json.loads(line) for line in read_lines(build / "excluded.jsonl")]
        dense = DenseIndex.load(build / "dense", recorded.ann.searching_as(ann or AnnSettings()))
        bm25 = BM25Index.load(build / "bm25")
        quotes = QuoteIndex.load(build / "quotes")
    except Exception as exc:  # any failure to parse means the same thing: rebuild
        raise IndexCorruptError(f"index at {root} is unreadable ({type(exc).__name__}: {exc}); run `qa build`") from exc
    counts = manifest.get("counts") or {}
    if (not (len(passages) == len(dense) == len(bm25)) or dense.dimension != manifest.get("dimension")
            or len(quotes) != counts.get("sentences") or quotes.vectors.shape[1] != dense.dimension):
        raise IndexCorruptError(
            f"index at {root} is inconsistent ({len(passages)} passages, {len(dense)} vectors, {len(bm25)} BM25 rows, "
            f"{len(quotes)} sentences); run `qa build`"
        )
    return LocalIndex(build, manifest, sources, derived, passages, exclusions, dense, bm25, quotes)


def write(root: Path, corpus, manifest: dict, *, keep_builds: int, started: float,
          on_step: Callable[[str], None] = lambda step: None) -> Path:
    """Write a corpus (`build.corpus.Corpus`) as a new build and make it live; return its folder.

    Args:
        started: when the build began (`time.perf_counter()`), for the manifest's `seconds`.
        on_step: called with "writing", "written", "renamed" and "pointed" (CURRENT replaced, before
            older builds are removed) as the write reaches each step.
    """
    import time

    clean_leftovers(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-build-{os.getpid()}-", dir=root))
    tmp.chmod(0o755)
    try:
        write_json(tmp / "documents.json", corpus.parts.documents)
        corpus.passages.save(tmp / "passages")
        on_step("writing")
        write_lines(tmp / "excluded.jsonl", corpus.parts.excluded)
        corpus.dense.save(tmp / "dense")
        corpus.bm25.save(tmp / "bm25")
        corpus.quotes.save(tmp / "quotes")
        np.save(tmp / "text_keys.npy", corpus.text_keys, allow_pickle=False)
        corpus.parts.tokens.save(tmp / "tokens")
        save_rows(corpus.parts.block_keys, corpus.parts.ptr, tmp / "per_document")
        manifest["artifacts"] = {name: file_records(tmp / name) for name in ARTIFACTS}
        manifest["seconds"] = round(time.perf_counter() - started, 2)
        write_json(tmp / "manifest.json", manifest)
        fsync_tree(tmp)  # every artifact is on disk before any pointer can name it
        on_step("written")
        # Ids sort in build order (to the microsecond), so "the newest builds" is a sort by name.
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        final = root / f"build-{stamp}-{tmp.name[-8:]}"
        os.replace(tmp, final)
        fsync_dir(root)
        on_step("renamed")
        replace_text(root / POINTER, final.name + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    on_step("pointed")
    remove_old_builds(root, keep=final.name, count=keep_builds)
    return final


def live_build(root: Path) -> Path:
    pointer = root / POINTER
    if not pointer.is_file():
        raise IndexMissingError(f"no index in {root}; run `qa build`")
    name = pointer.read_text(encoding="utf-8").strip()
    build = root / name
    if not name or "/" in name or not build.is_dir():
        raise IndexCorruptError(f"index pointer {pointer} names a missing build {name!r}; run `qa build`")
    return build


def kept_builds(index_dir: str | Path) -> list[str]:
    """Ids of the complete builds kept in an index folder, oldest first."""
    root = Path(index_dir)
    return sorted(p.name for p in root.glob("build-*") if (p / "manifest.json").is_file())


def _kept_build(root: Path, name: str) -> Path:
    if name not in kept_builds(root):
        kept = ", ".join(kept_builds(root)) or "none"
        raise IndexMissingError(f"no build {name!r} is kept in {root} (kept: {kept})")
    return root / name


def reusable(root: Path, model_id: str, check: Callable[[dict, str], None]) -> tuple[dict | None, KnownVectors]:
    """What the next build may reuse from the live build, if it was built with the same model and is
    intact: its documents' rows in every table (the fields of `build.corpus.Parts`), and its vectors
    by text key (those also from a build of the previous format)."""
    known = KnownVectors()
    try:
        old = load(root, check=check)
    except IndexStaleError:
        _vectors_of_older_format(root, model_id, known)
        return None, known
    except Exception:  # no usable previous build: embed everything
        return None, known
    if old.model_id != model_id:
        return None, known
    keys = np.load(old.path / "text_keys.npy", mmap_mode="r", allow_pickle=False)
    n = len(old.dense)
    known.add(keys[:n], old.dense.vectors)
    known.add(keys[n:], old.quotes.vectors)
    try:
        block_keys, ptr = load_rows(old.path / "per_document")
        documents = json.loads((old.path / "documents.json").read_text(encoding="utf-8"))
        parts = dict(documents=documents, excluded=read_lines(old.path / "excluded.jsonl"), passages=old.passages,
                     sentences=old.quotes.spans, quotable=old.quotes.quotable, passage_vectors=old.dense.vectors,
                     sentence_vectors=old.quotes.vectors, passage_keys=keys[:n], sentence_keys=keys[n:],
                     tokens=Tokens.load(old.path / "tokens"), block_keys=block_keys, ptr=ptr)
    except Exception as exc:  # checksummed, so a bug or a hand edit: process every document again
        log.warning("the previous build's documents cannot be carried over (%s: %s)", type(exc).__name__, exc)
        return None, known
    return {"parts": parts, "manifest": old.manifest}, known


def _vectors_of_older_format(root: Path, model_id: str, known: KnownVectors) -> None:
    """Vectors of a live build in format 3 or 4 (same layout of vectors and text keys), so that a new
    format does not mean embedding the whole corpus again."""
    try:
        build = live_build(root)
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") not in (3, 4) or manifest.get("model") != model_id or check_artifacts(build, manifest):
            return
        keys = np.load(build / "text_keys.npy", mmap_mode="r", allow_pickle=False)
        passages = np.load(build / "dense" / "vectors.npy", mmap_mode="r", allow_pickle=False)
        sentences = np.load(build / "quotes" / "vectors.npy", mmap_mode="r", allow_pickle=False)
        if len(keys) == len(passages) + len(sentences):
            known.add(keys[: len(passages)], passages)
            known.add(keys[len(passages) :], sentences)
    except Exception:  # unreadable: embed everything
        return


class LocalStore:
    """Passages, their dense and BM25 indexes, and (for a built index) the quote index, in memory or mapped."""

    def __init__(self, passages: Sequence[Passage], dense: DenseIndex, bm25: BM25Index, quotes: QuoteIndex | None = None,
                 *, sources: dict[str, SourceInfo] | None = None, derived: dict[str, str] | None = None,
                 exclusions: list[dict] | None = None,
                 manifest: dict | None = None, name: str | None = None) -> None:
        if not (len(passages) == len(dense) == len(bm25)):
            raise ValueError(f"index parts disagree: {len(passages)} passages, {len(dense)} vectors, {len(bm25)} BM25 docs")
        self._passages = passages
        self.dense_index = dense
        self.bm25 = bm25
        self.quotes = quotes
        self.sources = sources or {}
        self.derived = derived or {}
        self.exclusions = exclusions or []
        self.manifest = manifest or {}
        self.name = name  # the build it was loaded from (None: held only in memory)
        self.lexicon: Lexicon = bm25.lexicon
        self._rows: dict[tuple[str, ...], np.ndarray] = {}
        self._last: tuple[tuple, np.ndarray] | None = None  # the last query's BM25 scores (one question asks several times)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._passages)

    def sentence_count(self) -> int:
        return len(self.quotes) if self.quotes is not None else 0

    @property
    def all_passages(self) -> Sequence[Passage]:
        return self._passages

    def rows_of(self, sources: Sequence[str]) -> np.ndarray:
        """The row numbers of the passages of `sources`, ascending."""
        key = tuple(sorted(set(sources)))
        rows = self._rows.get(key)
        if rows is None:
            if isinstance(self._passages, SpanTable):
                rows = self._passages.rows_of(list(key))
            else:
                wanted = set(key)
                rows = np.array([i for i, p in enumerate(self._passages) if p.source in wanted], dtype=np.int64)
            with self._lock:
                if len(self._rows) >= 64:
                    self._rows.pop(next(iter(self._rows)))
                self._rows[key] = rows
        return rows

    def dense(self, vector: np.ndarray, k: int, sources: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        allowed = None if sources is None else self.rows_of(sources)
        if allowed is not None and not len(allowed):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores, ids = self.dense_index.search(np.asarray(vector, dtype=np.float32)[None, :], k, allowed)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def _scores(self, weights: Weights) -> np.ndarray:
        key = tuple(sorted(weights.items()))
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        scores = self.bm25.scores(weights)
        self._last = (key, scores)
        return scores

    def lexical(self, weights: Weights, k: int, sources: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        scores = self._scores(weights)
        rows = np.flatnonzero(scores > 0) if sources is None else self.rows_of(sources)
        rows = rows[scores[rows] > 0]
        if len(rows) > k:  # keep every row tied with the k-th best, then order them
            kth = np.partition(scores[rows], len(rows) - k)[len(rows) - k]
            rows = rows[scores[rows] >= kth]
        return top_positive(rows, scores[rows], k)

    def lexical_of(self, weights: Weights, ids: np.ndarray) -> np.ndarray:
        return self._scores(weights)[np.asarray(ids, dtype=np.int64)]

    def passages(self, ids: Sequence[int]) -> list[Passage]:
        return [self._passages[int(i)] for i in ids]

    def passage_vectors(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.dense_index.vectors[np.asarray(ids, dtype=np.int64)])

    def sentences(self, ids: np.ndarray) -> SentenceRows:
        if self.quotes is None:
            raise ValueError("this index has no sentences (a passage-only corpus)")
        ids = np.asarray(ids, dtype=np.int64)
        q = self.quotes
        return SentenceRows(ids, [q.spans[int(i)] for i in ids], np.asarray(q.vectors[ids]), np.asarray(q.quotable[ids]),
                            [np.asarray(q.terms(int(i))) for i in ids])

    def close(self) -> None:
        pass
