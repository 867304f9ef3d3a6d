"""Measure a model's language offsets and write them to `qa/language_offsets.json`.

    .venv/bin/python eval/language_offsets.py [--model multilingual-e5-small] [--dry-run]

A multilingual model's cosines sit higher or lower by the languages of the two texts: multilingual-e5's
run high between two Chinese texts and low between an English question and a Russian sentence, whatever
they say. A threshold measured on English would then quote nearly every Chinese sentence and abstain on
good answers across languages. So, per pair of languages (the question's, then the sentence's), this
measures the cosine of a question with the closest sentence it does not ask about, and records how far that
sits above the English-English level:

    offset(a, b) = mean over the questions in a of the highest cosine with a sentence in b of another
                   article − the same for English and English

The highest such cosine is what an unanswerable question brings to abstention; it is the tail of the
cosines, not their mean, that matters (Chinese-Chinese cosines sit 0.077 above the English ones on average,
and their best unrelated one 0.062, as they spread less). Measured on the `tune` part of XQuAD dev (the
even-indexed half of XQuAD in `../shared/datasets/xquad`, whose odd half is held out and never read): its 12
languages hold the same paragraphs and questions, so what differs between two languages is the language,
not the content. The `report` part is left to report on (eval/xquad.py). `across` is the mean offset over
pairs of two different languages, used for a pair that was not measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import xquad  # noqa: E402  (eval/xquad.py: the folders and questions of XQuAD dev)

OUT = xquad.ROOT / "qa" / "language_offsets.json"
LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")


def vectors(model: str, language: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tune part's questions in `language` and its quotable sentences, each with its article."""
    engine = xquad.engine_for(language, "tune", model)
    rows = engine.store.sentences(np.arange(engine.store.sentence_count()))
    keep = rows.quotable
    sentence_articles = np.array([span.source[:3] for span in rows.spans])[keep]  # "a04_p02.txt": article a04
    asked = xquad.questions(language, language, "tune")
    questions = np.stack(engine.embed([q.text for q in asked]))
    return questions, np.array([q.source[:3] for q in asked]), rows.vectors[keep], sentence_articles


def closest_unrelated(asked, sentences) -> float:
    """The mean over questions of the highest cosine with a sentence of another article."""
    questions, question_articles, vectors, sentence_articles = *asked[:2], *sentences[2:]
    cosines = questions @ vectors.T
    cosines[question_articles[:, None] == sentence_articles[None, :]] = -1.0
    return float(cosines.max(axis=1).mean())


def offsets(model: str, languages=LANGUAGES) -> dict:
    measured = {language: vectors(model, language) for language in languages}
    level = {(a, b): closest_unrelated(measured[a], measured[b]) for a in languages for b in languages}
    base = level["en", "en"]
    pairs = {a: {b: round(level[a, b] - base, 4) for b in languages} for a in languages}
    across = [v for a, row in pairs.items() for b, v in row.items() if a != b]
    return {"measured_on": "XQuAD dev, tune part (eval/language_offsets.py)", "english_level": round(base, 4),
            "across": round(float(np.mean(across)), 4), "pairs": pairs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--dry-run", action="store_true", help="print the offsets; write nothing")
    args = ap.parse_args(argv)
    found = offsets(args.model)
    if args.dry_run:
        print(json.dumps(found, indent=1))
        return 0
    table = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    table[args.model] = found
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(OUT)
    print(f"wrote {args.model}'s offsets to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
