"""The chat app: a Gradio 6 page over the engine. It only adapts `Answer` to the page and the API.

    python app.py [--host HOST] [--port PORT] [--seeds DIR] [--index DIR] [--share]

Environment fallbacks: QA_HOST, QA_PORT, QA_SEEDS, QA_INDEX, QA_MODEL; a login is
required when QA_USERNAME and QA_PASSWORD are both set. It listens on 127.0.0.1
by default, sends no analytics, and loads nothing from the internet.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import tempfile
import threading
from pathlib import Path

# Before gradio is imported anywhere: no analytics or version-check calls.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

EXAMPLES = [
    "How many agreements did Belarus and Iran sign?",
    "When did Pezeshkian meet Lukashenko in Minsk?",
    "What did Lukashenko say about military-technical cooperation?",
    "Why was the visit postponed?",
    "Which stocks should I buy?",
]


def build_app(engine):
    """The page and the `ask` API endpoint for an engine, or a `LiveEngine` whose build may change."""
    import gradio as gr

    from qa.errors import QAError
    from qa.render import chat_markdown, document_html, md_escape, original_link, pdf_page_html, sources_html

    current = engine.current if hasattr(engine, "current") else (lambda: engine)

    def matching(text: str) -> list[str] | None:
        """The sources whose file name or title holds `text` (any case); None when it is empty: all of them.
        A search box, not a checkbox per file, so a folder of thousands of sources stays usable."""
        needle = (text or "").strip().casefold()
        if not needle:
            return None
        return sorted(f for f, info in current().sources.items()
                      if needle in f.casefold() or needle in (info.title or "").casefold())

    def describe_filter(text: str) -> str:
        found, total = matching(text), len(current().sources)
        if found is None:
            return f"Answering from all {total:,} sources."
        if not found:
            return f"No source matches “{md_escape(text.strip())}”."
        shown = ", ".join(md_escape(f) for f in found[:5]) + (", …" if len(found) > 5 else "")
        return f"Answering from {len(found):,} of {total:,} sources: {shown}"

    def ask(question: str, k: int = 5, history: list[str] | None = None) -> dict:
        """Answer a question from the sources: the same JSON object as `qa ask --json`.

        Args:
            question: the question.
            k: passages to retrieve (a whole number, 1 to 50).
            history: earlier questions of the conversation, oldest first (optional).
        """
        try:
            return current().ask(question, k=k, history=history or []).to_dict()
        except (QAError, ValueError, TypeError) as exc:
            raise gr.Error(str(exc)) from exc

    def respond(question, history, k, source_filter, asked):
        history, asked = list(history or []), list(asked or [])
        history.append({"role": "user", "content": md_escape(question or "")})
        try:
            sources = matching(source_filter)
            if sources is not None and not sources:
                raise QAError(f"no source matches {source_filter.strip()!r}; change or clear the source filter "
                              "under Options")
            answer = current().ask(question, k=int(k), sources=sources, history=asked)
        except QAError as exc:
            history.append({"role": "assistant", "content": f"⚠ {md_escape(str(exc))}"})
            return (history, question, sources_html(None), gr.update(choices=[], value=None), "", [], asked,
                    gr.update(visible=False))
        history.append({"role": "assistant", "content": chat_markdown(answer)})
        export_file = write_export(answer)
        quotes = [q.to_dict() for q in answer.quotes]
        choices = [(f"[{q['n']}] {q['title']} — {q['source']}", q["n"]) for q in quotes]
        first = quotes[0]["n"] if quotes else None
        return (history, "", sources_html(answer), gr.update(choices=choices, value=first),
                open_document(first, quotes), quotes, asked + [answer.question],
                gr.update(value=export_file, visible=True))

    def new_conversation():
        return [], "", sources_html(None), gr.update(choices=[], value=None), "", [], [], gr.update(visible=False)

    def write_export(answer) -> str:
        """The answer as `qa ask --export` writes it, in a file of its own for the download button."""
        from qa import export

        folder = tempfile.mkdtemp(prefix="qa-export-", dir=os.environ.get("GRADIO_TEMP_DIR") or None)
        return str(export.write(Path(folder) / "answer.json", [export.record(answer, current().document)]))

    def open_document(n, quotes):
        from qa.answer.quotes import Quote

        if n is None or not quotes:
            return ""
        picked = next((q for q in quotes if q["n"] == n), None)
        if picked is None:
            return ""
        same = [Quote.from_dict(q) for q in quotes if q["source"] == picked["source"]]
        live = current()
        try:
            text = live.document(picked["source"])
        except QAError as exc:
            return f"<p>{html.escape(str(exc))}</p>"
        return original_view(live, picked) + document_html(text, f"{picked['title']} — {picked['source']}", same,
                                                           selected=n, excluded=live.excluded(picked["source"]))

    def original_view(live, picked: dict) -> str:
        """Where the quote is in the original: a PDF's pages with its boxes, a web page's live link."""
        if picked.get("format") == "pdf":
            shown = []
            for page in sorted({b["page"] for b in picked.get("boxes") or []})[:2]:
                image = live.page_image(picked["source"], page)
                if image is not None:
                    label = picked.get("page_label") if page == picked.get("page") else None
                    shown.append(pdf_page_html(*image, page, label, picked["boxes"], picked["n"]))
            return "".join(shown)
        if picked.get("format") == "html" and picked.get("url"):
            return original_link(picked["url"], picked["text"])
        return ""

    scroll = "() => { setTimeout(() => document.querySelector('#qa-document mark.qa-selected')?.scrollIntoView({block: 'center'}), 50); }"

    with gr.Blocks(title="Ask the sources", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the sources\nAnswers are verbatim quotes from the documents, each with a numbered "
                    "citation (file and character offsets). When the documents don't answer, it says so. "
                    "A follow-up (“When?”, “What did he say?”) is read with your earlier questions, and the "
                    "answer says so.")
        quotes_state = gr.State([])
        asked_state = gr.State([])  # the conversation's questions, oldest first, as typed
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Answers", height=520, latex_delimiters=[], elem_id="qa-chat",
                                  buttons=["copy"], feedback_options=None)
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question about the documents…", show_label=False,
                                     scale=5, max_lines=4, elem_id="qa-question")
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                    fresh = gr.Button("New conversation", scale=1, elem_id="qa-new")
                gr.Examples(EXAMPLES, inputs=[box], label="Examples")
                with gr.Accordion("Options", open=False):
                    k = gr.Slider(1, 20, value=5, step=1, label="Passages to retrieve")
                    source_filter = gr.Textbox(label="Only sources whose file name or title contains",
                                               placeholder="leave empty for all sources", elem_id="qa-source-filter")
                    filter_note = gr.Markdown(describe_filter(""), elem_id="qa-source-note")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                panel = gr.HTML(sources_html(None), elem_id="qa-sources")
                download = gr.DownloadButton("Download this answer (verifiable JSON)", visible=False,
                                             elem_id="qa-export", size="sm")
                pick = gr.Dropdown(choices=[], label="Open the whole source at quote", elem_id="qa-pick")
                document = gr.HTML("", elem_id="qa-document")

        outputs = [chat, box, panel, pick, document, quotes_state, asked_state, download]
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chat, k, source_filter, asked_state], outputs, api_visibility="private").then(None, js=scroll)
        source_filter.change(describe_filter, [source_filter], [filter_note], api_visibility="private")
        fresh.click(new_conversation, None, outputs, api_visibility="private")
        pick.input(open_document, [pick, quotes_state], [document], api_visibility="private").then(None, js=scroll)
        # As many questions at once as there are cores: the engine is thread-safe and concurrent questions share
        # one embedding pass; measured on 2 cores, 8 at once gave the same answers/s with a longer tail (docs/performance.md).
        gr.api(ask, api_name="ask", concurrency_limit=max(2, os.cpu_count() or 2))
    return demo


def launch(demo, *, host: str, port: int, share: bool = False, prevent_thread_lock: bool = False):
    from qa.render import CSS

    user, password = os.environ.get("QA_USERNAME"), os.environ.get("QA_PASSWORD")
    demo.queue(default_concurrency_limit=4)
    return demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=(user, password) if user and password else None,
        enable_monitoring=False,
        ssr_mode=False,
        mcp_server=False,
        css=CSS,
        prevent_thread_lock=prevent_thread_lock,
        footer_links=["api"],
    )


def _warm_up(engine, notify) -> None:
    from qa.errors import QAError

    try:
        engine.embedder.encode_one("warm up")  # the question route: no torch where the model allows it
    except QAError as exc:
        notify(f"error: {exc}")


def _port(value: str) -> int | None:
    try:
        port = int(value)
    except ValueError:
        return None
    return port if 1 <= port <= 65535 else None


def _fail(message: str, code: int = 1) -> int:
    print(f"qa: error: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Start the app; every failure is one line on stderr and a non-zero exit, never a traceback."""
    import errno

    from qa.embed import DEVICES
    from qa.engine import Engine
    from qa.errors import QAError
    from qa.live import LiveEngine
    from qa.settings import Paths
    from qa.store import BACKENDS, DEFAULT_BACKEND, StoreConfig, backend_for, backends_help

    paths = Paths()
    ap = argparse.ArgumentParser(description="Chat with the sources: verbatim quotes with citations.")
    ap.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"), help="address to listen on (env QA_HOST)")
    ap.add_argument("--port", default=os.environ.get("QA_PORT", "7860"), help="port (env QA_PORT; default 7860)")
    ap.add_argument("--watch", action="store_true",
                    help="rebuild the index when the sources change (a new build is always picked up)")
    ap.add_argument("--seeds", default=paths.seeds, help="sources folder (env QA_SEEDS)")
    ap.add_argument("--index", default=paths.index, help="index folder (env QA_INDEX)")
    ap.add_argument("--model", default=os.environ.get("QA_MODEL") or None,
                    help="embedding model (env QA_MODEL; default: the one the index was built with)")
    ap.add_argument("--device", default=os.environ.get("QA_DEVICE") or "auto", choices=DEVICES,
                    help="where the model embeds (env QA_DEVICE; default: auto, CUDA in fp16 when torch sees a GPU)")
    ap.add_argument("--backend", default=os.environ.get("QA_BACKEND") or DEFAULT_BACKEND, choices=list(BACKENDS),
                    help="where the index lives (env QA_BACKEND; default: %(default)s): "
                         + backends_help())
    ap.add_argument("--milvus-uri", default=os.environ.get("QA_MILVUS_URI") or "",
                    help="with --backend milvus: a .db path (milvus-lite) or http://host:19530 (env QA_MILVUS_URI)")
    ap.add_argument("--share", action="store_true", help="also publish a temporary public gradio.live link")
    args = ap.parse_args(argv)
    port = _port(str(args.port))
    if port is None:
        return _fail(f"the port must be a whole number from 1 to 65535, not {args.port!r} (--port or QA_PORT)", 2)

    def notify(message: str) -> None:
        print(f"qa: {message}", file=sys.stderr, flush=True)

    try:
        store = StoreConfig.from_env(args.backend, args.milvus_uri)
        engine = Engine.open(args.seeds, args.index, model=args.model, device=args.device, progress=True, notify=notify,
                             store=store)
    except QAError as exc:
        return _fail(str(exc))
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return _fail(f"the disk is full while building the index in {args.index}; free some space and start again")
        where = exc.filename or args.index
        return _fail(f"cannot build or read the index: {exc.strerror or exc} ({where}); check the folders and permissions")
    if engine.build_report:
        r = engine.build_report
        notify(f"built the index: {r.documents} documents, {r.passages} passages in {r.seconds:.1f} s")
    # The page is served while the model loads; a question asked before it is ready waits for it.
    threading.Thread(target=_warm_up, args=(engine, notify), daemon=True, name="model-load").start()
    # An index whose backend names its live build cheaply (the local index) is followed to new builds;
    # otherwise the app answers from the build live when it started (docs/backends.md).
    backend = backend_for(store, args.index)
    live = LiveEngine(engine, backend, watch=args.watch, notify=notify) if backend.live_build() is not None else engine
    if args.watch and live is engine:
        notify(f"--watch follows a local index; with --backend {store.backend}, rebuild with `qa build` and restart")
    notify(f"serving on http://{args.host}:{port}/")
    try:
        launch(build_app(live), host=args.host, port=port, share=args.share)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{port} ({exc}); choose another --port")
    return 0


if __name__ == "__main__":
    sys.exit(main())
