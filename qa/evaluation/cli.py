"""`qa eval`: score retrieval (and answers, on a gold set) in one or all modes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields
from pathlib import Path

from ..answer import AnswerParams
from ..errors import QAError
from ..retrieval import MODES, RetrievalParams
from ..settings import IndexSettings


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa-cite" / "embeddings"


def add_parser(sub, common) -> None:
    p = sub.add_parser("eval", parents=[common], help="score retrieval on a gold set or a BEIR dataset",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--gold", help="gold JSONL for the sources folder (--seeds)")
    src.add_argument("--beir", help="folder in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    p.add_argument("--mode", choices=[*MODES, "all"], default="all", help="mode to score; all = side by side")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--out", help="write <mode>.trec, metrics.json, per_query.csv, chart.png here")
    p.add_argument("--cache", default=str(default_cache()), help="embedding cache folder")
    p.add_argument("--passage-words", type=int, default=IndexSettings.passage_words)
    p.add_argument("--overlap", type=int, default=IndexSettings.overlap_sentences)
    for f in fields(RetrievalParams):
        p.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default)
    p.add_argument("--abstain-below", type=float, default=AnswerParams.abstain_below)
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from ..embeddings import Embedder
    from ..index import prepare
    from . import beir, evaluate, report
    from .gold import load_gold

    modes = list(MODES) if args.mode == "all" else [args.mode]
    params = RetrievalParams(**{f.name: getattr(args, f.name) for f in fields(RetrievalParams)})
    model = args.model or IndexSettings.model
    embedder = Embedder(model)
    progress = sys.stderr.isatty()
    try:
        settings = IndexSettings(model=model, passage_words=args.passage_words, overlap_sentences=args.overlap)
    except ValueError as exc:
        raise QAError(str(exc)) from exc
    if args.gold:
        gold = load_gold(args.gold, args.seeds)
        corpus = prepare(args.seeds, settings, embedder)
        sources = {s.source: s for s in corpus.sources}
        ev = evaluate.evaluate_gold(gold, corpus.retriever(embedder, params), corpus.quotes, sources, modes,
                                    AnswerParams(abstain_below=args.abstain_below))
    else:
        data = beir.load_beir(args.beir)
        retriever = beir.retriever_for(data, embedder, args.cache, params, progress=progress)
        ev = evaluate.evaluate_beir(data.name, retriever, data.queries, data.qrels, modes)
    if args.out:
        for path in report.write(ev, args.out):
            print(f"wrote {path}", file=sys.stderr)
    print(json.dumps(ev.to_dict(), indent=1) if args.json else report.table(ev))
    return 0
