"""Fit the follow-up quote ranker (`qa/answer/follow_up.py`; the weights go to `qa/settings.py`'s FollowUpRanker) on the gold conversations' dev parts.

    .venv/bin/qa build                                                  # the seeds' index
    .venv/bin/qa eval --beir ../shared/datasets/dbpedia-5k --documents  # dbpedia-5k written as documents
    .venv/bin/python eval/fit_follow_ups.py

Every follow-up of a dev part that is read with its conversation gives its candidate sentences
(the top `quote_from` passages' sentences), labelled 1 when they hold the gold evidence. The
previous answers the features use are the round-five ones (no ranker), so the fit does not depend
on itself. The script prints, for each margin, a 5-fold cross-validation by conversation (each
fold answered by the model fitted on the other four, in the full pipeline, against no ranker),
then the model fitted on all dev rows: the defaults of `FollowUpRanker`. No test part is read.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.settings import ConversationParams  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluation.cli import default_cache  # noqa: E402
from qa.evaluation.gold import load_gold_files  # noqa: E402
from qa.settings import FEATURES, FollowUpRanker  # noqa: E402
from eval.follow_ups import fit, follow_up_candidates  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"


def parts() -> list[tuple[str, list[Path], Path, Path]]:
    """(name, gold files, documents, index) of each dev part there is."""
    out = [("seeds", [ROOT / "eval" / "seeds_gold.jsonl", ROOT / "eval" / "seeds_chains.jsonl"],
            ROOT / "seeds", ROOT / "index")]
    outside = default_cache().parent / "documents" / "dbpedia-5k"
    if (outside / "index").is_dir():
        out.append(("dbpedia-5k", [ROOT / "eval" / "dbpedia_chains.jsonl"], outside / "seeds", outside / "index"))
    else:
        print(f"{outside} is missing: run `qa eval --beir {DATASETS / 'dbpedia-5k'} --documents` first", file=sys.stderr)
    return out


def rows(engine: Engine, gold) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Conversation ids, features and labels of every candidate of the follow-ups read with context."""
    groups, xs, ys = [], [], []
    for g in gold:
        if not g.history or g.type not in ("followup", "offtopic"):
            continue
        found = follow_up_candidates(engine, g.question, list(g.history))
        if found is None:
            continue
        candidates, x = found
        groups += [g.id.split(".")[0]] * len(candidates)
        xs.append(x)
        ys += [g.on_evidence(c) for c in candidates]
    return groups, np.concatenate(xs) if xs else np.zeros((0, len(FEATURES))), np.array(ys, dtype=np.float64)


def answered(engine: Engine, gold) -> tuple[int, int, int, int]:
    """Follow-ups, how many quote the evidence, how many quote it first, and how many quotes they show."""
    n = any_hit = first = shown = 0
    for g in gold:
        if g.type != "followup":
            continue
        a = engine.ask(g.question, history=list(g.history))
        hits = [g.on_evidence(q) for q in a.quotes]
        n, any_hit, first, shown = n + 1, any_hit + any(hits), first + bool(hits and hits[0]), shown + len(hits)
    return n, any_hit, first, shown


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--margins", type=float, nargs="*", default=[1.0, 2.0, 3.0])
    args = ap.parse_args()
    unranked = replace(ConversationParams(), ranker=None)
    data = []
    for name, files, seeds, index in parts():
        opened = Engine.open(seeds, index, rebuild=False)
        engine = Engine(opened.retriever, answer=opened.answer_params, conversation=unranked)
        gold = load_gold_files(files, seeds, "dev")
        groups, x, y = rows(engine, gold)
        data.append((name, opened, gold, [f"{name}:{g}" for g in groups], x, y))
        print(f"{name}: {len(x)} candidate sentences, {int(y.sum())} with the evidence", flush=True)
    groups = [g for d in data for g in d[3]]
    x, y = np.concatenate([d[4] for d in data]), np.concatenate([d[5] for d in data])
    conversations = sorted({f"{name}:{g.id.split('.')[0]}" for name, _, gold, *_ in data for g in gold if g.history})
    order = np.random.default_rng(0).permutation(len(conversations))
    fold = {conversations[j]: i % args.folds for i, j in enumerate(order)}
    of_row = np.array([fold[g] for g in groups])
    fitted = [fit(x[of_row != f], y[of_row != f], l2=args.l2) for f in range(args.folds)]
    print("follow-ups quoting the evidence (first quote; quotes shown per follow-up), dev parts,"
          " each fold answered by the model fitted on the other folds")
    for margin in [None, *args.margins]:
        cells = []
        for name, opened, gold, *_ in data:
            total = np.zeros(4, dtype=int)
            for f, (w, b) in enumerate(fitted):
                ranker = None if margin is None else FollowUpRanker(tuple(w), b, margin)
                engine = Engine(opened.retriever, answer=opened.answer_params,
                                conversation=replace(ConversationParams(), ranker=ranker))
                total += answered(engine, [g for g in gold if fold.get(f"{name}:{g.id.split('.')[0]}") == f])
            cells.append(f"{name} {total[1]}/{total[0]} ({total[2]}, {total[3] / total[0]:.2f} quotes)")
        print(("no ranker" if margin is None else f"margin {margin}").ljust(12) + "  ".join(cells), flush=True)
    w, b = fit(x, y, l2=args.l2)
    print("fitted on all dev rows:")
    print("    weights=(" + ", ".join(f"{v:.5f}" for v in w) + "),")
    print(f"    bias={b:.5f},")
    print("    # " + ", ".join(FEATURES))


if __name__ == "__main__":
    main()
