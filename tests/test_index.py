"""Persistence: round trip, staleness, corruption, model mismatch, crashes mid-build."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SEEDS

from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder
from qa.errors import (
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    ModelMismatchError,
)
from qa.build.build import build_index, ensure_index, load_index
from qa.text import normalize
from qa.settings import IndexSettings


def live(index: Path) -> Path:
    return index / (index / "CURRENT").read_text().strip()


@pytest.fixture
def built(tmp_path, seeds_copy, embedder):
    index = tmp_path / "index"
    build_index(seeds_copy, index, embedder=embedder)
    return seeds_copy, index


def test_round_trip_keeps_passages_vectors_and_metadata(index_dir, engine):
    idx = load_index(index_dir, seeds=SEEDS, settings=IndexSettings())
    m = idx.manifest
    assert m["model"] == "sentence-transformers/all-MiniLM-L6-v2" and m["dimension"] == 384
    assert set(m["sources"]) == {p.name for p in SEEDS.glob("*.txt")}
    assert m["settings"] == IndexSettings().to_dict()
    assert len(idx.passages) == len(idx.dense) == len(idx.bm25) == m["counts"]["passages"]
    again = Embedder().encode([idx.passages[3].embed_text])[0]
    assert float(idx.dense.vectors[3] @ again) == pytest.approx(1.0, abs=1e-4)
    assert idx.sources["000_7b90357a56c0432c.txt"].url.startswith("https://")
    assert idx.exclusions and all({"source", "start", "end", "reason", "text"} <= set(e) for e in idx.exclusions)


def test_missing_index_is_reported(tmp_path):
    with pytest.raises(IndexMissingError, match="qa build"):
        load_index(tmp_path / "nowhere")


def test_changed_sources_make_the_index_stale_and_only_changes_are_embedded(built, embedder):
    seeds, index = built
    target = seeds / "002_129a0cf0d747b166.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nA new closing sentence about drones.\n", encoding="utf-8")
    with pytest.raises(IndexStaleError, match="002_129a0cf0d747b166.txt"):
        load_index(index, seeds=seeds)
    messages = []
    idx, report = ensure_index(seeds, index, embedder=embedder, notify=messages.append)
    assert "sources changed" in messages[0]
    assert report is not None and 0 < report.embedded < report.passages + report.sentences and report.reused > 0
    assert any("closing sentence about drones" in p.text for p in idx.passages)
    (seeds / "extra.md").write_text("Extra note\n\nBelarus and Iran discussed potash exports.", encoding="utf-8")
    with pytest.raises(IndexStaleError, match=r"\+extra.md"):
        load_index(index, seeds=seeds)


def test_changed_settings_make_the_index_stale(built):
    seeds, index = built
    with pytest.raises(IndexStaleError, match="passage_words"):
        load_index(index, seeds=seeds, settings=IndexSettings(passage_words=40))


def test_other_model_is_refused(built, embedder):
    seeds, index = built
    manifest = live(index) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["model"] = "some-org/another-model"
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelMismatchError, match="another-model"):
        load_index(index, seeds=seeds, settings=IndexSettings())
    from qa.engine import Engine

    with pytest.raises(ModelMismatchError, match="qa build --model"):
        Engine.from_index(load_index(index), embedder)
    idx, report = ensure_index(seeds, index, embedder=embedder, notify=lambda m: None)
    assert report is not None and report.reused == 0  # never mixes vectors of two models
    assert idx.model_id == embedder.model_id


@pytest.mark.parametrize("damage", ["truncate-vectors", "garbage-passages", "bad-manifest", "dangling-pointer", "missing-bm25"])
def test_corrupt_index_gives_one_line_and_is_rebuilt(built, embedder, damage):
    seeds, index = built
    build = live(index)
    if damage == "truncate-vectors":
        data = (build / "dense" / "vectors.npy").read_bytes()
        (build / "dense" / "vectors.npy").write_bytes(data[: len(data) // 2])
    elif damage == "garbage-passages":  # same size, other bytes: only a digest can tell
        text = build / "passages" / "text.bin"
        text.write_bytes(bytes(b ^ 0x55 for b in text.read_bytes()))
    elif damage == "bad-manifest":
        (build / "manifest.json").write_text("\x00\x01")
    elif damage == "dangling-pointer":
        (index / "CURRENT").write_text("build-gone\n")
    else:
        for f in (build / "bm25").iterdir():
            f.unlink()
    with pytest.raises(IndexCorruptError) as info:
        load_index(index, seeds=seeds)
    assert "\n" not in str(info.value) and "qa build" in str(info.value)
    messages = []
    idx, report = ensure_index(seeds, index, embedder=embedder, notify=messages.append)
    assert report is not None and len(messages) == 1 and "rebuilding" in messages[0]
    assert len(idx.passages) == idx.manifest["counts"]["passages"]


class ExplodingEmbedder(Embedder):
    """Fails in the middle of embedding, like a crash or an out-of-memory kill."""

    def encode(self, texts, *, progress=False):
        raise RuntimeError("simulated crash while embedding")


def test_a_failed_build_leaves_the_old_index_live(built):
    seeds, index = built
    before = (index / "CURRENT").read_text()
    (seeds / "000_7b90357a56c0432c.txt").write_text("Changed\n\nSo every vector must be made again.", encoding="utf-8")
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(seeds, index, embedder=ExplodingEmbedder())
    assert (index / "CURRENT").read_text() == before
    assert load_index(index).manifest["counts"]["passages"] > 0
    assert not list(index.glob(".tmp-build-*"))


# A build that stops at a named step (`build.STEPS`), says so in a file, and waits to be killed.
PAUSED_BUILD = """
import sys, time
from pathlib import Path
from qa.build.build import build_index

seeds, index, step, marker = sys.argv[1:]

def on_step(name):
    if name == step:
        Path(marker).write_text(name, encoding="utf-8")
        time.sleep(60)

build_index(seeds, index, on_step=on_step)
"""


@pytest.mark.parametrize("step", ["embedded", "writing", "written", "renamed", "pointed"])
def test_a_build_killed_at_each_step_leaves_a_usable_index(built, tmp_path, step):
    """The build pauses at a named step (its `on_step` hook), is SIGKILLed there, and the index still opens:
    the old build before CURRENT is replaced, the new one after."""
    seeds, index = built
    before = (index / "CURRENT").read_text()
    target = seeds / "002_129a0cf0d747b166.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nA closing sentence about potash exports.\n", encoding="utf-8")
    marker = tmp_path / "paused"
    proc = subprocess.Popen([sys.executable, "-c", PAUSED_BUILD, str(seeds), str(index), step, str(marker)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists() and marker.read_text() == step, "the build never reached the step"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    idx = load_index(index)
    assert len(idx.passages) == len(idx.dense) == idx.manifest["counts"]["passages"]
    if step == "pointed":
        assert (index / "CURRENT").read_text() != before
        load_index(index, seeds=seeds)  # the new build is complete and current
    else:
        assert (index / "CURRENT").read_text() == before
        with pytest.raises(IndexStaleError):
            load_index(index, seeds=seeds)


def test_two_builds_while_a_source_changes_and_asks_run(built, embedder):
    """Two `qa build` processes on one index while a source changes, with answers asked in a loop,
    three times: every answer quotes verbatim (from the file as it was or as it is), and afterwards
    CURRENT names a complete build that opens without a rebuild."""
    import threading

    from qa.engine import Engine

    seeds, index = built
    target = seeds / "004_369aadd9e78a6df3.txt"
    versions = {target.name: {target.read_text(encoding="utf-8")}}
    failures, asked = [], [0]
    stop = threading.Event()

    def ask_loop():
        while not stop.is_set():
            try:
                answer = Engine.from_index(load_index(index), embedder).ask("How many agreements did Belarus and Iran sign?")
                for q in answer.quotes:
                    texts = versions.get(q.source) or {(seeds / q.source).read_text(encoding="utf-8")}
                    if not any(t[q.start : q.end] == q.text for t in list(texts)):
                        failures.append(f"not verbatim: {q.source}:{q.start}-{q.end}")
                asked[0] += 1
            except Exception as exc:  # any failure of a reader is what this test is about
                failures.append(f"{type(exc).__name__}: {exc}")

    reader = threading.Thread(target=ask_loop)
    reader.start()
    try:
        for round_ in range(3):
            builds = [subprocess.Popen([sys.executable, "-m", "qa.cli", "build", "--quiet", "--seeds", str(seeds),
                                        "--index", str(index)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True) for _ in range(2)]
            text = target.read_text(encoding="utf-8") + f"\nRound {round_}: officials signed {round_ + 2} more accords.\n"
            versions[target.name].add(text)
            target.write_text(text, encoding="utf-8")
            for b in builds:
                _, err = b.communicate(timeout=300)
                assert b.returncode == 0, err
            load_index(index, seeds=seeds)  # CURRENT is complete and current: no rebuild needed
    finally:
        stop.set()
        reader.join()
    assert failures == [] and asked[0] >= 3


def test_vectors_reused_only_for_identical_text(built, embedder):
    seeds, index = built
    report = build_index(seeds, index, embedder=embedder)
    assert report.embedded == 0 and report.reused == report.passages + report.sentences
    idx = load_index(index)
    fresh = embedder.encode([idx.passages[0].embed_text, normalize(idx.quotes.spans[5].text)])
    assert np.allclose(idx.dense.vectors[0], fresh[0], atol=1e-5)
    assert np.allclose(idx.quotes.vectors[5], fresh[1], atol=1e-5)


def test_readers_keep_the_settings_the_index_was_built_with(built, embedder):
    """`qa build --passage-words 40` then `qa ask`: no silent rebuild with the defaults."""
    from qa.engine import Engine

    seeds, index = built
    build_index(seeds, index, IndexSettings(passage_words=40), embedder=embedder)
    n40 = load_index(index).manifest["counts"]["passages"]
    engine = Engine.open(seeds, index, notify=lambda m: pytest.fail(f"unexpected rebuild: {m}"))
    assert engine.build_report is None and len(engine.store.all_passages) == n40
    messages = []
    engine = Engine.open(seeds, index, IndexSettings(), notify=messages.append)  # explicit settings win
    assert engine.build_report is not None and "passage_words" in messages[0]


def test_arrays_written_a_slice_at_a_time_are_the_arrays(tmp_path, monkeypatch):
    """What a build writes through `index.rows` (saved, appended, joined, mapped, released) reads back
    as the arrays themselves, byte for byte as `np.save` writes them."""
    import qa.index.rows as rows
    from qa.index.spans import SpanTable
    from qa.index.quote_index import SentenceSpan

    monkeypatch.setattr(rows, "CHUNK_BYTES", 20)  # less than a row (32 bytes): one row per slice, texts cut mid-letter
    vectors = np.random.default_rng(0).random((37, 8), dtype=np.float32)
    rows.save(tmp_path / "a.npy", vectors)
    np.save(tmp_path / "b.npy", vectors)
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
    out = rows.Appender(tmp_path / "c.f32", 8)
    for part in rows.slices(np.load(tmp_path / "a.npy", mmap_mode="r")):
        out.append(part)
    mapped = out.close()
    rows.release(mapped)
    assert isinstance(mapped, np.memmap) and np.array_equal(mapped, vectors)
    spans = [SentenceSpan(f"s{i // 3}", i, i + 5, f"Sentence {i}, ünïcode.") for i in range(20)]
    tables = [SpanTable.from_rows(spans[:9], SentenceSpan), SpanTable.from_rows(spans[9:], SentenceSpan)]
    joined = SpanTable.concat(tables, SentenceSpan, tmp_path / "joined")
    assert list(joined) == spans
    joined.save(tmp_path / "saved")
    assert list(SpanTable.open(tmp_path / "saved", SentenceSpan)) == spans


def test_bm25_counted_a_slice_of_passages_at_a_time_is_the_same_matrix(built, monkeypatch):
    import qa.index.lexical as lexical
    from qa.index.tokens import Tokens

    _, index = built
    tokens = Tokens.load(load_index(index).path / "tokens")
    whole, _, _ = tokens.bm25()
    monkeypatch.setattr(lexical, "PAIR_ROWS", 7)  # a few passages at a time, some alone
    sliced, _, _ = tokens.bm25()
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(whole._model.scores[key], sliced._model.scores[key]), key
    assert len(whole._model.scores["data"]) > 1000


def test_a_graph_is_built_when_first_searched_or_saved_or_written_at_once(tmp_path):
    from qa.index.dense import DenseIndex
    from qa.settings import AnnSettings

    vectors = np.random.default_rng(1).normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    settings = AnnSettings(threshold=100)
    index = DenseIndex.build(vectors, settings)
    assert index.kind == "hnsw"
    scores, ids = index.search(vectors[:3], 5)  # an evaluation corpus, searched in memory
    assert ids[:, 0].tolist() == [0, 1, 2]
    written = DenseIndex.build(vectors, settings, tmp_path / "spill")  # a build: the graph made and written now
    assert (tmp_path / "spill" / "hnsw.faiss").exists() and written.kind == "hnsw"
    written.save(tmp_path / "copied")
    assert (tmp_path / "copied" / "hnsw.faiss").read_bytes() == (tmp_path / "spill" / "hnsw.faiss").read_bytes()
    assert np.array_equal(written.search(vectors[:3], 5)[1][:, 0], [0, 1, 2])
    DenseIndex.build(vectors, settings).save(tmp_path / "dense")  # deferred, saved before any search
    loaded = DenseIndex.load(tmp_path / "dense", settings)
    assert loaded.kind == "hnsw" and (tmp_path / "dense" / "hnsw.faiss").exists()
    assert np.array_equal(loaded.search(vectors[:3], 5)[1][:, 0], [0, 1, 2])
