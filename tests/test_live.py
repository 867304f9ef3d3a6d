"""Reliable while things change: a new build is picked up, changed sources are never quoted, the
app fails in one line, and 8 concurrent clients get right answers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT, read_source

from qa.engine import Engine
from qa.errors import SourceChangedError
from qa.build.build import build_index
from qa.store import StoreConfig, backend_for
from qa.live import LiveEngine

QUESTION = "How many agreements did Belarus and Iran sign?"


@pytest.fixture
def opened(tmp_path, seeds_copy, embedder):
    index = tmp_path / "index"
    build_index(seeds_copy, index, embedder=embedder)
    return seeds_copy, index, Engine.open(seeds_copy, index, notify=lambda m: None)


def test_a_source_changed_since_the_build_is_never_quoted(opened):
    seeds, _, engine = opened
    first = engine.ask(QUESTION)
    target = seeds / first.quotes[0].source
    target.write_text("Inserted first line.\n" + read_source(seeds, target.name), encoding="utf-8")
    with pytest.raises(SourceChangedError, match=target.name):
        engine.ask(QUESTION)


def test_the_app_switches_to_a_new_build_between_requests(opened, embedder):
    seeds, index, engine = opened
    live = LiveEngine(engine, backend_for(StoreConfig(), index), notify=lambda m: None)
    before = live.current().build
    (seeds / "potash.txt").write_text("Potash deal\n\nBelarus agreed to sell 40,000 tonnes of potash to Iran in 2026.\n",
                                      encoding="utf-8")
    build_index(seeds, index, embedder=embedder)
    time.sleep(0.25)
    after = live.current()
    assert after.build != before and after.embedder is engine.embedder  # the model is not loaded again
    assert "potash.txt" in {q.source for q in after.ask("How much potash will Belarus sell to Iran?").quotes}


def test_watch_rebuilds_when_a_source_changes(opened):
    seeds, index, engine = opened
    live = LiveEngine(engine, backend_for(StoreConfig(), index), watch=True, interval=0.2, notify=lambda m: None)
    try:
        before = live.current().build
        (seeds / "rail.txt").write_text("Rail link\n\nA new rail link between Minsk and Tehran opened for freight "
                                        "in spring 2026.\n", encoding="utf-8")
        deadline = time.time() + 120
        while live.current().build == before and time.time() < deadline:
            time.sleep(0.2)
        answer = live.current().ask("Which rail link opened for freight?")
        assert live.current().build != before and answer.quotes[0].source == "rail.txt"
    finally:
        live.close()


@pytest.mark.parametrize("args, env, says", [
    (["--port", "abc"], {}, "port must be a whole number"),
    ([], {"QA_PORT": "99999"}, "port must be a whole number"),
    (["--model", "/nonexistent/model"], {}, "cannot load embedding model"),
    (["--seeds", "/nonexistent/seeds"], {}, "does not exist"),
    (["--index", "FILE"], {}, "cannot build or read the index"),
])
def test_the_app_fails_in_one_line_without_a_traceback(tmp_path, args, env, says):
    if "FILE" in args:
        (tmp_path / "file").write_text("not a folder")
        args = [a if a != "FILE" else str(tmp_path / "file") for a in args]
    else:
        args = args + ["--index", str(tmp_path / "index")] if "--index" not in args else args
    r = subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, env={**os.environ, **env},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("qa: error:") and says in last


def test_eight_concurrent_clients_get_their_own_answers_with_verbatim_quotes(app_url, app_engine):
    """8 gradio_client clients x 25 questions on loopback: no error, each answer is to the question
    that was asked, every quote verbatim."""
    from gradio_client import Client

    questions = ["How many agreements did Belarus and Iran sign?", "Why was the visit postponed?",
                 "Who is Iran's defense minister?", "What is the capital of Peru?",
                 "What did Lukashenko say about military-technical cooperation?"]
    errors, wrong, done = [], [], [0]
    lock = threading.Lock()

    def client(c: int) -> None:
        cl = Client(app_url, verbose=False)
        try:
            for i in range(25):
                q = questions[(c + i) % len(questions)]
                try:
                    d = cl.predict(q, 5, api_name="/ask")
                except Exception as exc:  # counted: the test is that there are none
                    with lock:
                        errors.append(repr(exc))
                    continue
                bad = d["question"] != q or any(
                    read_source(app_engine.seeds, x["source"])[x["start"] : x["end"]] != x["text"] for x in d["quotes"])
                with lock:
                    done[0] += 1
                    if bad:
                        wrong.append(q)
        finally:
            cl.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and wrong == [] and done[0] == 200
