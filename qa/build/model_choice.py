"""`--model auto`: the embedding model chosen for a folder by the languages of its text.

The English model (all-MiniLM-L6-v2) for a folder in English; the multilingual one
(multilingual-e5-small) for a folder with enough text in other languages. "Enough" is a share of
the folder's characters (`MULTILINGUAL_SHARE`), chosen by measurement (docs/languages.md): the
multilingual model answers English a little less well, and the English model cannot answer other
languages at all.

The choice is stable: a folder already built by an automatic choice keeps its model until the
share crosses the threshold by a margin (`SWITCH_MARGIN`), so a few documents in another language
do not force a full re-embed on their own; `qa build` then says what it would choose from scratch
and how to switch. An explicit `--model` always wins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ..ingest.documents import RawFile, all_files, limit_for, read_source
from ..ingest.formats import reader_for
from ..ingest.language import detect
from ..settings import DEFAULT_MODEL

AUTO = "auto"
ENGLISH_MODEL = DEFAULT_MODEL
MULTILINGUAL_MODEL = "multilingual-e5-small"
MULTILINGUAL_SHARE = 0.10  # of the folder's characters in languages other than English
SWITCH_MARGIN = 2.0  # a recorded choice changes only past MULTILINGUAL_SHARE * 2 (to multilingual) or / 2 (back)


@dataclass(frozen=True)
class ModelChoice:
    """What `auto` chose and why.

    Attributes:
        model: the model to build with.
        other_share: the share of the folder's characters not in English.
        fresh: what auto would choose for this folder from scratch (differs from `model` only when a
            recorded choice is kept).
        reason: one line for `qa build` to show.
    """

    model: str
    other_share: float
    fresh: str
    reason: str

    def record(self) -> dict:
        """As the manifest records it."""
        return {"auto": True, **asdict(self)}


Known = dict[str, tuple[tuple[int, int], str, int, str]]  # file -> (size, mtime_ns), language, characters, extractor


def language_shares(seeds: str | Path, known: Known | None = None) -> dict[str, int]:
    """Characters of the folder's readable documents per language (ISO 639-1; "" for text too short to tell).

    Args:
        known: per document of the live build, the (size, mtime_ns) its file had when it was read, with the
            language, characters and extractor found then (`build.auto_model` takes them from its
            manifest). A file whose size and time are still those, within its size limit, and whose reader
            is the same is not read again (a PDF folder is read once per build, not twice). A file the
            live build skipped is read again, as the build reads it again.
    """
    root = Path(seeds)
    known = known or {}
    chars: dict[str, int] = {}
    extractors: dict[str, str] = {}  # per format, today's reader
    for path in all_files(root):
        name = path.relative_to(root).as_posix()
        try:
            st = path.stat()
            recorded = known.get(name)
            reader = reader_for(name)
            if reader is not None and reader.format not in extractors:
                extractors[reader.format] = reader.extractor()
            if (recorded is not None and recorded[0] == (st.st_size, st.st_mtime_ns)
                    and st.st_size <= limit_for(name) and reader is not None
                    and recorded[3] == extractors[reader.format]):
                language, n = recorded[1], recorded[2]
            else:
                item = read_source(root, name)
                if not isinstance(item, RawFile):
                    continue
                language, n = detect(item.text), len(item.text)
        except OSError:
            continue
        chars[language] = chars.get(language, 0) + n
    return chars


def fresh_choice(other_share: float) -> str:
    return MULTILINGUAL_MODEL if other_share >= MULTILINGUAL_SHARE else ENGLISH_MODEL


def choose_model(seeds: str | Path, recorded: dict | None = None, known: Known | None = None) -> ModelChoice:
    """The model for `seeds`, keeping `recorded` (the live build's `model_choice`) unless the folder moved
    well past the threshold; `known`: as `language_shares` takes it."""
    chars = language_shares(seeds, known)
    total = sum(chars.values())
    other = sum(n for lang, n in chars.items() if lang not in ("en", "")) / total if total else 0.0
    fresh = fresh_choice(other)
    share = f"{100 * other:.0f}% of the text is in languages other than English"
    languages = ", ".join(f"{lang or '?'} {100 * n / total:.0f}%" for lang, n in
                          sorted(chars.items(), key=lambda kv: -kv[1])[:5]) if total else "no text"
    kept = (recorded or {}).get("model") if (recorded or {}).get("auto") else None
    if kept in (ENGLISH_MODEL, MULTILINGUAL_MODEL) and kept != fresh:
        switch = (other >= MULTILINGUAL_SHARE * SWITCH_MARGIN if kept == ENGLISH_MODEL
                  else other < MULTILINGUAL_SHARE / SWITCH_MARGIN)
        if not switch:
            return ModelChoice(kept, other, fresh,
                               f"--model auto keeps {kept} ({share}: {languages}); from scratch it would choose "
                               f"{fresh}: run `qa build --model {fresh}` to switch")
    why = "at least" if fresh == MULTILINGUAL_MODEL else "under"
    return ModelChoice(fresh, other, fresh, f"--model auto chose {fresh}: {share} ({languages}), {why} "
                                            f"the {100 * MULTILINGUAL_SHARE:.0f}% threshold")
