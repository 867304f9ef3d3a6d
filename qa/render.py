"""An `Answer` as chat Markdown and as HTML panels. Pure functions; every text is escaped.

Source text and user text may hold anything (`<script>`, `<img onerror=...>`,
Markdown links, `$` signs). Chat text is HTML-escaped and then has every
Markdown punctuation mark backslash-escaped, so it renders as the literal text;
HTML panels escape with `html.escape` and add only our own tags.
"""

from __future__ import annotations

import html
import re

from .answer.compose import Answer, citation
from .answer.quotes import Quote

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$<>])")


def md_escape(text: str) -> str:
    """Text that Markdown renders literally (and HTML cannot run)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def _flat(text: str) -> str:
    return " ".join(text.split())


def chat_markdown(answer: Answer) -> str:
    """The chat reply: quotes with bold citation numbers, a note where sources differ."""
    note = f"*{md_escape(answer.read_as)}*" if answer.read_as else ""
    if answer.abstained:
        return "\n\n".join(x for x in (note, md_escape(answer.answer)) if x)
    lines = [note] if note else []
    for q in answer.quotes:
        lines.append(f"**\\[{q.n}\\]** “{md_escape(_flat(q.text))}”  \n— *{md_escape(citation(q))}*")
    for d in answer.disagreements:
        lines.append(f"**⚠ {md_escape(d.describe())}**")
    return "\n\n".join(lines)


def _link(url: str | None) -> str:
    if not url or not re.match(r"https?://", url, re.IGNORECASE):
        return ""
    return f' · <a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">original</a>'


def _meta(q: Quote) -> str:
    parts = [html.escape(x) for x in (q.publisher, q.date) if x]
    parts.append(f"<code>{html.escape(q.source)}:{q.start}-{q.end}</code>")
    return " · ".join(parts) + _link(q.url)


def _wrap(text: str, spans: list[tuple[int, int, str, str]]) -> str:
    """Escaped `text` with each (start, end) span between our own opening and closing tags."""
    out, pos = [], 0
    for start, end, open_tag, close_tag in sorted(spans, key=lambda s: (s[0], s[1])):
        if start < pos:
            continue  # overlapping spans: the first one wins
        out += [html.escape(text[pos:start]), open_tag, html.escape(text[start:end]), close_tag]
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _mark(n: int, selected: bool = False) -> tuple[str, str]:
    css = ' class="qa-selected"' if selected else ""
    return f'<mark data-quote="{n}"{css}>', "</mark>"


def highlight(text: str, spans: list[tuple[int, int, int]], selected: int | None = None) -> str:
    """Escaped `text` with each (start, end, n) quote span in a `<mark data-quote="n">`."""
    return _wrap(text, [(s, e, *_mark(n, n == selected)) for s, e, n in spans])


def sources_html(answer: Answer | None) -> str:
    """The sources panel: each quote in its passage, highlighted, with title, file, offsets and link."""
    if answer is None:
        return '<div class="qa-sources qa-empty">Ask a question; the quoted passages appear here.</div>'
    if answer.abstained:
        return f'<div class="qa-sources qa-empty">{html.escape(answer.answer)}</div>'
    passages = {h.passage.id: h.passage for h in answer.passages}
    cards = []
    for q in answer.quotes:
        p = passages.get(q.passage_id)
        if p is not None and p.source == q.source and p.start <= q.start and q.end <= p.end:
            context = highlight(p.text, [(q.start - p.start, q.end - p.start, q.n)])
        else:
            context = highlight(q.text, [(0, len(q.text), q.n)])
        cards.append(
            f'<div class="qa-card" id="qa-card-{q.n}"><div class="qa-head"><b>[{q.n}]</b> {html.escape(q.title)}</div>'
            f'<div class="qa-meta">{_meta(q)}</div><div class="qa-context">{context}</div>{why_html(q.why)}</div>'
        )
    notes = "".join(f'<p class="qa-note">{html.escape(d.describe())}</p>' for d in answer.disagreements)
    return f'<div class="qa-sources">{notes}{"".join(cards)}</div>'


_RETRIEVERS = {"dense": "dense", "feedback": "dense with feedback", "bm25": "BM25", "fused": "hybrid"}


_RANKED_BY = {
    "follow-up model": "the follow-up model (score: its log-odds of answering)",
    "follow-up question": "the follow-up with less of the conversation than it was searched with "
                          "(the score's similarity and terms are measured against that)",
}


def why_html(why: dict) -> str:
    """Why a quote was chosen, collapsed under its card: what found its passage, and its score's parts."""
    if not why:
        return ""
    ranks = why.get("passage", {}).get("ranks", {})
    found = ", ".join(f"{_RETRIEVERS.get(k, k)} #{v}" for k, v in ranks.items()) or "—"
    parts = why.get("score", {})
    searched = " as searched" if why.get("ranked_by") == "follow-up question" else ""  # its score: as ranked
    rows = [
        ("chosen for", "the other side of a disagreement" if why.get("chosen_for") == "disagreement" else "relevance"),
        ("its passage was found by", found),
        (f"similarity to the question{searched}", f"{why.get('similarity', 0):.3f}"),
        *([(f"its passage's similarity to the question ({why['passage_share']:.0%} of relevance)",
            f"{why['passage_similarity']:.3f}")] if why.get("passage_share") else []),
        *([("the model's offset for these two languages (taken off)", f"{why['language_offset']:.3f}")]
          if why.get("language_offset") else []),
        ("relevance (what the answer or abstention is decided on)", f"{why.get('relevance', 0):.3f}"),
        (f"share of the question's terms{searched}", f"{why.get('term_overlap', 0):.3f}"),
        ("score", " + ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in parts.items() if k != "total" and v)
         + f" = {parts.get('total', 0):.3f}"),
    ]
    if why.get("ranked_by"):
        rows.append(("ranked by", _RANKED_BY.get(why["ranked_by"], why["ranked_by"])))
    if why.get("question_type"):
        rows.append(("the question asks for", f"{why['question_type']} ({'offered' if why.get('type_match') else 'not offered'})"))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<details class="qa-why"><summary>Why this quote</summary><table>{body}</table></details>'


def document_html(text: str, title: str, quotes: list[Quote], selected: int | None = None,
                  excluded: list[tuple[int, int, str]] = ()) -> str:
    """A whole source document: quotes highlighted (the selected one as `qa-selected`), clutter greyed.

    Args:
        excluded: (start, end, rule) spans left out of the index, shown dimmed with the rule on hover.
    """
    spans = [(q.start, q.end, *_mark(q.n, q.n == selected)) for q in quotes]
    spans += [(s, e, f'<span class="qa-excluded" title="left out: {html.escape(rule, quote=True)}">', "</span>")
              for s, e, rule in excluded]
    legend = '<div class="qa-meta">Highlighted: quoted. Greyed: left out as clutter (hover for the rule).</div>'
    return (f'<div class="qa-doc"><div class="qa-head">{html.escape(title)}</div>{legend}'
            f'<div class="qa-doc-text">{_wrap(text, spans)}</div></div>')


def pdf_page_html(png: bytes, width: float, height: float, page: int, label: str | None, boxes: list[dict],
                  n: int) -> str:
    """A PDF page as displayed, with quote `n`'s boxes on it: an image, and a box per line over it, placed in
    percent of the page so it scales with the image (boxes are in points from the displayed page's top left)."""
    import base64

    marks = "".join(
        f'<div class="qa-box" data-n="{n}" data-x0="{b["x0"]}" data-y0="{b["y0"]}" data-x1="{b["x1"]}" '
        f'data-y1="{b["y1"]}" style="left:{100 * b["x0"] / width:.3f}%;top:{100 * b["y0"] / height:.3f}%;'
        f'width:{100 * (b["x1"] - b["x0"]) / width:.3f}%;height:{100 * (b["y1"] - b["y0"]) / height:.3f}%"></div>'
        for b in boxes if b["page"] == page)
    name = f"page {page}" + (f" (labelled {html.escape(label)})" if label and label != str(page) else "")
    data = base64.b64encode(png).decode("ascii")
    return (f'<div class="qa-meta">Quote [{n}] on {name} of the PDF, boxed where its words are.</div>'
            f'<div class="qa-page" data-page="{page}" data-width="{width:.2f}" data-height="{height:.2f}">'
            f'<img alt="{name} of the PDF" src="data:image/png;base64,{data}">{marks}</div>')


def original_link(url: str, text: str) -> str:
    """A link that opens the live page scrolled to `text`, through a text fragment (`#:~:text=`); nothing for
    a URL that is not http(s) (a page's own canonical link could be anything)."""
    from urllib.parse import quote

    if not re.match(r"https?://", url, re.IGNORECASE):
        return ""
    words = text.split()
    enc = lambda s: quote(s, safe="")  # noqa: E731
    fragment = enc(" ".join(words)) if len(words) <= 8 else f"{enc(' '.join(words[:4]))},{enc(' '.join(words[-4:]))}"
    href = f"{url.split('#')[0]}#:~:text={fragment}"
    return (f'<div class="qa-meta"><a class="qa-original" href="{html.escape(href, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer">Open the original page at this quote</a> ({html.escape(url)})</div>')


CSS = """
.qa-sources, .qa-doc { font-size: 0.92rem; line-height: 1.45; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin-bottom: 8px; }
.qa-meta { color: var(--body-text-color-subdued); font-size: 0.82rem; margin: 2px 0 6px; }
.qa-context, .qa-doc-text { white-space: pre-wrap; }
.qa-doc-text { max-height: 520px; overflow-y: auto; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; }
.qa-sources mark, .qa-doc mark { background: #fde68a; color: #111; padding: 0 1px; }
.qa-doc mark.qa-selected { background: #f59e0b; outline: 2px solid #b45309; }
.qa-note { font-weight: 600; color: #b45309; }
.qa-empty { color: var(--body-text-color-subdued); }
.qa-excluded { color: var(--body-text-color-subdued); opacity: 0.55; text-decoration: line-through; }
.qa-why { margin-top: 6px; font-size: 0.82rem; }
.qa-page { position: relative; margin: 4px 0 10px; border: 1px solid var(--border-color-primary); }
.qa-page img { display: block; width: 100%; height: auto; }
.qa-box { position: absolute; background: rgba(245, 158, 11, 0.25); outline: 2px solid #b45309; }
.qa-why th { text-align: left; font-weight: 500; padding-right: 8px; color: var(--body-text-color-subdued); }
"""
