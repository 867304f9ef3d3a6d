"""Web-page extraction on trafilatura's own evaluation corpus: snippets that must be kept or dropped.

    .venv/bin/python eval/web_snippets.py CHECKOUT --split dev            # markdown table
    .venv/bin/python eval/web_snippets.py CHECKOUT --split test --json    # JSON, with per-page counts

CHECKOUT is a checkout of github.com/adbar/trafilatura (Apache-2.0); its `tests/evaldata.json` names,
for each page in `tests/cache/` or `tests/eval/`, two to six passages of the main text that an extractor
must keep ("with") and some of the page's clutter it must drop ("without"). The pages are modern (2010s
and 2020s), in many languages, German the most frequent. The corpus was made by trafilatura's author and
trafilatura is tuned on it, so it favours trafilatura; it is a second view beside `eval/web_extraction.py`,
whose gold is whole article texts.

Held out: pages whose file name is 32 hexadecimal digits come from the Scrapinghub article extraction
benchmark, which judges this product; they are skipped unread.

Metric, as trafilatura's own `tests/eval_common.py` counts it: white space collapsed, a "with" passage found in
the output is a true positive (else a false negative), a "without" passage found is a false positive (else a
true negative), pooled over pages. P = tp / (tp + fp), R = tp / (tp + fn), F1 their harmonic mean,
accuracy = (tp + tn) / all. An extractor that fails on a page outputs nothing there.
Split: `dev` if int(sha256(file name)) is even, else `test`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_extraction import FACTORIES, Extractor

HELD_OUT = re.compile(r"[0-9a-f]{32}\.html")


@dataclass(frozen=True)
class Page:
    file: str
    html: bytes
    keep: tuple[str, ...]
    drop: tuple[str, ...]


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def split_of(file: str) -> str:
    return "dev" if int(hashlib.sha256(file.encode()).hexdigest(), 16) % 2 == 0 else "test"


def load(checkout: Path, split: str) -> tuple[list[Page], int]:
    """The pages of `split`, and how many held-out pages were skipped."""
    tests = checkout / "tests"
    data = json.loads((tests / "evaldata.json").read_text(encoding="utf-8"))
    pages, held = [], 0
    for url in sorted(data):
        item = data[url]
        file = item["file"]
        if HELD_OUT.fullmatch(file):
            held += 1
            continue
        if split != "all" and split_of(file) != split:
            continue
        path = next((p for p in (tests / "cache" / file, tests / "eval" / file) if p.is_file()), None)
        if path is None:
            raise SystemExit(f"{url}: no file {file} under {tests}/cache or {tests}/eval")
        pages.append(Page(file, path.read_bytes(), tuple(item["with"]), tuple(item["without"])))
    return pages, held


def counts(page: Page, text: str) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of one page's output."""
    out = norm(text)
    tp = sum(1 for s in page.keep if norm(s) in out)
    fp = sum(1 for s in page.drop if norm(s) in out)
    return tp, fp, len(page.keep) - tp, len(page.drop) - fp


def scores(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    total = tp + fp + fn + tn
    return {
        "P": p,
        "R": r,
        "F1": 2 * p * r / (p + r) if p + r else 0.0,
        "accuracy": (tp + tn) / total if total else 0.0,
    }


def evaluate(name: str, extract: Extractor, pages: list[Page]) -> dict:
    per_page, errors, seconds = {}, 0, 0.0
    for page in pages:
        start = time.perf_counter()
        try:
            text = extract(page.html, "")
        except Exception as e:  # noqa: BLE001 - a failing page outputs nothing, the run goes on
            errors += 1
            text = ""
            print(f"{name}: {page.file}: {type(e).__name__}: {e}", file=sys.stderr)
        seconds += time.perf_counter() - start
        per_page[page.file] = counts(page, text)
    total = [sum(c[i] for c in per_page.values()) for i in range(4)]
    return {
        "pages": len(pages),
        "errors": errors,
        "pages_per_s": len(pages) / seconds if seconds else 0.0,
        "counts": dict(zip(("tp", "fp", "fn", "tn"), total)),
        **scores(*total),
        "per_page": per_page,
    }


def main(argv: list[str] | None = None) -> int:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    ap.add_argument("checkout", type=Path, help="a checkout of github.com/adbar/trafilatura")
    ap.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    ap.add_argument("--extractors", default="trafilatura,readability,ours", help="comma-separated")
    ap.add_argument("--json", action="store_true", help="JSON, with per-page counts")
    args = ap.parse_args(argv)
    if not (args.checkout / "tests" / "evaldata.json").is_file():
        ap.error(f"{args.checkout} holds no tests/evaldata.json: give a checkout of adbar/trafilatura")
    pages, held = load(args.checkout, args.split)
    results = {}
    for name in args.extractors.split(","):
        if name not in FACTORIES:
            ap.error(f"unknown extractor {name!r}: choose from {', '.join(FACTORIES)}")
        results[name] = evaluate(name, FACTORIES[name](), pages)
    if args.json:
        print(json.dumps({"split": args.split, "held_out_skipped": held, "results": results}, indent=1))
        return 0
    print(f"split {args.split}: {len(pages)} pages ({held} held-out pages skipped)\n")
    print("| extractor | P | R | F1 | accuracy | errors | pages/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['P']:.3f} | {r['R']:.3f} | {r['F1']:.3f} | {r['accuracy']:.3f} | "
            f"{r['errors']} | {r['pages_per_s']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
