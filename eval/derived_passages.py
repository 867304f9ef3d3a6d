"""Passage vectors derived from their sentences' vectors, against passages embedded on their own.

    .venv/bin/python eval/derived_passages.py --split dev [--documents DIR ...]

A build embeds every passage and every sentence (about 2.5 texts per passage). A passage's
vector could instead be the mean of its sentences' vectors, each weighted by its number of
model tokens, normalised: the build would then embed sentences only. Both kinds of vector are
measured here on the same index, in one run:

- the seeds gold set (`--split dev` to choose, `--split test` to report): nDCG@10 of passages
  (hybrid and dense), and the answers' quote@1 and abstention;
- BEIR corpora written as documents (`qa eval --beir DIR --documents --work W` builds them; give
  each W with `--documents W=DIR`): nDCG@10 of documents, each ranked where its first passage is.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.build.build import load_index  # noqa: E402
from qa.build.corpus import prepare  # noqa: E402
from qa.embed import load_embedder  # noqa: E402
from qa.embed.bert_numpy import BertEncoder  # noqa: E402
from qa.evaluation import evaluate, metrics  # noqa: E402
from qa.evaluation.beir import load_qrels, load_queries, read_corpus  # noqa: E402
from qa.evaluation.documents import entries  # noqa: E402
from qa.evaluation.gold import load_gold_files  # noqa: E402
from qa.index.dense import DenseIndex  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.settings import IndexSettings  # noqa: E402
from qa.store import memory_store  # noqa: E402
from qa.text import normalize  # noqa: E402

MODES = ["hybrid", "dense"]


def derived(passages, spans, sentence_vectors: np.ndarray, tokenizer) -> np.ndarray:
    """Each passage's token-weighted mean of its sentences' vectors, normalised."""
    counts = np.array([max(len(e.ids) - 2, 1) for e in tokenizer.encode_batch([normalize(s.text) for s in spans])],
                      dtype=np.float32)
    out = np.zeros((len(passages), sentence_vectors.shape[1]), dtype=np.float32)
    for i, p in enumerate(passages):
        rows = slice(p.sentence_start, p.sentence_stop)
        v = (np.asarray(sentence_vectors[rows]) * counts[rows, None]).sum(axis=0)
        out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


def tokenizer_of(embedder):
    encoder = BertEncoder(embedder._load_from)
    encoder._load()
    return encoder._tokenizer


def gold(embedder, split: str) -> dict:
    seeds = ROOT / "seeds"
    questions = load_gold_files([ROOT / "eval" / "seeds_gold.jsonl", ROOT / "eval" / "seeds_chains.jsonl"], seeds, split)
    corpus = prepare(seeds, IndexSettings(), embedder)
    vectors = derived(corpus.passages, corpus.quotes.spans, corpus.quotes.vectors, tokenizer_of(embedder))
    rows = {}
    for kind, dense in (("embedded", corpus.dense), ("derived", DenseIndex.build(vectors))):
        store = memory_store(corpus.passages, dense, corpus.bm25, corpus.quotes,
                             sources={s.source: s for s in corpus.sources}, exclusions=corpus.excluded)
        ev = evaluate.evaluate_gold(questions, Retriever(store, embedder), MODES, name=f"seeds ({split})")
        rows[kind] = {**{f"nDCG@10 {m}": ev.means[m]["nDCG@10"] for m in MODES},
                      "quote@1": ev.answers["quote_at_1"], "quote overlap": ev.answers["quote_overlap"],
                      "abstention recall": ev.answers["abstention_recall"],
                      "follow-ups quoted": ev.answers["followup_quote_overlap"]}
    return rows


def documents(embedder, work: Path, dataset: Path) -> dict:
    index = load_index(work / "index")
    name_of = {name: doc_id for name, (doc_id, _, _) in entries(read_corpus(dataset)).items()}
    qrels = load_qrels(dataset)
    queries = {q: t for q, t in load_queries(dataset).items() if q in qrels}
    vectors = derived(index.passages, index.quotes.spans, index.quotes.vectors, tokenizer_of(embedder))
    asked = embedder.encode([normalize(t) for t in queries.values()])
    rows = {}
    for kind, dense in (("embedded", index.dense), ("derived", DenseIndex.build(vectors))):
        retriever = Retriever(memory_store(index.passages, dense, index.bm25, index.quotes, sources=index.sources),
                              embedder)
        rows[kind] = {}
        for mode in MODES:
            scores = []
            for (qid, text), vector in zip(queries.items(), asked):
                ranked = list(dict.fromkeys(name_of[h.passage.source]
                                            for h in retriever.search_vector(text, vector, mode=mode, k=100)))
                scores.append(metrics.ndcg_at(ranked, qrels[qid], 10))
            rows[kind][f"nDCG@10 {mode}"] = float(np.mean(scores))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    ap.add_argument("--documents", nargs="*", default=[], metavar="WORK=BEIR_DIR")
    args = ap.parse_args()
    embedder = load_embedder()
    out = {"seeds gold": gold(embedder, args.split)}
    for pair in args.documents:
        work, dataset = pair.split("=", 1)
        out[Path(dataset).name + " as documents"] = documents(embedder, Path(work), Path(dataset))
    for name, rows in out.items():
        for kind, row in rows.items():
            print(f"{name:28s} {kind:9s} " + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                                     for k, v in row.items()))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
