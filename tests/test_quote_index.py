"""The quote index: sentences found once, on the whole document; an answer costs one embedding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SEEDS, read_source

from qa.ingest.clutter import find_clutter as find_boilerplate
from qa.ingest.documents import Document
from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder
from qa.engine import Engine
from qa.build.manifest import FORMAT_VERSION
from qa.build.build import build_index, ensure_index, load_index
from qa.ingest.passages import document_sentences
from qa.settings import IndexSettings

# Hard-wrapped paragraphs: with 12-word passages, passages start in the middle of wrapped
# lines and a passage boundary falls inside a wrapped sentence's run of lines.
WRAPPED = """Harbour works resume after winter storms

The port authority of Eastbridge said on Monday that repair crews would return to the
northern breakwater next week. Winter storms tore away about 300 metres of the outer
wall and flooded two warehouses near the quay. The repairs will cost 14 million euros,
the authority's engineers said, and will take five months. Its director, President Masoud
Pezeshkian of the board, promised nothing more. Cargo traffic will be diverted to the
southern basin until the work is finished. The harbour master, Ines
Caldera, told reporters that ferry timetables would not change. The ferry berths lie on
the sheltered side of the port, she said, so the works will not reach them.
"""


class CountingEmbedder(Embedder):
    """The real model, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def encode(self, texts, *, progress=False):
        self.texts += len(texts)
        return super().encode(texts, progress=progress)

    def encode_one(self, text):
        self.texts += 1
        return super().encode_one(text)


@pytest.fixture(scope="module")
def wrapped(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("wrapped")
    seeds = root / "seeds"
    seeds.mkdir()
    (seeds / "harbour.txt").write_text(WRAPPED, encoding="utf-8")
    engine = Engine.open(seeds, root / "index", IndexSettings(passage_words=12), notify=lambda m: None)
    return seeds, engine


def whole_document_sentences(seeds: Path, source: str) -> set[tuple[int, int]]:
    text = read_source(seeds, source)
    doc = Document(source, text, "", source)
    return {(s.start, s.end) for seg in document_sentences(doc, find_boilerplate(text)) for s in seg}


def test_passages_start_mid_line_yet_every_quote_is_one_whole_sentence(wrapped):
    seeds, engine = wrapped
    text = read_source(seeds, "harbour.txt")
    mid_line = [p for p in engine.store.all_passages if p.start > 0 and text[p.start - 1] not in "\n"]
    assert mid_line, "the test needs passages that start inside a line"
    sentences = whole_document_sentences(seeds, "harbour.txt")
    questions = ["How much will the breakwater repairs cost?", "Who is the harbour master?",
                 "What did the storms destroy?", "Will ferry timetables change?", "What did Pezeshkian promise?"]
    quoted = 0
    for q in questions:
        for quote in engine.ask(q).quotes:
            quoted += 1
            assert (quote.start, quote.end) in sentences, quote.text
            assert text[quote.start : quote.end] == quote.text
            assert not quote.text.startswith(("Pezeshkian promised", "Caldera, told"))
    assert quoted >= 4


def test_each_passage_knows_its_sentences(wrapped):
    _, engine = wrapped
    for p in engine.store.all_passages:
        spans = engine.store.quotes.spans[p.sentence_start : p.sentence_stop]
        assert spans and spans[0].start == p.start and spans[-1].end == p.end
        assert all(s.source == p.source for s in spans)


def test_an_answer_costs_one_question_embedding(index_dir):
    counting = CountingEmbedder()
    engine = Engine.from_index(load_index(index_dir, seeds=SEEDS), counting)
    for question in ["How many agreements did Belarus and Iran sign?", "Why was the visit postponed?"]:
        before = counting.texts
        answer = engine.ask(question)
        assert answer.quotes and counting.texts - before == 1


def test_stored_sentence_vectors_are_the_models_vectors(index_dir, embedder):
    from qa.text import normalize

    idx = load_index(index_dir)
    picks = [0, len(idx.quotes) // 2, len(idx.quotes) - 1]
    fresh = embedder.encode([normalize(idx.quotes.spans[i].text) for i in picks])
    assert np.allclose(idx.quotes.vectors[picks], fresh, atol=1e-5)
    for i in picks:
        s = idx.quotes.spans[i]
        assert read_source(SEEDS, s.source)[s.start : s.end] == s.text


def test_an_index_in_the_old_format_is_rebuilt_with_a_one_line_message(tmp_path, seeds_copy, embedder):
    index = tmp_path / "index"
    build_index(seeds_copy, index, embedder=embedder)
    build = index / (index / "CURRENT").read_text().strip()
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["format"] = 1
    (build / "manifest.json").write_text(json.dumps(manifest))
    messages = []
    idx, report = ensure_index(seeds_copy, index, embedder=embedder, notify=messages.append)
    assert report is not None and len(messages) == 1 and "\n" not in messages[0]
    assert "format 1" in messages[0] and "rebuilding" in messages[0]
    assert idx.manifest["format"] == FORMAT_VERSION and len(idx.quotes) > 0
