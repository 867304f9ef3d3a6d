"""The Milvus backend, on milvus-lite through the same pymilvus calls a cluster takes: the same answers
as the local index, verbatim quotes, checks, resumable loads and a build swap readers never see half of."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import QUESTIONS, ROOT, SEEDS, read_source, shared_dataset

from qa.engine import Engine
from qa.errors import IndexCorruptError, IndexStaleError
from qa.evaluation.gold import load_gold_files
from qa.build.build import build
from qa.build.manifest import check_manifest
from qa.store import backend_for
from qa.retrieval import MODES, Retriever
from qa.settings import IndexSettings
from qa.store import milvus
from qa.store import StoreConfig


@pytest.fixture(scope="module")
def lite(tmp_path_factory):
    """A milvus-lite database file with the seeds built into it."""
    root = tmp_path_factory.mktemp("milvus")
    return StoreConfig("milvus", str(root / "milvus.db")), root


@pytest.fixture(scope="module")
def milvus_engine(lite, embedder):
    config, root = lite
    engine = Engine.open(SEEDS, root / "index", IndexSettings(), store=config, notify=lambda m: None)
    assert engine.build_report is not None and engine.store.kind == "milvus"
    return engine


def test_every_gold_question_gets_the_same_abstention_and_first_quote(milvus_engine, engine):
    gold = load_gold_files([ROOT / "eval" / "seeds_gold.jsonl", ROOT / "eval" / "seeds_chains.jsonl"], SEEDS, "all")
    assert len(gold) > 60
    for g in gold:
        local, remote = engine.ask(g.question, history=list(g.history)), milvus_engine.ask(g.question, history=list(g.history))
        assert remote.abstained == local.abstained, g.question
        first = [(q.source, q.start, q.end) for q in local.quotes[:1]]
        assert [(q.source, q.start, q.end) for q in remote.quotes[:1]] == first, g.question
        assert remote.relevance == pytest.approx(local.relevance, abs=1e-4)
        for q in remote.quotes:  # the invariant, from what Milvus stored
            assert read_source(SEEDS, q.source)[q.start : q.end] == q.text


@pytest.mark.parametrize("mode", list(MODES))
def test_each_mode_ranks_the_same_passages_with_the_same_scores(milvus_engine, engine, mode):
    for question in QUESTIONS:
        local, remote = engine.search(question, mode=mode, k=10), milvus_engine.search(question, mode=mode, k=10)
        assert [h.passage.id for h in remote] == [h.passage.id for h in local], question
        assert np.allclose([h.score for h in remote], [h.score for h in local], atol=1e-4)
        assert np.allclose([h.bm25 for h in remote], [h.bm25 for h in local], atol=1e-3)
        for h in remote:
            assert read_source(SEEDS, h.passage.source)[h.passage.start : h.passage.end] == h.passage.text


def test_a_source_filter_is_applied_inside_the_search(milvus_engine, engine):
    question, only = QUESTIONS[0], sorted(engine.sources)[:2]
    for mode in MODES:
        remote = milvus_engine.search(question, mode=mode, k=20, sources=only)
        assert remote and {h.passage.source for h in remote} <= set(only)
        assert [h.passage.id for h in remote] == [h.passage.id for h in engine.search(question, mode=mode, k=20, sources=only)]


def test_it_is_checked_like_the_local_index(lite, milvus_engine, seeds_copy, embedder):
    config, root = lite
    store = milvus.MilvusStore.open(config)
    assert store.manifest["model"] == embedder.model_id and store.manifest["counts"]["passages"] == len(store)
    check_manifest(store.manifest, "milvus", seeds=SEEDS, settings=IndexSettings())  # current: no error
    (seeds_copy / "extra.txt").write_text("A new report\n\nThe harbour reopened on Monday after the storm passed.\n",
                                          encoding="utf-8")
    with pytest.raises(IndexStaleError, match="extra.txt"):
        check_manifest(store.manifest, "milvus", seeds=seeds_copy, settings=IndexSettings())
    with pytest.raises(IndexStaleError, match="passage_words"):
        check_manifest(store.manifest, "milvus", settings=IndexSettings(passage_words=40))


def test_a_build_is_swapped_in_whole_and_resumes_after_a_kill(tmp_path, embedder, seeds_copy, monkeypatch):
    config = StoreConfig("milvus", str(tmp_path / "swap.db"), collection="swap")
    settings = IndexSettings()
    first = build(backend_for(config, tmp_path / "index"), seeds_copy, settings, embedder, notify=lambda m: None)
    reader = milvus.MilvusStore.open(config)
    before = reader.passages([0])[0]

    (seeds_copy / "extra.txt").write_text("A new report\n\nThe harbour reopened on Monday after the storm passed. "
                                          "Ferries to the islands will run twice a day from Tuesday.\n", encoding="utf-8")
    monkeypatch.setattr(milvus, "BATCH", 20)
    calls = {"n": 0}
    real = milvus._insert_all

    def killed_after_two_batches(client, name, total, rows, progress, desc):
        def some(first, last):
            calls["n"] += 1
            if calls["n"] > 2:
                raise KeyboardInterrupt  # as a kill mid-load
            return rows(first, last)
        return real(client, name, total, some, progress, desc)

    monkeypatch.setattr(milvus, "_insert_all", killed_after_two_batches)
    with pytest.raises(KeyboardInterrupt):
        build(backend_for(config, tmp_path / "index"), seeds_copy, settings, embedder, notify=lambda m: None)
    # The kill may cut a batch short: rows past the last whole batch are dropped and written again.
    unfinished = [c for c in reader.client.list_collections() if c.startswith("swap_b") and not c.endswith(("_sentences", "_meta"))
                  and c != first.path.split("#")[1]]
    assert len(unfinished) == 1 and milvus._count(reader.client, unfinished[0]) == 40
    stray = reader.client.query(unfinished[0], filter="id < 3", output_fields=["*"])
    reader.client.insert(unfinished[0], [{**row, "id": 40 + row["id"], "text": "half-written"} for row in stray])
    # Readers still see the first build, whole.
    assert milvus.live_collection(reader.client, "swap") == first.path.split("#")[1]
    assert reader.passages([0])[0] == before
    assert len(milvus.MilvusStore.open(config)) == first.passages

    monkeypatch.setattr(milvus, "_insert_all", real)
    second = build(backend_for(config, tmp_path / "index"), seeds_copy, settings, embedder, notify=lambda m: None)
    name = second.path.split("#")[1]
    assert name != first.path.split("#")[1]
    again = milvus.MilvusStore.open(config)
    assert again.name == name and len(again) == second.passages and "extra.txt" in again.sources
    assert second.embedded == 0, "the killed build's embedded batches were reused"
    assert all(p.text != "half-written" for p in again.passages(range(len(again))))
    # The first build stays for readers that opened it, until the next build replaces it.
    assert reader.passages([0])[0] == before


def test_a_missing_row_is_reported_as_corrupt(tmp_path, embedder, seeds_copy):
    config = StoreConfig("milvus", str(tmp_path / "bad.db"), collection="bad")
    build(backend_for(config, tmp_path / "index"), seeds_copy, IndexSettings(), embedder, notify=lambda m: None)
    store = milvus.MilvusStore.open(config)
    store.client.delete(f"{store.name}_sentences", ids=[0])
    with pytest.raises(IndexCorruptError, match="incomplete"):
        milvus.MilvusStore.open(config)


def test_beir_scores_match_the_local_index(tmp_path, embedder):
    """A slice of msmarco-5k: the documents judged for 40 queries plus 400 others, both backends."""
    from qa.evaluation import beir, evaluate

    data = beir.load_beir(shared_dataset("msmarco-5k"))
    queries = dict(list(data.queries.items())[:40])
    judged = {d for q in queries for d in data.qrels.get(q, {})}
    docs = [d for d in data.docs if d.id in judged] + [d for d in data.docs if d.id not in judged][:400]
    data = replace(data, docs=docs, queries=queries)
    from qa.evaluation.cli import default_cache

    local = beir.retriever_for(data, embedder, default_cache(), progress=False)
    config = StoreConfig("milvus", str(tmp_path / "beir.db"), collection="beir")
    client = milvus.client_for(config.milvus_uri)
    milvus.write(client, "beir", local.store, {"model": embedder.model_id, "dimension": 384, "settings": {},
                                               "sources": {"slice": len(docs)}})
    remote = Retriever(milvus.MilvusStore.open(config, client=client), embedder)
    scores = {}
    for name, retriever in (("faiss", local), ("milvus", remote)):
        ev = evaluate.evaluate_beir("slice", retriever, queries, data.qrels, ["hybrid", "bm25"])
        scores[name] = {m: ev.means[m]["nDCG@10"] for m in ev.means}
    for mode in ("hybrid", "bm25"):
        assert scores["milvus"][mode] == pytest.approx(scores["faiss"][mode], abs=0.01), scores


def test_the_cli_builds_into_milvus_and_answers_with_verbatim_quotes(tmp_path):
    uri = str(tmp_path / "cli.db")
    args = ["--seeds", str(SEEDS), "--index", str(tmp_path / "index"), "--backend", "milvus", "--milvus-uri", uri]
    run = lambda *a: subprocess.run([sys.executable, "-m", "qa.cli", *a], capture_output=True, text=True, timeout=600,
                                    cwd=ROOT)
    built = run("build", *args, "--quiet")
    assert built.returncode == 0, built.stderr
    assert "milvus" in built.stdout.lower() or "cli.db" in built.stdout
    asked = run("ask", *args, "--json", QUESTIONS[0])
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["quotes"] and not answer["abstained"]
    for q in answer["quotes"]:
        assert read_source(SEEDS, q["source"])[q["start"] : q["end"]] == q["text"]
    missing = run("ask", "--backend", "milvus", QUESTIONS[0])
    assert missing.returncode == 1 and "--milvus-uri" in missing.stderr and "Traceback" not in missing.stderr


def test_a_large_build_gets_an_hnsw_graph_as_the_local_index_does(tmp_path, engine):
    settings = dict(engine.store.manifest["settings"])
    settings["ann"] = {**settings["ann"], "threshold": 10}  # "large" from 10 passages, for the test
    config = StoreConfig("milvus", str(tmp_path / "hnsw.db"), collection="hnsw")
    client = milvus.client_for(config.milvus_uri)
    milvus.write(client, "hnsw", engine.store, {**engine.store.manifest, "settings": settings})
    store = milvus.MilvusStore.open(config, client=client)
    assert store.manifest["dense_index"] == "milvus-hnsw"
    for question in QUESTIONS:
        vector = engine.embedder.encode_one(question)
        exact, _ = engine.store.dense(vector, 10)
        found, _ = store.dense(vector, 10)
        assert len(set(found.tolist()) & set(exact.tolist())) >= 9


def test_pdf_web_and_word_documents_are_stored_and_quoted_as_in_the_local_index(tmp_path, embedder):
    """The derived texts and their locations travel through Milvus as through the local index."""
    from test_formats import mixed_folder

    seeds = tmp_path / "seeds"
    mixed_folder(seeds)
    config = StoreConfig("milvus", str(tmp_path / "mixed.db"), collection="mixed")
    engine = Engine.open(seeds, tmp_path / "index", IndexSettings(), store=config, notify=lambda m: None)
    local = Engine.open(seeds, tmp_path / "local", IndexSettings(), notify=lambda m: None)
    assert engine.store.kind == "milvus" and set(engine.store.derived) == {"review.pdf", "river.html", "memo.docx"}
    for question in ("When will the new tariff for container ships take effect?",
                     "When did the ferry carry its last passengers?", "When will the new pier open?"):
        got, want = engine.ask(question), local.ask(question)
        assert [q.to_dict() | {"why": None} for q in got.quotes] == [q.to_dict() | {"why": None} for q in want.quotes]
        for q in got.quotes:
            assert engine.document(q.source)[q.start : q.end] == q.text
    engine.store.close()
