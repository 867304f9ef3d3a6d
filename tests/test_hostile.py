"""Hostile documents: odd encodings, line ends, scripts and sizes never crash build or ask, and
every passage and quote still reproduces from its offsets (property-tested with Hypothesis)."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
import unicodedata

import pytest
from conftest import ROOT, read_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.engine import Engine
from qa.retrieval import Retriever
from qa.build.corpus import prepare
from qa.settings import IndexSettings

PIECES = [
    "The council met on Tuesday. ", "It approved the budget! ", "Why? ", "Then it adjourned… ",
    "\r\n", "\r", "\n", "\n\n", "\t", "\u2028", "\u2029", "🚢🌊 ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ", "e\u0301te\u0301 ",
    unicodedata.normalize("NFD", "Ångström café naïve "), "no punctuation at all here just words ",
    "Москва приняла решение. ", "北京今天下雨。明天会晴！", "مرحبا بكم في المكتبة. ", "a" * 700, "word " * 300,
    "“Quoted,” she said. ", "[12] ", "• bullet item\n", "Subscribe now for $5 today!\n", "Advertisement\n",
]


@st.composite
def documents(draw):
    parts = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=25))
    text = "".join(parts)
    if draw(st.booleans()):
        text = "\ufeff" + text
    if not text.strip("\ufeff \r\n\t\u2028\u2029"):
        text += "A title"
    return text


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(documents(), min_size=1, max_size=3))
def test_generated_documents_build_and_answer_with_every_offset_reproducing(tmp_path_factory, embedder, texts):
    seeds = tmp_path_factory.mktemp("hostile")
    for i, text in enumerate(texts):
        (seeds / f"doc{i}.txt").write_bytes(text.encode("utf-8"))
    try:
        corpus = prepare(seeds, IndexSettings(), embedder)
    except Exception as exc:  # only "nothing to index" is an acceptable outcome
        assert "nothing to index" in str(exc) or "no readable" in str(exc), exc
        return
    for p in corpus.passages:
        assert read_source(seeds, p.source)[p.start : p.end] == p.text
        assert len(p.text) <= 2_000
    for s in corpus.quotes.spans:
        assert read_source(seeds, s.source)[s.start : s.end] == s.text and len(s.text) <= 1000
    engine = Engine(Retriever(corpus.store(), embedder))
    for question in ("What did the council approve?", "Why?", "北京天气", "Москва"):
        for q in engine.ask(question).quotes:
            assert read_source(seeds, q.source)[q.start : q.end] == q.text


def test_passages_have_a_hard_length_even_for_unbroken_tokens():
    from qa.ingest.documents import Document
    from qa.ingest.passages import split_passages

    text = "Title\n\n" + " ".join(["x" * 700 + "."] * 40) + "\n"
    passages = split_passages(Document("t.txt", text, "", "Title"), [], max_words=60)
    assert len(passages) >= 10 and max(len(p.text) for p in passages) <= 2_000
    assert all(text[p.start : p.end] == p.text for p in passages)


def test_a_folder_of_odd_files_builds_names_every_skipped_file_and_reproduces(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    files = {
        "crlf.txt": "Harbour news\r\n\r\nThe harbour reopened on Monday.\r\nShips returned the same day.\r\n".encode(),
        "lone_cr.txt": "Old Mac file\r\rThe mill closed in 1990.\rIt reopened as a museum.\r".encode(),
        "bom.txt": "\ufeffBOM title\n\nThe library opened a new wing for children.\n".encode(),
        "emoji.md": "Ferry 🚢 update\n\nThe 🚢 ferry to the island 🏝️ runs twice a day in summer.\n".encode(),
        "nfd.txt": unicodedata.normalize("NFD", "Café réunion\n\nLe café a rouvert après les travaux.\n").encode(),
        "u2028.txt": "Line sep\n\nThe bridge opened.\u2028Traffic was heavy on the first day.\n".encode(),
        "nopunct.txt": ("words without any punctuation " * 200 + "\n").encode(),
        "oneline.txt": (("The long line goes on and on with words and more words, " * 5400)[:300_000]).encode(),
        "utf16.txt": codecs.BOM_UTF16_LE + "A UTF-16 note about the harbour.\n".encode("utf-16-le"),
        "latin1.txt": "Caf\xe9 au lait, cr\xe8me br\xfbl\xe9e.\n".encode("latin-1"),
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "empty.txt": b"",
        "huge.txt": b"The same sentence again and again. " * (30 * 1024 * 1024 // 35),
    }
    for name, data in files.items():
        (seeds / name).write_bytes(data)
    r = subprocess.run([sys.executable, "-m", "qa.cli", "build", "--quiet", "--seeds", str(seeds),
                        "--index", str(tmp_path / "index")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    skipped = {line.removeprefix("qa: skipped ").split(":")[0] for line in r.stderr.splitlines()
               if line.startswith("qa: skipped ")}
    assert skipped == {"utf16.txt", "latin1.txt", "binary.txt", "empty.txt", "huge.txt"}, r.stderr
    assert "UTF-16: convert to UTF-8" in r.stderr and "huge.txt: too large (30.0 MB" in r.stderr
    engine = Engine.open(seeds, tmp_path / "index", notify=lambda m: pytest.fail(f"unexpected rebuild: {m}"))
    assert {p.source for p in engine.store.all_passages} == {n for n in files if n not in skipped}
    for p in engine.store.all_passages:
        assert read_source(seeds, p.source)[p.start : p.end] == p.text
    for s in engine.store.quotes.spans:
        assert read_source(seeds, s.source)[s.start : s.end] == s.text and len(s.text) <= 1000
    for question in ("When did the harbour reopen?", "What runs twice a day?", "What opened for children?"):
        answer = engine.ask(question)
        assert answer.quotes, question
        for q in answer.quotes:
            assert read_source(seeds, q.source)[q.start : q.end] == q.text


def test_json_lines_escape_every_character_that_splits_lines(index_dir):
    from conftest import SEEDS

    question = "Why was the visit postponed?\u2028\u0085"
    r = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "--jsonl", "--seeds", str(SEEDS), "--index", str(index_dir)],
                       input=json.dumps({"question": question}) + "\n" + "x" * 200_000 + "\n", cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()  # the strictest splitter: U+2028 and U+0085 end lines too
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["question"] == question.strip() or first["question"].startswith("Why was the visit")
    assert "100,000 characters" in second["error"]
