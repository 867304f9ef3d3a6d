"""Answers from the real model over the seeds: invariant, abstention, disagreement, bad input, contract."""

from __future__ import annotations

import json

import pytest
from conftest import QUESTIONS, SEEDS, read_source

from qa.errors import InputError

UNRELATED = ["What is the capital of Peru?", "Which stocks should I buy?"]


def test_every_quote_and_passage_reproduces_from_its_offsets(answers):
    checked = 0
    for answer in answers.values():
        d = answer.to_dict()
        for item in d["quotes"] + d["passages"]:
            raw = read_source(SEEDS, item["source"])
            assert raw[item["start"] : item["end"]] == item["text"]
            checked += 1
    assert checked > 40


def test_unrelated_questions_abstain_without_quotes(answers):
    for q in UNRELATED:
        a = answers[q]
        assert a.abstained and not a.quotes, q
        assert "don't say" in a.answer


def test_answerable_questions_are_answered_with_numbered_quotes(answers):
    for q in QUESTIONS:
        if q in UNRELATED:
            continue
        a = answers[q]
        assert not a.abstained, q
        assert [x.n for x in a.quotes] == list(range(1, len(a.quotes) + 1))
        assert all(x.title for x in a.quotes)


def test_postponement_is_quoted(answers):
    a = answers["Why was the visit postponed?"]
    assert any("postponed" in q.text for q in a.quotes[:2])


def test_disagreement_on_the_number_of_agreements_shows_both(answers):
    a = answers["How many agreements did Belarus and Iran sign?"]
    counts = [d for d in a.disagreements if d.kind == "count"]
    assert counts, a.answer
    values = {v.split()[0] for v, _ in counts[0].values}
    assert {"12", "13"} <= values
    sources = {q.source for q in a.quotes if "12 " in q.text or "13 " in q.text}
    assert len(sources) >= 2
    assert "The sources differ on the number" in a.answer


def test_disagreement_on_the_meeting_date(answers):
    a = answers["When did Pezeshkian meet Lukashenko in Minsk?"]
    dates = [d for d in a.disagreements if d.kind == "date"]
    assert dates, a.answer
    assert {"August 19", "August 20"} <= {v for v, _ in dates[0].values}


def test_no_disagreement_where_sources_agree(answers):
    a = answers["Why was the visit postponed?"]
    assert not a.disagreements


@pytest.mark.parametrize("bad, message", [("", "empty"), ("   \n\t", "empty"), ("x" * 2001, "2,000"), (None, "text")])
def test_bad_questions_get_clear_errors(engine, bad, message):
    with pytest.raises(InputError, match=message):
        engine.ask(bad)


@pytest.mark.parametrize("k", [0, 51, "3", 2.5])
def test_bad_k_gets_a_clear_error(engine, k):
    with pytest.raises(InputError, match="k must"):
        engine.ask("Who met in Minsk?", k=k)


def test_source_filter_restricts_quotes_and_passages(engine):
    a = engine.ask("How many agreements did Belarus and Iran sign?", sources=["001_5874e3a4e5c629c5.txt"])
    assert a.quotes and {q.source for q in a.quotes} == {"001_5874e3a4e5c629c5.txt"}
    assert {h.passage.source for h in a.passages} == {"001_5874e3a4e5c629c5.txt"}
    with pytest.raises(InputError, match="unknown source"):
        engine.ask("Who met?", sources=["nope.txt"])


def test_json_contract(answers):
    d = json.loads(json.dumps(answers["Who is Iran's defense minister?"].to_dict()))
    assert {"question", "abstained", "answer", "quotes", "passages"} <= set(d)
    assert isinstance(d["abstained"], bool) and isinstance(d["answer"], str)
    for q in d["quotes"]:
        assert {"n", "text", "source", "start", "end", "score", "title", "url"} <= set(q)
        assert isinstance(q["n"], int) and isinstance(q["start"], int) and isinstance(q["score"], float)
    scores = [p["score"] for p in d["passages"]]
    assert scores == sorted(scores, reverse=True)
    for p in d["passages"]:
        assert {"id", "source", "start", "end", "score", "text"} <= set(p)


def test_search_modes_rank_passages(engine):
    for mode in ("hybrid", "dense", "bm25", "rrf"):
        hits = engine.search("S-400 air defense components", mode=mode, k=3)
        assert hits and hits[0].rank == 1
        assert any("S-400" in h.passage.text for h in hits), mode
    with pytest.raises(InputError, match="choose one of: hybrid, dense, bm25, rrf"):
        engine.search("x", mode="magic")
