import json
import logging

from qa.ingest.clutter import find_clutter as find_boilerplate
from qa.ingest.documents import read_sources
from qa.ingest.metadata import describe, load_catalog, parse_date


def docs(folder):
    files, skipped = read_sources(folder)
    catalog, _ = load_catalog(folder)
    return {f.source: describe(f, find_boilerplate(f.text), catalog) for f in files}, skipped


def test_bad_files_are_skipped_each_with_its_reason(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("A title\n\nSome text here.", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_bytes(b"  \n\n")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04")
    with caplog.at_level(logging.INFO):  # the build names each once, in its report; `-v` shows them as read
        files, skipped = read_sources(tmp_path)
    assert [f.source for f in files] == ["good.txt"]
    assert {s.source: s.reason.split(" ")[0] for s in skipped} == {
        "empty.txt": "empty", "blank.md": "empty", "latin1.txt": "not", "binary.txt": "binary",
        "notes.pdf": "malformed", "slides.pptx": ".pptx:"}
    assert "format not supported" in next(s.reason for s in skipped if s.source == "slides.pptx")
    for name in ("empty.txt", "latin1.txt", "binary.txt", "notes.pdf", "slides.pptx"):
        assert name in caplog.text


def test_text_is_read_without_newline_translation(tmp_path):
    raw = "Title\r\nLine one.\r\n"
    (tmp_path / "crlf.txt").write_bytes(raw.encode("utf-8"))
    files, _ = read_sources(tmp_path)
    assert files[0].text == raw == open(tmp_path / "crlf.txt", encoding="utf-8", newline="").read()


def test_metadata_from_the_document_itself(tmp_path):
    (tmp_path / "a.txt").write_text(
        "Subscribe now\nPort reopens after storm\nPublication: Coastal Daily Volume: 3 Issue: 9\n\n"
        "HAMBURG, Aug 20, 2025 (Coastal) - The port reopened.\nhttps://www.example.org/news/port-reopens-after-storm",
        encoding="utf-8")
    (tmp_path / "b.md").write_text("A first paragraph that is far too long to be a headline. " * 5
                                   + "\nhttps://example.com/2025/03/14/storm-damage-report\n", encoding="utf-8")
    d, _ = docs(tmp_path)
    a, b = d["a.txt"], d["b.md"]
    assert (a.title, a.publisher, a.url) == ("Port reopens after storm", "Coastal Daily",
                                             "https://www.example.org/news/port-reopens-after-storm")
    assert a.date == "2025-08-20"
    assert (b.title, b.publisher, b.date) == ("Storm Damage Report", "example.com", "2025-03-14")


def test_catalog_sets_metadata_and_new_files_work_without_it(tmp_path):
    (tmp_path / "a.txt").write_text("Headline A\nText.", encoding="utf-8")
    (tmp_path / "new.txt").write_text("Headline New\nText.", encoding="utf-8")
    (tmp_path / "catalog.json").write_text(json.dumps({"a.txt": {"title": "Better title", "publisher": "Pub"}}))
    d, _ = docs(tmp_path)
    assert (d["a.txt"].title, d["a.txt"].publisher) == ("Better title", "Pub")
    assert d["new.txt"].title == "Headline New"


def test_a_broken_catalog_is_reported_and_ignored(tmp_path, caplog):
    (tmp_path / "a.txt").write_text("Headline A\nText.", encoding="utf-8")
    (tmp_path / "catalog.json").write_text("{not json")
    with caplog.at_level(logging.WARNING):
        d, _ = docs(tmp_path)
    assert d["a.txt"].title == "Headline A"
    assert "catalog.json" in caplog.text


def test_seed_metadata():
    from conftest import SEEDS

    d, skipped = docs(SEEDS)
    assert len(d) == 5 and not skipped
    for doc in d.values():
        assert doc.title and len(doc.title) <= 200
        assert "Free Trial" not in doc.title


def test_parse_date_formats():
    assert parse_date("14 Jan 2026") == "2026-01-14"
    assert parse_date("Wednesday, Aug. 20, 2025") == "2025-08-20"
    assert parse_date("iran-update-august-27-2025") == "2025-08-27"
    assert parse_date("no date here") is None


def test_byte_order_mark_stays_out_of_titles_and_passages(tmp_path):
    from qa.ingest.passages import split_passages

    raw = "\ufeffPort news\r\n\r\nThe port reopened on Monday after long repairs.\r\n"
    (tmp_path / "bom.txt").write_bytes(raw.encode("utf-8"))
    d, _ = docs(tmp_path)
    doc = d["bom.txt"]
    assert doc.text == raw and doc.title == "Port news"
    passages = split_passages(doc, find_boilerplate(doc.text))
    assert passages[0].start == 1 and not passages[0].text.startswith("\ufeff")
    assert all(raw[p.start : p.end] == p.text for p in passages)
