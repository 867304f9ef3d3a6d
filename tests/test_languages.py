"""Documents in Arabic, Russian and Chinese go through build and ask: no text lost as clutter,
every offset reproduces. (Retrieval quality with the English model is not the point here.)"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import ROOT, read_source

from qa.engine import Engine
from qa.settings import IndexSettings

LANGUAGES = ROOT / "tests" / "data" / "languages"
QUESTIONS = json.loads((LANGUAGES / "questions.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("languages")
    seeds = root / "seeds"
    seeds.mkdir()
    for name in QUESTIONS:
        shutil.copy(LANGUAGES / name, seeds / name)
    return seeds, Engine.open(seeds, root / "index", IndexSettings(), notify=lambda m: None)


def test_nothing_is_lost_as_clutter_and_every_passage_reproduces(world):
    seeds, engine = world
    assert all(not engine.excluded(name) for name in QUESTIONS)
    for p in engine.store.all_passages:
        assert read_source(seeds, p.source)[p.start : p.end] == p.text
    for name in QUESTIONS:
        text = read_source(seeds, name)
        covered = sum(p.end - p.start for p in engine.store.all_passages if p.source == name)
        assert covered >= 0.8 * len("".join(text.split()))  # the body is in passages (overlap counts twice)


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_questions_in_the_documents_language_get_verbatim_sentences(world, name):
    seeds, engine = world
    item = QUESTIONS[name]
    answer = engine.ask(item["question"], k=5)
    for q in answer.quotes:
        assert read_source(seeds, q.source)[q.start : q.end] == q.text
    sentences = [s for s in engine.store.quotes.spans if s.source == name]
    assert len(sentences) >= 5, "the document was split into sentences"
    assert any(item["answer_contains"] in s.text for s in sentences)
