"""The app's `ask` endpoint through gradio_client, and its rendering of hostile text."""

from __future__ import annotations

import pytest
from conftest import read_source
from gradio_client import Client

from qa.render import chat_markdown, document_html, md_escape, sources_html

XSS_QUESTION = "What was printed on the ferry tickets? <img src=x onerror=alert(1)> <script>alert(2)</script>"


@pytest.fixture(scope="module")
def client(app_url):
    c = Client(app_url, verbose=False)
    yield c
    c.close()


def test_answerable_question_returns_the_json_contract(client, app_engine):
    d = client.predict("How many agreements did Belarus and Iran sign?", 5, api_name="/ask")
    assert not d["abstained"] and d["quotes"] and d["passages"]
    for item in d["quotes"] + d["passages"]:
        assert read_source(app_engine.seeds, item["source"])[item["start"] : item["end"]] == item["text"]
    assert "differ" in d["answer"]


def test_the_api_takes_the_conversation_and_says_how_it_read_the_question(client):
    d = client.predict("Whom did he meet in Tehran?", 5, ["Who is Dmitry Pantus?"], api_name="/ask")
    assert d["context_used"] is True and "Dmitry Pantus" in d["read_as"]
    assert "Nasirzadeh" in d["quotes"][0]["text"]
    alone = client.predict("Whom did he meet in Tehran?", 5, api_name="/ask")
    assert alone["context_used"] is False and alone["read_as"] is None


def test_a_fractional_k_is_refused_not_truncated(client):
    with pytest.raises(Exception, match="whole number"):
        client.predict("Why was the visit postponed?", 2.5, api_name="/ask")


def test_unanswerable_question_abstains(client):
    d = client.predict("Who won the 2022 FIFA World Cup?", 5, api_name="/ask")
    assert d["abstained"] and d["quotes"] == []


@pytest.mark.parametrize("bad, message", [("", "empty"), ("x" * 2001, "2,000")])
def test_bad_input_gives_a_clear_error(client, bad, message):
    with pytest.raises(Exception, match=message):
        client.predict(bad, 5, api_name="/ask")


def test_xss_question_comes_back_as_data(client):
    d = client.predict(XSS_QUESTION, 3, api_name="/ask")
    assert d["question"] == XSS_QUESTION.strip()
    assert any("<img src=x onerror=alert(1)>" in q["text"] for q in d["quotes"])


def test_hostile_text_is_escaped_everywhere(app_engine):
    answer = app_engine.ask(XSS_QUESTION)
    assert answer.quotes
    rendered = [chat_markdown(answer), sources_html(answer), md_escape(XSS_QUESTION)]
    q = next(q for q in answer.quotes if q.source == "zz_xss.txt")
    rendered.append(document_html(app_engine.document(q.source), q.title, [q], selected=q.n))
    for out in rendered:
        assert "<img" not in out and "<script" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered[1]


def test_document_view_greys_out_clutter_with_its_rule(app_engine):
    answer = app_engine.ask("How many agreements did Belarus and Iran sign?")
    q = next(q for q in answer.quotes if q.source == "004_369aadd9e78a6df3.txt")
    page = document_html(app_engine.document(q.source), q.title, [q], selected=q.n, excluded=app_engine.excluded(q.source))
    assert 'class="qa-excluded" title="left out: site label">Free Trial</span>' in page
    assert f'<mark data-quote="{q.n}" class="qa-selected">' in page
