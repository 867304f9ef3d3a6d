"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no browser download).

Types a question, sees a quote with its citation and the highlighted source, checks that
hostile text shows as text, that no request left 127.0.0.1, and saves screenshots.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def page():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        profile = tempfile.mkdtemp(prefix="qa-chromium-")
        browser = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                       args=FLAGS, viewport={"width": 1400, "height": 1000})
        pg = browser.new_page()
        pg.requests = []
        pg.dialogs = []
        pg.on("request", lambda r: pg.requests.append(r.url))
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
        yield pg
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


def ask(page, question: str) -> None:
    box = page.locator("#qa-question textarea")
    box.fill(question)
    page.locator("#qa-ask").click()


def test_question_to_quotes_citations_and_highlighted_source(page, app_url):
    page.goto(app_url)
    ask(page, "How many agreements did Belarus and Iran sign?")
    mark = page.locator("#qa-sources mark").first
    mark.wait_for(timeout=90_000)
    chat = page.locator("#qa-chat")
    assert "[1]" in chat.inner_text()
    panel = page.locator("#qa-sources").inner_text()
    assert ".txt:" in panel and "differ" in panel
    assert page.locator("#qa-sources .qa-card").count() >= 2
    selected = page.locator("#qa-document mark.qa-selected")
    selected.wait_for(timeout=30_000)
    page.wait_for_timeout(800)  # the scroll runs after the update
    flat = lambda t: " ".join(t.split())  # noqa: E731
    assert flat(selected.inner_text()) == flat(page.locator("#qa-card-1 mark").inner_text())
    # Scrolled into view inside the document viewer, not just present somewhere below.
    box, view = selected.bounding_box(), page.locator("#qa-document .qa-doc-text").bounding_box()
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"] + 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-answer.png"), full_page=True)


def test_hostile_text_shows_as_text_and_never_runs(page, app_url):
    question = "What was printed on the ferry tickets? <img src=x onerror=alert(1)>"
    ask(page, question)
    page.locator("#qa-sources .qa-card", has_text="onerror").first.wait_for(timeout=90_000)
    page.wait_for_timeout(1000)
    assert page.dialogs == []
    assert "<img src=x onerror=alert(1)>" in page.locator("#qa-chat").inner_text()
    assert "<img src=x onerror=alert(1)>" in page.locator("#qa-sources").inner_text()
    assert page.locator("#qa-chat img[src='x'], #qa-sources img[src='x'], #qa-document img[src='x']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "browser-xss.png"), full_page=True)


def test_a_two_turn_conversation_reads_the_follow_up_with_the_first(page, app_url):
    page.locator("#qa-new").click()
    page.wait_for_function("() => !document.querySelector('#qa-chat')?.innerText.includes('ferry')", timeout=30_000)
    ask(page, "Who is Dmitry Pantus?")
    page.locator("#qa-sources .qa-card", has_text="Pantus").first.wait_for(timeout=90_000)
    ask(page, "Whom did he meet in Tehran?")
    page.wait_for_function("() => document.querySelector('#qa-chat').innerText.includes('Read with your earlier question')",
                           timeout=90_000)
    chat = page.locator("#qa-chat").inner_text()
    last = chat[chat.rindex("Whom did he meet in Tehran?"):]
    assert "Read with your earlier question: “Who is Dmitry Pantus?”" in last
    assert "Nasirzadeh" in last and "[1]" in last
    page.screenshot(path=str(ARTIFACTS / "browser-conversation.png"), full_page=True)


def test_why_this_quote_and_the_download_give_what_the_cli_export_gives(page, app_url, app_engine):
    from qa import export
    from qa.verify import verify

    why = page.locator("#qa-sources details.qa-why").first
    why.locator("summary").click()
    assert "its passage was found by" in why.inner_text() and "score" in why.inner_text()
    with page.expect_download(timeout=30_000) as info:
        page.locator("#qa-export").click()
    path = info.value.path()
    records = export.read(Path(path).rename(Path(path).with_suffix(".json")))
    assert records[0]["question"] == "Whom did he meet in Tehran?" and records[0]["read_as"]
    assert records[0]["index_build"] == app_engine.build
    checked, problems = verify(records, app_engine.seeds)
    assert checked >= 1 and problems == []


def test_the_source_filter_is_a_search_box_and_answers_come_from_the_matches(page, app_url, app_engine):
    """Thousands of sources make a checkbox per file unusable; a search box narrows them instead."""
    name = sorted(app_engine.sources)[1]
    page.locator("#qa-new").click()
    page.get_by_text("Options").click()
    field = page.locator("#qa-source-filter textarea")
    field.fill(name[:12])
    page.wait_for_function(f"() => document.querySelector('#qa-source-note').innerText.includes('{name}')",
                           timeout=30_000)
    assert "Answering from 1 of" in page.locator("#qa-source-note").inner_text()
    ask(page, "How many agreements did Belarus and Iran sign?")
    page.locator("#qa-sources .qa-card").first.wait_for(timeout=90_000)
    cards = page.locator("#qa-sources .qa-card")
    assert cards.count() >= 1 and all(name in cards.nth(i).inner_text() for i in range(cards.count()))
    field.fill("no-such-source-anywhere")
    page.wait_for_function("() => document.querySelector('#qa-source-note').innerText.includes('No source matches')",
                           timeout=30_000)
    ask(page, "How many agreements did Belarus and Iran sign?")
    page.wait_for_function("() => document.querySelector('#qa-chat').innerText.includes('no source matches')",
                           timeout=30_000)
    field.fill("")


def test_no_request_left_the_machine(page, app_url):
    assert page.requests, "the page made no requests at all?"
    hosts = {urlparse(u).hostname for u in page.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, hosts


@pytest.fixture(scope="module")
def mixed_app_url(tmp_path_factory, embedder):
    """The app over a folder of text files, a PDF, a web page and a Word file."""
    from test_formats import mixed_folder

    import app as app_module
    from qa.engine import Engine
    from qa.settings import IndexSettings

    root = tmp_path_factory.mktemp("mixed-app")
    mixed_folder(root / "seeds")
    engine = Engine.open(root / "seeds", root / "index", IndexSettings(), notify=lambda m: None)
    demo = app_module.build_app(engine)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, url, _ = app_module.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True)
    yield url
    demo.close()


def test_a_pdf_quote_shows_its_page_with_boxes_where_the_words_were_drawn(page, mixed_app_url):
    page.goto(mixed_app_url)
    ask(page, "When will the new tariff for container ships take effect?")
    image = page.locator("#qa-document .qa-page img").first
    image.wait_for(timeout=90_000)
    page.wait_for_timeout(800)  # the scroll to the selected quote runs after the update
    # Both rectangles in one call: a scroll between two measurements would move one and not the other.
    width, height, img, box = page.evaluate("""() => {
        const holder = document.querySelector('#qa-document .qa-page');
        const rect = (el) => { const r = el.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; };
        return [parseFloat(holder.dataset.width), parseFloat(holder.dataset.height),
                rect(holder.querySelector('img')), rect(holder.querySelector('.qa-box'))];
    }""")
    assert img["width"] > 200 and abs(img["height"] / img["width"] - height / width) < 0.01
    # The quoted line "The board agreed that the new tariff for container" was drawn at x = 72 pt, baseline 165 pt.
    x0 = (box["x"] - img["x"]) / img["width"] * width
    top = (box["y"] - img["y"]) / img["height"] * height
    bottom = (box["y"] + box["height"] - img["y"]) / img["height"] * height
    assert abs(x0 - 72) <= 2 and top < 165 <= bottom + 3
    assert "page 1" in page.locator("#qa-document").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-pdf-quote.png"), full_page=True)


def test_a_web_page_quote_is_highlighted_with_a_link_to_the_live_page_at_it(page, mixed_app_url):
    page.goto(mixed_app_url)
    ask(page, "When did the ferry carry its last passengers?")
    selected = page.locator("#qa-document mark.qa-selected")
    selected.wait_for(timeout=90_000)
    assert "last passengers on Sunday" in " ".join(selected.inner_text().split())
    link = page.locator("#qa-document a.qa-original")
    href = link.get_attribute("href")
    assert href.startswith("https://news.example.org/river.html#:~:text=") and link.get_attribute("target") == "_blank"
