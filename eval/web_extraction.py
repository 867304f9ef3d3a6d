"""Web-page main-content extraction benchmark: shingle F1 against human gold text.

    .venv/bin/python eval/web_extraction.py --split dev            # markdown table
    .venv/bin/python eval/web_extraction.py --split test --json    # JSON (summary and per-page scores)

Data: eval/data/web/pages.jsonl.gz (200 pages of the Dragnet and L3S-GN1 sets). Their licences do not let
them be redistributed, so the file is not in the repository: eval/data/web/README.md says how to make it.
Metric: text is lower-cased and split into words (`\\w+`); the shingles are the runs of 4 consecutive words,
compared as a bag (multiset: a shingle found twice in the gold counts twice). Per page P = matched / extracted
shingles, R = matched / gold shingles, F1 their harmonic mean; an empty extraction scores P = R = F1 = 0.
The table gives the mean over pages of P, R and F1 ("mean"), and P, R, F1 of the shingle counts pooled over
all pages ("pooled"). Extractors: trafilatura, jusText, readability-lxml and ours (`qa.ingest.formats.read`), on the same bytes.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "eval" / "data" / "web" / "pages.jsonl.gz"
SHINGLE = 4
JUSTEXT_LANGUAGES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
}

Extractor = Callable[[bytes, str], str]


@dataclass(frozen=True)
class Page:
    id: str
    subset: str
    split: str
    lang: str
    html: bytes
    gold: str


@dataclass(frozen=True)
class Counts:
    """Shingle counts of one page: matched, extracted, gold."""

    tp: int
    extracted: int
    gold: int


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """Bag of n-word shingles of `text`, lower-cased; a text of fewer than n words is one shingle."""
    words = re.findall(r"\w+", text.lower())
    if len(words) < n:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def count(extracted: str, gold: str) -> Counts:
    e, g = shingles(extracted), shingles(gold)
    return Counts(sum((e & g).values()), sum(e.values()), sum(g.values()))


def prf(c: Counts) -> tuple[float, float, float]:
    p = c.tp / c.extracted if c.extracted else 0.0
    r = c.tp / c.gold if c.gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def summarize(counts: list[Counts]) -> dict[str, float]:
    """Mean over pages of P, R, F1, and P, R, F1 of the pooled counts."""
    per_page = [prf(c) for c in counts]
    k = len(per_page) or 1
    mean = [sum(x[i] for x in per_page) / k for i in range(3)]
    total = Counts(
        *(sum(getattr(c, f) for c in counts) for f in Counts.__annotations__)
    )
    names = ("P", "R", "F1", "pooled_P", "pooled_R", "pooled_F1")
    return dict(zip(names, (*mean, *prf(total))))


def load(split: str, path: Path = DATA) -> list[Page]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    keep = [r for r in rows if split == "all" or r["split"] == split]
    html = [base64.b64decode(r["html_b64"]) for r in keep]
    return [
        Page(r["id"], r["subset"], r["split"], r["lang"], h, r["gold"])
        for r, h in zip(keep, html)
    ]


def trafilatura_extractor() -> Extractor:
    import trafilatura

    def run(html: bytes, lang: str) -> str:
        text = trafilatura.extract(
            html, output_format="txt", include_comments=False, include_tables=True
        )
        return text or ""

    return run


def justext_extractor() -> Extractor:
    import justext

    def run(html: bytes, lang: str) -> str:
        stoplist = justext.get_stoplist(JUSTEXT_LANGUAGES.get(lang, "English"))
        paragraphs = justext.justext(html, stoplist)
        return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)

    return run


def readability_extractor() -> Extractor:
    from qa.ingest.formats.html import decode, readability_lines

    def run(html: bytes, lang: str) -> str:
        return "\n".join(readability_lines(decode(html)[0]))

    return run


def ours_extractor() -> Extractor:
    from qa.ingest.formats import read

    def run(html: bytes, lang: str) -> str:
        reading = read("page.html", html)
        text, kept, at = reading.text, [], 0
        for span in sorted(reading.excluded, key=lambda s: s.start):
            kept.append(text[at : max(at, span.start)])
            at = max(at, span.end)
        return "".join(kept) + text[at:]

    return run


FACTORIES: dict[str, Callable[[], Extractor]] = {
    "trafilatura": trafilatura_extractor,
    "justext": justext_extractor,
    "readability": readability_extractor,
    "ours": ours_extractor,
}


def evaluate(name: str, extract: Extractor, pages: Iterable[Page]) -> dict:
    rows, errors, seconds = [], 0, 0.0
    for page in pages:
        start = time.perf_counter()
        try:
            text = extract(page.html, page.lang)
        except Exception as e:  # noqa: BLE001 - a failing page scores 0, the run goes on
            errors += 1
            text = ""
            print(f"{name}: {page.id}: {type(e).__name__}: {e}", file=sys.stderr)
        seconds += time.perf_counter() - start
        rows.append((page, count(text, page.gold)))
    empty = sum(1 for _, c in rows if c.extracted == 0)
    result: dict = {"pages": len(rows), "errors": errors, "empty": empty}
    result["pages_per_s"] = len(rows) / seconds if seconds else 0.0
    result["all"] = summarize([c for _, c in rows])
    result["subsets"] = {
        subset: {"pages": sum(1 for p, _ in rows if p.subset == subset)}
        | summarize([c for p, c in rows if p.subset == subset])
        for subset in sorted({p.subset for p, _ in rows})
    }
    result["per_page"] = {p.id: dict(zip(("P", "R", "F1"), prf(c))) for p, c in rows}
    return result


def table(results: dict[str, dict]) -> str:
    lines = [
        "| extractor | subset | pages | P | R | F1 | pooled P | pooled R | pooled F1 | empty | errors | pages/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, res in results.items():
        rows = [("all", res["pages"], res["all"])]
        rows += [(k, v["pages"], v) for k, v in res["subsets"].items()]
        speed = f"{res['empty']} | {res['errors']} | {res['pages_per_s']:.1f}"
        for subset, n, s in rows:
            tail = speed if subset == "all" else "| |"
            lines.append(
                f"| {name} | {subset} | {n} | {s['P']:.3f} | {s['R']:.3f} | {s['F1']:.3f} | "
                f"{s['pooled_P']:.3f} | {s['pooled_R']:.3f} | {s['pooled_F1']:.3f} | {tail} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    ap.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    ap.add_argument("--extractors", default=",".join(FACTORIES), help="comma-separated")
    ap.add_argument("--json", action="store_true", help="JSON, with per-page scores")
    ap.add_argument("--pages", type=Path, default=DATA, help="the pages file (default: %(default)s)")
    args = ap.parse_args(argv)
    if not args.pages.is_file():
        ap.error(f"no pages file at {args.pages}: make it as eval/data/web/README.md describes")
    pages = load(args.split, args.pages)
    results: dict[str, dict] = {}
    for name in args.extractors.split(","):
        try:
            extract = FACTORIES[name]()
        except Exception as e:  # noqa: BLE001 - e.g. qa.ingest.formats.read not there yet
            print(f"{name}: not available ({type(e).__name__}: {e})", file=sys.stderr)
            continue
        results[name] = evaluate(name, extract, pages)
    if args.json:
        out = {"split": args.split, "shingle": SHINGLE, "bag": True, "results": results}
        print(json.dumps(out, indent=1))
    else:
        print(
            f"split {args.split}: {len(pages)} pages; bag of {SHINGLE}-word shingles\n"
        )
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
