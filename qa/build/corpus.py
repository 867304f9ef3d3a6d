"""The corpus: read, clean, split, embed and tokenise the sources, reusing the last build per document.

An index is the documents' rows one document after another: in `documents.json`,
`excluded.jsonl`, the passage and sentence tables, the vectors, the tokens. So a build
is a concatenation of `Parts`, and the previous build is a cache of them: a document
whose bytes are unchanged (known by size and modification time, as `manifest.source_state`
trusts them, so it is not even read; otherwise by hash) keeps its rows, provided nothing
else it depends on changed. That is the catalog, the build settings and the model
(any change: nothing is carried over but vectors by text), and the folder's template
clutter: a short block in `TEMPLATE_MIN_DOCUMENTS` documents is clutter in all of them,
so each build keeps every document's short-block keys, counts them again without reading
the unchanged documents, and processes again each document one of whose blocks became
template or stopped being template. The rest, new and changed documents, is processed
as a build from scratch would, and the carried rows are renumbered into place; the
result is the build from scratch, to the byte but for vectors batched differently.

A build's memory does not grow with its vectors or texts: documents are processed
`PROCESS_CHARS` of text at a time, and each group's vectors and texts go to files beside
the build's checkpoint, joined there and memory-mapped (`index.rows`). What stays in memory
per row is small: offsets, token ids, keys. An evaluation corpus (no checkpoint) is held
in memory whole.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..ingest.clutter import TEMPLATE_MIN_DOCUMENTS, block_keys, find_clutter
from ..index.dense import DenseIndex
from ..ingest.clutter import Exclusion
from ..ingest.documents import RawFile, Skipped, SourceInfo, limit_for, read_source, stat_sources
from ..ingest.formats import BY_FORMAT
from ..embed import Embedder
from ..errors import SourceError
from ..index.known_vectors import KEY_BYTES, KnownVectors, text_key
from ..index.lexical import BM25Index
from ..index.rows import Appender, join_rows, release, trim_heap
from ..ingest.metadata import describe, load_catalog
from ..ingest.language import detect
from ..text import DEFAULT_LANGUAGE, normalize
from ..ingest.passages import Passage, split_document
from ..index.quote_index import QuoteIndex, SentenceSpan, is_quotable
from ..settings import IndexSettings
from ..index.spans import SpanTable
from ..store import Store, memory_store
from ..index.tables import BLOCK_KEY_BYTES, DOCUMENT_ROWS, PASSAGE_COLUMNS
from ..index.tokens import ARRAYS, TokenWriter, Tokens
from .vectors import embed_reusing

log = logging.getLogger(__name__)

PROCESS_CHARS = 8_000_000  # characters of text cleaned, split and embedded at a time (a build's memory follows it)
RAW_CACHE_CHARS = 64_000_000  # text kept from the first read of the files for processing; the rest is read again
_JOINS = itertools.count()  # numbers the folders where `Parts.concat` joins rows on disk



@dataclass
class Parts:
    """Documents and their rows in every table, in document order: a whole build, or the documents a
    build processes itself. Document `d`'s rows in table `t` are `ptr[t][d]` to `ptr[t][d + 1]`."""

    documents: list[dict]  # documents.json rows
    excluded: list[str]  # excluded.jsonl lines
    passages: SpanTable  # their sentence_start and sentence_stop number these parts' sentences
    sentences: SpanTable
    quotable: np.ndarray
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    passage_keys: np.ndarray  # (passages, KEY_BYTES) uint8: which text each vector is of
    sentence_keys: np.ndarray
    tokens: Tokens
    block_keys: np.ndarray  # (keys, BLOCK_KEY_BYTES) uint8: each document's short blocks, each once
    ptr: dict[str, np.ndarray] = field(default_factory=dict)

    def check(self) -> None:
        """Raise ValueError unless every table has the rows its pointers say."""
        sizes = {"passages": len(self.passages), "sentences": len(self.sentences), "excluded": len(self.excluded),
                 "blocks": len(self.block_keys)}
        for name, n in sizes.items():
            p = self.ptr[name]
            if len(p) != len(self.documents) + 1 or p[0] != 0 or p[-1] != n or np.any(np.diff(p) < 0):
                raise ValueError(f"document rows of {name} disagree with its {n} rows")
        if not (len(self.passage_vectors) == len(self.passage_keys) == self.tokens.passages == len(self.passages)
                and len(self.sentence_vectors) == len(self.sentence_keys) == self.tokens.sentences
                == len(self.quotable) == len(self.sentences)):
            raise ValueError("vectors, keys, tokens and rows disagree")

    def take(self, first: int, stop: int) -> "Parts":
        """Documents `[first, stop)` and their rows (sentence numbers from 0)."""
        r = {name: (int(p[first]), int(p[stop])) for name, p in self.ptr.items()}
        (p0, p1), (s0, s1), (e0, e1), (b0, b1) = (r[name] for name in DOCUMENT_ROWS)
        return Parts(self.documents[first:stop], self.excluded[e0:e1], _shift(self.passages.take(p0, p1), -s0),
                     self.sentences.take(s0, s1), self.quotable[s0:s1], self.passage_vectors[p0:p1],
                     self.sentence_vectors[s0:s1], self.passage_keys[p0:p1], self.sentence_keys[s0:s1],
                     self.tokens.take((p0, p1), (s0, s1)), self.block_keys[b0:b1],
                     {name: np.asarray(p[first : stop + 1]) - p[first] for name, p in self.ptr.items()})

    @classmethod
    def concat(cls, parts: list["Parts"], vectors: tuple[np.ndarray, np.ndarray] | None = None,
               spill: Path | None = None, tokens: Tokens | None = None) -> "Parts":
        """The parts' documents one after the other, their rows renumbered.

        Args:
            vectors, tokens: the passage and sentence vectors, and the tokens, of the result, where
                the caller has joined them (on disk); the parts' own are then not read.
            spill: a folder where the texts (and the vectors, unless given) are joined on disk, a
                slice at a time, and memory-mapped from; None: joined in memory.
        """
        where = None
        if spill is not None:
            where = spill / f"joined-{next(_JOINS)}"
            if vectors is None:
                vectors = tuple(join_rows([getattr(p, kind) for p in parts], where / f"{kind}.f32")
                                for kind in ("passage_vectors", "sentence_vectors"))
        passages, offset = [], 0
        for p in parts:
            passages.append(_shift(p.passages, offset))
            offset += len(p.sentences)
        ptr = {}
        for name in DOCUMENT_ROWS:
            pieces, base = [np.zeros(1, np.int64)], 0
            for p in parts:
                pieces.append(np.asarray(p.ptr[name][1:]) + base)
                base += int(p.ptr[name][-1])
            ptr[name] = np.concatenate(pieces)
        return cls([d for p in parts for d in p.documents], [e for p in parts for e in p.excluded],
                   SpanTable.concat(passages, Passage.from_row, where and where / "passages"),
                   SpanTable.concat([p.sentences for p in parts], SentenceSpan, where and where / "sentences"),
                   np.concatenate([p.quotable for p in parts]),
                   *(vectors or (np.concatenate([getattr(p, name) for p in parts]) for name in
                                 ("passage_vectors", "sentence_vectors"))),
                   *(np.concatenate([getattr(p, name) for p in parts]) for name in ("passage_keys", "sentence_keys")),
                   tokens or Tokens.concat([p.tokens for p in parts]),
                   np.concatenate([p.block_keys for p in parts]), ptr)


@dataclass
class Previous:
    """The live build, as the next build may reuse it: its parts and its manifest."""

    parts: Parts
    manifest: dict


@dataclass
class Corpus:
    """An index in memory: what a build writes, or what evaluation searches without writing."""

    parts: Parts
    skipped: list[Skipped]
    dense: DenseIndex
    bm25: BM25Index
    quotes: QuoteIndex
    state: dict
    reused: int = 0
    embedded: int = 0
    processed: list[str] = field(default_factory=list)  # the documents read and split (not carried over)

    @property
    def sources(self) -> list[SourceInfo]:
        return [SourceInfo.from_row(d) for d in self.parts.documents]

    @property
    def passages(self) -> SpanTable:
        return self.parts.passages

    @property
    def excluded(self) -> list[dict]:
        return [json.loads(line) for line in self.parts.excluded]

    @property
    def text_keys(self) -> np.ndarray:
        return np.concatenate([self.parts.passage_keys, self.parts.sentence_keys])

    def store(self) -> Store:
        """The corpus behind the `Store` interface (nothing written)."""
        return memory_store(self.passages, self.dense, self.bm25, self.quotes, sources={s.source: s for s in self.sources},
                            derived=derived_texts(self.parts.documents),
                            manifest={"languages": self.state.get("languages") or [DEFAULT_LANGUAGE]},
                            exclusions=self.excluded)


def languages_of(rows: list[dict]) -> list[str]:
    """The documents' languages, most text first (BM25 tokenises a question for each)."""
    chars: dict[str, int] = {}
    for d in rows:
        language = d.get("language") or DEFAULT_LANGUAGE
        chars[language] = chars.get(language, 0) + int(d.get("chars", 0))
    return sorted(chars, key=lambda k: (-chars[k], k))


def extractors_of(rows: list[dict]) -> dict[str, str]:
    """Per format of the derived documents, the extractor that read them (a build reads every one of a
    format with the same)."""
    return {d["format"]: d["extractor"] for d in sorted(rows, key=lambda d: d.get("format", "")) if d.get("extractor")}


def derived_texts(rows: list[dict]) -> dict[str, str]:
    """The derived text of every document read by an extractor, by source, from the documents table."""
    return {d["source"]: d["derived_text"] for d in rows if "derived_text" in d}


def prepare(
    seeds: str | Path,
    settings: IndexSettings,
    embedder: Embedder,
    *,
    previous: Previous | None = None,
    known: KnownVectors | None = None,
    progress: bool = False,
    checkpoint: Path | None = None,
) -> Corpus:
    """Read, clean, split, embed and index the sources.

    Documents are processed `PROCESS_CHARS` of text at a time. With a `checkpoint`, a build's
    vectors go to files beside it as each group is embedded, and are memory-mapped from there, so
    the memory a build needs does not grow with its vectors; without one (an evaluation corpus),
    they are held in memory.

    Args:
        previous: the live build; its documents are carried over where nothing they depend on
            changed (see the module's docstring).
        known: vectors by text key that may be reused (same model only).
        checkpoint: a folder where embedded batches are saved as they finish, so a killed
            build resumes from the last one (`known` should include what it holds).
    """
    root = Path(seeds)
    stats = stat_sources(root)  # before reading: a file changed while it is read has a newer time
    catalog, catalog_digest = load_catalog(root)
    old = previous if previous is not None and _may_reuse(previous.manifest, settings, embedder, catalog_digest) else None
    old_number = {d["source"]: i for i, d in enumerate(old.parts.documents)} if old else {}
    old_hashes = old.manifest.get("sources") or {} if old else {}
    old_stats = old.manifest.get("source_stats") or {} if old else {}
    raws = _Reads(root)
    skipped: list[Skipped] = []
    hashes: dict[str, str] = {}
    new_keys: dict[str, np.ndarray] = {}
    carried: dict[str, int] = {}  # document -> its number in the previous build
    for name, stat in stats.items():
        i = old_number.get(name)
        if (i is not None and stat[0] <= limit_for(name) and list(stat) == old_stats.get(name) and name in old_hashes
                and _same_reader(old.parts.documents[i])):
            carried[name], hashes[name] = i, old_hashes[name]
            continue
        item = raws.first(name)
        if item is None:
            continue
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        hashes[name] = item.sha256
        if i is not None and item.sha256 == old_hashes.get(name) and _same_reader(old.parts.documents[i]):  # touched
            carried[name] = i
            raws.forget(name)
        else:
            new_keys[name] = _block_keys(item)
    order = [n for n in stats if n in new_keys or n in carried]
    if not order:
        raise SourceError(f"no readable document in {str(seeds)!r}; add documents and run `qa build` again")
    template, moved = _template(old.parts if old else None, carried, new_keys)
    for i in moved:  # a block of these became template clutter or stopped being it: process them again
        name = old.parts.documents[i]["source"]
        del carried[name]
        item = raws.first(name)
        if not isinstance(item, RawFile):  # gone or changed since it was listed: left out, as a new listing would
            order.remove(name)
            continue
        hashes[name], new_keys[name] = item.sha256, _block_keys(item)
    fresh_names = [n for n in order if n not in carried]
    spill = _spill_folder(checkpoint)
    fresh, reused, embedded, fresh_names = _process(fresh_names, raws, new_keys, hashes, template, catalog, settings,
                                                    embedder, known or KnownVectors(), progress, checkpoint, spill)
    processed = set(fresh_names)
    order = [n for n in order if n in carried or n in processed]
    parts = _assemble(order, carried, fresh_names, old.parts if old else None, fresh, spill)
    if not len(parts.passages):
        raise SourceError(f"the documents in {str(seeds)!r} hold no text outside boilerplate; nothing to index")
    # The fingerprint comes from the very bytes indexed, so it always describes this corpus.
    state = {"sources": {**{n: hashes[n] for n in order}, **{s.source: s.sha256 for s in skipped}},
             "catalog": catalog_digest, "languages": languages_of(parts.documents),
             "extractors": extractors_of(parts.documents)}
    state["source_stats"] = {n: list(stats[n]) for n in state["sources"] if n in stats}
    # What `--model auto` needs of each document, so the next build's choice reads only the files that changed.
    state["source_languages"] = {d["source"]: [d["language"], int(d["chars"]), d.get("extractor", "")]
                                 for d in parts.documents}
    # The graph first, while little else is in memory: built from the mapped vectors, written beside them.
    if spill is not None:
        trim_heap()
    dense = DenseIndex.build(parts.passage_vectors, settings.ann, spill and spill / "dense")
    bm25, term_ptr, term_ids = parts.tokens.bm25()
    for name in ARRAYS:
        release(getattr(parts.tokens, name))
    if spill is not None and not isinstance(parts.tokens.passage_ids, np.memmap):
        # kept for the next build to carry over, not needed in memory until then
        spill.mkdir(parents=True, exist_ok=True)
        parts.tokens.save(spill / "tokens-joined")
        parts.tokens = Tokens.load(spill / "tokens-joined")
    quotes = QuoteIndex(parts.sentences, parts.sentence_vectors, parts.quotable, term_ptr, term_ids)
    carried_rows = len(parts.passages) + len(parts.sentences) - len(fresh.passages) - len(fresh.sentences)
    return Corpus(parts, skipped, dense, bm25, quotes, state, reused + carried_rows, embedded, fresh_names)


def _spill_folder(checkpoint: Path | None) -> Path | None:
    """Where this build's vectors go (beside its checkpoint, removed with it); a killed build's are removed."""
    if checkpoint is None:
        return None
    for old in checkpoint.glob("rows-*"):
        shutil.rmtree(old, ignore_errors=True)
    return checkpoint / f"rows-{os.getpid()}"


def _may_reuse(manifest: dict, settings: IndexSettings, embedder: Embedder, catalog_digest: str | None) -> bool:
    """Whether the previous build's documents may be carried over: same model, catalog and settings that shape
    passages (the dense index's settings do not: it is built again whole)."""
    built = {k: v for k, v in (manifest.get("settings") or {}).items() if k != "ann"}
    wanted = {k: v for k, v in settings.to_dict().items() if k != "ann"}
    return manifest.get("model") == embedder.model_id and manifest.get("catalog") == catalog_digest and built == wanted


def _read(root: Path, name: str) -> RawFile | Skipped | None:
    try:
        return read_source(root, name)
    except FileNotFoundError:  # deleted since the folder was listed
        return None


def _same_reader(row: dict) -> bool:
    """Whether a previous build's document was read by the extractor that would read it now: a new
    extractor version may derive another text, so its documents are read again."""
    reader = BY_FORMAT.get(row.get("format", "text"))
    return reader is not None and row.get("extractor", "") == reader.extractor()


def _block_keys(raw: RawFile) -> np.ndarray:
    """The short-block keys of a document for the folder's template clutter: flattened text only (a
    derived text's furniture is found by its reader, from the original's structure)."""
    return _key_bytes(set() if raw.derived else block_keys(raw.text))


def _exclusions(raw: RawFile, template: frozenset[str]) -> list[Exclusion]:
    """What of the text is not the body: the text rules' clutter for .txt/.md, the reader's furniture otherwise."""
    if raw.derived:
        return [Exclusion(s.start, s.end, s.reason) for s in raw.reading.excluded]
    return find_clutter(raw.text, template=template)


def _key_bytes(keys: set[str]) -> np.ndarray:
    data = b"".join(sorted(bytes.fromhex(k) for k in keys))
    return np.frombuffer(data, np.uint8).reshape(-1, BLOCK_KEY_BYTES)


def _template(old: Parts | None, carried: dict[str, int], new_keys: dict[str, np.ndarray]) -> tuple[frozenset[str], list[int]]:
    """The folder's template blocks (as `find_clutter_corpus` finds them) from the carried documents'
    stored keys and the others' new ones; and the carried documents whose template blocks changed."""
    pieces = list(new_keys.values())
    if old is not None:
        old_keys = old.block_keys.view(f"S{BLOCK_KEY_BYTES}").ravel()
        owner = np.repeat(np.arange(len(old.documents)), np.diff(old.ptr["blocks"]))
        kept = np.zeros(len(old.documents), bool)
        kept[list(carried.values())] = True
        pieces.append(old.block_keys[kept[owner]])
    keys = np.concatenate(pieces).view(f"S{BLOCK_KEY_BYTES}").ravel() if pieces else np.zeros(0, f"S{BLOCK_KEY_BYTES}")
    unique, counts = np.unique(keys, return_counts=True)  # each document holds a key once
    template = unique[counts >= TEMPLATE_MIN_DOCUMENTS]
    moved: list[int] = []
    if old is not None:
        unique, counts = np.unique(old_keys, return_counts=True)
        changed = np.setxor1d(unique[counts >= TEMPLATE_MIN_DOCUMENTS], template)
        if len(changed):
            moved = np.unique(owner[np.isin(old_keys, changed) & kept[owner]]).tolist()
    rows = template.view(np.uint8).reshape(-1, BLOCK_KEY_BYTES)
    return frozenset(bytes(r).hex() for r in rows), moved


class _Reads:
    """Files as a build reads them: the first `RAW_CACHE_CHARS` of text are kept from the first read
    (hashes and template keys) for processing; the rest are read again when their group comes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._kept: dict[str, RawFile] = {}
        self._chars = 0

    def first(self, name: str) -> RawFile | Skipped | None:
        item = self._kept.get(name) or _read(self.root, name)
        if isinstance(item, RawFile) and name not in self._kept and self._chars + len(item.text) <= RAW_CACHE_CHARS:
            self._kept[name] = item
            self._chars += len(item.text)
        return item

    def forget(self, name: str) -> None:
        item = self._kept.pop(name, None)
        if item is not None:
            self._chars -= len(item.text)

    def again(self, name: str) -> RawFile | None:
        """The file for processing (None: gone or no longer readable since it was listed)."""
        item = self._kept.pop(name, None) or _read(self.root, name)
        return item if isinstance(item, RawFile) else None


def _process(names: list[str], raws: _Reads, keys: dict[str, np.ndarray], hashes: dict[str, str],
             template: frozenset[str], catalog: dict, settings: IndexSettings, embedder: Embedder, known: KnownVectors,
             progress: bool, checkpoint: Path | None, spill: Path | None) -> tuple[Parts, int, int, list[str]]:
    """Clean, describe, split, embed and tokenise documents, `PROCESS_CHARS` of text at a time: their
    parts, as a build from scratch makes them, with their vectors in `spill` (None: in memory).

    Returns:
        The parts, texts that reused a known vector, distinct texts embedded, and the documents
        processed (a file gone since it was listed is left out; one changed has its new hash in `hashes`).
    """
    groups: list[Parts] = []
    outs: list[Appender] = []  # made with the first group's vectors
    tokens: TokenWriter | None = None
    done: list[str] = []
    reused = embedded = 0
    bar = None
    if progress and len(names) > 1:
        from tqdm import tqdm

        bar = tqdm(total=len(names), desc="documents", unit="doc")
    try:
        for group in _groups(names, raws, hashes):
            parts, r, e = _process_group(group, [keys[x.source] for x in group], template, catalog, settings,
                                         embedder, known, progress and bar is None, checkpoint)
            if spill is not None:  # the group's vectors, texts and tokens go to disk until all groups are joined
                width = parts.passage_vectors.shape[1]
                outs = outs or [Appender(spill / f"{kind}.f32", width) for kind in ("passages", "sentences")]
                for out, vectors in zip(outs, (parts.passage_vectors, parts.sentence_vectors)):
                    out.append(vectors)
                parts.passage_vectors = parts.sentence_vectors = np.zeros((0, width), np.float32)
                where = spill / f"group-{len(groups)}"
                parts.passages = SpanTable.concat([parts.passages], Passage.from_row, where / "passages")
                parts.sentences = SpanTable.concat([parts.sentences], SentenceSpan, where / "sentences")
                tokens = tokens or TokenWriter(spill / "tokens")
                tokens.append(parts.tokens)
                parts.tokens = Tokens.empty()
                trim_heap()  # what the group's objects and the model's activations held
            groups.append(parts)
            done += [x.source for x in group]
            reused, embedded = reused + r, embedded + e
            if bar is not None:
                bar.update(len(group))
    finally:  # closed before an error is reported, so the error is the last line
        if bar is not None:
            bar.close()
    vectors = tuple(out.close() for out in outs) if outs else None
    if not groups:
        groups.append(_process_group([], [], template, catalog, settings, embedder, known, False, None)[0])
    joined = Parts.concat(groups, vectors=vectors, spill=spill, tokens=tokens.close() if tokens else None)
    return joined, reused, embedded, done


def _groups(names: list[str], raws: _Reads, hashes: dict[str, str]):
    """The files of `names` read, in lists of about `PROCESS_CHARS` characters (a file gone since it was
    listed is left out; one changed since has its new hash put in `hashes`)."""
    group: list[RawFile] = []
    chars = 0
    for name in names:
        raw = raws.again(name)
        if raw is None:
            continue
        hashes[name] = raw.sha256
        group.append(raw)
        chars += len(raw.text)
        if chars >= PROCESS_CHARS:
            yield group
            group, chars = [], 0
    if group:
        yield group


def _process_group(raws: list[RawFile], keys: list[np.ndarray], template: frozenset[str], catalog: dict,
                   settings: IndexSettings, embedder: Embedder, known: KnownVectors, progress: bool,
                   checkpoint: Path | None) -> tuple[Parts, int, int]:
    """`_process` of documents held in memory at once."""
    documents, excluded, passages, spans, quotable = [], [], [], [], []
    passage_languages: list[str] = []
    sentence_languages: list[str] = []
    ptr = {name: [0] for name in DOCUMENT_ROWS}
    for raw, doc_keys in zip(raws, keys):
        exclusions = _exclusions(raw, template)
        doc = describe(raw, exclusions, catalog)
        row = doc.info().to_dict()
        row["language"] = detect(raw.text)
        if raw.derived:
            row["derived_text"] = raw.text  # kept with the build: quotes index it
        documents.append(row)
        sentences, doc_passages = split_document(doc, exclusions, max_words=settings.passage_words,
                                                 overlap=settings.overlap_sentences, first_sentence=len(spans))
        passages.extend(doc_passages)
        spans.extend(SentenceSpan(raw.source, x.start, x.end, x.text) for x in sentences)
        language = row["language"] or DEFAULT_LANGUAGE
        passage_languages.extend([language] * len(doc_passages))
        sentence_languages.extend([language] * len(sentences))
        quotable.extend(is_quotable(x) for x in sentences)
        excluded.extend(json.dumps({"source": raw.source, **e.to_dict(), "text": raw.text[e.start : e.end]},
                                   ensure_ascii=False) for e in exclusions)
        for name, n in zip(DOCUMENT_ROWS, (len(doc_passages), len(sentences), len(exclusions), len(doc_keys))):
            ptr[name].append(ptr[name][-1] + n)
    texts = [p.embed_text for p in passages]
    sentence_texts = [normalize(s.text) for s in spans]
    all_texts = texts + sentence_texts
    text_keys = np.frombuffer(b"".join(text_key(t) for t in all_texts), np.uint8).reshape(-1, KEY_BYTES)
    vectors, reused, embedded = embed_reusing(all_texts, text_keys, embedder, known, progress, checkpoint)
    n = len(texts)
    block = np.concatenate(keys) if keys else np.zeros((0, BLOCK_KEY_BYTES), np.uint8)
    parts = Parts(documents, excluded, SpanTable.from_rows(passages, Passage.from_row, PASSAGE_COLUMNS),
                  SpanTable.from_rows(spans, SentenceSpan), np.asarray(quotable, dtype=bool), vectors[:n], vectors[n:],
                  text_keys[:n], text_keys[n:], Tokens.of(texts, sentence_texts, passage_languages, sentence_languages), block,
                  {name: np.asarray(p, np.int64) for name, p in ptr.items()})
    return parts, reused, embedded


def _assemble(order: list[str], carried: dict[str, int], fresh_names: list[str], old: Parts | None,
              fresh: Parts, spill: Path | None = None) -> Parts:
    """The documents in `order`: runs of carried ones cut from the previous build, the rest from `fresh`
    (their vectors copied into `spill`, a slice at a time; None: into memory)."""
    if not carried:
        return fresh
    fresh_number = {n: i for i, n in enumerate(fresh_names)}
    runs: list[list] = []  # [source, first, stop]
    for name in order:
        src, i = (old, carried[name]) if name in carried else (fresh, fresh_number[name])
        if runs and runs[-1][0] is src and runs[-1][2] == i:
            runs[-1][2] += 1
        else:
            runs.append([src, i, i + 1])
    return Parts.concat([src.take(first, stop) for src, first, stop in runs], spill=spill)


def _shift(table: SpanTable, delta: int) -> SpanTable:
    """The table with its sentence numbers moved by `delta`."""
    if not delta:
        return table
    columns = dict(table.columns)
    for k in PASSAGE_COLUMNS:
        columns[k] = np.asarray(columns[k], np.int64) + delta
    return SpanTable(table.sources, columns, table._text, table._ptr, table._make)
