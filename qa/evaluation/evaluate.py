"""Run queries in several modes and score them: on the seeds gold set and on BEIR datasets."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine import Engine
from ..retrieval import Retriever
from ..settings import AnswerParams, ConversationParams
from ..text import normalize
from . import metrics
from .gold import UNANSWERABLE, GoldQuestion, passage_qrels

GOLD_METRICS = ["Hit@1", "Hit@3", "Hit@5", "Hit@10", "MRR@10", "nDCG@10", "Recall@10"]
BEIR_METRICS = ["nDCG@10", "Recall@10", "Recall@100", "MRR@10", "MAP"]
DEFAULT_MODE = "hybrid"


@dataclass
class Evaluation:
    """Everything one `qa eval` run measured."""

    name: str
    modes: list[str]
    metric_names: list[str]
    runs: dict[str, metrics.Run]
    per_query: dict[str, dict[str, dict[str, float]]]  # mode -> qid -> metric -> value
    means: dict[str, dict[str, float]]  # mode -> metric -> value
    comparisons: dict[str, dict] = field(default_factory=dict)  # other mode -> compare() of the default vs it
    answers: dict = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "modes": self.modes,
            "means": self.means,
            "comparisons": self.comparisons,
            "answers": self.answers,
            "failures": self.failures,
            "queries": len(next(iter(self.per_query.values()), {})),
        }


def run_modes(retriever: Retriever, queries: dict[str, str], modes: list[str], *, k: int = 100) -> dict[str, metrics.Run]:
    """One run per mode; every query is embedded once for all modes."""
    ids = list(queries)
    vectors = retriever.embedder.encode_queries([normalize(queries[q]) for q in ids]) if ids else np.zeros((0, 1))
    runs: dict[str, metrics.Run] = {m: {} for m in modes}
    for qid, vector in zip(ids, vectors):
        for mode in modes:
            hits = retriever.search_vector(queries[qid], vector, mode=mode, k=k)
            runs[mode][qid] = {h.passage.id: h.score for h in hits}
    return runs


def score_runs(name: str, runs: dict[str, metrics.Run], qrels: metrics.Qrels, names: list[str]) -> Evaluation:
    per_query = {mode: metrics.per_query(run, qrels, names) for mode, run in runs.items()}
    means = {mode: metrics.mean(table, names) for mode, table in per_query.items()}
    ev = Evaluation(name, list(runs), names, runs, per_query, means)
    if DEFAULT_MODE in per_query:
        base = {q: r["nDCG@10"] for q, r in per_query[DEFAULT_MODE].items()}
        for mode in runs:
            if mode != DEFAULT_MODE:
                ev.comparisons[mode] = metrics.compare(base, {q: r["nDCG@10"] for q, r in per_query[mode].items()})
    return ev


def evaluate_beir(name: str, retriever: Retriever, queries: dict[str, str], qrels: metrics.Qrels, modes: list[str]) -> Evaluation:
    return score_runs(name, run_modes(retriever, queries, modes, k=100), qrels, BEIR_METRICS)


def evaluate_gold(
    gold: list[GoldQuestion],
    retriever: Retriever,
    modes: list[str],
    answer_params: AnswerParams | None = None,
    *,
    name: str = "seeds-gold",
    conversation: ConversationParams = ConversationParams(),
) -> Evaluation:
    """Passage metrics per mode on the answerable single-turn questions, then the answers of the
    default engine to every question (follow-ups with their conversation)."""
    qrels = passage_qrels(gold, retriever.store.passages(range(len(retriever.store))))
    queries = {g.id: g.question for g in gold if g.answerable and not g.history}
    ev = score_runs(name, run_modes(retriever, queries, modes, k=10), qrels, GOLD_METRICS)
    engine = Engine(retriever, answer=answer_params, conversation=conversation)
    rows = []
    for g in gold:
        a = engine.ask(g.question, history=list(g.history))
        hits = [g.on_evidence(q) for q in a.quotes]
        rows.append({"id": g.id, "type": g.type, "split": g.split, "question": g.question, "history": bool(g.history),
                     "abstained": a.abstained, "relevance": a.relevance, "quote_overlap": any(hits),
                     "quote_at_1": bool(hits and hits[0]), "disagreement": bool(a.disagreements),
                     "context_used": a.context_used})
    ev.answers = answer_summary(rows, answer_params.abstain_below)
    ev.failures = _failures(rows, ev.per_query.get(DEFAULT_MODE, {}))
    return ev


def answer_summary(rows: list[dict], threshold: float) -> dict:
    """Quote accuracy (any quote, first quote), abstention, disagreements, conversations, calibration."""
    single = [r for r in rows if not r["history"]]
    answerable = [r for r in single if r["type"] not in UNANSWERABLE]
    unanswerable = [r for r in rows if r["type"] in UNANSWERABLE]
    abstained = [r for r in rows if r["abstained"]]
    correct_abstentions = sum(1 for r in abstained if r["type"] in UNANSWERABLE)
    conflicts = [r for r in rows if r["type"] == "conflict"]
    followups = [r for r in rows if r["type"] == "followup"]
    standalone = [r for r in rows if r["type"] == "standalone"]
    offtopic = [r for r in rows if r["type"] == "offtopic"]
    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "quote_overlap": _share(sum(r["quote_overlap"] for r in answerable), len(answerable)),
        "quote_at_1": _share(sum(r["quote_at_1"] for r in answerable), len(answerable)),
        "abstention_precision": _share(correct_abstentions, len(abstained)) if abstained else 1.0,
        "abstention_recall": _share(correct_abstentions, len(unanswerable)),
        "conflicts_flagged": _share(sum(r["disagreement"] for r in conflicts), len(conflicts)),
        "followups": len(followups),
        "followup_quote_overlap": _share(sum(r["quote_overlap"] for r in followups), len(followups)),
        "followup_quote_at_1": _share(sum(r["quote_at_1"] for r in followups), len(followups)),
        "standalone_after_conversation": len(standalone),
        "standalone_quote_overlap": _share(sum(r["quote_overlap"] for r in standalone), len(standalone)),
        "offtopic_after_conversation": len(offtopic),
        "offtopic_abstained": _share(sum(r["abstained"] for r in offtopic), len(offtopic)),
        "threshold": threshold,
        "calibration": calibrate([r["relevance"] for r in answerable], [r["relevance"] for r in single
                                                                         if r["type"] in UNANSWERABLE]),
    }


def calibrate(answerable: list[float], unanswerable: list[float]) -> dict:
    """The abstention threshold that maximises balanced accuracy on these scores (midpoint of the best gap)."""
    values = sorted(set(answerable) | set(unanswerable))
    if not values:
        return {}
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6]
    best = max(cuts, key=lambda t: (_balanced(t, answerable, unanswerable), -abs(t - 0.35)))
    return {
        "best_threshold": round(best, 4),
        "balanced_accuracy": round(_balanced(best, answerable, unanswerable), 4),
        "answerable_min": round(min(answerable), 4) if answerable else None,
        "unanswerable_max": round(max(unanswerable), 4) if unanswerable else None,
    }


def _balanced(t: float, answerable: list[float], unanswerable: list[float]) -> float:
    tpr = np.mean([s >= t for s in answerable]) if answerable else 1.0
    tnr = np.mean([s < t for s in unanswerable]) if unanswerable else 1.0
    return float((tpr + tnr) / 2)


def _failures(rows: list[dict], per_query: dict[str, dict[str, float]]) -> list[dict]:
    out = []
    for r in rows:
        problems = []
        if r["type"] in UNANSWERABLE:
            if not r["abstained"]:
                problems.append("answered an unanswerable question")
        else:
            if r["abstained"]:
                problems.append("abstained")
            elif not r["quote_overlap"]:
                problems.append("no quote overlaps the evidence")
            elif not r["quote_at_1"]:
                problems.append("the first quote is not on the evidence")
            if per_query.get(r["id"], {}).get("Hit@5", 1.0) == 0.0:
                problems.append("no relevant passage in the top 5")
            if r["type"] == "conflict" and not r["disagreement"]:
                problems.append("disagreement not flagged")
        if problems:
            out.append({"id": r["id"], "question": r["question"], "relevance": round(r["relevance"], 3), "problems": problems})
    return out


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0
