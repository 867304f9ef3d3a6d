"""The `qa` command: build, ask, search, eval. It only adapts the engine's types to text and JSON."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from . import export
from .errors import InputError, QAError
from .settings import IndexSettings, Paths

log = logging.getLogger("qa")
LIBRARY_LOGGERS = ("bm25s", "faiss", "sentence_transformers", "httpx")  # the libraries' own loggers, quieted


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="qa: %(message)s", stream=sys.stderr)
    for noisy in LIBRARY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return args.func(args)
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if os.environ.get("QA_DEBUG"):
            raise
        print(f"qa: unexpected error: {type(exc).__name__}: {exc} (set QA_DEBUG=1 for the traceback)", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    from .embed import DEVICES
    from .evaluation.cli import add_parser as add_eval
    from .retrieval import MODES
    from .settings import KEEP_BUILDS
    from .store import BACKENDS, DEFAULT_BACKEND, backends_help

    paths = Paths()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seeds", default=paths.seeds, help="sources folder (env QA_SEEDS; default: %(default)s)")
    common.add_argument("--index", default=paths.index, help="index folder (env QA_INDEX; default: %(default)s)")
    common.add_argument("--model", default=os.environ.get("QA_MODEL") or None,
                        help="embedding model: all-MiniLM-L6-v2 (English), multilingual-e5-small (about 100 "
                             "languages), a sentence-transformers folder, or auto (env QA_MODEL; default: the model "
                             "the index was built with; for a new index, and for `qa build`, auto: chosen by the "
                             "folder's languages)")
    common.add_argument("--device", default=os.environ.get("QA_DEVICE") or "auto", choices=DEVICES,
                        help="where the model embeds (env QA_DEVICE; default: %(default)s, CUDA in fp16 when "
                             "torch sees a GPU)")
    common.add_argument("--backend", default=os.environ.get("QA_BACKEND") or DEFAULT_BACKEND, choices=list(BACKENDS),
                        help="where the index lives (env QA_BACKEND; default: %(default)s): "
                             + backends_help())
    common.add_argument("--milvus-uri", default=os.environ.get("QA_MILVUS_URI") or "",
                        help="with --backend milvus: a path ending in .db (milvus-lite, embedded) or "
                             "http://host:19530 (a server or cluster) (env QA_MILVUS_URI)")
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")

    parser = argparse.ArgumentParser(prog="qa", description="Answer questions by quoting the source documents, with citations.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", parents=[common], help="build the index from the sources folder")
    p.add_argument("--passage-words", type=int, default=IndexSettings.passage_words, help="words per passage (default: %(default)s)")
    p.add_argument("--overlap", type=int, default=IndexSettings.overlap_sentences, help="sentences of overlap (default: %(default)s)")
    p.add_argument("--show-excluded", action="store_true", help="list every span left out as boilerplate, with its rule")
    p.add_argument("--keep-builds", type=int, default=os.environ.get("QA_KEEP_BUILDS") or KEEP_BUILDS,
                   help="newest builds kept for `qa ask --build` (env QA_KEEP_BUILDS; default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("ask", parents=[common], help="answer a question with quotes and citations")
    p.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    p.add_argument("-k", type=int, default=5, help="passages to retrieve (default: %(default)s)")
    p.add_argument("--source", action="append", help="only quote this source file (repeatable)")
    p.add_argument("--export", metavar="FILE", help="also write the answers to FILE (.json, .jsonl or .csv) for "
                                                    "`qa verify`: offsets in code points and UTF-8 bytes, hashes, why")
    p.add_argument("--build", metavar="BUILD_ID", help="answer from this kept build (an answer's index_build), "
                                                       "as it was; see the index folder's build-* names")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object")
    fmt.add_argument("--jsonl", action="store_true",
                     help="read one question per line on stdin (plain text, or {\"question\", \"k\", \"history\"}), "
                          "write one JSON object per line")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("verify", parents=[common], help="check an export against the source files as they are now")
    p.add_argument("file", help="an export written by `qa ask --export` or the app's download")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("chat", parents=[common], help="a conversation in the terminal: follow-ups read in context")
    p.add_argument("-k", type=int, default=5, help="passages to retrieve (default: %(default)s)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("search", parents=[common], help="ranked passages only")
    p.add_argument("query")
    p.add_argument("--mode", choices=list(MODES), default="hybrid")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("document", parents=[common],
                       help="each document as the product reads it: its text, what was left out, its pages")
    p.add_argument("source", nargs="*", help="sources as cited (default: every document)")
    p.add_argument("--jsonl", action="store_true", help="one JSON line per document, the text included")
    p.set_defaults(func=cmd_document)

    add_eval(sub, common, store_config)
    return parser


MAX_LINE_CHARS = 100_000  # a --jsonl line longer than this is refused unread


def _engine(args, *, progress: bool = True):
    from .engine import Engine

    def notify(message: str) -> None:
        print(f"qa: {message}", file=sys.stderr)

    # Without --model the index is read with the settings it was built with.
    return Engine.open(args.seeds, args.index, model=args.model, device=args.device,
                       progress=progress and sys.stderr.isatty(), notify=notify, build=getattr(args, "build", None),
                       store=store_config(args))


def store_config(args):
    """The backend the command's arguments (or QA_BACKEND, QA_MILVUS_URI) choose."""
    from .store import StoreConfig

    return StoreConfig.from_env(args.backend, args.milvus_uri)


def cmd_build(args) -> int:
    from .build.build import build
    from .embed import load_embedder
    from .store import backend_for

    from .build.build import auto_model
    from .build.model_choice import AUTO

    backend = backend_for(store_config(args), args.index)
    choice = None
    if (args.model or AUTO) == AUTO:
        choice = auto_model(backend, args.seeds)
        print(f"qa: {choice.reason}", file=sys.stderr)
    try:
        settings = IndexSettings(model=choice.model if choice else args.model, passage_words=args.passage_words,
                                 overlap_sentences=args.overlap)
    except ValueError as exc:
        raise QAError(str(exc)) from exc
    t0 = time.perf_counter()
    if args.keep_builds < 1:
        raise QAError(f"--keep-builds must be at least 1, got {args.keep_builds}")

    def notify(message: str) -> None:
        print(f"qa: {message}", file=sys.stderr)

    report = build(backend, args.seeds, settings, load_embedder(settings.model, device=args.device),
                   progress=not args.quiet, notify=notify, keep_builds=args.keep_builds, choice=choice)
    if args.show_excluded:
        for row in backend.open().exclusions:
            text = " ".join(row["text"].split())
            print(f"{row['source']}:{row['start']}-{row['end']}\t{row['reason']}\t{text[:100]}")
    print(
        f"built {backend.describe()}: {report.documents} documents, {report.passages} passages, {report.sentences} sentences "
        f"({report.embedded} texts embedded, {report.reused} reused), {report.excluded} excluded spans, "
        f"{len(report.skipped)} skipped files, {time.perf_counter() - t0:.1f} s"
    )
    return 0


def cmd_ask(args) -> int:
    if args.jsonl:
        if args.question:
            raise QAError("--jsonl reads questions from stdin; do not also pass a question")
        return _ask_lines(args)
    if args.question is None:
        raise QAError("give a question, e.g. qa ask \"Who met in Minsk?\", or use --jsonl")
    if args.export:
        export.check_path(args.export)
    engine = _engine(args)
    answer = engine.ask(args.question, k=args.k, sources=args.source)
    if args.export:
        _export(args.export, [answer], engine)
    if args.json:
        print(export.json_line(answer.to_dict()))
        return 0
    print(answer.answer)
    if answer.passages:
        print("\nPassages:")
        for h in answer.passages:
            print(f"  {h.rank}. {h.passage.source}:{h.passage.start}-{h.passage.end}  score {h.score:.3f}")
    return 0


def _export(path: str, answers: list, engine) -> None:
    written = export.write(path, [export.record(a, engine.document) for a in answers])
    print(f"qa: wrote {len(answers)} answer{'s' if len(answers) != 1 else ''} to {written}", file=sys.stderr)


def _ask_lines(args) -> int:
    if args.export:
        export.check_path(args.export)
    engine = _engine(args)
    answers = []
    for line in sys.stdin:
        question, k, history = line.rstrip("\r\n"), args.k, []
        try:
            if len(question) > MAX_LINE_CHARS:
                question = question[:80] + "…"
                raise QAError(f"the line is over {MAX_LINE_CHARS:,} characters; a question is at most 2,000")
            if question.lstrip().startswith("{"):
                request = json.loads(question)
                if not isinstance(request, dict):
                    raise QAError("a JSON line must be an object with a \"question\"")
                question, k, history = request.get("question"), request.get("k", k), request.get("history", [])
            answer = engine.ask(question, k=k, sources=args.source, history=history)
            answers.append(answer)
            out = answer.to_dict()
        except (QAError, ValueError) as exc:
            out = {"question": question, "error": str(exc)}
        print(export.json_line(out), flush=True)
    if args.export:
        _export(args.export, answers, engine)
    return 0


def cmd_verify(args) -> int:
    from .verify import verify

    records = export.read(args.file)
    checked, problems = verify(records, args.seeds)
    for problem in problems:
        print(problem.describe())
    files = sorted({p.source for p in problems})
    print(f"{checked} quotes checked against {args.seeds}: "
          + (f"{len(problems)} no longer hold, in {', '.join(files)}" if problems else "all hold"))
    return 1 if problems else 0


def cmd_chat(args) -> int:
    """Questions from the terminal, one per line; follow-ups are read with the earlier ones."""
    engine = _engine(args)
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask about the sources. A follow-up is read with your earlier questions; "
              "/new starts a new conversation, /quit (or Ctrl-D) ends.", file=sys.stderr)
    asked: list[str] = []
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            return 0
        question = line.strip()
        if not question:
            continue
        if question in ("/quit", "/exit"):
            return 0
        if question == "/new":
            asked = []
            print("(new conversation)")
            continue
        try:
            answer = engine.ask(question, k=args.k, history=asked)
        except QAError as exc:
            print(f"qa: error: {exc}", file=sys.stderr)
            continue
        if answer.read_as:
            print(f"({answer.read_as})")
        print(answer.answer + "\n", flush=True)
        asked.append(answer.question)


def cmd_search(args) -> int:
    engine = _engine(args)
    hits = engine.search(args.query, mode=args.mode, k=args.k)
    if args.json:
        print(export.json_line({"query": args.query, "mode": args.mode, "passages": [h.to_dict() for h in hits]}))
        return 0
    for h in hits:
        text = " ".join(h.passage.text.split())
        print(f"{h.rank}. [{h.score:.3f}] {h.passage.source}:{h.passage.start}-{h.passage.end}\n   {text[:300]}")
    return 0


def cmd_document(args) -> int:
    """Documents as indexed: source, format, the text quotes index, its excluded spans and (PDF) pages."""
    engine = _engine(args)
    names = args.source or sorted(engine.sources)
    unknown = [n for n in names if n not in engine.sources]
    if unknown:
        raise InputError(f"unknown source {unknown[0]!r}; `qa document` without a name lists every document")
    for name in names:
        info = engine.sources[name]
        excluded = [{"start": a, "end": b, "reason": why} for a, b, why in engine.excluded(name)]
        pages = [{"page": p, "label": label, "start": a, "end": b} for p, label, a, b in info.pages]
        if args.jsonl:
            out = {"source": name, "format": info.format, "extractor": info.extractor or None,
                   "sha256": info.sha256, "derived_sha256": info.derived_sha256 or None,
                   "text": engine.document(name), "excluded": excluded}
            if info.format == "pdf":
                out["pages"] = pages
            if info.notes:
                out["notes"] = list(info.notes)
            print(export.json_line(out), flush=True)
        else:
            extra = f", {len({p['page'] for p in pages})} pages" if pages else ""
            notes = "".join(f"; {note}" for note in info.notes)
            print(f"{name}: {info.format}{' (' + info.extractor + ')' if info.extractor else ''}, "
                  f"{info.chars} characters, {len(excluded)} excluded spans{extra}{notes} — {info.title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
