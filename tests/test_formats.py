"""Document formats: PDFs drawn with known text at known positions, web pages, Word files.

Each PDF here is made by fpdf2, which writes every line at a baseline we choose (points from
the page's top left), then rotated, cropped, labelled or encrypted with pypdf. So a quote's
page and boxes are checked against where its words were drawn.
"""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest

from qa.ingest import formats
from qa.ingest.formats import Unreadable
from qa.text import normalize, tokenize

A4 = (595.28, 841.89)


def draw(pages: list[list[tuple[float, float, str, float]]], *, fonts: str = "helvetica") -> bytes:
    """A PDF whose page i holds pages[i]: (x, baseline y, text, font size), in points from the top left."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    for lines in pages:
        pdf.add_page()
        for x, y, text, size in lines:
            pdf.set_font(fonts, size=size)
            pdf.text(x, y, text)
    return bytes(pdf.output())


def transform(data: bytes, *, rotate: dict[int, int] | None = None, crop: dict[int, tuple] | None = None,
              labels: list[tuple[int, int, str, str]] | None = None, encrypt: tuple[str, str] | None = None) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import RectangleObject

    writer = PdfWriter()
    for i, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        if crop and i in crop:
            page.cropbox = RectangleObject(crop[i])
        writer.add_page(page)
        if rotate and i in rotate:
            writer.pages[i].rotate(rotate[i])
    for first, last, style, prefix in labels or []:
        writer.set_page_label(first, last, style=style, prefix=prefix)
    if encrypt:
        writer.encrypt(user_password=encrypt[0], owner_password=encrypt[1])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def body(first_y: float, lines: list[str], *, x: float = 72, step: float = 15, size: float = 11):
    return [(x, first_y + i * step, text, size) for i, text in enumerate(lines)]


def report() -> bytes:
    """Three pages with a running head, a page number, a footnote, a hyphenated word and a sentence
    that crosses from page 1 to page 2."""
    head = lambda n: [(72, 40, "Harbour Authority - Annual Review 2025", 9), (290, 810, str(n), 9)]
    page1 = head(1) + body(120, [
        "The harbour authority met in March to review the year.",
        "Members dis-",
        "cussed the dredging of the northern berth at length.",
        "The board agreed that the new tariff for container",
    ]) + [(72, 770, "1 The figures are taken from the audited accounts.", 8)]
    page2 = head(2) + body(120, [
        "ships would take effect in May after a public consultation.",
        "Revenue from cruise ships rose by twelve percent in the year.",
    ])
    page3 = head(3) + body(120, [
        "The pilots' union asked for a review of night shifts.",
        "A new tug will be delivered in the autumn of next year.",
    ])
    return draw([page1, page2, page3])


def quote(reading, sentence: str) -> tuple[int, int]:
    start = reading.text.index(sentence)
    return start, start + len(sentence)


def test_pdf_reads_the_body_and_lays_furniture_out_of_its_flow():
    r = formats.read("report.pdf", report())
    assert r.format == "pdf" and r.extractor.startswith("pypdfium2 ")
    crossing = "The board agreed that the new tariff for container\nships would take effect in May after a public consultation."
    assert crossing in r.text  # one span across the page break, nothing of the head, foot or notes inside
    head = "Harbour Authority - Annual Review 2025"
    spans = [(s.start, s.end, s.reason) for s in r.excluded]
    assert [r.text[a:b] for a, b, _ in spans].count(head) == 3
    assert {why for *_, why in spans} == {"running head", "page number"}
    assert [r.text[a:b] for a, b, why in spans if why == "page number"] == ["1", "2", "3"]
    note = "1 The figures are taken from the audited accounts."
    assert note in r.text and r.text.index(note) > r.text.index("autumn of next year")  # after the body, readable
    assert not any(a <= r.text.index(note) < b for a, b, _ in spans)
    assert "dis-\ncussed" in r.text and "discussed" in normalize(r.text)
    assert "discuss" in tokenize([r.text])[0]


def test_pdf_quote_across_a_page_carries_both_pages_and_boxes_where_it_was_drawn():
    r = formats.read("report.pdf", report())
    start, end = quote(r, "The board agreed that the new tariff for container\nships would take effect in May")
    where = r.locate(start, end)
    assert where["page"] == 1 and where["pages"] == [1, 2]
    assert [b["page"] for b in where["boxes"]] == [1, 2]
    first, second = where["boxes"]
    assert abs(first["x0"] - 72) <= 2 and first["y0"] < 165 <= first["y1"] + 3  # drawn at baseline 165 on page 1
    assert abs(second["x0"] - 72) <= 2 and second["y0"] < 120 <= second["y1"] + 3  # baseline 120 on page 2
    pages = {p.page for p in r.pages if p.start <= start < p.end}
    assert pages == {1}


def bulletin() -> bytes:
    """Two pages with a running head and a page number, and a table of three columns that starts at the
    foot of page 1 (its last row just above the page number) and goes on at the top of page 2."""
    head = lambda n: [(72, 40, "Port Statistics - Quarterly Bulletin", 9), (290, 810, str(n), 9)]
    row = lambda y, cells: [(x, y, cell, 10) for x, cell in zip((72, 250, 420), cells)]
    first = [("Berth", "Vessels", "Tonnes"), ("North quay", "112", "48,200"), ("South quay", "97", "41,050"),
             ("East pier", "64", "22,310")]
    second = [("West pier", "58", "19,870"), ("Ferry ramp", "203", "6,140"), ("Total", "534", "137,570")]
    page1 = head(1) + body(120, ["The table below gives the traffic of each berth in the quarter."])
    page1 += [c for i, cells in enumerate(first) for c in row(700 + 20 * i, cells)]
    page2 = head(2) + [c for i, cells in enumerate(second) for c in row(100 + 20 * i, cells)]
    return draw([page1, page2 + body(200, ["Traffic rose at every berth but the ferry ramp."])])


def test_pdf_table_across_two_pages_reads_row_by_row_with_both_pages_and_boxes():
    r = formats.read("bulletin.pdf", bulletin())
    rows = "Berth Vessels Tonnes\nNorth quay 112 48,200\nSouth quay 97 41,050\nEast pier 64 22,310\n" \
           "West pier 58 19,870\nFerry ramp 203 6,140\nTotal 534 137,570"
    assert rows in r.text  # row by row, and nothing of the head or the page number between the halves
    assert sorted(r.text[s.start:s.end] for s in r.excluded if s.reason == "page number") == ["1", "2"]
    start, end = quote(r, "East pier 64 22,310\nWest pier 58 19,870")
    where = r.locate(start, end)
    assert where["pages"] == [1, 2] and [b["page"] for b in where["boxes"]] == [1, 1, 1, 2, 2, 2]
    for box, x, y in zip(where["boxes"], (72, 250, 420) * 2, (760,) * 3 + (100,) * 3):
        assert abs(box["x0"] - x) <= 2 and box["y0"] < y <= box["y1"] + 3  # where each cell was drawn


def test_pdf_two_columns_are_read_in_column_order():
    left = body(140, ["Left column opens the story of", "the river crossing and its", "long history of ferries."], x=50)
    right = body(140, ["Right column tells how the", "bridge replaced the ferries", "in the year of the flood."], x=320)
    r = formats.read("columns.pdf", draw([[(50, 90, "The River Crossing", 18)] + left + right]))
    order = [r.text.index(s) for s in ("The River Crossing", "Left column opens", "long history of ferries.",
                                       "Right column tells", "in the year of the flood.")]
    assert order == sorted(order)


def test_pdf_column_with_a_figure_of_short_labels_is_still_a_column():
    # A paper's right column opens with a figure: many short labels beside the left column's lines. They
    # must not make the two columns look like a table's cells, which are read row by row.
    left = body(140, [f"Left column line {n} of the long story" for n in range(12)], x=50, size=10)
    labels = [(x, 140 + 15 * i, word, 7) for i, word in enumerate(["loop", "edge", "hot", "exit", "trace", "abort",
                                                                   "record"]) for x in (330, 430)]
    right = body(260, ["Right column text explains the", "figure above it in full words.",
                       "It ends the story of the page."], x=330, size=10)
    r = formats.read("figure.pdf", draw([left + labels + right]))
    story = "\n".join(f"Left column line {n} of the long story" for n in range(12))
    assert story in r.text  # the left column whole, no label inside it
    assert r.text.index(story) < r.text.index("Right column text explains the")


def test_pdf_note_at_the_foot_of_a_column_leaves_the_sentence_across_the_columns_whole():
    # A paper's first page: a copyright block in small type, without a marker, at the foot of the left
    # column; the right column's text runs further down the page than the block.
    left = body(140, [f"Left column line {n} of the harbour story." for n in range(24)]
                + ["In the end the harbour board met in March and"], x=50, step=14, size=10)
    block = body(690, ["Permission to copy this work is granted without fee", "provided that copies bear this notice.",
                       "Copyright 2024 Example Press"], x=50, step=9, size=7)
    right = body(140, ["agreed to build the new pier by the autumn."]
                 + [f"Right column line {n} of the harbour story." for n in range(44)], x=320, step=14, size=10)
    r = formats.read("paper.pdf", draw([left + block + right]))
    assert "met in March and\nagreed to build the new pier by the autumn." in r.text
    notes = "Permission to copy this work is granted without fee\nprovided that copies bear this notice."
    assert r.text.index(notes) > r.text.index("Right column line 43 of the harbour story.")
    assert not any(span.start <= r.text.index(notes) < span.end for span in r.excluded)  # a note stays quotable


def test_pdf_figure_between_the_halves_of_a_sentence_moves_after_its_paragraph():
    # A paper's figures stand at the top of a column: a sentence that runs on from the foot of the column before
    # goes on below the figure and its caption, in the next column and on the next page.
    labels = lambda y: [(x, y + 12 * i, word, 7) for i, word in enumerate(["loop", "edge", "hot", "exit", "trace"])
                        for x in (330, 430)]
    left = body(140, [f"Left column line {n} of the harbour story." for n in range(24)]
                + ["In the end the harbour board met in March and"], x=50, step=14, size=10)
    right = (labels(140) + [(330, 215, "Figure 1. Tonnage by berth, 2020 to 2024.", 8)]
             + body(250, ["agreed to build the new pier by the autumn."]
                    + [f"Right column line {n} of the harbour story." for n in range(30)]
                    + ["The tugs will be replaced when the"], x=330, step=14, size=10))
    page2 = ([(72, 100, "Table 2. Ships by kind", 8)]
             + [(x, 115 + 12 * i, cell, 8) for i, row in enumerate([("Kind", "2023", "2024"), ("Cruise", "41", "48")])
                for x, cell in zip((72, 200, 300), row)]
             + body(170, ["budget allows, the board said.", "Page two goes on with the rest of the report."],
                    size=10))
    r = formats.read("paper.pdf", draw([left + right, page2]))
    assert "met in March and\nagreed to build the new pier by the autumn." in r.text
    assert "replaced when the\nbudget allows, the board said." in r.text
    caption, table = r.text.index("Figure 1. Tonnage by berth"), r.text.index("Table 2. Ships by kind")
    # Each float stands after the line that ends the sentence, as near its place as it can, a paragraph of its own.
    assert r.text.index("the new pier by the autumn.") < caption < r.text.index("Right column line 0 ")
    assert r.text.index("the board said.") < table < r.text.index("Page two goes on")
    assert "by the autumn.\n\nloop loop\n" in r.text and "2024.\n\nRight column line 0 " in r.text
    assert [(p.page, r.text[p.start : p.end].split("\n")[0]) for p in r.pages][:2] == [
        (1, "Left column line 0 of the harbour story."), (2, "budget allows, the board said.")]


def test_pdf_table_cell_in_lower_case_is_not_taken_for_a_sentence_going_on():
    # The page before ends inside a sentence the document never finishes on the next page; the next page
    # opens with a table whose lower-case cell follows a gap. The table stays where it stands.
    page1 = body(120, [f"Line {n} of the harbour report, which goes on and on." for n in range(30)]
                 + ["The table below lists the ships by kind, and the"], size=10)
    rows = [("Kind", "2023", "2024"), ("Cruise", "41", "48"), ("cargo ships", "120", "131")]
    page2 = ([(x, 100 + 14 * i + (46 if i == 2 else 0), cell, 10) for i, row in enumerate(rows)
              for x, cell in zip((72, 250, 350), row)]
             + body(220, ["Revenue rose in both years, the board said in May.", "The report ends here."], size=10))
    r = formats.read("table.pdf", draw([page1, page2]))
    assert r.text.index("Cruise 41 48") < r.text.index("cargo ships 120 131") < r.text.index("Revenue rose")


def test_pdf_footnotes_at_the_foot_are_notes_each_its_own_paragraph():
    lines = body(120, [f"Body line {n} of the harbour report, which goes on." for n in range(20)])
    notes = [(72, 770, "1 The figures come from the audited accounts, which the board", 8),
             (72, 780, "approved in May.", 8), (72, 790, "2 The tariff was set in 2024.", 8)]
    r = formats.read("notes.pdf", draw([lines + notes]))
    first = "1 The figures come from the audited accounts, which the board\napproved in May."
    assert first + "\n\n2 The tariff was set in 2024." in r.text  # one note over two lines, then the next
    assert r.text.index(first) > r.text.index("Body line 19")


def test_pdf_title_over_two_lines_is_one_paragraph():
    # Large type steps further between its lines than the body does; that is not a paragraph break.
    title = [(72, 90, "A Survey of Harbour Dredging", 20), (72, 114, "Methods and Their Costs", 20)]
    lines = ["The harbour authority met in March to review", "the dredging methods used since 1990.",
             "Members compared the costs of each method", "over the last ten years of work on the",
             "northern berth and the channel to the sea."]
    r = formats.read("title.pdf", draw([title + body(160, lines)]))
    assert r.text.startswith("A Survey of Harbour Dredging\nMethods and Their Costs\n\nThe harbour authority")


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_pdf_boxes_on_rotated_and_cropped_pages_match_the_page_as_displayed(rotation):
    import pypdfium2 as pdfium

    lines = body(200, ["A rotated page still reads as text.", "Its boxes follow the page as shown."])
    data = transform(draw([lines]), rotate={0: rotation}, crop={0: (20, 30, 580, 800)})
    r = formats.read("rotated.pdf", data)
    start, end = quote(r, "A rotated page still reads as text.")
    (box,) = r.locate(start, end)["boxes"]
    # Where PDFium itself maps the drawn point (x=72, baseline y=200 from the top, so 641.89 in PDF space).
    pdf = pdfium.PdfDocument(data)
    page = pdf[0]
    width, height = page.get_size()
    scale = 10
    import ctypes

    import pypdfium2.raw as raw

    dx, dy = ctypes.c_int(), ctypes.c_int()
    raw.FPDF_PageToDevice(page.raw, 0, 0, round(width * scale), round(height * scale), 0, 72.0, A4[1] - 200,
                          ctypes.byref(dx), ctypes.byref(dy))
    x, y = dx.value / scale, dy.value / scale
    corners = [(box["x0"], box["y0"]), (box["x1"], box["y0"]), (box["x0"], box["y1"]), (box["x1"], box["y1"])]
    assert min(abs(cx - x) + abs(cy - y) for cx, cy in corners) <= 4  # the box has the drawn start at a corner
    assert 0 <= box["x0"] <= box["x1"] <= width + 1 and 0 <= box["y0"] <= box["y1"] <= height + 1


def test_pdf_page_labels_are_given_with_physical_pages():
    pages = [body(120, [f"Section {n} opens with a statement about the budget."]) for n in range(1, 5)]
    data = transform(draw(pages), labels=[(0, 1, "/r", ""), (2, 3, "/D", "A-")])
    r = formats.read("labelled.pdf", data)
    assert [(p.page, p.label) for p in r.pages] == [(1, "i"), (2, "ii"), (3, "A-1"), (4, "A-2")]
    start, end = quote(r, "Section 3 opens with a statement about the budget.")
    assert (r.locate(start, end)["page"], r.locate(start, end)["page_label"]) == (3, "A-1")


def test_pdf_with_an_owner_password_only_is_read():
    data = transform(report(), encrypt=("", "owner-secret"))
    assert "public consultation" in formats.read("locked.pdf", data).text


def broken_page_tree(texts: tuple[str, ...] = ("The first page of the file can be read.",), broken: int = 1) -> bytes:
    """A PDF of `texts`, one page each, whose page tree holds the number 42, not a page, at `broken` (0-based)."""
    font = len(texts) + 4  # after the catalog, the page tree, the pages and the broken entry
    kids, pages, contents = [], [], []
    for i, text in enumerate(texts):
        content = b"BT /F1 12 Tf 20 100 Td (%s) Tj ET" % text.encode("latin-1")
        contents.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        pages.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 500 200] /Contents %d 0 R "
                     b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (font + 1 + i, font))
    pages.insert(broken, b"42")
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(len(pages)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)),
               *pages, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", *contents]
    out, offsets = b"%PDF-1.4\n", []
    for n, body_ in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body_)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_a_pdf_page_that_cannot_be_loaded_is_left_out_and_said():
    """One broken page does not cost the document: the other pages are read, no sentence runs across the
    gap, and the reading says which page is missing."""
    pages = ("The council met on Monday and agreed that the", "budget for the new library was approved in full.")
    r = formats.read("gap.pdf", broken_page_tree(pages, broken=1))
    assert r.notes == ("page 2 of 3 cannot be loaded: left out",)
    assert r.text == "The council met on Monday and agreed that the\n\nbudget for the new library was approved in full."
    assert [(p.page, r.text[p.start:p.end]) for p in r.pages] == [
        (1, "The council met on Monday and agreed that the"), (3, "budget for the new library was approved in full.")]
    assert formats.read("ok.pdf", report()).notes == ()


def test_pdf_code_points_beyond_the_bmp_and_past_unicode():
    from qa.ingest.formats.pdf import _char

    # A broken font map can make PDFium give any 32-bit number for a character.
    assert [_char(c) for c in (0x41, 0, 0xD800, 0x110000, 0xFFFFFFFF)] == ["A"] + ["\ufffd"] * 4
    # Past the BMP (mathematical italics, emoji), PDFium gives the two halves of a UTF-16 pair.
    assert _char(0xD835, 0xDC5D) == "\U0001d45d" and _char(0xD83C, 0xDF34) == "\U0001f334"


@pytest.mark.parametrize("make, reason", [
    (lambda: transform(report(), encrypt=("user-secret", "owner-secret")), "needs a password"),
    (lambda: draw([[]]), "almost no text"),
    (lambda: b"%PDF-1.7\n" + b"garbage " * 100, "malformed PDF"),
    (lambda: b"", "empty (0 bytes)"),
    (lambda: broken_page_tree((), broken=0), "malformed PDF (page 1 of 1 cannot be loaded)"),
])
def test_unreadable_pdfs_say_why_in_one_line(make, reason):
    with pytest.raises(Unreadable) as info:
        formats.read("bad.pdf", make())
    assert reason in str(info.value) and "\n" not in str(info.value)


def test_pdf_text_without_spaces_is_reported():
    run_on = "Thecommitteediscussedthebudgetatlengthanddecidednothing" * 2
    with pytest.raises(Unreadable, match="no spaces between words"):
        formats.read("runon.pdf", draw([body(120, [run_on[:80]] * 6)]))


def test_pdf_page_limit(monkeypatch):
    monkeypatch.setenv("QA_MAX_PDF_PAGES", "2")
    with pytest.raises(Unreadable, match="too many pages .*QA_MAX_PDF_PAGES"):
        formats.read("report.pdf", report())


PAGE = """<!DOCTYPE html>
<!-- saved from url=(0036)https://news.example.org/river.html -->
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{title} | Example News</title>
<meta property="article:published_time" content="2024-05-02T10:00:00Z"></head>
<body><nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<div class="ad">Buy one, get one free!</div>
<article><h1>{title}</h1>
<p>{first}</p>
<p>The ferry service, which ran for ninety years, carried its last passengers on Sunday &amp; the crew
were thanked by the mayor. Engineers said the bridge would carry twelve thousand cars a day.</p>
</article>
<footer>© Example News. All rights reserved. <a href="/privacy">Privacy</a></footer></body></html>
"""


def page(charset: str, title: str, first: str) -> bytes:
    return PAGE.format(charset=charset, title=title, first=first).encode(charset)


def test_html_article_with_byte_offsets_in_the_saved_page():
    data = page("utf-8", "The new bridge opens", "The new bridge over the river opened on Friday after four years of work, "
                "and the old ferry — a symbol of the town — was retired.")
    r = formats.read("river.html", data)
    assert r.format == "html" and "Buy one" not in r.text and "Privacy" not in r.text and "Home" not in r.text
    assert r.metadata["title"].startswith("The new bridge opens") and r.metadata["date"] == "2024-05-02"
    assert r.metadata["url"] == "https://news.example.org/river.html"
    start, end = quote(r, "on Sunday & the crew\nwere thanked".replace("\n", " "))
    where = r.locate(start, end)
    assert data[where["source_start_byte"]:where["source_end_byte"]].decode() == "on Sunday &amp; the crew\nwere thanked"
    start, end = quote(r, "the old ferry — a symbol of the town — was retired.")
    assert data[r.locate(start, end)["source_start_byte"]:r.locate(start, end)["source_end_byte"]].decode() == \
        "the old ferry — a symbol of the town — was retired."


def test_html_in_windows_1251_is_decoded_by_its_declared_charset():
    data = page("windows-1251", "Новый мост открыт", "Новый мост через реку открылся в пятницу после четырёх лет "
                "работы, и старый паром был выведен из эксплуатации.")
    r = formats.read("most.html", data)
    start, end = quote(r, "Новый мост через реку открылся в пятницу")
    where = r.locate(start, end)
    assert data[where["source_start_byte"]:where["source_end_byte"]].decode("windows-1251") == \
        "Новый мост через реку открылся в пятницу"


STORY = """<html><head><title>Council keeps the night bus - Example Gazette</title>
<meta property="og:title" content="Council keeps the night bus"></head>
<body><div class="top"><a href="/">Example Gazette</a> <a href="/news">News</a> <a href="/jobs">Jobs</a></div>
<div class="headline-box"><h1>Council keeps the night bus</h1><span class="byline">By A. Writer</span></div>
<div id="content"><div class="story-body">
<p>The council voted on Tuesday to keep the night bus running for another three years, after a petition
signed by four thousand residents asked it not to cut the service.</p>
<p>The route links the hospital, the station and the university, and carries about six hundred people on
an ordinary weekday night, most of them shift workers and students.</p>
<p>Councillors said the cost would be met by raising the price of a season ticket by two per cent from
the first of April, which the bus company had asked for last year.</p>
</div>
<div class="sidebar"><h3>Most read</h3><ul>
<li><a href="/a1">Ten things to do this weekend</a></li><li><a href="/a2">Traffic warning for the ring road</a></li>
<li><a href="/a3">School wins national quiz</a></li><li><a href="/a4">New cafe opens in the square</a></li></ul></div>
</div><div class="foot"><a href="/terms">Terms</a> <a href="/privacy">Privacy</a> Example Gazette Ltd</div>
</body></html>"""


def test_html_article_keeps_its_headline_and_byline_and_leaves_the_page_around_it():
    r = formats.read("bus.html", STORY.encode())
    paragraphs = r.text.split("\n\n")
    assert paragraphs[:2] == ["Council keeps the night bus", "By A. Writer"]  # the headline, then its byline
    assert paragraphs[2].startswith("The council voted on Tuesday") and paragraphs[-1].endswith("last year.")
    for clutter in ("Most read", "Ten things", "Privacy", "Jobs", "Example Gazette"):
        assert clutter not in r.text
    assert r.extractor.startswith("readability-lxml ") and "trafilatura" in r.extractor


ARTICLE = ["The council voted on Tuesday to keep the night bus running for three more years.",
           "The route links the hospital, the station and the university every night.",
           "Councillors said a season ticket would cost two per cent more from April."]
STREAM = "\n".join(["Home News Jobs", *ARTICLE, "Related: Ten things to do this weekend in the city", "Terms Privacy"])


def spans(*texts: str) -> list[tuple[int, int]]:
    return [(STREAM.index(t), STREAM.index(t) + len(t)) for t in texts]


def article_of(first, second, links=()):
    from qa.ingest.formats.html import agreed_article

    linked = np.zeros(len(STREAM), bool)
    for a, b in spans(*links):
        linked[a:b] = True
    return [STREAM[a:b] for a, b in agreed_article(first, second, STREAM, linked)]


def test_html_extractors_that_agree_keep_the_article_whole_and_nothing_past_it():
    # readability keeps the article and the related link under it; trafilatura drops the middle
    # paragraph (its filters) and the first words of the last one.
    first = spans(*ARTICLE, "Related: Ten things to do this weekend in the city")
    second = spans(ARTICLE[0], ARTICLE[2][len("Councillors said "):])
    assert article_of(first, second) == ARTICLE


def test_html_extractors_that_disagree_take_trafilaturas_article_unless_it_is_a_listing():
    sidebar = spans("Related: Ten things to do this weekend in the city", "Terms Privacy")
    assert article_of(sidebar, spans(*ARTICLE)) == ARTICLE
    # trafilatura's pick is a list of links: readability's article is taken instead
    assert article_of(spans(*ARTICLE), sidebar, links=("Ten things to do this weekend in the city", "Terms Privacy")) == ARTICLE


@pytest.mark.parametrize("html", [
    "<html><head><title>App</title><script>render()</script></head><body><div id='root'></div></body></html>",
    "<html><body><ul>" + "".join(f"<li><a href='/a{i}'>Story {i}</a></li>" for i in range(30)) + "</ul></body></html>",
])
def test_html_without_an_article_is_reported(html):
    with pytest.raises(Unreadable, match="no article"):
        formats.read("shell.html", html.encode())


def test_html_page_without_text_is_reported_in_one_line_without_the_extractors_messages(caplog):
    # trafilatura logs "parsed tree length: 0" and "discarding data" for such a page, readability a traceback;
    # next to the build's one-line report they read as the product's own messages.
    for data in ("\ufeff<p>".encode("utf-16-le"), b"<html><body></body></html>"):
        with pytest.raises(Unreadable, match="no article"):
            formats.read("empty.html", data)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_docx_paragraphs_tables_and_footnotes_with_their_paragraph():
    import docx

    d = docx.Document()
    d.core_properties.title = "Harbour memo"
    d.add_paragraph("The harbour master said the new pier will open in March.")
    table = d.add_table(rows=2, cols=2)
    for (i, j), text in {(0, 0): "Berth", (0, 1): "Depth", (1, 0): "North", (1, 1): "Twelve metres"}.items():
        table.cell(i, j).text = text
    d.add_paragraph("Shipping companies welcomed the decision to deepen the berth.")
    out = io.BytesIO()
    d.save(out)
    r = formats.read("memo.docx", out.getvalue())
    assert r.text.split("\n\n") == ["The harbour master said the new pier will open in March.", "Berth", "Depth",
                                    "North", "Twelve metres",
                                    "Shipping companies welcomed the decision to deepen the berth."]
    start, end = quote(r, "welcomed the decision")
    assert r.locate(start, end) == {"paragraph": 5, "paragraph_start": 19, "paragraph_end": 40, "part": "body"}
    assert r.metadata["title"] == "Harbour memo"
    with pytest.raises(Unreadable, match="not a readable Word file"):
        formats.read("broken.docx", b"PK\x03\x04 not really a zip")


def test_every_other_format_is_named_with_its_reason():
    with pytest.raises(Unreadable, match=r"^\.pptx: format not supported"):
        formats.read("slides.pptx", b"anything")


def mixed_folder(folder) -> None:
    """Text files, a PDF, a web page and a Word file side by side, and one format that is not read."""
    import shutil

    import docx

    from conftest import SEEDS

    folder.mkdir()
    for path in sorted(SEEDS.iterdir())[:2]:
        shutil.copy(path, folder / path.name)
    (folder / "review.pdf").write_bytes(report())
    (folder / "river.html").write_bytes(page("utf-8", "The new bridge opens", "The new bridge over the river "
                                             "opened on Friday after four years of work, and the old ferry was retired."))
    d = docx.Document()
    d.add_paragraph("The harbour master said the new pier will open in March after the dredging is complete.")
    d.save(folder / "memo.docx")
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04")


def test_a_mixed_folder_builds_answers_and_every_quote_reproduces(tmp_path, embedder):
    from qa.build.build import build_index, load_index
    from qa.engine import Engine

    seeds = tmp_path / "seeds"
    mixed_folder(seeds)
    report_ = build_index(seeds, tmp_path / "index", embedder=embedder)
    assert [s.source for s in report_.skipped] == ["slides.pptx"]
    engine = Engine.from_index(load_index(tmp_path / "index", seeds=seeds), embedder)
    engine.seeds = seeds  # as Engine.open sets it: the files quotes are located in
    expected = {"When will the new tariff for container ships take effect?": ("review.pdf", "pdf"),
                "When did the ferry carry its last passengers?": ("river.html", "html"),
                "When will the new pier open?": ("memo.docx", "docx")}
    for question, (source, kind) in expected.items():
        answer = engine.ask(question)
        q = answer.quotes[0]
        assert (q.source, q.format) == (source, kind)
        for quote in answer.quotes:
            assert engine.document(quote.source)[quote.start : quote.end] == quote.text
        data = q.to_dict()
        if kind == "pdf":
            assert data["page"] in (1, 2) and data["boxes"] and data["derived_sha256"] and data["extractor"]
            assert "Annual Review" not in q.text
        elif kind == "html":
            raw = (seeds / source).read_bytes()[data["source_start_byte"]:data["source_end_byte"]].decode()
            assert " ".join(raw.replace("&amp;", "&").split()) == " ".join(q.text.split())
        else:
            assert data["paragraph"] == 0 and data["part"] == "body"


def test_export_of_a_pdf_quote_is_verified_and_a_changed_pdf_or_extractor_is_reported(tmp_path, embedder):
    import json

    from qa import export
    from qa.build.build import build_index, load_index
    from qa.engine import Engine
    from qa.verify import verify

    seeds = tmp_path / "seeds"
    mixed_folder(seeds)
    build_index(seeds, tmp_path / "index", embedder=embedder)
    engine = Engine.from_index(load_index(tmp_path / "index", seeds=seeds), embedder)
    engine.seeds = seeds  # as Engine.open sets it: the files quotes are located in
    answer = engine.ask("When will the new tariff for container ships take effect?")
    for suffix in (".json", ".csv"):
        path = export.write(tmp_path / f"answers{suffix}", [export.record(answer, engine.document)])
        records = export.read(path)
        assert records[0]["quotes"][0]["boxes"] == answer.quotes[0].location["boxes"]
        assert verify(records, seeds) == (len(answer.quotes), [])
    records = json.loads(json.dumps(records))
    records[0]["quotes"][0]["extractor"] = "pypdfium2 0.0.1; qa pdf 0"
    checked, problems = verify(records, seeds)
    assert [p.kind for p in problems] == ["extractor"] and "0.0.1" in problems[0].detail
    (seeds / "review.pdf").write_bytes(draw([body(120, ["A different report altogether, with other words."])]))
    checked, problems = verify(export.read(tmp_path / "answers.json"), seeds)
    assert {p.kind for p in problems} == {"changed"}


WORDS = ["harbour", "tariff", "budget", "council", "ferry", "bridge", "river", "report", "review", "pier",
         "dredging", "shipping", "berth", "tug", "pilot", "night", "year", "March", "May", "agreed"]


@pytest.fixture(scope="module")
def settings_for_pdfs():
    from hypothesis import HealthCheck, settings

    return settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))


def test_any_drawn_pdf_reads_into_spans_that_hold(settings_for_pdfs):
    """Property: whatever lines a PDF holds, every line drawn is in the derived text whole or excluded as
    furniture, spans are in order and inside the text, and every box lies on its page."""
    from hypothesis import given
    from hypothesis import strategies as st

    line = st.lists(st.sampled_from(WORDS), min_size=3, max_size=9).map(" ".join)
    page_lines = st.lists(line, min_size=1, max_size=12)

    @settings_for_pdfs
    @given(st.lists(page_lines, min_size=1, max_size=4), st.booleans())
    def check(pages, numbered):
        drawn = [body(100, lines, step=18) + ([(290, 800, str(n + 1), 9)] if numbered else [])
                 for n, lines in enumerate(pages)]
        try:
            r = formats.read("drawn.pdf", draw(drawn))
        except Unreadable as exc:  # too little text to be a document: said in one line
            assert "almost no text" in str(exc) and sum(len(t) for p in pages for t in p) < 40
            return
        spans = sorted([(s.start, s.end) for s in r.excluded] + [(p.start, p.end) for p in r.pages])
        assert all(0 <= a <= b <= len(r.text) for a, b in spans)
        assert [s.start for s in r.excluded] == sorted(s.start for s in r.excluded)
        excluded = [r.text[s.start : s.end] for s in r.excluded]
        for lines in pages:
            for text in lines:
                assert text in r.text or text in excluded
        for a, b in ((p.start, p.end) for p in r.pages):
            for box in r.locate(a, b)["boxes"]:
                assert 0 <= box["x0"] <= box["x1"] <= A4[0] + 1 and 0 <= box["y0"] <= box["y1"] <= A4[1] + 1

    check()
