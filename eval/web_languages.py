"""Web pages in other languages: does the reader keep an article's paragraphs, and nothing around them?

    .venv/bin/python eval/web_languages.py [--languages en,zh,ar,ru,hi,th,el,tr]

No set of real pages with gold text in these languages is at hand, so each page is made: the first four
paragraphs of every other XQuAD dev article (`../shared/datasets/xquad`, 12 articles) in one `<div>`, under
an `<h1>` title, between a menu of links, a sidebar of eight links and a footer. Reported per language and
extractor: paragraphs kept whole (white space collapsed) of 48, and pages where any of the menu, sidebar or
footer text was kept. Extractors: trafilatura, readability-lxml, and this reader (`qa.ingest.formats.read`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

CLUTTER = ("Home", "Popular today", "Story number", "Copyright Example")


def page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    side = "".join(f'<li><a href="/x{i}">Story number {i} of the day</a></li>' for i in range(8))
    return (f'<html><head><meta charset="utf-8"><title>{title} - Example</title></head><body>\n'
            '<div class="nav"><a href="/">Home</a> <a href="/a">News</a> <a href="/b">Sport</a></div>\n'
            f'<h1>{title}</h1><div class="content">{body}</div>\n'
            f'<div class="side"><h3>Popular today</h3><ul>{side}</ul></div>\n'
            '<div class="foot">Copyright Example</div></body></html>')


def main(argv: list[str] | None = None) -> int:
    import trafilatura
    import xquad

    from qa.ingest import formats
    from qa.ingest.formats.html import readability_lines

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--languages", default="en,zh,ar,ru,hi,th,el,tr")
    args = ap.parse_args(argv)
    extractors = {
        "trafilatura": lambda html: trafilatura.extract(html, output_format="txt", include_tables=True) or "",
        "readability-lxml": lambda html: "\n".join(readability_lines(html)),
        "this reader": lambda html: formats.read("page.html", html.encode("utf-8")).text,
    }
    flat = lambda text: " ".join(text.split())
    print("| language | " + " | ".join(f"{name}: paragraphs kept, pages with clutter" for name in extractors) + " |")
    print("|---|" + "---:|" * len(extractors))
    for language in args.languages.split(","):
        kept = {name: [0, 0, 0] for name in extractors}  # paragraphs kept, of, pages with clutter
        for article in xquad.articles(language)[::2]:
            paragraphs = [p["context"].replace("\ufeff", "").strip() for p in article["paragraphs"][:4]]
            html = page(article["title"].replace("_", " "), paragraphs)
            for name, extract in extractors.items():
                try:
                    text = flat(extract(html))
                except formats.Unreadable:
                    text = ""
                kept[name][0] += sum(flat(p).lstrip("* ") in text for p in paragraphs)
                kept[name][1] += len(paragraphs)
                kept[name][2] += any(c in text for c in CLUTTER)
        print(f"| {language} | " + " | ".join(f"{k} of {n}, {c}" for k, n, c in kept.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
