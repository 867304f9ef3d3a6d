"""The gold set and the evaluation command, with CI floors a little under the measured values."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import pytrec_eval
from conftest import ROOT, SEEDS, shared_dataset

from qa.errors import InputError
from qa.evaluation import metrics
from qa.evaluation.gold import load_gold

GOLD = ROOT / "eval" / "seeds_gold.jsonl"
CHAINS = ROOT / "eval" / "seeds_chains.jsonl"

# Settings were chosen on the dev part; these floors sit a little under what the default
# settings measure on the held-out test part (docs/evaluation.md).
FLOORS = {"Hit@5": 0.84, "MRR@10": 0.72, "quote_overlap": 0.78, "quote_at_1": 0.64, "abstention_precision": 0.45,
          "abstention_recall": 0.85, "followup_quote_overlap": 0.45, "standalone_quote_overlap": 0.99,
          "offtopic_abstained": 0.99}


def test_every_evidence_string_is_verbatim_in_its_file():
    gold = load_gold(GOLD, SEEDS)
    assert len(gold) >= 40
    kinds = {g.type for g in gold}
    assert kinds == {"single", "multi", "conflict", "unanswerable"}
    assert sum(not g.answerable for g in gold) >= 8
    cited = {s.source for g in gold for s in g.spans}
    assert cited == {p.name for p in SEEDS.glob("*.txt")}  # every document is covered
    for line in GOLD.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            for ev in json.loads(line)["evidence"]:
                with open(SEEDS / ev["source"], encoding="utf-8", newline="") as fh:
                    assert ev["text"] in fh.read()


def test_bad_gold_evidence_is_refused(tmp_path):
    bad = tmp_path / "gold.jsonl"
    bad.write_text(json.dumps({"id": "x", "question": "q?", "type": "single",
                               "evidence": [{"source": "000_7b90357a56c0432c.txt", "text": "not in the file"}]}) + "\n")
    with pytest.raises(InputError, match="not verbatim"):
        load_gold(bad, SEEDS)


@pytest.fixture(scope="module")
def gold_eval(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    r = subprocess.run([sys.executable, "-m", "qa.cli", "eval", "--gold", str(GOLD), str(CHAINS), "--seeds", str(SEEDS),
                        "--split", "test", "--mode", "all", "--json", "--out", str(out), "--cache", str(out / "cache")],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), out


def test_gold_quality_stays_above_the_floors(gold_eval):
    result, _ = gold_eval
    hybrid = result["means"]["hybrid"]
    assert hybrid["Hit@5"] >= FLOORS["Hit@5"]
    assert hybrid["MRR@10"] >= FLOORS["MRR@10"]
    for name in ("quote_overlap", "quote_at_1", "abstention_precision", "abstention_recall", "followup_quote_overlap",
                 "standalone_quote_overlap", "offtopic_abstained"):
        assert result["answers"][name] >= FLOORS[name], name
    assert result["answers"]["conflicts_flagged"] == 1.0
    assert result["answers"]["followups"] >= 20


def test_gold_set_is_split_into_dev_and_test_with_conversations():
    from qa.evaluation.gold import load_gold_files

    every = load_gold_files([GOLD, CHAINS], SEEDS)
    dev, test = ([g for g in every if g.split == s] for s in ("dev", "test"))
    assert abs(len(dev) - len(test)) <= 4
    for part in (dev, test):
        kinds = {g.type for g in part}
        assert {"single", "multi", "conflict", "unanswerable", "followup", "standalone", "offtopic"} <= kinds
    chains = {g.id.split(".")[0] for g in every if g.history}
    assert len(chains) >= 20
    for g in every:  # a chain never straddles the split: choosing on dev says nothing of test
        if g.history:
            assert {x.split for x in every if x.id.split(".")[0] == g.id.split(".")[0]} == {g.split}


def test_default_mode_beats_each_single_mode_on_the_gold_set(gold_eval):
    result, _ = gold_eval
    means = result["means"]
    for single in ("dense", "bm25"):
        assert means["hybrid"]["nDCG@10"] > means[single]["nDCG@10"], single


def test_written_run_scores_the_same_in_pytrec_eval(gold_eval):
    result, out = gold_eval
    assert {p.name for p in out.iterdir()} >= {"hybrid.trec", "dense.trec", "bm25.trec", "metrics.json", "per_query.csv", "chart.png"}
    run: dict[str, dict[str, float]] = {}
    for line in (out / "hybrid.trec").read_text().splitlines():
        qid, _, doc, _, score, _ = line.split()
        run.setdefault(qid, {})[doc] = float(score)
    from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder
    from qa.evaluation.gold import passage_qrels
    from qa.build.corpus import prepare
    from qa.settings import IndexSettings

    corpus = prepare(SEEDS, IndexSettings(), Embedder())
    test_part = [g for g in load_gold(GOLD, SEEDS) + load_gold(CHAINS, SEEDS) if g.split == "test"]
    qrels = {q: d for q, d in passage_qrels(test_part, corpus.passages).items() if d}
    trec = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10"}).evaluate(run)
    expected = sum(v["ndcg_cut_10"] for v in trec.values()) / len(trec)
    assert metrics.mean(metrics.per_query(run, qrels, ["nDCG@10"]), ["nDCG@10"])["nDCG@10"] == pytest.approx(expected)
    assert result["means"]["hybrid"]["nDCG@10"] == pytest.approx(expected, abs=1e-6)


def test_beir_layout_runs_end_to_end(tmp_path):
    """A tiny BEIR folder through `qa eval --beir`: run file, metrics, pytrec_eval agreement."""
    data = tmp_path / "tiny"
    (data / "qrels").mkdir(parents=True)
    docs = {"d1": "Minsk is the capital of Belarus.", "d2": "Tehran is the capital of Iran.",
            "d3": "Potash fertilizers are mined in Belarus.", "d4": "The S-400 is an air defense system."}
    (data / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": k, "title": "", "text": v}) for k, v in docs.items()))
    (data / "queries.jsonl").write_text("\n".join(json.dumps({"_id": k, "text": v}) for k, v in
                                                  {"q1": "capital of Belarus", "q2": "air defense", "q3": "unjudged"}.items()))
    (data / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td4\t2\n")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "qa.cli", "eval", "--beir", str(data), "--mode", "all", "--json",
                        "--out", str(out), "--cache", str(tmp_path / "cache")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["queries"] == 2 and set(result["means"]) == {"hybrid", "dense", "bm25", "rrf"}
    assert result["means"]["dense"]["nDCG@10"] == pytest.approx(1.0)
    lines = (out / "hybrid.trec").read_text().splitlines()
    assert lines[0].split()[:4] == ["q1", "Q0", "d1", "1"]


def test_outside_documents_are_answered_and_a_change_of_topic_stands_alone(tmp_path):
    """`qa eval --beir DIR --documents`: each entry becomes a file, every judged query is answered
    through the whole product, then asked again after the query before it. Typed searches on a new
    topic must not be read with the earlier one."""
    from qa.evaluation.documents import evaluate_documents, table

    data = tmp_path / "tiny"
    (data / "qrels").mkdir(parents=True)
    docs = {
        "d1": ("Oslo", "Oslo is the capital and most populous city of Norway. The city lies at the head of the "
                       "Oslofjord and has been the seat of government since the fourteenth century."),
        "d2": ("Honey bee", "Honey bees collect nectar from flowers and store it as honey in wax combs. A colony "
                            "usually has one queen, thousands of workers and a few hundred drones in summer."),
        "d3": ("Sourdough", "Sourdough bread is leavened by wild yeast and lactic acid bacteria instead of baker's "
                            "yeast. The starter is fed with flour and water every day to keep it active."),
        "d4": ("Basalt", "Basalt is a dark volcanic rock that forms when lava rich in iron and magnesium cools "
                         "quickly. Most of the ocean floor is made of basalt."),
    }
    (data / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": k, "title": t, "text": v})
                                                  for k, (t, v) in docs.items()))
    queries = {"q1": "capital city of norway", "q2": "how bees store nectar", "q3": "sourdough starter feeding",
               "q4": "What is the ocean floor made of?"}
    (data / "queries.jsonl").write_text("\n".join(json.dumps({"_id": k, "text": v}) for k, v in queries.items()))
    (data / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"q{i}\td{i}\t1\n" for i in range(1, 5)))
    result = evaluate_documents(data, tmp_path / "work")
    assert result["queries"] == 4 and result["quotes"] > 0 and result["offsets_not_reproducing"] == 0
    assert result["first_quote_relevant"] == 1.0 and result["abstained"] == 0
    assert result["after_unrelated_question"] == {"context_used": 0, "first_quote_relevant": 1.0,
                                                  "first_quote_changed": 0}
    assert "read with the earlier question    0 of 4" in table(result)
    assert all(q["after_previous"] == {"read_as": None, "first_quote_relevant": True} for q in result["per_query"])


OUTSIDE_CHAINS = ROOT / "eval" / "dbpedia_chains.jsonl"


def test_outside_conversations_cite_their_entries_verbatim(tmp_path):
    """The conversations written on dbpedia-5k (docs/evaluation.md, "Conversations on outside text"): every
    evidence string is verbatim in its entry written as a document, and the set has the turns it
    reports on."""
    from qa.evaluation.beir import read_corpus
    from qa.evaluation.documents import entries, write_documents

    dataset = shared_dataset("dbpedia-5k")
    rows = [json.loads(line) for line in OUTSIDE_CHAINS.read_text(encoding="utf-8").splitlines() if line.strip()]
    cited = {ev["source"] for r in rows for ev in r["evidence"]}
    docs = entries(read_corpus(dataset))
    assert cited <= set(docs)
    write_documents({name: docs[name] for name in cited}, tmp_path)
    gold = load_gold(OUTSIDE_CHAINS, tmp_path)
    for split, followups in (("dev", 40), ("test", 26)):
        kinds = [g.type for g in gold if g.split == split]
        assert kinds.count("followup") >= followups and kinds.count("offtopic") >= 3 and kinds.count("standalone") >= 3
