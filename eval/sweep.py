"""Sweep retrieval settings on the seeds gold set and the BEIR sets in one run.

    .venv/bin/python eval/sweep.py                 # fusion weight x feedback grid
    .venv/bin/python eval/sweep.py --passages      # passage size x overlap on the gold set
    .venv/bin/python eval/sweep.py --answers       # answer-type weight and conversation weights, gold dev part
    .venv/bin/python eval/sweep.py --conversations # follow-ups: the previous answer's document, new terms; dev parts
    .venv/bin/python eval/sweep.py --ceiling --split dev|test  # where follow-ups' evidence ranks (counts only)

Prints mean nDCG@10 per setting and dataset; the tables of docs/evaluation.md come from here.
Corpus embeddings come from the same cache as `qa eval`, so a second run is quick.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder  # noqa: E402
from qa.evaluation import beir, evaluate, metrics  # noqa: E402
from qa.evaluation.cli import default_cache  # noqa: E402
from qa.evaluation.gold import load_gold, load_gold_files, passage_qrels  # noqa: E402
from qa.build.corpus import prepare  # noqa: E402
from qa.settings import RetrievalParams  # noqa: E402
from qa.settings import IndexSettings  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from eval.follow_ups import follow_up_candidates  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"


def gold_target(embedder, settings=IndexSettings()):
    gold = load_gold(ROOT / "eval" / "seeds_gold.jsonl", ROOT / "seeds")
    corpus = prepare(ROOT / "seeds", settings, embedder)
    queries = {g.id: g.question for g in gold if g.answerable}
    return "seeds-gold", Retriever(corpus.store(), embedder), queries, passage_qrels(gold, corpus.passages)


def beir_target(embedder, name):
    data = beir.load_beir(DATASETS / name)
    return name, beir.retriever_for(data, embedder, default_cache(), progress=False), data.queries, data.qrels


def ndcg(retriever, queries, qrels, mode, params):
    retriever.params = params
    runs = evaluate.run_modes(retriever, queries, [mode], k=100)
    return metrics.mean(metrics.per_query(runs[mode], qrels, ["nDCG@10"]), ["nDCG@10"])["nDCG@10"]


def fusion_grid(embedder, names):
    targets = [gold_target(embedder)] + [beir_target(embedder, n) for n in names]
    base = RetrievalParams()
    print("setting".ljust(34) + "".join(t[0].rjust(12) for t in targets))
    for mode in ("dense", "bm25", "rrf"):
        print(mode.ljust(34) + "".join(f"{ndcg(r, q, j, mode, base):12.4f}" for _, r, q, j in targets))
    grid = itertools.product(["dense", "hybrid"], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [0, 5, 10], [0.5, 1.0])
    for source, alpha, docs, weight in grid:
        if docs == 0 and (weight != 1.0 or source != "dense"):
            continue
        p = replace(base, alpha=alpha, feedback_docs=docs, feedback_weight=weight, feedback_from=source)
        label = f"a={alpha} fb={docs} w={weight} from={source}"
        print(label.ljust(34) + "".join(f"{ndcg(r, q, j, 'hybrid', p):12.4f}" for _, r, q, j in targets), flush=True)


def passage_grid(embedder):
    print("words overlap  passages  hybrid-nDCG@10  Hit@5  MRR@10")
    for words, overlap in itertools.product([40, 60, 80, 120, 160], [0, 1, 2]):
        name, r, q, j = gold_target(embedder, IndexSettings(passage_words=words, overlap_sentences=overlap))
        runs = evaluate.run_modes(r, q, ["hybrid"], k=10)
        m = metrics.mean(metrics.per_query(runs["hybrid"], j, ["nDCG@10", "Hit@5", "MRR@10"]), ["nDCG@10", "Hit@5", "MRR@10"])
        print(f"{words:5d} {overlap:7d} {len(r.passages):9d} {m['nDCG@10']:15.4f} {m['Hit@5']:6.3f} {m['MRR@10']:7.4f}", flush=True)


def answer_grid(embedder, split: str = "dev"):
    """Quote and conversation settings, scored on one part of the gold set (choose on dev)."""
    from qa.settings import AnswerParams
    from qa.settings import ConversationParams

    gold = load_gold_files([ROOT / "eval" / "seeds_gold.jsonl", ROOT / "eval" / "seeds_chains.jsonl"], ROOT / "seeds", split)
    corpus = prepare(ROOT / "seeds", IndexSettings(), embedder)
    retriever = Retriever(corpus.store(), embedder)

    def run(answer: AnswerParams, conv: ConversationParams) -> dict:
        return evaluate.evaluate_gold(gold, retriever, ["hybrid"], answer, conversation=conv).answers

    cols = ["quote_overlap", "quote_at_1", "abstention_precision", "abstention_recall", "followup_quote_overlap",
            "followup_quote_at_1", "offtopic_abstained"]
    print(f"split {split}; " + "  ".join(cols))
    base_conv = ConversationParams()
    for tw in (0.0, 0.1, 0.2, 0.3, 0.5):
        a = run(AnswerParams(type_weight=tw), base_conv)
        print(f"type_weight={tw}".ljust(50) + "".join(f"{a[c]:8.3f}" for c in cols), flush=True)
    cal = run(AnswerParams(), base_conv)["calibration"]
    print(f"calibration on {split}: {cal}")
    for cw, lw, quotes in itertools.product([0.4, 0.6, 1.0], [0.3, 0.5, 1.0], [True, False]):
        conv = ConversationParams(context_weight=cw, lexical_weight=lw, use_quotes=quotes)
        a = run(AnswerParams(), conv)
        print(f"context={cw} lexical={lw} quotes={quotes}".ljust(50)
              + "".join(f"{a[c]:8.3f}" for c in cols), flush=True)
    variants = [{"own_terms_discount": d} for d in (0.0, 0.25, 0.5, 0.75, 1.0)]
    variants += [{"substitute_floor": f} for f in (0.3, 0.5)] + [{"substitute": False}]
    variants += [{"resolve_turns": False}, {"spell_out": False}]
    variants += [{"quote_from": n} for n in (8, 12, 24)]
    for change in variants:  # each against the defaults
        a = run(AnswerParams(), replace(base_conv, **change))
        print(", ".join(f"{k}={v}" for k, v in change.items()).ljust(50) + "".join(f"{a[c]:8.3f}" for c in cols), flush=True)


def conversation_grid(embedder, split: str = "dev"):
    """How far a short follow-up may lean on the document that answered the previous turn
    (`lean_on_source`), whether its quotes must hold the terms it adds to the conversation
    (`new_terms`), and how much of the conversation ranks its quotes (`quote_context`), on the seeds'
    conversations and on the dbpedia-5k ones (when `qa eval --beir .../dbpedia-5k --documents` has
    written that corpus as documents)."""
    from qa.settings import ConversationParams

    targets = conversation_targets()
    cols = ["followup_quote_overlap", "followup_quote_at_1", "standalone_quote_overlap", "offtopic_abstained"]
    print(f"split {split}; " + "  ".join(cols))
    for name, path, seeds in targets:
        gold = load_gold_files([path], seeds, split)
        retriever = Retriever(prepare(seeds, IndexSettings(), embedder).store(), embedder)
        variants = [{"lean_on_source": lean} for lean in (0, 1, 2, 3)] + [{"new_terms": False}]
        variants += [{"quote_context": share} for share in (0.0, 0.25, 0.5, 0.75, 1.0)]
        for change in variants:  # each against the defaults
            a = evaluate.evaluate_gold(gold, retriever, ["hybrid"], conversation=ConversationParams(**change)).answers
            label = ", ".join(f"{k}={v}" for k, v in change.items())
            print(f"{name} {label}".ljust(50) + "".join(f"{a[c]:8.3f}" for c in cols), flush=True)


def conversation_targets() -> list[tuple[str, Path, Path]]:
    """(name, conversations, documents) of the seeds and, when written as documents, dbpedia-5k."""
    targets = [("seeds", ROOT / "eval" / "seeds_chains.jsonl", ROOT / "seeds")]
    outside = default_cache().parent / "documents" / "dbpedia-5k" / "seeds"
    if outside.is_dir():
        targets.append(("dbpedia-5k", ROOT / "eval" / "dbpedia_chains.jsonl", outside))
    else:
        print(f"{outside} is missing: run `qa eval --beir {DATASETS / 'dbpedia-5k'} --documents` first")
    return targets


RANKS = ("1", "2-3", "4-10", ">10", "not in passages", "read alone")


def ceiling(embedder, split: str = "dev"):
    """How far down a follow-up's evidence lies among the sentences it chooses its quotes from,
    ranked as its answer ranks them before the own-terms rule: what any better choice of quotes
    among them could reach. Counts only; no question is printed, so the test part can be read."""
    from qa.engine import Engine

    print(f"split {split}; follow-ups by the rank of their first evidence sentence, and how many quote it now")
    print("part".ljust(12) + "follow-ups".rjust(11) + "".join(r.rjust(17) for r in RANKS) + "quoted now".rjust(12))
    for name, path, seeds in conversation_targets():
        gold = [g for g in load_gold_files([path], seeds, split) if g.type == "followup"]
        engine = Engine(Retriever(prepare(seeds, IndexSettings(), embedder).store(), embedder))
        counts = dict.fromkeys(RANKS, 0)
        quoted = 0
        for g in gold:
            answer = engine.ask(g.question, history=list(g.history))
            quoted += any(g.on_evidence(q) for q in answer.quotes)
            found = follow_up_candidates(engine, g.question, list(g.history))
            if found is None:
                counts["read alone"] += 1
                continue
            rank = next((i + 1 for i, c in enumerate(found[0]) if g.on_evidence(c)), None)
            bucket = ("not in passages" if rank is None else "1" if rank == 1 else "2-3" if rank <= 3
                      else "4-10" if rank <= 10 else ">10")
            counts[bucket] += 1
        print(name.ljust(12) + f"{len(gold):11d}" + "".join(f"{counts[r]:17d}" for r in RANKS) + f"{quoted:12d}",
              flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", action="store_true", help="sweep passage size and overlap on the gold set")
    ap.add_argument("--answers", action="store_true", help="sweep quote and conversation settings on the gold dev part")
    ap.add_argument("--conversations", action="store_true",
                    help="sweep how far short follow-ups lean on the previous answer's document, new terms and "
                         "how much of the conversation ranks their quotes, seeds and dbpedia-5k")
    ap.add_argument("--ceiling", action="store_true",
                    help="where each follow-up's evidence ranks among its candidate sentences, seeds and dbpedia-5k")
    ap.add_argument("--split", default="dev",
                    help="gold part for --answers, --conversations and --ceiling (choose on dev)")
    ap.add_argument("--datasets", nargs="*", default=["msmarco-5k", "dbpedia-5k"])
    args = ap.parse_args()
    emb = Embedder()
    if args.answers:
        answer_grid(emb, args.split)
    elif args.conversations:
        conversation_grid(emb, args.split)
    elif args.ceiling:
        ceiling(emb, args.split)
    elif args.passages:
        passage_grid(emb)
    else:
        fusion_grid(emb, args.datasets)
