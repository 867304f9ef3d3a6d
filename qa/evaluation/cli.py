"""`qa eval`: score retrieval (and answers, on a gold set) in one or all modes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields, replace
from pathlib import Path

from ..errors import QAError
from ..retrieval import MODES, Retriever
from ..settings import AnswerParams, IndexSettings, RetrievalParams


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa-cite" / "embeddings"


def add_parser(sub, common, store_config) -> None:
    """The `eval` command on the `qa` parser; `store_config(args)` is the backend its arguments choose."""
    p = sub.add_parser("eval", parents=[common], help="score retrieval on a gold set or a BEIR dataset",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--gold", nargs="+", help="gold JSONL files for the sources folder (--seeds)")
    src.add_argument("--beir", help="folder in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    p.add_argument("--documents", action="store_true",
                   help="with --beir: write the corpus as a folder of documents and answer every query through the "
                        "whole product (clutter, sentences, passages, quotes, abstention)")
    p.add_argument("--work", help="with --documents: where the documents and their index are kept "
                                  "(default: in the cache folder)")
    p.add_argument("--split", choices=["dev", "test", "all"], default="test",
                   help="part of the gold set: settings are chosen on dev and reported on test")
    p.add_argument("--mode", choices=[*MODES, "all"], default="all", help="mode to score; all = side by side")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--out", help="write <mode>.trec, metrics.json, per_query.csv, chart.png here")
    p.add_argument("--cache", default=str(default_cache()), help="embedding cache folder")
    p.add_argument("--passage-words", type=int, default=IndexSettings.passage_words)
    p.add_argument("--overlap", type=int, default=IndexSettings.overlap_sentences)
    for f in fields(RetrievalParams):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    for name in TUNABLE_ANSWER:
        p.add_argument(f"--{name.replace('_', '-')}", type=float, default=None,
                       help="default: the model's (settings.AnswerParams.for_model)")
    p.set_defaults(func=cmd_eval, store_config=store_config)


TUNABLE_ANSWER = ("abstain_below", "abstain_below_across", "type_weight", "lexical_weight", "passage_weight",
                  "overlap_bonus")


def cmd_eval(args) -> int:
    from ..build.corpus import prepare
    from ..build.manifest import manifest_for
    from ..embed import load_embedder
    from . import beir, evaluate, report
    from .gold import load_gold_files

    modes = list(MODES) if args.mode == "all" else [args.mode]
    params = RetrievalParams(**{f.name: getattr(args, f.name) for f in fields(RetrievalParams)})
    model = args.model or IndexSettings.model
    embedder = load_embedder(model, device=args.device)
    progress = sys.stderr.isatty()
    try:
        settings = IndexSettings(model=model, passage_words=args.passage_words, overlap_sentences=args.overlap)
    except ValueError as exc:
        raise QAError(str(exc)) from exc
    if args.documents:
        if not args.beir:
            raise QAError("--documents goes with --beir DIR")
        from .documents import evaluate_documents, table

        work = args.work or Path(args.cache).parent / "documents" / Path(args.beir).resolve().name
        result = evaluate_documents(args.beir, work, model=args.model, device=args.device, progress=progress,
                                    notify=lambda m: print(f"qa: {m}", file=sys.stderr))
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            path = Path(args.out) / "documents.json"
            path.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
        print(json.dumps({k: v for k, v in result.items() if k != "per_query"}) if args.json else table(result))
        return 0
    config = args.store_config(args)
    if args.gold:
        gold = load_gold_files(args.gold, args.seeds, args.split)
        corpus = prepare(args.seeds, settings, embedder)
        given = {name: getattr(args, name) for name in TUNABLE_ANSWER if getattr(args, name) is not None}
        answer = replace(AnswerParams.for_model(embedder.model_id), **given)
        store = _searched_in(config, args.index, "gold", corpus.store(), manifest_for(corpus, settings, embedder.model_id),
                             progress)
        ev = evaluate.evaluate_gold(gold, Retriever(store, embedder, params), modes, answer,
                                    name=f"seeds-gold ({args.split})")
    else:
        data = beir.load_beir(args.beir)
        memory = beir.store_for(data, embedder, args.cache, progress=progress)
        manifest = {"model": embedder.model_id, "dimension": memory.dense_index.dimension,
                    "settings": {"beir": data.name}, "sources": {"corpus.jsonl": beir.corpus_digest(args.beir)}}
        store = _searched_in(config, args.index, data.name, memory, manifest, progress)
        ev = evaluate.evaluate_beir(data.name, Retriever(store, embedder, params), data.queries, data.qrels, modes)
    if args.out:
        for path in report.write(ev, args.out):
            print(f"wrote {path}", file=sys.stderr)
    print(json.dumps(ev.to_dict(), indent=1) if args.json else report.table(ev))
    return 0


def _searched_in(config, index_dir, name: str, memory, manifest: dict, progress: bool):
    """The corpus held in memory, searched as the configured backend holds it (`Backend.evaluation_store`):
    the evaluation then scores the backend, with everything above it unchanged."""
    from ..store import backend_for

    return backend_for(config, index_dir).evaluation_store(name, memory, manifest, progress=progress,
                                                           notify=lambda m: print(f"qa: {m}", file=sys.stderr))
