"""The index on disk: build it from a sources folder, load it, check it, replace it atomically.

Layout of an index folder:
    CURRENT              name of the live build folder (replaced with os.replace)
    build-*/             one complete build: manifest.json, documents.json,
                         passages/ (a span table), excluded.jsonl, dense/ (vectors,
                         and an HNSW graph for a large corpus), bm25/, quotes/ (every
                         sentence with its vector and terms), text_keys.npy, tokens/
                         (every passage's and sentence's BM25 tokens) and per_document/
                         (each document's rows and short-block keys): with these the
                         next build carries unchanged documents over (`corpus`)
    .embedded/           vectors of a build that did not finish, by text hash, so
                         the next build resumes where it stopped

A build is written into a temporary folder, renamed to `build-*`, and only then
made live by replacing `CURRENT`. A crash at any point leaves the previous build
live. Loading checks the manifest (format, counts, every artifact's size and a
digest of its ends; `verify_artifacts` hashes them whole) and compares it with the
sources (by size and modification time, hashing only files whose differ) and the
settings; `ensure_index` rebuilds when that fails. Opening memory-maps the arrays
and builds no Python object per passage.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from contextlib import contextmanager
from collections.abc import Sequence
from typing import Callable, Iterator

import numpy as np

from . import __version__
from .corpus import PASSAGE_COLUMNS, Corpus, Parts, Previous, prepare
from .dense import AnnSettings, DenseIndex
from .documents import Skipped, SourceInfo, fingerprint
from .embeddings import Embedder, resolve_model
from .errors import (
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    ModelMismatchError,
)
from .known_vectors import KnownVectors
from .lexical import BM25Index
from .metadata import load_catalog
from .passages import Passage
from .quote_index import QuoteIndex
from .retrieval import RetrievalParams, Retriever
from .settings import IndexSettings
from .spans import SpanTable
from .store.local import LocalStore
from .tokens import Tokens

log = logging.getLogger(__name__)

# 2: sentences, their vectors and terms are stored at build time (quotes/), passages know their sentences.
# 3: passages and sentences are span tables; vectors are memory-mapped; HNSW above a size; quick checks.
# 4: tokens and per-document rows are stored, so a build carries unchanged documents over; sorted BM25 vocabulary.
FORMAT_VERSION = 4
POINTER = "CURRENT"
ARTIFACTS = ("documents.json", "passages", "excluded.jsonl", "dense", "bm25", "quotes", "text_keys.npy", "tokens",
             "per_document")
CHECKPOINT = ".embedded"


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line."""

    path: str
    documents: int
    passages: int
    excluded: int
    skipped: tuple[Skipped, ...]
    embedded: int
    reused: int
    seconds: float
    sentences: int = 0
    processed: int = 0  # documents read and split; the others were carried over from the previous build


@dataclass
class Index:
    """A loaded index: metadata, passages, and both search structures."""

    path: Path
    manifest: dict
    sources: dict[str, SourceInfo]
    passages: Sequence[Passage]
    exclusions: list[dict]
    dense: DenseIndex
    bm25: BM25Index
    quotes: QuoteIndex

    @property
    def model_id(self) -> str:
        return self.manifest["model"]

    def retriever(self, embedder: Embedder, params: RetrievalParams = RetrievalParams()) -> Retriever:
        if embedder.model_id != self.model_id:
            raise ModelMismatchError(
                f"index was built with {self.model_id!r} but the query model is {embedder.model_id!r}; "
                f"rebuild with `qa build --model {embedder.model_id}`"
            )
        return Retriever(self.store(), embedder, params)

    def store(self) -> LocalStore:
        """The index behind the `Store` interface."""
        return LocalStore(self.passages, self.dense, self.bm25, self.quotes, sources=self.sources,
                          exclusions=self.exclusions, manifest=self.manifest)


def source_state(seeds: str | Path, manifest: dict | None = None) -> dict:
    """Fingerprint of a sources folder: every source file and the catalog.

    Args:
        manifest: a build's manifest; a file whose size and modification time are the ones it
            recorded keeps its recorded hash instead of being read again.
    """
    _, catalog = load_catalog(seeds)
    known = {}
    if manifest:
        hashes, stats = manifest.get("sources") or {}, manifest.get("source_stats") or {}
        known = {n: (tuple(stats[n]), hashes[n]) for n in hashes if n in stats}
    return {"sources": fingerprint(seeds, known), "catalog": catalog}


KEEP_BUILDS = 3


def build_index(
    seeds: str | Path,
    index_dir: str | Path,
    settings: IndexSettings = IndexSettings(),
    *,
    embedder: Embedder | None = None,
    progress: bool = False,
    keep_builds: int = KEEP_BUILDS,
) -> BuildReport:
    """Build the index of `seeds` into `index_dir` and make it live atomically.

    Vectors of passages whose text is unchanged since the live build (same model)
    are reused, so editing one document re-embeds only that document's passages.
    The `keep_builds` newest builds are kept (the live one among them), so an answer
    can be asked again of the build that gave it (`qa ask --build`).
    """
    if keep_builds < 1:
        raise ValueError(f"keep_builds must be at least 1, got {keep_builds}")
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    with build_lock(root):
        return _build_locked(seeds, root, settings, embedder or Embedder(settings.model), progress, keep_builds)


def manifest_for(corpus: Corpus, settings: IndexSettings, model_id: str) -> dict:
    """What a build records about itself: format, model, settings, source fingerprints, counts."""
    return {
        "format": FORMAT_VERSION,
        "package_version": __version__,
        "model": model_id,
        "dimension": corpus.dense.dimension,
        "dense_index": corpus.dense.kind,
        "settings": settings.to_dict(),
        **corpus.state,
        "skipped": [{"source": s.source, "reason": s.reason} for s in corpus.skipped],
        "counts": {"documents": len(corpus.parts.documents), "passages": len(corpus.passages),
                   "sentences": len(corpus.quotes), "excluded": len(corpus.parts.excluded)},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def check_manifest(manifest: dict, where: str, *, seeds=None, settings: IndexSettings | None = None) -> None:
    """Whether a build's manifest is of this version, these settings and these sources.

    Raises:
        IndexStaleError, ModelMismatchError.
    """
    if manifest.get("format") != FORMAT_VERSION or manifest.get("package_version") != __version__:
        raise IndexStaleError(
            f"index at {where} is in format {manifest.get('format')} (qa {manifest.get('package_version')}); "
            f"this qa reads format {FORMAT_VERSION} (qa {__version__})"
        )
    if settings is not None:
        _check_settings(manifest, settings)
    if seeds is not None:
        _check_sources(manifest, source_state(seeds, manifest))


@contextmanager
def build_lock(root: Path, notify: Callable[[str], None] = log.warning) -> Iterator[None]:
    """The lock that serialises the builds of one index folder (across processes); says so when it waits."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(root / ".build.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        notify(f"another build of {root} is running; waiting for it to finish")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _pause_point(step: str) -> None:
    """A test hook: with QA_BUILD_PAUSE_AT=<step>, the build stops at that step, writes the step's
    name to QA_BUILD_PAUSE_FILE and waits (up to 60 s) to be killed, so a crash test can kill a
    build at an exact step instead of at a random moment."""
    if os.environ.get("QA_BUILD_PAUSE_AT") != step:
        return
    marker = os.environ.get("QA_BUILD_PAUSE_FILE")
    if marker:
        Path(marker).write_text(step, encoding="utf-8")
    time.sleep(60)


def _build_locked(seeds, root: Path, settings: IndexSettings, embedder: Embedder, progress: bool,
                  keep_builds: int) -> BuildReport:
    t0 = time.perf_counter()
    checkpoint = root / CHECKPOINT / model_key(embedder.model_id)
    previous, known = _previous_build(root, embedder.model_id)
    known.add_checkpoint(checkpoint)
    corpus = prepare(seeds, settings, embedder, previous=previous, known=known, progress=progress,
                     checkpoint=checkpoint)
    del previous, known  # the previous build's arrays are copied where needed; its maps can go
    manifest = manifest_for(corpus, settings, embedder.model_id)
    _pause_point("embedded")
    _clean_leftovers(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-build-{os.getpid()}-", dir=root))
    tmp.chmod(0o755)
    try:
        _write_json(tmp / "documents.json", corpus.parts.documents)
        corpus.passages.save(tmp / "passages")
        _pause_point("writing")
        _write_lines(tmp / "excluded.jsonl", corpus.parts.excluded)
        corpus.dense.save(tmp / "dense")
        corpus.bm25.save(tmp / "bm25")
        corpus.quotes.save(tmp / "quotes")
        np.save(tmp / "text_keys.npy", corpus.text_keys, allow_pickle=False)
        corpus.parts.tokens.save(tmp / "tokens")
        corpus.parts.save_rows(tmp / "per_document")
        manifest["artifacts"] = {name: _file_records(tmp / name) for name in ARTIFACTS}
        manifest["seconds"] = round(time.perf_counter() - t0, 2)
        _write_json(tmp / "manifest.json", manifest)
        _fsync_tree(tmp)  # every artifact is on disk before any pointer can name it
        _pause_point("written")
        # Ids sort in build order (to the microsecond), so "the newest builds" is a sort by name.
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        final = root / f"build-{stamp}-{tmp.name[-8:]}"
        os.replace(tmp, final)
        _fsync_dir(root)
        _pause_point("renamed")
        _replace_text(root / POINTER, final.name + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _pause_point("pointed")
    shutil.rmtree(root / CHECKPOINT, ignore_errors=True)  # the new build now holds every vector
    _remove_old_builds(root, keep=final.name, count=keep_builds)
    return BuildReport(str(final), len(corpus.parts.documents), len(corpus.passages), len(corpus.parts.excluded),
                       tuple(corpus.skipped), corpus.embedded, corpus.reused, round(time.perf_counter() - t0, 2),
                       len(corpus.quotes), len(corpus.processed))


def load_index(index_dir: str | Path, *, seeds: str | Path | None = None, settings: IndexSettings | None = None,
               build: str | None = None) -> Index:
    """Load the live build (or a kept one) and check it.

    Args:
        index_dir: the index folder.
        seeds: if given, the index must have been built from these sources as they are now.
        settings: if given, the index must have been built with these settings.
        build: a kept build's id (its folder name) instead of the live build.

    Raises:
        IndexMissingError, IndexCorruptError, IndexStaleError, ModelMismatchError.
    """
    root = Path(index_dir)
    if build is not None:
        return _load(root, _kept_build(root, build), seeds, settings)
    first = _live_build(root)
    try:
        return _load(root, first, seeds, settings)
    except (IndexCorruptError, IndexMissingError):
        # A build made CURRENT while this one was being read can have removed the old one: read again once.
        again = _live_build(root)
        if again == first:
            raise
        return _load(root, again, seeds, settings)


def _load(root: Path, build: Path, seeds, settings) -> Index:
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("manifest is not an object")
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index at {root} is unreadable (manifest: {exc}); run `qa build`") from exc
    check_manifest(manifest, str(root), seeds=seeds, settings=settings)
    bad = check_artifacts(build, manifest, full=False)
    if bad:
        raise IndexCorruptError(f"index at {root} is corrupt ({bad}); run `qa build`")
    try:
        recorded = IndexSettings.from_dict(manifest["settings"])
        sources = {d["source"]: SourceInfo(**d) for d in json.loads((build / "documents.json").read_text(encoding="utf-8"))}
        passages = SpanTable.open(build / "passages", Passage.from_row, PASSAGE_COLUMNS)
        exclusions = [json.loads(line) for line in _lines(build / "excluded.jsonl")]
        dense = DenseIndex.load(build / "dense", recorded.ann.searching_as((settings or IndexSettings()).ann))
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
    return Index(build, manifest, sources, passages, exclusions, dense, bm25, quotes)


def ensure_index(
    seeds: str | Path,
    index_dir: str | Path,
    settings: IndexSettings = IndexSettings(),
    *,
    embedder: Embedder | None = None,
    progress: bool = False,
    notify: Callable[[str], None] = log.warning,
) -> tuple[Index, BuildReport | None]:
    """Load the index if it is current; otherwise say why in one line, rebuild, and load."""
    try:
        return load_index(index_dir, seeds=seeds, settings=settings), None
    except (IndexMissingError, IndexCorruptError, IndexStaleError) as exc:
        notify(f"{exc} -- rebuilding" if not isinstance(exc, IndexMissingError) else f"{exc} -- building it now")
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    with build_lock(root, notify):
        try:  # another process may have built it while this one waited for the lock
            return load_index(index_dir, seeds=seeds, settings=settings), None
        except (IndexMissingError, IndexCorruptError, IndexStaleError):
            pass
        report = _build_locked(seeds, root, settings, embedder or Embedder(settings.model), progress, KEEP_BUILDS)
    return load_index(index_dir, seeds=seeds, settings=settings), report


def recorded_settings(index_dir: str | Path) -> IndexSettings | None:
    """The settings the live build was made with, or None if there is no readable build."""
    try:
        manifest = json.loads((_live_build(Path(index_dir)) / "manifest.json").read_text(encoding="utf-8"))
        return IndexSettings.from_dict(manifest["settings"])
    except Exception:  # missing or unreadable: the caller falls back to defaults and rebuilds
        return None


# -- checks -------------------------------------------------------------------------------------


def _live_build(root: Path) -> Path:
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


def _check_settings(manifest: dict, settings: IndexSettings) -> None:
    model_id, _ = resolve_model(settings.model)
    if manifest.get("model") != model_id:
        raise ModelMismatchError(f"index was built with model {manifest.get('model')!r}, not {model_id!r}")
    built = {k: v for k, v in (manifest.get("settings") or {}).items() if k != "model"}
    wanted = {k: v for k, v in settings.to_dict().items() if k != "model"}
    if isinstance(built.get("ann"), dict):  # how the graph is searched is not part of what was built
        built["ann"] = {k: v for k, v in built["ann"].items() if k not in AnnSettings.QUERY_TIME}
    wanted["ann"] = settings.ann.built_with()
    if built != wanted:
        changed = sorted(k for k in wanted if built.get(k) != wanted[k])
        raise IndexStaleError(f"index settings changed ({', '.join(changed)})")


def _check_sources(manifest: dict, state: dict) -> None:
    old, new = manifest.get("sources") or {}, state["sources"]
    changes = [f"+{n}" for n in sorted(set(new) - set(old))]
    changes += [f"-{n}" for n in sorted(set(old) - set(new))]
    changes += [f"~{n}" for n in sorted(set(old) & set(new)) if old[n] != new[n]]
    if manifest.get("catalog") != state["catalog"]:
        changes.append("~catalog.json")
    if changes:
        shown = ", ".join(changes[:5]) + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")
        raise IndexStaleError(f"sources changed since the index was built ({shown})")


# -- what a build reuses ------------------------------------------------------------------------


def _previous_build(root: Path, model_id: str) -> tuple[Previous | None, KnownVectors]:
    """The live build, if it was built with the same model and is intact: as parts the next build may
    carry over, and its vectors by text key (those also from a build of the previous format)."""
    known = KnownVectors()
    try:
        old = load_index(root)
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
        block_keys, ptr = Parts.load_rows(old.path / "per_document")
        documents = json.loads((old.path / "documents.json").read_text(encoding="utf-8"))
        parts = Parts(documents, _lines(old.path / "excluded.jsonl"), old.passages, old.quotes.spans,
                      old.quotes.quotable, old.dense.vectors, old.quotes.vectors, keys[:n], keys[n:],
                      Tokens.load(old.path / "tokens"), block_keys, ptr)
        parts.check()
    except Exception as exc:  # checksummed, so a bug or a hand edit: process every document again
        log.warning("the previous build's documents cannot be carried over (%s: %s)", type(exc).__name__, exc)
        return None, known
    return Previous(parts, old.manifest), known


def _vectors_of_older_format(root: Path, model_id: str, known: KnownVectors) -> None:
    """Vectors of a live build in format 3 (same layout of vectors and text keys), so that a new
    format does not mean embedding the whole corpus again."""
    try:
        build = _live_build(root)
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != 3 or manifest.get("model") != model_id or check_artifacts(build, manifest):
            return
        keys = np.load(build / "text_keys.npy", mmap_mode="r", allow_pickle=False)
        passages = np.load(build / "dense" / "vectors.npy", mmap_mode="r", allow_pickle=False)
        sentences = np.load(build / "quotes" / "vectors.npy", mmap_mode="r", allow_pickle=False)
        if len(keys) == len(passages) + len(sentences):
            known.add(keys[: len(passages)], passages)
            known.add(keys[len(passages) :], sentences)
    except Exception:  # unreadable: embed everything
        return


def model_key(model_id: str) -> str:
    return hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:16]


# -- files --------------------------------------------------------------------------------------


SAMPLE_BYTES = 64 * 1024


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def _file_records(path: Path) -> dict[str, list]:
    """Each file of an artifact: [size, digest of its ends, SHA-256 of the whole]."""
    out = {}
    for p in _files(path):
        name = p.relative_to(path).as_posix() if path.is_dir() else ""
        out[name] = [p.stat().st_size, _ends_digest(p), _sha256(p)]
    return out


def check_artifacts(build: Path, manifest: dict, *, full: bool = False) -> str | None:
    """What is wrong with a build's files, or None: every recorded file present, of its size,
    with the digest of its first and last 64 KiB (`full`: of its whole bytes)."""
    for name, records in (manifest.get("artifacts") or {}).items():
        if not isinstance(records, dict):
            return f"{name} has no file records"
        path = build / name
        present = {(p.relative_to(path).as_posix() if path.is_dir() else ""): p for p in _files(path)} if path.exists() else {}
        if set(present) != set(records):
            return f"{name} is missing files or has extra ones"
        for rel, (size, ends, whole) in records.items():
            p = present[rel]
            if p.stat().st_size != size or _ends_digest(p) != ends or (full and _sha256(p) != whole):
                return f"{name} fails its checksum"
    return None


def _ends_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(0)
        h.update(fh.read(SAMPLE_BYTES))
        if size > SAMPLE_BYTES:
            fh.seek(max(SAMPLE_BYTES, size - SAMPLE_BYTES))
            h.update(fh.read())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_lines(path: Path, lines: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line + "\n")


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]


def _replace_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_tree(folder: Path) -> None:
    """fsync every file below `folder`, then every folder, deepest first."""
    for path in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        else:
            _fsync_dir(path)
    _fsync_dir(folder)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_old_builds(root: Path, keep: str, count: int = KEEP_BUILDS) -> None:
    """Remove all but the `count` newest builds; the live one (`keep`) always stays."""
    builds = sorted((p for p in root.glob("build-*") if p.is_dir()), key=lambda p: p.name)
    for old in builds[: max(0, len(builds) - count)]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def _clean_leftovers(root: Path) -> None:
    """Remove temporary folders of builds whose process is gone (a crash mid-build)."""
    for tmp in root.glob(".tmp-build-*"):
        try:
            pid = int(tmp.name.split("-")[2])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:
            pass
