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


@pytest.fixture(scope="session")
def embedder():
    from qa.embeddings import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, embedder) -> Path:
    from qa.index import build_index

    path = tmp_path_factory.mktemp("index")
    build_index(SEEDS, path, embedder=embedder)
    return path


@pytest.fixture(scope="session")
def engine(index_dir, embedder):
    from qa.engine import Engine
    from qa.index import load_index

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
