"""Answers from real PDFs: does the first quote hold the answer, and is it placed on the right page?

    .venv/bin/python eval/pdf_answers.py FOLDER [--gold eval/pdf_gold.jsonl] [--json]

FOLDER holds the PDFs the gold file names, anywhere below it: checkouts of the public py-pdf/sample-files
repository and of mozilla/pdf.js (its `test/pdfs/tracemonkey.pdf`), not copied here. The named files are copied into one folder (kept under
`~/.cache/qa-cite/pdf-answers`) and built as `qa build` would, with no model named (`--model auto`); each
gold question is asked with `Engine.ask`.

Per question: the first quote holds the answer (the gold string, found in the derived text), any quote
does, and the page. The page check does not trust the product's own page map: the first quote that holds
the answer is on the right page when PDFium's plain text of the page it names (`get_text_range`, with
white space and line-break hyphens removed) holds the answer too.

The gold questions (eval/pdf_gold.jsonl) were written by reading the files: definitions in a German
lecture script of 117 pages (GeoTopo), two short English documents, and a two-column research paper of
14 pages with figures and code (tracemonkey.pdf, PLDI 2009).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = Path.home() / ".cache" / "qa-cite" / "pdf-answers"


def squeeze(text: str) -> str:
    """Text without white space or line-break hyphens, to compare two extractions of the same words."""
    return re.sub(r"\s+", "", re.sub(r"-\s*[\r\n]+\s*", "", text))


def page_text(path: Path, page: int) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        return document[page - 1].get_textpage().get_text_range()
    finally:
        document.close()


def run(folder: Path, gold: list[dict]) -> dict:
    from qa.engine import Engine

    files = {p.name: p for p in folder.rglob("*.pdf")}
    missing = sorted({g["source"] for g in gold} - set(files))
    if missing:
        raise SystemExit(f"not found below {folder}: {', '.join(missing)}")
    seeds = CACHE / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    named = {g["source"] for g in gold}
    for old in seeds.iterdir():  # the folder holds the named files only, as they are below FOLDER now
        if old.name not in named or old.read_bytes() != files[old.name].read_bytes():
            old.unlink()
    for name in named:
        if not (seeds / name).is_file():
            shutil.copy(files[name], seeds / name)
    said: list[str] = []
    engine = Engine.open(seeds, CACHE / "index", notify=said.append)
    rows = []
    for g in gold:
        answer = engine.ask(g["question"])
        holding = [q for q in answer.quotes if g["answer"] in q.text]
        page = holding[0].location.get("page") if holding else None
        rows.append({**g, "abstained": answer.abstained,
                     "first_quote": bool(answer.quotes) and g["answer"] in answer.quotes[0].text,
                     "any_quote": bool(holding), "page": page,
                     "page_right": page is not None and squeeze(g["answer"]) in squeeze(page_text(seeds / g["source"], page))})
    n = len(rows)
    share = lambda key: round(sum(r[key] for r in rows) / n, 3)  # noqa: E731
    quoted = [r for r in rows if r["any_quote"]]
    return {"model": engine.embedder.model_id, "choice": next((m for m in said if "--model auto" in m), ""),
            "questions": n, "first_quote": share("first_quote"), "any_quote": share("any_quote"),
            "abstained": sum(r["abstained"] for r in rows),
            "page_right": f"{sum(r['page_right'] for r in quoted)} of {len(quoted)}", "rows": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--gold", type=Path, default=ROOT / "eval" / "pdf_gold.jsonl")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    gold = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = run(args.folder, gold)
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    print(result["choice"])
    print("| file | question | first quote | any quote | page of the quote | page right |\n|---|---|---|---|---:|---|")
    for r in result["rows"]:
        print(f"| {r['source']} | {r['question']} | {'yes' if r['first_quote'] else 'abstained' if r['abstained'] else 'no'} "
              f"| {'yes' if r['any_quote'] else 'no'} | {r['page'] or ''} | {'yes' if r['page_right'] else ''} |")
    print(f"\n{result['questions']} questions: first quote {result['first_quote']}, any quote {result['any_quote']}, "
          f"abstained {result['abstained']}, page right for {result['page_right']} quoted answers ({result['model']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
