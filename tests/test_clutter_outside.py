"""Clutter detection on text nobody here wrote the rules from.

- Clean text survives: msmarco-5k and dbpedia-5k written as documents (one file per
  entry, title line first) lose no entry and at most 0.2 % of their characters.
- Clutter is still caught: 16 articles with other sites' clutter, every line tagged
  by hand (`T ` text, `C ` clutter). Articles 01-06 were used while writing the rules
  (dev); 07-16 are the held-out test part docs/evaluation.md reports and the floors sit on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, shared_dataset

from qa.ingest.clutter import find_clutter as find_boilerplate, find_clutter_corpus as find_boilerplate_corpus
from qa.evaluation.beir import read_corpus
from qa.evaluation.documents import entries, exclusion_stats

ARTICLES = ROOT / "tests" / "data" / "clutter"
LANGUAGES = ROOT / "tests" / "data" / "languages"


def tagged_article(path: Path) -> tuple[str, list[tuple[int, int, str]]]:
    """The document (tags stripped) and each non-blank line's (start, end, tag)."""
    lines, spans, pos = [], [], 0
    for line in path.read_text(encoding="utf-8").split("\n"):
        text = line[2:] if line else ""
        if line:
            lead = len(text) - len(text.lstrip())
            trail = len(text) - len(text.rstrip())
            if text.strip():
                spans.append((pos + lead, pos + len(text) - trail, line[0]))
        lines.append(text)
        pos += len(text) + 1
    return "\n".join(lines), spans


def score_articles(paths: list[Path]) -> tuple[float, list[str], list[str]]:
    """Share of clutter lines excluded, the clutter lines kept, and the text lines excluded."""
    docs = {p.name: tagged_article(p) for p in paths}
    found = find_boilerplate_corpus({name: text for name, (text, _) in docs.items()})
    caught, total, missed, lost = 0, 0, [], []
    for name, (text, spans) in docs.items():
        ex = found[name]
        for start, end, tag in spans:
            if tag == "C":
                total += 1
                if any(e.start <= start and end <= e.end for e in ex):
                    caught += 1
                else:
                    missed.append(f"{name}: {text[start:end]}")
            elif any(e.start < end and start < e.end for e in ex):
                lost.append(f"{name}: {text[start:end]}")
    return caught / total, missed, lost


def article_paths(part: str) -> list[Path]:
    paths = sorted(ARTICLES.glob("*.txt"))
    assert len(paths) == 16
    return paths[:6] if part == "dev" else paths[6:]


def test_tagged_articles_are_well_formed():
    for path in sorted(ARTICLES.glob("*.txt")):
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
            assert not line or line[:2] in ("T ", "C "), f"{path.name}:{n} has no tag"


@pytest.mark.parametrize("part", ["dev", "test"])
def test_other_sites_clutter_is_caught_and_their_text_kept(part):
    share, missed, lost = score_articles(article_paths(part))
    assert lost == [], "article text excluded:\n" + "\n".join(lost)
    # Floors on the held-out part sit just under docs/evaluation.md's measured 83/110 (0.755).
    assert share >= (0.90 if part == "dev" else 0.74), f"caught {share:.3f}; missed:\n" + "\n".join(missed)


def test_kinds_of_clutter_are_each_caught_somewhere():
    """Each kind of clutter in the articles is caught at least once in the held-out part."""
    _, missed, _ = score_articles(article_paths("test"))
    docs = {p.name: tagged_article(p)[0] for p in article_paths("test")}
    found = find_boilerplate_corpus(docs)
    reasons = {e.reason for ex in found.values() for e in ex}
    for rule in ["cookie notice", "metadata: byline", "metadata: photo credit", "menu", "footer", "list heading",
                 "site label", "call to action"]:
        assert rule in reasons, f"no {rule!r} found in the held-out articles"


def _corpus(name: str) -> tuple[dict[str, str], dict[str, str]]:
    docs = entries(read_corpus(shared_dataset(name)))
    return {n: text for n, (_, _, text) in docs.items()}, {n: title for n, (_, title, _) in docs.items()}


@pytest.mark.parametrize("name", ["msmarco-5k", "dbpedia-5k"])
def test_clean_outside_text_is_never_lost(name):
    texts, titles = _corpus(name)
    stats = exclusion_stats(texts, titles)
    assert stats.documents == 5000
    assert stats.lost_whole == [], f"entries lost whole: {stats.lost_whole[:5]}"
    assert stats.excluded_chars / stats.chars <= 0.002, stats.to_dict()


def test_a_file_that_is_all_promotion_is_still_kept():
    """Clutter is relative to an article; a file holding only a promotion was put there on purpose."""
    raw = "Click here to learn more about the weather in Jamaica, this will help you to plan what to pack.\n"
    assert find_boilerplate(raw) == []


@pytest.mark.parametrize("sentence", [
    "Netflix added 5 million subscribers in the quarter, the company said.",
    "Medicare Part B requires you to pay a yearly deductible of $183 in 2017.",
    "The city will offer free bus rides during the first three months of construction.",
    "Subscription television grew quickly in the 1990s, and the newsletter industry followed.",
    "So You Think You Can Dance is an American televised dance competition.",
])
def test_news_and_reference_sentences_with_offer_words_are_kept(sentence):
    raw = f"Some title\n\n{sentence} It was reported widely at the time.\n"
    assert [e for e in find_boilerplate(raw) if "Some title" not in raw[e.start:e.end]] == []


@pytest.mark.parametrize("name", ["ar_article.txt", "ru_article.txt", "zh_article.txt"])
def test_other_languages_lose_no_text_as_clutter(name):
    text = (LANGUAGES / name).read_text(encoding="utf-8")
    assert find_boilerplate(text) == []


def test_a_block_repeated_across_a_folder_is_left_out_of_the_built_index(tmp_path, embedder):
    """A site's template (a tagline under every article) is clutter; the build sees the whole folder."""
    from qa.build.build import build_index, load_index

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    bodies = ["The council approved the new library budget on Tuesday after a long debate.",
              "The river cleanup collected four tonnes of waste over the weekend, organisers said.",
              "The museum will open its textile gallery to visitors again in the spring."]
    for n, body in enumerate(bodies):
        (seeds / f"a{n}.txt").write_text(f"Story {n}\n\n{body}\n\nCoastal Daily, independent local news since 1902\n",
                                         encoding="utf-8")
    build_index(seeds, tmp_path / "index", embedder=embedder)
    idx = load_index(tmp_path / "index")
    assert {e["reason"] for e in idx.exclusions} == {"template clutter"} and len(idx.exclusions) == 3
    assert not any("Coastal Daily" in p.text for p in idx.passages)
    assert sum("four tonnes" in p.text for p in idx.passages) == 1
