"""A BEIR corpus written as a folder of documents, answered through the whole product.

`qa eval --beir DIR` scores retrieval on the corpus entries as given. This
scores what a person sees instead: each entry becomes one file (its title on
the first line, a blank line, then its text, as a saved page would be), and the
real pipeline runs on the folder — clutter detection, sentences, passages, the
index, quotes and abstention. For each judged query it records whether the first
quote, any quote, and the top passage come from a relevant entry, whether it
abstained, and whether every offset reproduces; for the corpus, how many entries
clutter detection removed wholly or in part.

Each query is also asked a second time, after the judged query before it (the first after
the last: a conversation that changes topic): how often the earlier question was used to read it, and whether its
first quote is still relevant. Outside queries are mostly typed searches ("causes of
military suicide"), which should stand alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def file_name(doc_id: str) -> str:
    """A portable file name for a corpus id (ids with other characters get a hash suffix)."""
    safe = SAFE_NAME.sub("_", doc_id)[:80]
    if safe != doc_id:
        safe += "-" + hashlib.sha256(doc_id.encode()).hexdigest()[:8]
    return safe + ".txt"


def document_text(title: str, text: str) -> str:
    """An entry as a saved page: the title line, a blank line, the text (no title: the text alone)."""
    title, text = title.strip(), text.strip()
    return f"{title}\n\n{text}\n" if title else f"{text}\n"


def entries(rows: list[dict]) -> dict[str, tuple[str, str, str]]:
    """Corpus rows as documents: file name -> (corpus id, title, the document's text)."""
    out: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        doc_id, title = str(row["_id"]), str(row.get("title") or "").strip()
        name = file_name(doc_id)
        if name in out:
            raise InputError(f"corpus ids {out[name][0]!r} and {doc_id!r} map to the same file name {name}")
        out[name] = (doc_id, title, document_text(title, str(row.get("text") or "")))
    return out


def write_documents(docs: dict[str, tuple[str, str, str]], dest: str | Path) -> dict[str, str]:
    """Write documents (`entries`) as files in `dest`; return file name -> corpus id.

    Files whose content is already right are left alone, so an index built on
    the folder stays current and a rebuild reuses its vectors.
    """
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    for name, (_, _, text) in docs.items():
        data = text.encode("utf-8")
        path = out / name
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    for stale in set(p.name for p in out.glob("*.txt")) - set(docs):
        (out / stale).unlink()
    return {name: doc_id for name, (doc_id, _, _) in docs.items()}


@dataclass
class ExclusionStats:
    """How much of a folder clutter detection left out."""

    documents: int = 0
    chars: int = 0
    excluded_chars: int = 0
    lost_whole: list[str] = field(default_factory=list)
    lost_part: list[str] = field(default_factory=list)
    by_rule: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "documents": self.documents,
            "excluded_char_share": round(self.excluded_chars / self.chars, 6) if self.chars else 0.0,
            "lost_whole": len(self.lost_whole),
            "lost_part": len(self.lost_part),
            "by_rule": dict(sorted(self.by_rule.items(), key=lambda kv: -kv[1])),
            "examples_whole": self.lost_whole[:10],
            "examples_part": self.lost_part[:10],
        }


def exclusion_stats(texts: dict[str, str], titles: dict[str, str] | None = None) -> ExclusionStats:
    """Run clutter detection on documents (name -> raw text) and count what it removes.

    A document is lost wholly when nothing is left to index; in part when any of
    its text beyond the title line is left out. Characters are counted without
    white space, and the title line of a written entry is not counted (a title
    is not quoted anyway).
    """
    from ..ingest.clutter import find_clutter_corpus

    stats = ExclusionStats(documents=len(texts))
    found = find_clutter_corpus(texts)
    for name, text in texts.items():
        title = (titles or {}).get(name, "")
        body_start = len(title) + 2 if title and text.startswith(title + "\n\n") else 0
        body = text[body_start:]
        stats.chars += len("".join(body.split()))
        excluded = 0
        for e in found[name]:
            stats.by_rule[e.reason] = stats.by_rule.get(e.reason, 0) + 1
            lo, hi = max(e.start, body_start), e.end
            if hi > lo:
                excluded += len("".join(text[lo:hi].split()))
        stats.excluded_chars += excluded
        body_chars = len("".join(body.split()))
        if body_chars and excluded >= body_chars:
            stats.lost_whole.append(name)
        elif excluded:
            stats.lost_part.append(name)
    return stats


def evaluate_documents(dataset: str | Path, work: str | Path, *, model: str | None = None, k: int = 5,
                       device: str | None = None, progress: bool = False, notify=None) -> dict:
    """Write a BEIR corpus as documents, build the real index on them, ask every judged query.

    Args:
        dataset: a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv).
        work: where the documents and their index are kept between runs (a rebuild reuses vectors).
        k: passages per answer, as `qa ask -k`.

    Returns:
        The measures of the module docstring, as one JSON-ready dict.
    """
    from ..engine import Engine
    from .beir import load_qrels, load_queries, read_corpus

    work = Path(work)
    docs = entries(read_corpus(dataset))
    names = write_documents(docs, work / "seeds")
    by_id = {doc_id: name for name, doc_id in names.items()}
    texts = {name: text for name, (_, _, text) in docs.items()}
    titles = {name: title for name, (_, title, _) in docs.items()}
    qrels = load_qrels(dataset)
    queries = {q: t for q, t in load_queries(dataset).items() if q in qrels}
    engine = Engine.open(work / "seeds", work / "index", model=model, device=device, progress=progress,
                         notify=notify or (lambda m: None))
    first = any_ = top = abstained = flagged = bad_offsets = quotes = 0
    after_first = after_context = after_changed = 0
    per_query = []
    order = list(queries.values())
    for i, (qid, question) in enumerate(queries.items()):
        relevant = {by_id[d] for d, g in qrels[qid].items() if g >= 1 and d in by_id}
        answer = engine.ask(question, k=k)
        hits = [q.source in relevant for q in answer.quotes]
        first += bool(hits and hits[0])
        any_ += any(hits)
        top += bool(answer.passages and answer.passages[0].passage.source in relevant)
        abstained += answer.abstained
        flagged += bool(answer.disagreements)
        for q in answer.quotes:
            quotes += 1
            bad_offsets += texts[q.source][q.start : q.end] != q.text
        after = engine.ask(question, k=k, history=[order[i - 1]]) if len(order) > 1 else answer
        after_relevant = bool(after.quotes and after.quotes[0].source in relevant)
        after_first += after_relevant
        after_context += after.context_used
        after_changed += [q.sentence for q in after.quotes[:1]] != [q.sentence for q in answer.quotes[:1]]
        per_query.append({"id": qid, "question": question, "first_quote_relevant": bool(hits and hits[0]),
                          "any_quote_relevant": any(hits), "abstained": answer.abstained,
                          "first_quote": answer.quotes[0].text if answer.quotes else None,
                          "after_previous": {"read_as": after.read_as,
                                             "first_quote_relevant": after_relevant}})
    n = len(queries) or 1
    stats = exclusion_stats(texts, titles)
    return {
        "dataset": Path(dataset).name,
        "queries": len(queries),
        "first_quote_relevant": first / n,
        "any_quote_relevant": any_ / n,
        "top_passage_relevant": top / n,
        "abstained": abstained,
        "disagreement_flag_rate": flagged / n,
        "quotes": quotes,
        "offsets_not_reproducing": bad_offsets,
        "entries_excluded_whole": len(stats.lost_whole),
        "entries_excluded_in_part": len(stats.lost_part),
        "excluded_char_share": stats.to_dict()["excluded_char_share"],
        "after_unrelated_question": {
            "context_used": after_context,
            "first_quote_relevant": after_first / n,
            "first_quote_changed": after_changed,
        },
        "per_query": per_query,
    }


def table(result: dict) -> str:
    """One line per measure, for people."""
    r, a = result, result["after_unrelated_question"]
    return "\n".join([
        f"{r['dataset']} written as documents, {r['queries']} judged queries answered through the whole product:",
        f"  first quote in a relevant entry   {r['first_quote_relevant']:.3f}",
        f"  any quote in a relevant entry     {r['any_quote_relevant']:.3f}",
        f"  top passage in a relevant entry   {r['top_passage_relevant']:.3f}",
        f"  abstained                         {r['abstained']} of {r['queries']}",
        f"  answers flagging a disagreement   {r['disagreement_flag_rate']:.3f}",
        f"  quotes whose offsets don't reproduce  {r['offsets_not_reproducing']} of {r['quotes']}",
        f"  entries excluded wholly / in part {r['entries_excluded_whole']} / {r['entries_excluded_in_part']} "
        f"({100 * r['excluded_char_share']:.3f} % of characters)",
        "asked again after the query before it (a change of topic):",
        f"  read with the earlier question    {a['context_used']} of {r['queries']}",
        f"  first quote in a relevant entry   {a['first_quote_relevant']:.3f}",
        f"  first quote changed               {a['first_quote_changed']} of {r['queries']}",
    ])
