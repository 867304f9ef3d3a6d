"""Builds that carry unchanged documents over from the previous build: the result is the build from
scratch (byte for byte, vectors up to batching), and only new and changed documents are read, split
and embedded."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import QUESTIONS, SEEDS, read_source

import qa.build.corpus
from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder
from qa.build.build import build_index, load_index
from qa.errors import IndexStaleError
from qa.text import normalize
from qa.settings import IndexSettings

# A short block in two documents is not clutter; in a third it makes the folder's template (three or more).
BLOCK = "Harbour notices are archived by the port office."


def article(title: str, body: list[str], block: bool) -> str:
    paragraphs = [title, body[0], *([BLOCK] if block else []), *body[1:]]
    return "\n\n".join(paragraphs) + "\n"


A = article("Port traffic rose in spring", [
    "Ships loaded with potash left the northern harbour every week this spring, officials said on Monday.",
    "The harbour master said that inspections of cargo would continue through the summer season."], block=True)
B = article("Ferry timetable changes", [
    "The ferry to the islands will run twice a day from June, the transport ministry announced.",
    "Passengers with bicycles are asked to board ten minutes before departure to keep the schedule."], block=True)
C_BODY = ["Dock workers agreed on a new contract after three weeks of talks with the port authority.",
          "The agreement raises wages by four percent and adds a second rest day in the busy months."]


@pytest.fixture
def folder(tmp_path) -> Path:
    """The seeds and four small documents, two of them sharing a short block."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "harbour").mkdir()
    (seeds / "harbour" / "a.txt").write_text(A, encoding="utf-8")
    (seeds / "harbour" / "b.txt").write_text(B, encoding="utf-8")
    (seeds / "harbour" / "c.txt").write_text(article("Dock workers reach a deal", C_BODY, block=False), encoding="utf-8")
    (seeds / "harbour" / "d.txt").write_text(article("Lighthouse repaired", [
        "The old lighthouse on the cape was repaired by volunteers over two winters.",
        "Its lamp was lit again on Saturday evening in front of a small crowd."], block=False), encoding="utf-8")
    return seeds


def live(index: Path) -> Path:
    return index / (index / "CURRENT").read_text().strip()


def files(build: Path) -> list[str]:
    return sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file() and p.name != "manifest.json")


VECTORS = ("dense/vectors.npy", "quotes/vectors.npy")


def template_exclusions(index: Path, source: str) -> list[str]:
    return [e["text"].strip() for e in load_index(index).exclusions
            if e["source"] == source and e["reason"] == "template clutter"]


def test_an_incremental_build_is_the_build_from_scratch(folder, tmp_path, embedder, monkeypatch):
    index = tmp_path / "index"
    build_index(folder, index, embedder=embedder)
    assert template_exclusions(index, "harbour/a.txt") == []  # in two documents only: kept
    (folder / "harbour" / "e.txt").write_text(article("Fishing quotas set", [
        "The fisheries board set next year's cod quota at the level of this year after a long debate.",
        "Boat owners said the decision gave them the certainty they needed to plan."], block=False), encoding="utf-8")
    d = folder / "harbour" / "d.txt"
    d.write_text(d.read_text(encoding="utf-8") + "\nThe keeper's cottage will open as a museum next year.\n",
                 encoding="utf-8")
    (folder / "003_3d8a2dc36ed3406f.txt").unlink()
    (folder / "harbour" / "c.txt").write_text(article("Dock workers reach a deal", C_BODY, block=True), encoding="utf-8")
    os.utime(folder / "001_5874e3a4e5c629c5.txt")  # a new time, the same bytes
    read, split = spy(monkeypatch)

    report = build_index(folder, index, embedder=embedder)

    changed = {"harbour/c.txt", "harbour/d.txt", "harbour/e.txt"}
    template = {"harbour/a.txt", "harbour/b.txt"}  # unchanged, but the block is template clutter now
    assert set(split) == changed | template and report.processed == 5
    assert set(read) == changed | template | {"001_5874e3a4e5c629c5.txt"}
    assert template_exclusions(index, "harbour/a.txt") == [BLOCK]
    scratch = tmp_path / "scratch"
    build_index(folder, scratch, embedder=embedder)
    assert_same_build(index, scratch, folder)


def assert_same_build(index: Path, scratch: Path, folder: Path) -> None:
    """The two live builds hold the same files, byte for byte but for vectors batched differently,
    and every row of the first reproduces from the sources."""
    a, b = live(index), live(scratch)
    assert files(a) == files(b)
    for name in files(a):
        if name in VECTORS:
            assert np.allclose(np.load(a / name), np.load(b / name), atol=1e-5), name
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    one, two = load_index(index, seeds=folder), load_index(scratch, seeds=folder)
    for q in QUESTIONS + ["harbour ferry potash", "lighthouse museum"]:
        assert np.array_equal(one.bm25.scores(q), two.bm25.scores(q)), q
    assert np.array_equal(one.quotes.term_ids, two.quotes.term_ids) and len(one.quotes.term_ids) > 0
    assert [e for e in one.exclusions] == [e for e in two.exclusions]
    for p in one.passages:
        assert read_source(folder, p.source)[p.start : p.end] == p.text
    for i in range(len(one.quotes)):
        s = one.quotes.spans[i]
        assert read_source(folder, s.source)[s.start : s.end] == s.text
    for p in one.passages:  # the passages' sentence numbers point at their own sentences
        first, last = one.quotes.spans[p.sentence_start], one.quotes.spans[p.sentence_stop - 1]
        assert first.source == last.source == p.source and first.start == p.start and last.end == p.end


def test_a_build_in_small_groups_is_the_build_in_one(folder, tmp_path, embedder, monkeypatch):
    """Documents read, split and embedded a few at a time, some of them read again for it, with their
    vectors and texts joined on disk: the same index as one group in memory, each text embedded once."""
    whole = tmp_path / "whole"
    one = build_index(folder, whole, embedder=embedder)
    monkeypatch.setattr(qa.build.corpus, "PROCESS_CHARS", 3000)  # the seeds are 2-10k characters each
    monkeypatch.setattr(qa.build.corpus, "RAW_CACHE_CHARS", 12000)
    read, _ = spy(monkeypatch)
    index = tmp_path / "index"
    recorder = RecordingEmbedder()
    report = build_index(folder, index, embedder=recorder)
    assert len(read) > len(set(read)) == one.documents  # files past the cache were read twice
    assert report.embedded == one.embedded == len(recorder.texts) == len(set(recorder.texts))
    assert_same_build(index, whole, folder)
    (folder / "harbour" / "e.txt").write_text(article("Fishing quotas set", [
        "The fisheries board set next year's cod quota at the level of this year.", C_BODY[0]], block=True),
        encoding="utf-8")  # carried documents joined on disk with new ones
    build_index(folder, index, embedder=embedder)
    monkeypatch.undo()
    scratch = tmp_path / "scratch"
    build_index(folder, scratch, embedder=embedder)
    assert_same_build(index, scratch, folder)


def test_a_block_that_stops_being_template_is_kept_again(folder, tmp_path, embedder):
    index = tmp_path / "index"
    c = folder / "harbour" / "c.txt"
    c.write_text(article("Dock workers reach a deal", C_BODY, block=True), encoding="utf-8")
    build_index(folder, index, embedder=embedder)
    assert template_exclusions(index, "harbour/b.txt") == [BLOCK]
    c.unlink()
    report = build_index(folder, index, embedder=embedder)
    assert report.processed == 2 and template_exclusions(index, "harbour/b.txt") == []
    scratch = tmp_path / "scratch"
    build_index(folder, scratch, embedder=embedder)
    assert (live(index) / "excluded.jsonl").read_bytes() == (live(scratch) / "excluded.jsonl").read_bytes()
    assert (live(index) / "bm25" / "data.csc.index.npy").read_bytes() == \
        (live(scratch) / "bm25" / "data.csc.index.npy").read_bytes()


class RecordingEmbedder(Embedder):
    """The real model, keeping the texts it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts, *, progress=False):
        self.texts += list(texts)
        return super().encode(texts, progress=progress)


def spy(monkeypatch) -> tuple[list[str], list[str]]:
    """The names of the documents the build reads and splits (the real functions run)."""
    read, split = [], []
    real_read, real_split = qa.build.corpus.read_source, qa.build.corpus.split_document

    def reading(root, name, *args, **kwargs):
        read.append(name)
        return real_read(root, name, *args, **kwargs)

    def splitting(doc, *args, **kwargs):
        split.append(doc.source)
        return real_split(doc, *args, **kwargs)

    monkeypatch.setattr(qa.build.corpus, "read_source", reading)
    monkeypatch.setattr(qa.build.corpus, "split_document", splitting)
    return read, split


def test_adding_a_document_reads_splits_and_embeds_only_it(folder, tmp_path, embedder, monkeypatch):
    index = tmp_path / "index"
    build_index(folder, index, embedder=embedder)
    (folder / "new.md").write_text("Grain corridor\n\nBelarus and Iran discussed potash exports and a grain "
                                   "corridor through the Caspian ports during the visit.\n", encoding="utf-8")
    read, split = spy(monkeypatch)
    recorder = RecordingEmbedder()
    report = build_index(folder, index, embedder=recorder)
    assert read == ["new.md"] and split == ["new.md"] and report.processed == 1
    idx = load_index(index, seeds=folder)
    own = {normalize(p.text) for p in idx.passages if p.source == "new.md"}
    own |= {normalize(idx.quotes.spans[i].text) for i in range(len(idx.quotes)) if idx.quotes.spans[i].source == "new.md"}
    assert recorder.texts and set(recorder.texts) <= own
    assert report.embedded == len(set(recorder.texts))
    assert report.reused == report.passages + report.sentences - report.embedded


def test_nothing_is_carried_over_when_the_settings_change(folder, tmp_path, embedder):
    index = tmp_path / "index"
    build_index(folder, index, embedder=embedder)
    report = build_index(folder, index, IndexSettings(passage_words=40), embedder=embedder)
    assert report.processed == report.documents == len(load_index(index).sources)


def test_vectors_of_the_previous_format_are_reused(folder, tmp_path, embedder):
    """A new index format processes every document again but embeds nothing that the old build has."""
    index = tmp_path / "index"
    first = build_index(folder, index, embedder=embedder)
    manifest = live(index) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["format"] = 3
    manifest.write_text(json.dumps(data), encoding="utf-8")
    report = build_index(folder, index, embedder=embedder)
    assert report.processed == first.documents and report.embedded == 0


def test_a_new_extractor_version_reads_its_documents_again(folder, tmp_path, embedder, monkeypatch):
    """A derived document is carried over only while its reader's extractor is the one that read it."""
    import shutil

    from test_formats import report

    from qa.ingest.formats import BY_FORMAT

    (folder / "review.pdf").write_bytes(report())
    index = tmp_path / "index"
    build_index(folder, index, embedder=embedder)
    read, _ = spy(monkeypatch)
    assert build_index(folder, index, embedder=embedder).processed == 0 and read == []
    pdf = BY_FORMAT["pdf"]
    load_index(index, seeds=folder)  # current
    monkeypatch.setattr(type(pdf), "extractor", lambda self: "pypdfium2 99.0; qa pdf 9")
    with pytest.raises(IndexStaleError, match=r"the pdf reader changed since the index was built \(pypdfium2 .* -> "
                                              r"pypdfium2 99\.0; qa pdf 9\)"):
        load_index(index, seeds=folder)  # as `qa ask` opens it: it rebuilds, reading the PDF again
    report_ = build_index(folder, index, embedder=embedder)
    assert read == ["review.pdf"] and report_.processed == 1
    assert load_index(index, seeds=folder).sources["review.pdf"].extractor == "pypdfium2 99.0; qa pdf 9"
    shutil.rmtree(index)
