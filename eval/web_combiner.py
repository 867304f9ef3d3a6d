"""Could a learned combination of the two web extractors do better than the reader's rule? Cross-validated.

    .venv/bin/python eval/web_combiner.py TRAFILATURA_CHECKOUT            # markdown table, dev halves only

The reader (`qa.ingest.formats.html.agreed_article`) combines readability-lxml's and trafilatura's articles by
one rule. This script asks whether a classifier over the page's lines does better, given what the rule sees
and more: for each line, the share of it each extractor keeps (readability, trafilatura, and trafilatura's
`favor_recall` and `favor_precision` modes), whether it lies before, inside or after the text both keep, its
link share, words, final punctuation, digits and position, the two articles' agreement, and the first four
of those for the lines before and after it.

Labels, on the dev halves of both web sets (`eval/web_extraction.py`, `eval/web_snippets.py`): on the old
set a line is article when its text is in the gold text; on the modern set when it holds a passage to keep,
clutter when it holds one to drop, and unlabelled otherwise. Pages are cut into five folds (seeded); each
fold is scored by a model fitted on the other four, taking the lines it puts at 0.5 or more (the rule's
article where those are under 10 words), led by the headline as the reader leads it. Scores: mean shingle F1
on the old set, snippet F1 on the modern set, as the two scripts count them. The test halves are not read.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import web_extraction as old_set
import web_snippets as modern_set

FOLDS = 5
MODES = {"traf": {}, "recall": {"favor_recall": True}, "precision": {"favor_precision": True}}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def located(html: bytes) -> dict:
    """The page's text stream, its lines, and the spans each extractor keeps, located as the reader locates them."""
    import trafilatura

    from qa.ingest.formats import html as reader

    page = reader.decode(html)[0]
    stream, _, _, linked = reader.text_stream(page)
    spans = {"read": reader.locate_lines(reader.readability_lines(page), stream)}
    for name, options in MODES.items():
        try:
            main = trafilatura.extract(page, output_format="txt", include_comments=False, include_tables=True,
                                       **options)
        except Exception:  # noqa: BLE001 - as the reader: a page trafilatura fails on keeps readability's
            main = None
        spans[name] = reader.locate_lines((main or "").splitlines(), stream)
    lines, at = [], 0
    for part in stream.split("\n"):
        if part.strip():
            lines.append((at, at + len(part)))
        at += len(part) + 1
    return {"stream": stream, "linked": np.asarray(linked, bool), "spans": spans, "lines": lines,
            "title": reader.metadata(page, trafilatura).get("title")}


def features(p: dict) -> np.ndarray:
    from qa.ingest.formats.html import _mask

    stream, linked, n = p["stream"], p["linked"], len(p["stream"])
    m = {k: _mask(v, n) for k, v in p["spans"].items()}
    both = m["read"] & m["traf"]
    lo, hi = (np.flatnonzero(both)[[0, -1]] if both.any() else (-1, -1))
    agree = both.sum() / max(1, (m["read"] | m["traf"]).sum())
    contained = both.sum() / max(1, min(m["read"].sum(), m["traf"].sum()))
    rows = []
    for a, b in p["lines"]:
        line = stream[a:b]
        rows.append([m["read"][a:b].mean(), m["traf"][a:b].mean(), m["recall"][a:b].mean(), m["precision"][a:b].mean(),
                     float(lo >= 0 and a >= lo and b <= hi + 1), float(lo >= 0 and b <= lo), float(lo >= 0 and a > hi),
                     linked[a:b].mean(), np.log1p(len(line.split())), float(line.rstrip()[-1:] in '.!?"\u201d'),
                     sum(c.isdigit() for c in line) / len(line), a / n, agree, contained,
                     float(m["read"].sum() > m["traf"].sum())])
    x = np.asarray(rows, float).reshape(-1, 15)
    zero = np.zeros((1, 4))
    return np.hstack([x, np.vstack([zero, x[:-1, :4]])[: len(x)], np.vstack([x[1:, :4], zero])[: len(x)]])


def labels(p: dict, gold: str | None, keep: tuple[str, ...] = (), drop: tuple[str, ...] = ()) -> np.ndarray:
    """1 article, 0 clutter, -1 unknown, per line."""
    out = []
    for a, b in p["lines"]:
        line = _norm(p["stream"][a:b])
        if gold is not None:
            out.append(1 if line in gold else 0)
        else:
            out.append(1 if _holds(line, keep) else 0 if _holds(line, drop) else -1)
    return np.asarray(out, int)


def _holds(line: str, passages: tuple[str, ...]) -> bool:
    """Whether `line` holds one of `passages`, or is a long part of one."""
    return any(s in line or (len(line) > 20 and line in s) for s in passages)


def text_of(p: dict, segments: list[tuple[int, int]]) -> str:
    from qa.ingest.formats.html import with_headline

    return "\n".join(p["stream"][a:b] for a, b in with_headline(p["title"], p["stream"], sorted(segments)))


def rule(p: dict) -> list[tuple[int, int]]:
    from qa.ingest.formats.html import agreed_article

    return agreed_article(p["spans"]["read"], p["spans"]["traf"], p["stream"], p["linked"])


def main(argv: list[str] | None = None) -> int:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkout", type=Path, help="a checkout of github.com/adbar/trafilatura (the modern set)")
    args = ap.parse_args(argv)
    pages = []  # (kind, located page, features, labels, scorer)
    for page in old_set.load("dev"):
        p = located(page.html)
        pages.append(("old", p, features(p), labels(p, _norm(page.gold)),
                      lambda text, g=page.gold: old_set.prf(old_set.count(text, g))[2]))
    modern, _ = modern_set.load(args.checkout, "dev")
    for page in modern:
        p = located(page.html)
        pages.append(("modern", p, features(p), labels(p, None, tuple(map(_norm, page.keep)), tuple(map(_norm, page.drop))),
                      lambda text, pg=page: modern_set.counts(pg, text)))
    fold = np.random.default_rng(0).integers(0, FOLDS, len(pages))

    def score(choose) -> tuple[float, float]:
        old, counts = [], [0, 0, 0, 0]
        for i, (kind, p, _, _, scorer) in enumerate(pages):
            result = scorer(text_of(p, choose(i)))
            if kind == "old":
                old.append(result)
            else:
                counts = [a + b for a, b in zip(counts, result)]
        return float(np.mean(old)), modern_set.scores(*counts)["F1"]

    def cross_validated(make, weighted: bool):
        chosen: dict[int, list[tuple[int, int]]] = {}
        for f in range(FOLDS):
            train = [pg for pg, k in zip(pages, fold) if k != f and len(pg[2])]
            x = np.vstack([pg[2][pg[3] >= 0] for pg in train])
            y = np.concatenate([pg[3][pg[3] >= 0] for pg in train])
            w = np.concatenate([np.full(int((pg[3] >= 0).sum()), 1 / max(1, (pg[3] >= 0).sum()) ** 0.5 if weighted else 1.0)
                                for pg in train])
            model = make().fit(x, y, sample_weight=w)
            for i, (_, p, xp, _, _) in enumerate(pages):
                if fold[i] != f:
                    continue
                keep = [s for s, q in zip(p["lines"], model.predict_proba(xp)[:, 1] if len(xp) else []) if q >= 0.5]
                chosen[i] = keep if sum(len(p["stream"][a:b].split()) for a, b in keep) >= 10 else rule(p)
        return score(chosen.__getitem__)

    rows = [("the reader's rule (`agreed_article`)", score(lambda i: rule(pages[i][1])))]
    for weighted in (False, True):
        each = ", each page weighted 1/sqrt(its labelled lines)" if weighted else ""
        rows.append((f"logistic regression{each}",
                     cross_validated(lambda: LogisticRegression(max_iter=3000), weighted)))
        rows.append((f"gradient-boosted trees{each}", cross_validated(
            lambda: HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0),
            weighted)))
    print(f"dev halves: {sum(k == 'old' for k, *_ in pages)} old pages, {sum(k == 'modern' for k, *_ in pages)} modern\n")
    print("| combination | old set, shingle F1 | modern set, snippet F1 |\n|---|---:|---:|")
    for name, (old, modern_f1) in rows:
        print(f"| {name} | {old:.3f} | {modern_f1:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
