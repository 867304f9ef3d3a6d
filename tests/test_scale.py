"""What lets the index grow: span tables, the HNSW graph, filters inside the search, quick opening,
and builds that resume after a kill."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import SEEDS, read_source

import qa.build.vectors
from qa.settings import AnnSettings
from qa.index.dense import DenseIndex
from qa.ingest.documents import fingerprint
from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder
from qa.engine import Engine
from qa.build.build import CHECKPOINT, build_index, load_index
from qa.settings import IndexSettings


def live(index: Path) -> Path:
    return index / (index / "CURRENT").read_text().strip()


def test_passages_open_as_a_span_table_that_quotes_the_files_verbatim(engine):
    passages = engine.store.all_passages
    assert type(passages).__name__ == "SpanTable"
    assert [p.id for p in passages[:3]] == [passages[i].id for i in range(3)]
    for p in passages:
        assert read_source(SEEDS, p.source)[p.start : p.end] == p.text
        assert p.id == f"{p.source}:{p.start}-{p.end}" and p.sentence_start < p.sentence_stop
    for i in (0, len(engine.store.quotes) - 1):
        s = engine.store.quotes.spans[i]
        assert read_source(SEEDS, s.source)[s.start : s.end] == s.text
    with pytest.raises(IndexError):
        passages[len(passages)]


def test_the_vectors_are_memory_mapped_not_read(engine):
    assert isinstance(engine.store.dense_index.vectors, np.memmap)
    assert isinstance(engine.store.quotes.vectors, np.memmap)


@pytest.fixture(scope="module")
def clustered():
    """Vectors with the structure of text embeddings: a few hundred centres, points near them."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(300, 64))
    points = centres[rng.integers(300, size=6000)] + rng.normal(scale=0.4, size=(6000, 64))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    queries = centres[rng.integers(300, size=50)] + rng.normal(scale=0.4, size=(50, 64))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return points.astype(np.float32), queries.astype(np.float32)


def test_above_the_threshold_the_graph_finds_what_exact_search_finds(clustered, tmp_path):
    points, queries = clustered
    small = DenseIndex.build(points, AnnSettings(threshold=len(points) + 1))
    graph = DenseIndex.build(points, AnnSettings(threshold=len(points)))
    assert small.kind == "exact" and graph.kind == "hnsw"
    recall = []
    for q in queries:
        _, exact = small.search(q, 10)
        _, got = graph.search(q, 10)
        recall.append(len(set(exact[0]) & set(got[0])) / 10)
    assert np.mean(recall) >= 0.95
    graph.save(tmp_path / "dense")
    again = DenseIndex.load(tmp_path / "dense", graph.settings)
    assert again.kind == "hnsw" and np.array_equal(again.search(queries[0], 10)[1], graph.search(queries[0], 10)[1])


@pytest.mark.parametrize("threshold, allowed_share", [(10**9, 0.5), (1, 0.5), (1, 0.001)])
def test_a_filtered_search_returns_the_best_allowed_rows(clustered, threshold, allowed_share):
    """Exact search masks; the graph gets an ID selector; few allowed rows are scored exactly."""
    points, queries = clustered
    dense = DenseIndex.build(points, AnnSettings(threshold=threshold, exact_below=100))
    allowed = np.flatnonzero(np.random.default_rng(1).random(len(points)) < allowed_share)
    for q in queries[:10]:
        scores, ids = dense.search(q, 5, allowed)
        got = ids[0][ids[0] >= 0]
        assert set(got) <= set(allowed.tolist()) and len(got) == min(5, len(allowed))
        best = allowed[np.argsort(-(points[allowed] @ q))[: len(got)]]
        assert len(set(got) & set(best)) >= len(got) - 1  # the graph may miss one; exact never does
        assert np.all(np.diff(scores[0][: len(got)]) <= 1e-6)


def test_a_source_filter_searches_inside_the_sources_not_after_them(engine):
    one, two = sorted(engine.sources)[:2]
    question = "How many agreements did Belarus and Iran sign?"
    hits = engine.search(question, mode="dense", k=5, sources=[one, two])
    assert hits and {h.passage.source for h in hits} <= {one, two}
    vector = engine.embedder.encode([question])[0]
    everything = engine.retriever.search_vector(question, vector, mode="dense", k=len(engine.store.all_passages))
    expected = [h.passage.id for h in everything if h.passage.source in (one, two)][:5]
    assert [h.passage.id for h in hits] == expected
    answer = engine.ask(question, sources=[two])
    assert answer.quotes and {q.source for q in answer.quotes} == {two}


def test_unchanged_files_are_not_read_again_when_the_index_opens(tmp_path):
    (tmp_path / "a.txt").write_text("One sentence here.\n", encoding="utf-8")
    st = (tmp_path / "a.txt").stat()
    recorded = {"a.txt": ((st.st_size, st.st_mtime_ns), "recorded-digest")}
    assert fingerprint(tmp_path, recorded) == {"a.txt": "recorded-digest"}  # size and mtime agree: trusted
    os.utime(tmp_path / "a.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert fingerprint(tmp_path, recorded)["a.txt"] != "recorded-digest"  # touched: read and hashed


def test_a_touched_but_unchanged_source_keeps_the_index_current(tmp_path, seeds_copy, embedder):
    index = tmp_path / "index"
    build_index(seeds_copy, index, embedder=embedder)
    name = sorted(p.name for p in seeds_copy.glob("*.txt"))[0]
    os.utime(seeds_copy / name)  # new mtime, same bytes
    assert load_index(index, seeds=seeds_copy).manifest["counts"]["passages"] > 0


class CountingEmbedder(Embedder):
    """The real model, counting the texts it embeds; it can be told to crash after some batches."""

    def __init__(self, crash_after: int | None = None) -> None:
        super().__init__()
        self.calls = 0
        self.texts = 0
        self.crash_after = crash_after

    def encode(self, texts, *, progress=False):
        if self.crash_after is not None and self.calls >= self.crash_after:
            raise RuntimeError("simulated kill during embedding")
        self.calls += 1
        self.texts += len(texts)
        return super().encode(texts, progress=progress)


def test_a_killed_build_resumes_from_its_last_embedded_batch(tmp_path, seeds_copy, monkeypatch):
    monkeypatch.setattr(qa.build.vectors, "EMBED_BATCH", 40)
    index = tmp_path / "index"
    with pytest.raises(RuntimeError, match="simulated kill"):
        build_index(seeds_copy, index, embedder=CountingEmbedder(crash_after=3))
    saved = list((index / CHECKPOINT).rglob("batch-*.keys.npy"))
    assert len(saved) == 3 and not (index / "CURRENT").exists()
    again = CountingEmbedder()
    report = build_index(seeds_copy, index, embedder=again)
    assert report.reused >= 3 * 40 and report.embedded == again.texts  # a text repeated counts each time
    assert not (index / CHECKPOINT).exists()  # the build holds them now
    fresh = CountingEmbedder()
    whole = build_index(seeds_copy, tmp_path / "other", embedder=fresh)
    assert whole.embedded == fresh.texts == again.texts + 3 * 40
    a, b = load_index(index), load_index(tmp_path / "other")
    assert np.allclose(a.dense.vectors, b.dense.vectors, atol=1e-5)


def test_a_build_killed_between_groups_resumes_without_embedding_a_saved_text_again(tmp_path, seeds_copy, monkeypatch):
    import qa.build.corpus

    monkeypatch.setattr(qa.build.corpus, "PROCESS_CHARS", 3000)  # a group per seed or two
    monkeypatch.setattr(qa.build.vectors, "EMBED_BATCH", 40)
    index = tmp_path / "index"
    with pytest.raises(RuntimeError, match="simulated kill"):
        build_index(seeds_copy, index, embedder=CountingEmbedder(crash_after=4))
    saved = sum(len(np.load(p)) for p in (index / CHECKPOINT).rglob("batch-*.keys.npy"))
    assert saved > 0 and list((index / CHECKPOINT).rglob("rows-*"))  # vectors of the groups done, beside them
    again = CountingEmbedder()
    report = build_index(seeds_copy, index, embedder=again)
    fresh = CountingEmbedder()
    build_index(seeds_copy, tmp_path / "other", embedder=fresh)
    assert again.texts == fresh.texts - saved and report.embedded == again.texts
    assert not (index / CHECKPOINT).exists()
    a, b = load_index(index), load_index(tmp_path / "other")
    assert np.allclose(a.dense.vectors, b.dense.vectors, atol=1e-5)
    assert np.allclose(a.quotes.vectors, b.quotes.vectors, atol=1e-5)


def test_the_ann_settings_are_recorded_and_a_change_rebuilds(tmp_path, seeds_copy, embedder):
    index = tmp_path / "index"
    settings = IndexSettings(ann=AnnSettings(threshold=10))  # the seeds' ~90 passages get a graph
    build_index(seeds_copy, index, settings, embedder=embedder)
    idx = load_index(index, seeds=seeds_copy, settings=settings)
    assert idx.manifest["dense_index"] == "hnsw" and idx.manifest["settings"]["ann"]["threshold"] == 10
    assert (live(index) / "dense" / "hnsw.faiss").exists()
    engine = Engine.from_index(idx, embedder)
    answer = engine.ask("How many agreements did Belarus and Iran sign?")
    assert answer.quotes and all(read_source(seeds_copy, q.source)[q.start : q.end] == q.text for q in answer.quotes)
    from qa.errors import IndexStaleError

    with pytest.raises(IndexStaleError, match="ann"):
        load_index(index, seeds=seeds_copy, settings=replace(settings, ann=AnnSettings()))


def test_the_device_is_chosen_by_flag_or_environment(monkeypatch):
    import torch

    from qa.embed.sentence_transformers import resolve_device
    from qa.errors import ModelLoadError

    from qa.cli import _parser

    assert resolve_device("cpu") == "cpu"
    monkeypatch.setenv("QA_DEVICE", "cpu")  # the surfaces read the environment; the library is passed the device
    assert _parser().parse_args(["ask", "Who met?"]).device == "cpu"
    with pytest.raises(ModelLoadError, match="choose one of: auto, cpu, cuda"):
        resolve_device("tpu")
    has_gpu = torch.cuda.is_available()
    assert resolve_device("auto") == ("cuda" if has_gpu else "cpu")
    if not has_gpu:
        with pytest.raises(ModelLoadError, match="no GPU"):
            resolve_device("cuda")


def test_search_settings_change_without_a_rebuild(tmp_path, seeds_copy, embedder):
    index = tmp_path / "index"
    build_index(seeds_copy, index, IndexSettings(ann=AnnSettings(threshold=10, ef_search=64)), embedder=embedder)
    wider = IndexSettings(ann=AnnSettings(threshold=10, ef_search=300))
    idx = load_index(index, seeds=seeds_copy, settings=wider)  # not stale: the graph is the same
    assert idx.dense.settings.ef_search == 300 and idx.manifest["settings"]["ann"]["ef_search"] == 64
