from conftest import SEEDS, read_source

from qa.ingest.clutter import find_clutter as find_boilerplate
from qa.ingest.documents import read_sources
from qa.ingest.metadata import describe
from qa.ingest.passages import _windows, split_passages


def test_windows_take_whole_sentences_with_overlap():
    assert _windows([10, 60, 10, 10, 80, 5, 5], 80, 1) == [(0, 2), (2, 3), (4, 4), (5, 6)]
    assert _windows([30, 30, 30, 30], 70, 2) == [(0, 1), (1, 2), (2, 3)]
    assert _windows([100], 80, 1) == [(0, 0)]
    assert _windows([], 80, 1) == []


def test_seed_passages_reproduce_and_never_touch_excluded_text():
    files, _ = read_sources(SEEDS)
    for f in files:
        exclusions = find_boilerplate(f.text)
        doc = describe(f, exclusions, {})
        passages = split_passages(doc, exclusions, max_words=80, overlap=1)
        assert passages
        raw = read_source(SEEDS, f.source)
        for p in passages:
            assert raw[p.start : p.end] == p.text
            for e in exclusions:
                assert p.end <= e.start or p.start >= e.end, (p.id, e)
