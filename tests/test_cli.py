"""The `qa` command as scripts use it: JSON, JSON lines, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, SEEDS, read_source


def qa(*args, stdin: str | None = None, index=None):
    cmd = [sys.executable, "-m", "qa.cli", *args]
    if index is not None:
        cmd += ["--seeds", str(SEEDS), "--index", str(index)]
    return subprocess.run(cmd, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=300)


def test_ask_json_is_one_object_with_reproducible_offsets(index_dir):
    r = qa("ask", "--json", "How many agreements did Belarus and Iran sign?", index=index_dir)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["quotes"] and not d["abstained"]
    for item in d["quotes"] + d["passages"]:
        assert read_source(SEEDS, item["source"])[item["start"] : item["end"]] == item["text"]


def test_ask_jsonl_keeps_going_after_a_bad_line(index_dir):
    lines = "Why was the visit postponed?\n\n" + "x" * 2500 + '\n{"question": "What is the capital of Peru?", "k": 3}\n'
    r = qa("ask", "--jsonl", stdin=lines, index=index_dir)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["quotes"] and "error" not in out[0]
    assert "empty" in out[1]["error"] and "2,000" in out[2]["error"]
    assert out[3]["abstained"] is True and len(out[3]["passages"]) == 3


def test_errors_are_one_line_with_nonzero_exit(index_dir, tmp_path):
    r = qa("ask", "   ", index=index_dir)
    assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and "empty" in r.stderr
    r = qa("search", "x", "--seeds", str(tmp_path / "missing"), "--index", str(tmp_path / "i"))
    assert r.returncode != 0 and "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_build_reports_summary_and_shows_exclusions(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("Port news\n\nThe port reopened on Monday after repairs.\nSubscribe to our newsletter today!\n", encoding="utf-8")
    (seeds / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    (seeds / "slides.pptx").write_bytes(b"PK\x03\x04 not read")  # no file is left out silently
    (seeds / "catalog.json").write_text("{}", encoding="utf-8")  # the folder's metadata, not a document
    (seeds / ".hidden.txt").write_text("An editor's file.", encoding="utf-8")
    r = qa("build", "--seeds", str(seeds), "--index", str(tmp_path / "idx"), "--show-excluded", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "call to action" in r.stdout and "Subscribe" in r.stdout
    assert "1 documents" in r.stdout and "2 skipped files" in r.stdout and "bad.txt" in r.stderr
    assert "skipped slides.pptx: .pptx: format not supported" in r.stderr
    # Named once each: not also when `--model auto` reads the folder, nor again as it is read for the build.
    assert r.stderr.count("bad.txt") == 1 and r.stderr.count("slides.pptx") == 1, r.stderr
    assert "catalog.json" not in r.stderr and "hidden" not in r.stderr


def test_search_json(index_dir):
    r = qa("search", "--json", "--mode", "bm25", "-k", "2", "S-400", index=index_dir)
    d = json.loads(r.stdout)
    assert d["mode"] == "bm25" and len(d["passages"]) == 2 and "S-400" in d["passages"][0]["text"]


def test_ask_jsonl_answers_each_line_as_it_arrives(index_dir):
    """A script writes one question, reads its answer, and only then writes the next: the CLI must
    answer every line when it arrives, not when the input ends."""
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "ask", "--jsonl", "--seeds", str(SEEDS), "--index", str(index_dir)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            bufsize=1)
    import threading

    watchdog = threading.Timer(120, proc.kill)  # a CLI that waits for the end of its input fails, not hangs
    watchdog.start()
    try:
        answers = []
        for question in ("How many agreements did Belarus and Iran sign?", "Why was the visit postponed?"):
            proc.stdin.write(json.dumps({"question": question}) + "\n")
            proc.stdin.flush()
            answers.append(json.loads(proc.stdout.readline()))  # blocks until this line's answer, stdin still open
        assert [a["question"] for a in answers] == ["How many agreements did Belarus and Iran sign?",
                                                     "Why was the visit postponed?"]
        assert answers[0]["quotes"] and proc.poll() is None
    finally:
        watchdog.cancel()
        proc.stdin.close()
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0


def test_document_jsonl_prints_each_document_as_it_is_read(tmp_path):
    """`qa document --jsonl`: one line per document with the text quotes index, its excluded spans and a
    PDF's pages; a PDF with a page that cannot be loaded is read without it, and says so once."""
    from test_formats import broken_page_tree

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    article = sorted(p for p in SEEDS.iterdir() if p.suffix == ".txt")[0]
    (seeds / "article.txt").write_bytes(article.read_bytes())
    (seeds / "gap.pdf").write_bytes(broken_page_tree(("The council met on Monday and agreed that the",
                                                      "budget for the new library was approved in full.")))
    where = ["--seeds", str(seeds), "--index", str(tmp_path / "idx")]
    r = qa("build", *where, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "2 documents" in r.stdout and "0 skipped files" in r.stdout
    assert r.stderr.count("gap.pdf") == 1 and "read gap.pdf in part: page 2 of 3 cannot be loaded: left out" in r.stderr
    r = qa("document", "--jsonl", *where)
    assert r.returncode == 0, r.stderr
    rows = {row["source"]: row for row in map(json.loads, r.stdout.splitlines())}
    assert set(rows) == {"article.txt", "gap.pdf"}
    assert rows["article.txt"]["text"] == read_source(seeds, "article.txt") and rows["article.txt"]["format"] == "text"
    assert "notes" not in rows["article.txt"] and "pages" not in rows["article.txt"]
    pdf = rows["gap.pdf"]
    assert pdf["format"] == "pdf" and pdf["notes"] == ["page 2 of 3 cannot be loaded: left out"]
    assert [(p["page"], pdf["text"][p["start"]:p["end"]]) for p in pdf["pages"]] == [
        (1, "The council met on Monday and agreed that the"), (3, "budget for the new library was approved in full.")]
    for row in rows.values():
        assert all(0 <= e["start"] < e["end"] <= len(row["text"]) and e["reason"] for e in row["excluded"])
    r = qa("document", "gap.pdf", *where)
    assert r.returncode == 0 and "2 pages; page 2 of 3 cannot be loaded: left out" in r.stdout, r.stdout
    r = qa("document", "missing.pdf", *where)
    assert r.returncode != 0 and "unknown source" in r.stderr and r.stderr.strip().count("\n") == 0
