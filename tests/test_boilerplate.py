"""Clutter is found by general rules: on the seeds, and on an article written for this test."""

from conftest import SEEDS, read_source

from qa.ingest.clutter import find_clutter as find_boilerplate
from qa.ingest.documents import Document
from qa.ingest.passages import split_passages

# Clutter of a different site than any seed: cookie banner, newsletter box,
# "read more" teasers with relative dates, share bar, copyright line, a menu.
ARTICLE = """Advertisement
We use cookies to improve your experience. Accept all cookies
Harbour reopens after storm repairs

The port authority said on Monday that the northern harbour would reopen to cargo ships next week.
Repairs to the breakwater cost 14 million euros and took five months, officials said.

Sign up for our morning briefing and get the day's news in your inbox.

The authority expects traffic to return to normal levels by the end of the year.

Related stories
Ferry timetable changes for winter
3 hours ago
Fishermen protest new quotas
Yesterday, 14:05
Share on Facebook
Share via email
© 2025 Coastal Daily. All rights reserved.
Home
World
Business
Sport
"""


def excluded_text(raw: str) -> list[str]:
    return [raw[e.start : e.end] for e in find_boilerplate(raw)]


def test_own_article_clutter_is_excluded_and_news_is_kept():
    out = excluded_text(ARTICLE)
    for clutter in ["Advertisement", "Accept all cookies", "Sign up for our morning briefing", "Related stories",
                    "Ferry timetable changes", "3 hours ago", "Share on Facebook", "Share via email", "© 2025",
                    "Home", "World", "Business", "Sport"]:
        assert any(clutter in x for x in out), f"not excluded: {clutter}"
    for news in ["Harbour reopens", "port authority said", "breakwater cost", "expects traffic"]:
        assert not any(news in x for x in out), f"wrongly excluded: {news}"


def test_own_article_passages_hold_no_clutter():
    doc = Document("coastal.txt", ARTICLE, "x", "Harbour reopens")
    text = " ".join(p.text for p in split_passages(doc, find_boilerplate(ARTICLE)))
    assert "breakwater" in text
    for clutter in ["cookies", "Sign up", "Share", "©", "Related stories", "Sport"]:
        assert clutter not in text


def test_seed_clutter_is_excluded_by_rule():
    reasons = {}
    for path in sorted(SEEDS.glob("*.txt")):
        raw = read_source(SEEDS, path.name)
        for e in find_boilerplate(raw):
            reasons[raw[e.start : e.end]] = e.reason
    joined = "\n".join(reasons)
    for clutter in ["Free Trial", "Claim Your Limited-Time Discount", "Where Should You Invest", "MarketBeat keeps track",
                    "five stocks", "enter your email address", "Share it with a colleague", "Latest news",
                    "09.Jan.2026", "Solidarity Deferred", "Search Headlines", "Recent Videos"]:
        assert clutter in joined, f"not excluded: {clutter}"
    assert all(reason for reason in reasons.values())


def test_quoted_speech_addressing_you_is_not_clutter():
    raw = 'Lukashenko told him Belarus was “ready to cooperate with you on all issues — from providing your country with food.”'
    assert find_boilerplate(raw) == []


def test_wrapped_prose_is_never_a_menu():
    raw = "Thus, the rapprochement is not just\na diplomatic move, but a structural\nresponse to pressure, aimed at\nbuilding an architecture."
    assert find_boilerplate(raw) == []
