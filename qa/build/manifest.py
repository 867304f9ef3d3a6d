"""What a build records about itself, and whether a build is still the one asked for.

A manifest holds the format, the package version, the model, the settings, the sources'
fingerprints (SHA-256, with size and modification time so that unchanged files are not read
again) and the counts. An index is current when all of them match what is asked now; every
backend is checked the same way.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import __version__
from ..embed import model_id as model_id_of
from ..errors import IndexStaleError, ModelMismatchError
from ..ingest.documents import fingerprint
from ..ingest.formats import BY_FORMAT
from ..ingest.metadata import load_catalog
from ..settings import AnnSettings, IndexSettings

# 2: sentences, their vectors and terms are stored at build time (quotes/), passages know their sentences.
# 3: passages and sentences are span tables; vectors are memory-mapped; HNSW above a size; quick checks.
# 4: tokens and per-document rows are stored, so a build carries unchanged documents over; sorted BM25 vocabulary.
# 5: every document has its language; BM25 tokens are stemmed by it (and Chinese, Japanese, Korean cut into
#    bigrams); derived documents (PDF, HTML, DOCX) keep their text, extractor and pages.
FORMAT_VERSION = 5


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


def manifest_for(corpus, settings: IndexSettings, model_id: str) -> dict:
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


def check_format(manifest: dict, where: str) -> None:
    """Raise IndexStaleError unless a build is of this format and package version."""
    if manifest.get("format") != FORMAT_VERSION or manifest.get("package_version") != __version__:
        raise IndexStaleError(
            f"index at {where} is in format {manifest.get('format')} (qa {manifest.get('package_version')}); "
            f"this qa reads format {FORMAT_VERSION} (qa {__version__})"
        )


def check_manifest(manifest: dict, where: str, *, seeds=None, settings: IndexSettings | None = None) -> None:
    """Whether a build's manifest is of this version, these settings and these sources (and, with the
    sources, whether their derived texts were read by today's readers).

    Raises:
        IndexStaleError, ModelMismatchError.
    """
    check_format(manifest, where)
    if settings is not None:
        _check_settings(manifest, settings)
    if seeds is not None:
        _check_sources(manifest, source_state(seeds, manifest))
        _check_extractors(manifest)


def _check_extractors(manifest: dict) -> None:
    """A derived document is read again when its reader changed (a new extractor version may derive
    another text), as a changed source is."""
    for format, recorded in sorted((manifest.get("extractors") or {}).items()):
        reader = BY_FORMAT.get(format)
        now = reader.extractor() if reader is not None else ""
        if now != recorded:
            raise IndexStaleError(f"the {format} reader changed since the index was built ({recorded} -> {now})")


def _check_settings(manifest: dict, settings: IndexSettings) -> None:
    model_id = model_id_of(settings.model)
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
