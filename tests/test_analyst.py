"""For analysts: why each quote was chosen, exports that can be verified later, answers replayed
on the build that gave them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from conftest import ROOT, read_source

from qa import export
from qa.engine import Engine
from qa.build.build import build_index, load_index
from qa.store.local import kept_builds
from qa.verify import verify

QUESTION = "How many agreements did Belarus and Iran sign?"


def qa(*args, seeds, index, stdin=None):
    cmd = [sys.executable, "-m", "qa.cli", *args, "--seeds", str(seeds), "--index", str(index)]
    return subprocess.run(cmd, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture
def built(tmp_path, seeds_copy, embedder):
    index = tmp_path / "index"
    build_index(seeds_copy, index, embedder=embedder)
    return seeds_copy, index


def test_quotes_carry_their_file_hash_and_why_they_were_chosen(engine):
    import hashlib

    a = engine.ask(QUESTION)
    d = a.to_dict()
    assert d["index_build"].startswith("build-") and d["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    for q in d["quotes"]:
        assert q["source_sha256"] == hashlib.sha256((ROOT / "seeds" / q["source"]).read_bytes()).hexdigest()
        why = q["why"]
        assert why["chosen_for"] in ("relevance", "disagreement")
        assert why["passage"]["ranks"]["fused"] >= 1 and set(why["passage"]["ranks"]) <= {"dense", "bm25", "feedback", "fused"}
        parts = why["score"]
        assert parts["total"] == pytest.approx(sum(v for k, v in parts.items() if k != "total"), abs=1e-5)
        assert why["question_type"] == "number"
    assert any(q["why"]["type_match"] for q in d["quotes"])


def test_export_then_verify_holds_and_a_changed_file_is_named(built, tmp_path):
    seeds, index = built
    out = tmp_path / "answers.json"
    r = qa("ask", "--json", "--export", str(out), QUESTION, seeds=seeds, index=index)
    assert r.returncode == 0, r.stderr
    records = export.read(out)
    q = records[0]["quotes"][0]
    raw = read_source(seeds, q["source"])
    assert raw[q["start"] : q["end"]] == q["text"]
    assert (seeds / q["source"]).read_bytes()[q["start_byte"] : q["end_byte"]].decode("utf-8") == q["text"]
    assert records[0]["index_build"] == json.loads(r.stdout)["index_build"] and records[0]["asked_at"]
    ok = qa("verify", str(out), seeds=seeds, index=index)
    assert ok.returncode == 0 and "all hold" in ok.stdout
    target = seeds / q["source"]
    target.write_text("A line inserted at the top.\n" + raw, encoding="utf-8")
    bad = qa("verify", str(out), seeds=seeds, index=index)
    assert bad.returncode != 0 and f"changed: {q['source']}" in bad.stdout and "now at" in bad.stdout


def test_moved_and_vanished_files_are_reported(built, tmp_path):
    seeds, index = built
    engine = Engine.open(seeds, index, notify=lambda m: None)
    records = [export.record(engine.ask(QUESTION), engine.document)]
    sources = sorted({q["source"] for q in records[0]["quotes"]})
    assert len(sources) >= 2
    (seeds / sources[0]).rename(seeds / "renamed.txt")
    (seeds / sources[1]).unlink()
    _, problems = verify(records, seeds)
    kinds = {(p.kind, p.source) for p in problems}
    assert ("moved", sources[0]) in kinds and ("vanished", sources[1]) in kinds
    assert any("renamed.txt" in p.detail for p in problems)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_jsonl_batches_and_csv_round_trip(built, tmp_path, suffix):
    seeds, index = built
    out = tmp_path / f"answers{suffix}"
    lines = f"{QUESTION}\nWhat is the capital of Peru?\n"
    r = qa("ask", "--jsonl", "--export", str(out), seeds=seeds, index=index, stdin=lines)
    assert r.returncode == 0, r.stderr
    records = export.read(out)
    assert [x["question"] for x in records] == [QUESTION, "What is the capital of Peru?"]
    assert records[0]["quotes"] and records[1]["abstained"] in (True, "True") and records[1]["quotes"] == []
    if suffix == ".csv":
        rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
        assert {"start_byte", "end_byte", "source_sha256", "why"} <= set(rows[0])
    checked, problems = verify(records, seeds)
    assert checked == len(records[0]["quotes"]) and problems == []


def test_a_bad_export_name_is_refused_before_any_work(built, tmp_path):
    seeds, index = built
    r = qa("ask", "--export", str(tmp_path / "answers.txt"), QUESTION, seeds=seeds, index=index)
    assert r.returncode != 0 and ".json, .jsonl or .csv" in r.stderr and "Traceback" not in r.stderr


def test_an_answer_is_replayed_on_the_build_that_gave_it(built, embedder):
    seeds, index = built
    first = Engine.open(seeds, index, notify=lambda m: None).ask(QUESTION)
    target = seeds / first.quotes[0].source
    target.write_text(target.read_text(encoding="utf-8").replace("agreements", "accords"), encoding="utf-8")
    build_index(seeds, index, embedder=embedder)
    assert load_index(index).path.name != first.index_build
    again = Engine.open(seeds, index, build=first.index_build).ask(QUESTION)
    assert again.index_build == first.index_build
    assert [(q.source, q.start, q.end, q.text) for q in again.quotes] == [(q.source, q.start, q.end, q.text) for q in first.quotes]
    r = qa("ask", "--build", "build-nonexistent", QUESTION, seeds=seeds, index=index)
    assert r.returncode != 0 and "kept:" in r.stderr and first.index_build in r.stderr


def test_the_newest_builds_are_kept(built, embedder):
    seeds, index = built
    for _ in range(3):
        build_index(seeds, index, embedder=embedder, keep_builds=2)
    kept = kept_builds(index)
    assert len(kept) == 2 and load_index(index).path.name == kept[-1]
