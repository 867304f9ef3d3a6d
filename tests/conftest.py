"""Shared fixtures: the real bundled model and one seeds index per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

# Questions used by several tests; the offset invariant is checked on all of them.
QUESTIONS = [
    "How many agreements did Belarus and Iran sign?",
    "When did Pezeshkian meet Lukashenko in Minsk?",
    "What did Lukashenko say about military-technical cooperation?",
    "Why was the visit postponed?",
    "What does Ukraine's intelligence service say Iran wants from Belarus?",
    "Who is Iran's defense minister?",
    "What is the capital of Peru?",
    "Which stocks should I buy?",
]


def read_source(seeds: Path, source: str) -> str:
    with open(seeds / source, encoding="utf-8", newline="") as fh:
        return fh.read()


def shared_dataset(name: str) -> Path:
    """A BEIR folder of `../shared/datasets`, or a skip where it is not here (CI has it beside the project)."""
    folder = ROOT.parent / "shared" / "datasets" / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here (it sits beside the project in CI)")
    return folder


def engine_over(tmp_path: Path, embedder, documents: dict[str, str]):
    """An engine over a few short documents (file name -> text), indexed with the bundled model."""
    from qa.engine import Engine
    from qa.build.build import build_index, load_index

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in documents.items():
        (seeds / name).write_text(text, encoding="utf-8")
    build_index(seeds, tmp_path / "index", embedder=embedder)
    return Engine.from_index(load_index(tmp_path / "index", seeds=seeds), embedder)


@pytest.fixture(scope="session")
def embedder():
    from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder

    return Embedder()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, embedder) -> Path:
    from qa.build.build import build_index

    path = tmp_path_factory.mktemp("index")
    build_index(SEEDS, path, embedder=embedder)
    return path


@pytest.fixture(scope="session")
def engine(index_dir, embedder):
    from qa.engine import Engine
    from qa.build.build import load_index

    return Engine.from_index(load_index(index_dir, seeds=SEEDS), embedder)


@pytest.fixture(scope="session")
def answers(engine):
    return {q: engine.ask(q) for q in QUESTIONS}


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A private copy of the seeds folder that a test may change."""
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest)
    return dest


XSS_DOC = """Harbour security notice

The harbour office published a notice titled <script>alert('doc')</script> about ferry inspections.
Inspectors found that <img src=x onerror=alert(1)> was printed on the ferry tickets as a test string.
"""


@pytest.fixture(scope="session")
def app_engine(tmp_path_factory, embedder):
    """An engine over the seeds plus a document full of HTML that must never run."""
    from qa.engine import Engine
    from qa.settings import IndexSettings

    root = tmp_path_factory.mktemp("app")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "zz_xss.txt").write_text(XSS_DOC, encoding="utf-8")
    return Engine.open(seeds, root / "index", IndexSettings(), notify=lambda m: None)


@pytest.fixture(scope="session")
def app_url(app_engine, tmp_path_factory):
    """The app launched in-process on a free port, as Gradio's own tests do."""
    import os
    import socket

    os.environ["GRADIO_TEMP_DIR"] = str(tmp_path_factory.mktemp("gradio"))
    import app as app_module

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = app_module.build_app(app_engine)
    _, url, _ = app_module.launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True)
    yield url
    demo.close()
