"""The build: read, clean, split and embed a sources folder, then write it into any backend, locked,
atomically and resumably; and `ensure`, which opens the index when it is current and builds it when not.

Builds of one index folder are serialised by a file lock (across processes). Embedded batches
are checkpointed under the index folder (`CHECKPOINT`), so a killed build resumes from the last
one; the previous build lends its vectors (by text key) and its unchanged documents' rows. Each
backend writes a new build and makes it live atomically in its own way (`store.Backend.write`):
a crash at any point leaves the previous build live.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from ..embed import Embedder, load_embedder
from .model_choice import ModelChoice, choose_model
from ..errors import IndexCorruptError, IndexMissingError, IndexStaleError
from ..ingest.documents import Skipped
from ..settings import KEEP_BUILDS, IndexSettings
from ..store import Backend, Store, StoreConfig, backend_for
from ..store.local import LocalIndex, load
from .corpus import Parts, Previous, prepare
from .manifest import check_format, check_manifest, manifest_for

log = logging.getLogger(__name__)

CHECKPOINT = ".embedded"
STEPS = ("embedded", "writing", "written", "renamed", "pointed")  # where `on_step` is called, in order


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


def model_key(model_id: str) -> str:
    """A model's folder name in the checkpoint: vectors of two models never mix."""
    return hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:16]


@contextmanager
def build_lock(root: Path, notify: Callable[[str], None] = log.warning) -> Iterator[None]:
    """The lock that serialises the builds of one index folder (across processes); says so when it waits."""
    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
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


def build(backend: Backend, seeds: str | Path, settings: IndexSettings, embedder: Embedder, *,
          progress: bool = False, notify: Callable[[str], None] = log.warning, keep_builds: int = KEEP_BUILDS,
          on_step: Callable[[str], None] = lambda step: None, choice: ModelChoice | None = None) -> BuildReport:
    """Build the index of `seeds` into `backend` and make it live atomically.

    Vectors of texts unchanged since the live build (same model) are reused, and unchanged
    documents are carried over, so editing one document re-embeds only that document. A local
    index keeps the `keep_builds` newest builds (the live one among them), so an answer can be
    asked again of the build that gave it (`qa ask --build`).

    Args:
        on_step: called with each name of `STEPS` as the build reaches it (a crash test stops it there).
        choice: how `--model auto` chose the model, recorded with the build (None: the model was named).
    """
    if keep_builds < 1:
        raise ValueError(f"keep_builds must be at least 1, got {keep_builds}")
    with build_lock(backend.root, notify):
        return _build_locked(backend, seeds, settings, embedder, progress, notify, keep_builds, on_step, choice)


def _build_locked(backend: Backend, seeds, settings: IndexSettings, embedder: Embedder, progress: bool,
                  notify: Callable[[str], None], keep_builds: int, on_step: Callable[[str], None],
                  choice: ModelChoice | None = None) -> BuildReport:
    t0 = time.perf_counter()
    checkpoint = backend.root / CHECKPOINT / model_key(embedder.model_id)
    carried, known = backend.reusable(embedder.model_id, check_format)
    previous = Previous(Parts(**carried["parts"]), carried["manifest"]) if carried else None
    if previous is not None:
        try:
            previous.parts.check()
        except Exception as exc:  # checksummed, so a bug or a hand edit: process every document again
            log.warning("the previous build's documents cannot be carried over (%s: %s)", type(exc).__name__, exc)
            previous = None
    known.add_checkpoint(checkpoint)
    corpus = prepare(seeds, settings, embedder, previous=previous, known=known, progress=progress,
                     checkpoint=checkpoint)
    del previous, known, carried  # the previous build's arrays are copied where needed; its maps can go
    for s in corpus.skipped:  # each file left out is named once, with its reason
        notify(f"skipped {s.source}: {s.reason}")
    read_now = set(corpus.processed)
    for row in corpus.parts.documents:  # and each part left out of a file read now
        if row["source"] in read_now:
            for note in row.get("notes") or ():
                notify(f"read {row['source']} in part: {note}")
    manifest = manifest_for(corpus, settings, embedder.model_id)
    manifest["model_choice"] = choice.record() if choice else {"auto": False, "model": settings.model}
    on_step("embedded")
    path = backend.write(corpus, manifest, keep_builds=keep_builds, started=t0, on_step=on_step, progress=progress,
                         notify=notify)  # "pointed" is reached inside, once the new build is live
    shutil.rmtree(backend.root / CHECKPOINT, ignore_errors=True)  # the new build now holds every vector
    return BuildReport(path, len(corpus.parts.documents), len(corpus.passages), len(corpus.parts.excluded),
                       tuple(corpus.skipped), corpus.embedded, corpus.reused, round(time.perf_counter() - t0, 2),
                       len(corpus.quotes), len(corpus.processed))


def open_checked(backend: Backend, *, seeds=None, settings: IndexSettings | None = None,
                 build: str | None = None) -> Store:
    """The live build (or the kept `build`), checked against `seeds` and `settings` when given.

    Raises:
        IndexMissingError, IndexCorruptError, IndexStaleError, ModelMismatchError.
    """
    check = partial(check_manifest, seeds=seeds, settings=settings)
    return backend.open(check=check, ann=(settings or IndexSettings()).ann, build=build)


def ensure(backend: Backend, seeds: str | Path, settings: IndexSettings, embedder: Embedder, *,
           progress: bool = False, notify: Callable[[str], None] = log.warning,
           rebuild: bool = True, choice: ModelChoice | None = None) -> tuple[Store, BuildReport | None]:
    """Open the index if it is current; otherwise say why in one line, rebuild (if `rebuild`), and open."""
    try:
        return open_checked(backend, seeds=seeds, settings=settings), None
    except (IndexMissingError, IndexCorruptError, IndexStaleError) as exc:
        if not rebuild:
            raise
        notify(f"{exc} -- rebuilding" if not isinstance(exc, IndexMissingError) else f"{exc} -- building it now")
    with build_lock(backend.root, notify):
        try:  # another process may have built it while this one waited for the lock
            return open_checked(backend, seeds=seeds, settings=settings), None
        except (IndexMissingError, IndexCorruptError, IndexStaleError):
            pass
        report = _build_locked(backend, seeds, settings, embedder, progress, notify, KEEP_BUILDS, lambda step: None,
                               choice)
    return open_checked(backend, seeds=seeds, settings=settings), report


def auto_model(backend: Backend, seeds: str | Path) -> ModelChoice:
    """`--model auto` for `seeds`: the live build's automatic choice is kept unless the folder moved well
    past the threshold, and a file unchanged since that build is not read again for its language."""
    try:
        manifest = backend.manifest() or {}
        stats, languages = manifest.get("source_stats") or {}, manifest.get("source_languages") or {}
        known = {name: (tuple(stats[name]), str(language), int(chars), str(extractor))
                 for name, (language, chars, extractor) in languages.items() if name in stats}
    except Exception:  # missing, unreadable or from another version: a fresh choice, every file read
        manifest, known = {}, {}
    return choose_model(seeds, manifest.get("model_choice"), known)


def recorded_settings(backend: Backend) -> IndexSettings | None:
    """The settings the live build was made with, or None if there is no readable build."""
    try:
        return IndexSettings.from_dict(backend.manifest()["settings"])
    except Exception:  # missing or unreadable: the caller falls back to defaults and rebuilds
        return None


# -- the local index by its folder (what tests, benchmarks and the evaluation use) ----------------


def _local(index_dir: str | Path) -> Backend:
    return backend_for(StoreConfig(), index_dir)


def build_index(seeds: str | Path, index_dir: str | Path, settings: IndexSettings = IndexSettings(), *,
                embedder: Embedder | None = None, progress: bool = False, keep_builds: int = KEEP_BUILDS,
                on_step: Callable[[str], None] = lambda step: None) -> BuildReport:
    """`build` into the local index of `index_dir`."""
    return build(_local(index_dir), seeds, settings, embedder or load_embedder(settings.model), progress=progress,
                 keep_builds=keep_builds, on_step=on_step)


def load_index(index_dir: str | Path, *, seeds: str | Path | None = None, settings: IndexSettings | None = None,
               build: str | None = None) -> LocalIndex:
    """The local index of `index_dir` as its parts (passages, vectors, BM25, sentences), checked as `open_checked` does."""
    check = partial(check_manifest, seeds=seeds, settings=settings)
    return load(index_dir, check=check, ann=(settings or IndexSettings()).ann, build=build)


def ensure_index(seeds: str | Path, index_dir: str | Path, settings: IndexSettings = IndexSettings(), *,
                 embedder: Embedder | None = None, progress: bool = False,
                 notify: Callable[[str], None] = log.warning) -> tuple[LocalIndex, BuildReport | None]:
    """`ensure` on the local index of `index_dir`, returning its parts."""
    _, report = ensure(_local(index_dir), seeds, settings, embedder or load_embedder(settings.model), progress=progress,
                       notify=notify)
    return load_index(index_dir, seeds=seeds, settings=settings), report
