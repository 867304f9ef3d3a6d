"""Follow-up questions: read with the conversation only when they need it, and shown as such."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, SEEDS, engine_over, read_source

from qa.answer import wording as conversation
from qa.errors import InputError

AGREEMENTS = "How many agreements did Belarus and Iran sign?"


@pytest.mark.parametrize("question, needs", [
    ("When?", True), ("Why?", True), ("And BRICS?", True), ("What about Russia?", True),
    ("Whom did he meet in Tehran?", True), ("What did they agree on besides defense?", True),
    ("What sanctions does the US impose on Belarus?", False), ("Who is Iran's defense minister?", False),
    ("How much does it cost?", True),  # "much" is how it asks: "cost" alone is too short
    ("How many drones did Iran sell?", False),
])
def test_which_questions_need_the_conversation(question, needs):
    from qa.text import query_terms

    assert (conversation.context_reason(question, query_terms(question)) is not None) == needs


def test_recent_turns_weigh_most_and_the_blend_stays_a_unit_vector():
    w = conversation.recency_weights(3, 0.5)
    assert w.sum() == pytest.approx(1.0) and w[2] > w[1] > w[0]
    q, c = np.array([1.0, 0.0], np.float32), [np.array([0.0, 1.0], np.float32)]
    moved = conversation.blend(q, c, np.array([1.0]), 0.6)
    assert np.linalg.norm(moved) == pytest.approx(1.0) and 0 < moved[1] < moved[0]


def test_a_follow_up_is_read_with_the_earlier_question_and_says_so(engine):
    a = engine.ask("Whom did he meet in Tehran?", history=["Who is Dmitry Pantus?"])
    assert a.context_used and a.read_as == "Read with your earlier question: “Who is Dmitry Pantus?”"
    assert not a.abstained and "Nasirzadeh" in a.quotes[0].text and "Tehran" in a.quotes[0].text
    d = a.to_dict()
    assert d["context_used"] is True and d["read_as"].startswith("Read with")


def test_without_the_conversation_the_same_follow_up_finds_no_meeting(engine):
    a = engine.ask("Whom did he meet in Tehran?")
    assert not a.context_used and a.read_as is None
    assert a.abstained or "Pantus" not in a.quotes[0].text


def test_a_question_that_stands_alone_is_answered_as_it_is(engine):
    question = "What sanctions does the US impose on Belarus?"
    alone, after = engine.ask(question), engine.ask(question, history=[AGREEMENTS, "When?"])
    assert not after.context_used and after.read_as is None
    assert [(q.source, q.start) for q in after.quotes] == [(q.source, q.start) for q in alone.quotes]


@pytest.mark.parametrize("question", ["What is the capital of Peru?", "What's the weather in Minsk tomorrow?",
                                      "How tall is he?"])
def test_off_topic_questions_after_a_conversation_still_abstain(engine, question):
    assert engine.ask(question, history=[AGREEMENTS, "Who is Lukashenko?"]).abstained


def test_history_is_checked(engine):
    with pytest.raises(InputError, match="list"):
        engine.ask("When?", history="How many agreements?")
    with pytest.raises(InputError, match="earlier question 1"):
        engine.ask("When?", history=[""])


def test_jsonl_lines_carry_their_history(index_dir):
    lines = json.dumps({"question": "Whom did he meet in Tehran?", "history": ["Who is Dmitry Pantus?"]}) + "\n"
    r = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "--jsonl", "--seeds", str(SEEDS), "--index", str(index_dir)],
                       input=lines, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["context_used"] and "Dmitry Pantus" in d["read_as"]
    q = d["quotes"][0]
    assert read_source(SEEDS, q["source"])[q["start"] : q["end"]] == q["text"]


def test_qa_chat_holds_a_conversation_in_the_terminal(index_dir):
    script = "Who is Dmitry Pantus?\nWhom did he meet in Tehran?\n/new\nWhom did he meet in Tehran?\n/quit\n"
    r = subprocess.run([sys.executable, "-m", "qa.cli", "chat", "--seeds", str(SEEDS), "--index", str(index_dir)],
                       input=script, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split("(new conversation)")
    assert "(Read with your earlier question: “Who is Dmitry Pantus?”)" in out[0] and "Nasirzadeh" in out[0]
    assert "Read with" not in out[1]


@pytest.mark.parametrize("question, needs", [
    ("Even after the new sanctions?", True), ("What was going on with Belarus meanwhile?", True),
    ("What's the weather in Minsk tomorrow?", False), ("Tell me about the sanctions on Belarus", False),
    ("Belarus signed how many agreements with Iran?", False), ("Is Iran a member of the Eurasian Economic Union?", False),
    # Words typed without a question mark are a search, as in a search box: they stand alone.
    ("In 2024?", True), ("causes of left ventricular hypertrophy", False), ("military cooperation Belarus Iran", False),
])
def test_fragments_and_adverbs_that_refer_back_need_the_conversation(question, needs):
    from qa.text import query_terms

    assert (conversation.context_reason(question, query_terms(question)) is not None) == needs


def test_what_an_and_x_question_asks_about_and_what_it_replaces():
    assert conversation.follow_on("And Iran?") == "Iran"
    assert conversation.follow_on("What about Russia's?") == "Russia"
    assert conversation.follow_on("And media?") == "media"
    assert conversation.follow_on("And what is its population?") is None  # a question of its own, not "and X"
    assert conversation.follow_on("Why?") is None
    assert conversation.mentioned_names("What role has Belarus played in Russia's war against Ukraine?") == [
        "Belarus", "Russia", "Ukraine"]
    assert conversation.substitute("What role has Belarus played in Russia's war?", "Russia", "Iran") == \
        "What role has Belarus played in Iran's war?"
    assert conversation.substitute("Did Belarusians vote in Belarus?", "Belarus", "Iran") == "Did Belarusians vote in Iran?"


def test_an_acronym_is_found_spelled_out():
    assert conversation.acronyms("What should the US and the EU do?") == ["US", "EU"]
    assert conversation.spells_out("US", "The United States and European partners should act")
    assert conversation.spells_out("SCO", "the Shanghai Cooperation Organization (SCO)")
    assert conversation.spells_out("UN", "the United Nations Security Council")
    assert not conversation.spells_out("US", "Users said so")


def test_and_x_is_read_as_the_earlier_question_about_x_and_says_so(engine):
    a = engine.ask("And Iran?", history=["Is Belarus part of the Eurasian Economic Union?"])
    assert a.context_used and a.question == "And Iran?"
    assert a.read_as == ("Read with your earlier question: “Is Belarus part of the Eurasian Economic Union?”, "
                         "as “Is Iran part of the Eurasian Economic Union?”")
    assert not a.abstained and "Iran" in a.quotes[0].text and "Eurasian Economic Union" in a.quotes[0].text


def test_the_context_weighs_less_for_a_question_that_says_more():
    assert conversation.context_weight(1.0, 0, 0.25) == 1.0
    assert conversation.context_weight(1.0, 2, 0.25) < conversation.context_weight(1.0, 1, 0.25) < 1.0


def test_a_keyword_search_after_a_conversation_is_answered_alone(engine):
    typed = "sanctions on Belarus and Iran"
    a = engine.ask(typed, history=["Who is Dmitry Pantus?"])
    assert not a.context_used and a.read_as is None
    assert [q.sentence for q in a.quotes] == [q.sentence for q in engine.ask(typed).quotes]


def test_a_follow_up_read_with_context_looks_deeper_before_keeping_its_own_words(engine):
    from dataclasses import replace

    from qa.settings import ConversationParams
    from qa.engine import Engine

    history = ["Where do Tehran and Minsk want to limit the West's influence?"]
    question = "And where do they look for a counterbalance?"
    a = engine.ask(question, history=history)
    assert a.context_used and any("counterbalance" in q.text for q in a.quotes)
    listed = {h.passage.id for h in a.passages}  # the 5 asked for, and any a quote comes from
    assert len(listed) <= 5 + len(a.quotes) and all(q.passage_id in listed for q in a.quotes)
    shallow = Engine(engine.retriever, answer=engine.answer_params,
                     conversation=replace(ConversationParams(), quote_from=engine.answer_params.quote_from))
    assert shallow.ask(question, history=history).abstained


# Two short biographies, written as documents.
PEOPLE = {
    "lovelace.txt": "Ada Lovelace\n\nAugusta Ada King, Countess of Lovelace (10 December 1815 – 27 November 1852), "
    "was an English mathematician and writer. She is chiefly known for her work on Charles Babbage's proposed "
    "mechanical computer, the Analytical Engine.\n",
    "hopper.txt": "Grace Hopper\n\nGrace Brewster Hopper was an American computer scientist and United States Navy "
    "rear admiral. She was a pioneer of computer programming and popularised machine-independent programming "
    "languages. Hopper died in her sleep in Arlington, Virginia, on January 1, 1992.\n"}


def test_a_short_follow_up_stays_with_the_document_the_conversation_is_about(tmp_path, embedder):
    """"When did she die?" after a question about Ada Lovelace: the sentence that answers it gives her
    dates, not the word "die"; requiring the question's own words would quote the other biography."""
    from dataclasses import replace

    from qa.settings import ConversationParams
    from qa.engine import Engine

    engine = engine_over(tmp_path, embedder, PEOPLE)
    history = ["What is Ada Lovelace known for?"]
    a = engine.ask("When did she die?", history=history)
    assert a.context_used and a.quotes[0].source == "lovelace.txt" and "1852" in a.quotes[0].text
    strict = Engine(engine.retriever, answer=engine.answer_params,
                    conversation=replace(ConversationParams(), lean_on_source=0))
    b = strict.ask("When did she die?", history=history)
    assert b.abstained or all(q.source == "hopper.txt" for q in b.quotes)
    # A question that names something neither document holds still abstains.
    assert engine.ask("What was her favourite opera?", history=history).abstained


# Two short news items, written as documents: one on drones, one that uses the word "cost".
DRONES = {
    "drones.txt": "Drone deal\n\nIran sold Shahed drones to Russia in 2022. The drones were launched at "
    "power stations during the winter. Russia later began making the drones in a factory of its own, "
    "one of several it built.\n",
    "bridge.txt": "Bridge plan\n\nThe city council approved a new bridge over the river. The bridge will "
    "cost 40 million euros and open in 2027.\n"}


def test_a_follow_up_must_be_answered_on_what_it_adds_to_the_conversation(tmp_path, embedder):
    """"How much does one of those drones cost?" after questions about drones asks about cost: the
    drone sentences hold "drones", the conversation's word, but nothing on cost, so it abstains; it
    quoted them when any of its own words would do. "much" and "one" are how it asks, not what."""
    from dataclasses import replace

    from qa.settings import ConversationParams
    from qa.engine import Engine

    engine = engine_over(tmp_path, embedder, DRONES)
    lenient = Engine(engine.retriever, answer=engine.answer_params,
                     conversation=replace(ConversationParams(), new_terms=False))
    for history in (["Who sold Shahed drones to Russia?"], ["Who sold Shahed drones to Russia?", "When?"]):
        for question in ("How much does one of those drones cost?",  # the bridge's cost is no drone's
                         "How much does one of those drones weigh?"):  # no document says "weigh"
            a = engine.ask(question, history=history)
            assert a.context_used and a.abstained, (history, question)
            b = lenient.ask(question, history=history)
            assert not b.abstained and b.quotes[0].source == "drones.txt", (history, question)
    # A follow-up that asks something new about them quotes the sentence that answers it.
    c = engine.ask("Where were the drones launched?", history=["Who sold Shahed drones to Russia?"])
    assert not c.abstained and "power stations" in c.quotes[0].text


INVENTORS = {
    "marconi.txt": "Guglielmo Marconi\n\nGuglielmo Marconi, 1st Marquis of Marconi (25 April 1874 – 20 July 1937), "
    "was an Italian inventor and electrical engineer known for his work on long-distance radio transmission. He "
    "shared the 1909 Nobel Prize in Physics with Karl Ferdinand Braun. The press gave him the nickname 'the wizard "
    "of wireless'.\n",
    "tesla.txt": "Nikola Tesla\n\nNikola Tesla was a Serbian-American inventor and electrical engineer best known "
    "for his contributions to the alternating current electricity supply system. He died in New York City in "
    "January 1943.\n"}


def test_the_conversation_finds_the_passages_and_the_question_picks_the_sentence(tmp_path, embedder):
    """"Did he have a nickname?" after "Who was Guglielmo Marconi?": searched with the whole conversation,
    it finds Marconi's entry; ranked with all of it too, the entry's opening sentence (his name, his
    dates) outranks the one with the nickname. Its quotes are ranked with half the conversation's weight,
    and each says so; relevance, and so whether to answer, still uses all of it. "When?" has no words of
    its own, so it is ranked with all of it."""
    from dataclasses import replace

    from qa.settings import ConversationParams
    from qa.engine import Engine

    engine = engine_over(tmp_path, embedder, INVENTORS)
    history = ["Who was Guglielmo Marconi?"]
    a = engine.ask("Did he have a nickname?", history=history)
    assert a.context_used and "wizard of wireless" in a.quotes[0].text
    why = a.quotes[0].why
    assert why["ranked_by"] == "follow-up question"
    from qa.render import why_html

    shown = why_html(why)  # the app tells the similarity it was searched with from the one it was ranked with
    assert "similarity to the question as searched" in shown and "less of the conversation" in shown
    assert why["score"]["total"] == pytest.approx(a.quotes[0].score, abs=1e-5)
    assert why["score"]["total"] == pytest.approx(sum(v for k, v in why["score"].items() if k != "total"), abs=1e-5)
    whole = Engine(engine.retriever, answer=engine.answer_params,
                   conversation=replace(ConversationParams(), quote_context=1.0))
    b = whole.ask("Did he have a nickname?", history=history)
    assert b.context_used and "wizard" not in b.quotes[0].text and "ranked_by" not in b.quotes[0].why
    assert b.relevance == pytest.approx(a.relevance)  # the same sentences answer: only their order moved
    alone = engine.ask("Did he have a nickname?")
    assert "ranked_by" not in (alone.quotes[0].why if alone.quotes else {})
    # "When?" has no words of its own to pick a sentence with: it is ranked as it was searched.
    when = engine.ask("When?", history=history)
    assert when.context_used and "1874" in when.quotes[0].text and "ranked_by" not in when.quotes[0].why
    # "And Tesla?" is asked as the earlier question about Tesla: nothing of the conversation to rank with.
    other = engine.ask("And Tesla?", history=history)
    assert other.read_as.endswith("“Who was Tesla?”") and other.quotes[0].source == "tesla.txt"
    assert "ranked_by" not in other.quotes[0].why
