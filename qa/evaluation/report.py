"""Evaluation output: a table for people, JSON for machines, TREC runs, CSV and a chart for files."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

from .evaluate import DEFAULT_MODE, Evaluation
from .metrics import ranking

log = logging.getLogger(__name__)


def table(ev: Evaluation) -> str:
    """Metrics as rows, modes as columns; then the default mode's per-query record against each other mode."""
    width = max(len(m) for m in ev.metric_names) + 2
    lines = [f"{ev.name}: {len(next(iter(ev.per_query.values()), {}))} judged queries",
             "metric".ljust(width) + "".join(m.rjust(10) for m in ev.modes)]
    for name in ev.metric_names:
        lines.append(name.ljust(width) + "".join(f"{ev.means[m][name]:10.4f}" for m in ev.modes))
    for mode, c in ev.comparisons.items():
        lines.append(f"{DEFAULT_MODE} vs {mode} (nDCG@10 per query): {c['wins']} wins, {c['losses']} losses, "
                     f"{c['ties']} ties; mean diff {c['mean_diff']:+.4f}, paired randomisation p={c['p_value']:.3f}")
    if ev.answers:
        a = ev.answers
        cal = a.get("calibration", {})
        lines += [
            f"answers ({a['questions']} questions, {a['answerable']} answerable alone): quotes overlap evidence "
            f"{a['quote_overlap']:.3f}, first quote on it (quote@1) {a['quote_at_1']:.3f}; "
            f"abstention precision {a['abstention_precision']:.3f}, recall {a['abstention_recall']:.3f} "
            f"(threshold {a['threshold']}); disagreements flagged {a['conflicts_flagged']:.3f}",
            *([f"conversations: {a['followups']} follow-ups quote the evidence {a['followup_quote_overlap']:.3f} "
               f"(quote@1 {a['followup_quote_at_1']:.3f}); {a['standalone_after_conversation']} standalone turns "
               f"{a['standalone_quote_overlap']:.3f}; {a['offtopic_after_conversation']} off-topic turns abstained "
               f"{a['offtopic_abstained']:.3f}"] if a.get("followups") else []),
            f"calibration: best threshold {cal.get('best_threshold')} (balanced accuracy {cal.get('balanced_accuracy')}); "
            f"lowest answerable {cal.get('answerable_min')}, highest unanswerable {cal.get('unanswerable_max')}",
        ]
    if ev.failures:
        lines.append(f"failures ({len(ev.failures)}):")
        lines += [f"  {f['id']} [{f['relevance']}] {f['question']} -- {'; '.join(f['problems'])}" for f in ev.failures]
    return "\n".join(lines)


def write(ev: Evaluation, out: str | Path) -> list[Path]:
    """Write `<mode>.trec`, `metrics.json`, `per_query.csv` and `chart.png` (if matplotlib is installed)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for mode, run in ev.runs.items():
        path = folder / f"{mode}.trec"
        with path.open("w", encoding="utf-8") as fh:
            for qid in sorted(run):
                scores = run[qid]
                for rank, doc in enumerate(ranking(scores), start=1):
                    fh.write(f"{qid} Q0 {doc} {rank} {scores[doc]:.6f} {mode}\n")
        written.append(path)
    path = folder / "metrics.json"
    path.write_text(json.dumps(ev.to_dict(), indent=1), encoding="utf-8")
    written.append(path)
    path = folder / "per_query.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["mode", "query", *ev.metric_names])
        for mode, table_ in ev.per_query.items():
            for qid, row in table_.items():
                w.writerow([mode, qid, *(f"{row[n]:.6f}" for n in ev.metric_names)])
    written.append(path)
    chart = _chart(ev, folder / "chart.png")
    if chart:
        written.append(chart)
    return written


def _chart(ev: Evaluation, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("no chart: matplotlib is not installed (pip install 'qa-cite[eval]')")
        return None
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(ev.metric_names)), 3.6), dpi=110)
    n = len(ev.modes)
    width = 0.8 / max(n, 1)
    for i, mode in enumerate(ev.modes):
        xs = [j + (i - (n - 1) / 2) * width for j in range(len(ev.metric_names))]
        ax.bar(xs, [ev.means[mode][m] for m in ev.metric_names], width, label=mode)
    ax.set_xticks(range(len(ev.metric_names)), ev.metric_names)
    ax.set_ylim(0, 1)
    ax.set_title(f"{ev.name}: mean over {len(next(iter(ev.per_query.values()), {}))} queries")
    ax.legend(ncol=n, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
