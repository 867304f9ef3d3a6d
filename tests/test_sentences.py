from conftest import SEEDS, read_source

from qa.ingest.layout import split_blocks, split_lines
from qa.ingest.sentences import split_sentences


def texts(raw: str) -> list[str]:
    return [s.text for s in split_sentences(raw)]


def test_every_seed_sentence_reproduces_from_its_offsets():
    for path in sorted(SEEDS.glob("*.txt")):
        raw = read_source(SEEDS, path.name)
        sentences = split_sentences(raw)
        assert sentences
        for s in sentences:
            assert raw[s.start : s.end] == s.text
            assert s.text == s.text.strip()


def test_abbreviations_initials_and_decimals_do_not_end_sentences():
    raw = "Sanctions by the U.S. and the E.U. hit Minsk on Oct. 23. Gen. J. Smith spoke. It cost 2.5 billion. Next one."
    assert texts(raw) == [
        "Sanctions by the U.S. and the E.U. hit Minsk on Oct. 23.",
        "Gen. J. Smith spoke.",
        "It cost 2.5 billion.",
        "Next one.",
    ]


def test_footnote_markers_and_closing_quotes_stay_with_their_sentence():
    raw = "They met.[33] He said “yes.” Then “no”. [1] BRICS grew."
    assert texts(raw) == ["They met.[33]", "He said “yes.”", "Then “no”.", "[1] BRICS grew."]


def test_hard_line_breaks_inside_a_paragraph_do_not_split_sentences():
    raw = "On August 20, a meeting took place in Minsk between\nthe presidents of Belarus and Iran – A and Masoud\nPezeshkian. During the talks\nthey agreed."
    assert texts(raw) == [
        "On August 20, a meeting took place in Minsk between\nthe presidents of Belarus and Iran – A and Masoud\nPezeshkian.",
        "During the talks\nthey agreed.",
    ]


def test_bullets_headings_and_blank_lines_are_boundaries():
    raw = "Key Points\n\n  • First point here\n  • Second point, no period\nFacing sanctions\nIran remains under sanctions."
    assert texts(raw) == ["Key Points", "First point here", "Second point, no period", "Facing sanctions", "Iran remains under sanctions."]


def test_crlf_lines_keep_raw_offsets():
    raw = "Title line\r\n\r\nFirst sentence. Second\r\nsentence."
    lines = split_lines(raw)
    assert [ln.text for ln in lines] == ["Title line", "", "First sentence. Second", "sentence."]
    ss = split_sentences(raw)
    assert [raw[s.start : s.end] for s in ss] == ["Title line", "First sentence.", "Second\r\nsentence."]
    assert len(split_blocks(raw)) == 2
