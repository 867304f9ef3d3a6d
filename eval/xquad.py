"""XQuAD through the product: does the first quote hold the answer, in a language and across languages?

    .venv/bin/python eval/xquad.py --docs ru --questions en --model multilingual-e5-small [--part tune|report|all]
    .venv/bin/python eval/xquad.py --table [--models all-MiniLM-L6-v2,multilingual-e5-small] [--json]
    .venv/bin/python eval/xquad.py --absent --docs en --questions en --model ...   # questions about articles not in the folder
    .venv/bin/python eval/xquad.py --mixed [--part report] [--json]   # half the articles in English, half in Russian

Data: `../shared/datasets/xquad` (the even-indexed half of XQuAD; the odd half is held out and never read).
Each paragraph is written as one document (its article's title, a blank line, the paragraph), the folder is
built with `qa build`'s code, and every question is asked with `Engine.ask`. A quote counts when it contains
the gold answer span of the documents' language (the translations are parallel: the same question id in
every file). Reported per run: the share of questions whose first quote holds the answer, whose any quote
does, whose first quote is from the right paragraph, and how many abstained.

`--part`: the articles are split in two, alternately (`tune`: the 1st, 3rd, … of the half here; `report`:
the 2nd, 4th, …), so settings are chosen on one part and reported on the other. `--absent` builds the
folder from every other article of the part and asks the questions of the rest: each should abstain.
`--sweep` answers without abstaining and prints, per threshold on the best quote's relevance, how many
answerable questions would abstain and how many about absent articles would.
`--mixed` writes the part's articles alternately in English and Russian into one folder, builds it with
`--model auto` (no model named), and asks every question in English and in Russian: each group of rows is
the questions in one language about the articles in one language.
Built folders are kept under `~/.cache/qa-cite/xquad`, keyed by language, part and model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "datasets" / "xquad"
CACHE = Path.home() / ".cache" / "qa-cite" / "xquad"
PAIRS = [("en", "en"), ("ru", "ru"), ("ar", "ar"), ("zh", "zh"), ("ru", "en"), ("ar", "en"), ("zh", "en")]
ABSENT = [("en", "en"), ("ru", "ru"), ("ar", "ar"), ("zh", "zh"), ("ru", "en"), ("ar", "en"), ("zh", "en")]


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    answer: str  # in the documents' language
    source: str  # the paragraph's file


def articles(lang: str) -> list[dict]:
    return json.loads((DATA / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]


def part_of(index: int, part: str) -> bool:
    """Whether article `index` is in `part`; "tune-in"/"tune-out" (and "report-…") halve a part again,
    for a folder and the questions about articles not in it."""
    base, _, half = part.partition("-")
    if base != "all" and (index % 2 == 0) != (base == "tune"):
        return False
    return not half or ((index // 2) % 2 == 0) == (half == "in")


def write_folder(folder: Path, lang: str, part: str) -> None:
    """One file per paragraph of the part's articles: the title, a blank line, the paragraph."""
    folder.mkdir(parents=True, exist_ok=True)
    for a, article in enumerate(articles(lang)):
        if not part_of(a, part):
            continue
        for p, paragraph in enumerate(article["paragraphs"]):
            text = f"{article['title'].replace('_', ' ')}\n\n{paragraph['context']}\n"
            (folder / f"a{a:02d}_p{p:02d}.txt").write_text(text, encoding="utf-8")


def questions(docs: str, asked: str, part: str) -> list[Question]:
    answers = {qa["id"]: (qa["answers"][0]["text"], f"a{a:02d}_p{p:02d}.txt")
               for a, article in enumerate(articles(docs)) for p, paragraph in enumerate(article["paragraphs"])
               for qa in paragraph["qas"]}
    return [Question(qa["id"], qa["question"], *answers[qa["id"]])
            for a, article in enumerate(articles(asked)) if part_of(a, part)
            for paragraph in article["paragraphs"] for qa in paragraph["qas"]]


MIXED = ("en", "ru")  # the languages of a mixed folder, article by article


def mixed_folder(folder: Path, part: str) -> dict[str, str]:
    """The part's articles, alternately in each language of `MIXED`, one file per paragraph; returns each
    file's language."""
    folder.mkdir(parents=True, exist_ok=True)
    language_of: dict[str, str] = {}
    chosen = [a for a in range(len(articles("en"))) if part_of(a, part)]
    for k, a in enumerate(chosen):
        language = MIXED[k % len(MIXED)]
        article = articles(language)[a]
        for p, paragraph in enumerate(article["paragraphs"]):
            name = f"a{a:02d}_p{p:02d}.txt"
            (folder / name).write_text(f"{article['title'].replace('_', ' ')}\n\n{paragraph['context']}\n",
                                       encoding="utf-8")
            language_of[name] = language
    return language_of


def run_mixed(part: str, absent: bool = False) -> list[dict]:
    """Every question of the part, asked in each language of `MIXED`, over the mixed folder built with
    `--model auto`: one row per question language and document language. `absent`: the folder holds every
    other article of the part, and the questions, about the rest, make one row per language."""
    from qa.engine import Engine

    folder = f"{part}-in" if absent else part
    root = CACHE / f"mixed-{folder}"
    language_of = mixed_folder(root / "seeds", folder)
    said: list[str] = []
    engine = Engine.open(root / "seeds", root / "index", model="auto", notify=said.append)
    choice = next((m for m in said if "--model auto" in m), "")
    groups = ([(asked, "-", questions(asked, asked, f"{part}-out")) for asked in MIXED] if absent else
              [(asked, docs, [q for q in questions(docs, asked, part) if language_of[q.source] == docs])
               for asked in MIXED for docs in MIXED])
    return [{"docs": docs, "questions": asked, "model": engine.embedder.model_id, "part": part, "absent": absent,
             **ask_all(engine, qs), "choice": choice} for asked, docs, qs in groups]


def engine_for(docs: str, part: str, model: str):
    from qa.engine import Engine
    from qa.settings import IndexSettings

    key = f"{docs}-{part}-{model.replace('/', '_')}"
    seeds, index = CACHE / key / "seeds", CACHE / key / "index"
    if not seeds.is_dir():
        write_folder(seeds, docs, part)
    return Engine.open(seeds, index, IndexSettings(model=model), notify=lambda m: print(f"  {m}", file=sys.stderr))


def run(docs: str, asked: str, model: str, part: str, *, absent: bool = False, abstain: bool = True) -> dict:
    """One row: `asked`-language questions over `docs`-language paragraphs (`abstain=False`: never abstain,
    for the sweep; each question's best relevance is kept)."""
    engine = engine_for(docs, f"{part}-in" if absent else part, model)
    if not abstain:
        engine.answer_params = replace(engine.answer_params, abstain_below=-1.0, abstain_below_across=None)
    qs = questions(docs, asked, f"{part}-out" if absent else part)
    started = time.perf_counter()
    scored = ask_all(engine, qs)
    return {"docs": docs, "questions": asked, "model": model, "part": part, "absent": absent, **scored,
            "ms_per_question": round(1000 * (time.perf_counter() - started) / len(qs), 1)}


def ask_all(engine, qs: list[Question]) -> dict:
    """Ask each question: the shares whose first quote, or any quote, holds the answer and whose first
    quote is from the right paragraph, how many abstained, and each question's best relevance and
    whether its first quote holds the answer."""
    first = anywhere = right = abstained = 0
    relevances, correct = [], []
    for q in qs:
        answer = engine.ask(q.text)
        quotes = answer.quotes
        relevances.append(round(float(answer.relevance), 4))
        correct.append(bool(quotes) and q.answer in quotes[0].text)
        abstained += answer.abstained
        first += correct[-1]
        anywhere += any(q.answer in x.text for x in quotes)
        right += bool(quotes) and quotes[0].source == q.source
    n = len(qs)
    return {"n": n, "first_quote": round(first / n, 3), "any_quote": round(anywhere / n, 3),
            "right_paragraph_first": round(right / n, 3), "abstained": abstained,
            "relevances": relevances, "correct": correct}


def sweep(present: dict, absent: dict, thresholds: list[float]) -> list[dict]:
    """Per threshold: answerable questions that would abstain, the first-quote share left, absent ones abstaining."""
    out = []
    for t in thresholds:
        kept = [c for r, c in zip(present["relevances"], present["correct"]) if r >= t]
        out.append({"threshold": t, "answerable_abstain": len(present["relevances"]) - len(kept),
                    "first_quote": round(sum(kept) / len(present["relevances"]), 3),
                    "absent_abstain": round(sum(r < t for r in absent["relevances"]) / len(absent["relevances"]), 3)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", default="en")
    ap.add_argument("--questions", default="en")
    ap.add_argument("--model", default="all-MiniLM-L6-v2")
    ap.add_argument("--models", default="all-MiniLM-L6-v2,multilingual-e5-small", help="with --table")
    ap.add_argument("--part", choices=("tune", "report", "all"), default="report")
    ap.add_argument("--absent", action="store_true", help="questions about articles not in the folder")
    ap.add_argument("--table", action="store_true", help="every pair of PAIRS, for every model of --models")
    ap.add_argument("--sweep", action="store_true", help="abstention thresholds for --docs/--questions/--model")
    ap.add_argument("--mixed", action="store_true", help="one folder, its articles alternately in English and Russian")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.sweep:
        present = run(args.docs, args.questions, args.model, args.part, abstain=False)
        absent = run(args.docs, args.questions, args.model, args.part, absent=True, abstain=False)
        print("| threshold | answerable that abstain | first quote holds the answer | absent that abstain |\n"
              "|---:|---:|---:|---:|")
        for row in sweep(present, absent, [x / 100 for x in range(70, 100)]):
            print(f"| {row['threshold']:.2f} | {row['answerable_abstain']} of {present['n']} | {row['first_quote']:.3f} | "
                  f"{row['absent_abstain']:.3f} |")
        return 0
    if args.mixed:
        rows = run_mixed(args.part, args.absent)
        if args.json:
            print(json.dumps([{k: v for k, v in r.items() if k not in ("relevances", "correct")} for r in rows],
                             indent=1, ensure_ascii=False))
            return 0
        print(rows[0]["choice"])
        print("| documents | questions | n | first quote holds the answer | any quote | right paragraph first "
              "| abstained |\n|---|---|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['docs']} | {r['questions']} | {r['n']} | {r['first_quote']:.3f} | {r['any_quote']:.3f} | "
                  f"{r['right_paragraph_first']:.3f} | {r['abstained']} |")
        return 0
    if args.table:
        rows = [run(d, q, m, args.part) for m in args.models.split(",") for d, q in PAIRS]
        rows += [run(d, q, m, args.part, absent=True) for m in args.models.split(",") for d, q in ABSENT]
    else:
        rows = [run(args.docs, args.questions, args.model, args.part, absent=args.absent)]
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k not in ("relevances", "correct")} for r in rows], indent=1))
        return 0
    print("| model | documents | questions | n | first quote holds the answer | any quote | right paragraph first "
          "| abstained | ms/question |\n|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        asked = f"{r['questions']} (articles not in the folder)" if r["absent"] else r["questions"]
        print(f"| {r['model']} | {r['docs']} | {asked} | {r['n']} | {r['first_quote']:.3f} | {r['any_quote']:.3f} | "
              f"{r['right_paragraph_first']:.3f} | {r['abstained']} | {r['ms_per_question']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
