"""A BEIR corpus written as a folder of documents, answered through the whole product.

`qa eval --beir DIR` scores retrieval on the corpus entries as given. This
scores what a person sees instead: each entry becomes one file (its title on
the first line, a blank line, then its text, as a saved page would be), and the
real pipeline runs on the folder — clutter detection, sentences, passages, the
index, quotes and abstention. For each judged query it records whether the first
quote, any quote, and the top passage come from a relevant entry, whether it
abstained, and whether every offset reproduces; for the corpus, how many entries
clutter detection removed wholly or in part.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def file_name(doc_id: str) -> str:
    """A portable file name for a corpus id (ids with other characters get a hash suffix)."""
    safe = SAFE_NAME.sub("_", doc_id)[:80]
    if safe != doc_id:
        safe += "-" + hashlib.sha256(doc_id.encode()).hexdigest()[:8]
    return safe + ".txt"


def document_text(title: str, text: str) -> str:
    """An entry as a saved page: the title line, a blank line, the text (no title: the text alone)."""
    title, text = title.strip(), text.strip()
    return f"{title}\n\n{text}\n" if title else f"{text}\n"


def read_corpus(folder: str | Path, limit: int | None = None) -> list[dict]:
    """The rows of a BEIR `corpus.jsonl`, in file order (the first `limit` if given)."""
    path = Path(folder) / "corpus.jsonl"
    if not path.is_file():
        raise InputError(f"not a BEIR folder, missing: {path}")
    rows = []
    # Split on "\n" only: str.splitlines() would also split inside JSON strings at U+2028 and friends.
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            rows.append(json.loads(line))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def write_documents(rows: list[dict], dest: str | Path) -> dict[str, str]:
    """Write each corpus row as one file in `dest`; return file name -> corpus id.

    Files whose content is already right are left alone, so an index built on
    the folder stays current and a rebuild reuses its vectors.
    """
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for row in rows:
        doc_id = str(row["_id"])
        name = file_name(doc_id)
        if name in names:
            raise InputError(f"corpus ids {names[name]!r} and {doc_id!r} map to the same file name {name}")
        names[name] = doc_id
        data = document_text(str(row.get("title") or ""), str(row.get("text") or "")).encode("utf-8")
        path = out / name
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    for stale in set(p.name for p in out.glob("*.txt")) - set(names):
        (out / stale).unlink()
    return names


@dataclass
class ExclusionStats:
    """How much of a folder clutter detection left out."""

    documents: int = 0
    chars: int = 0
    excluded_chars: int = 0
    lost_whole: list[str] = field(default_factory=list)
    lost_part: list[str] = field(default_factory=list)
    by_rule: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "documents": self.documents,
            "excluded_char_share": round(self.excluded_chars / self.chars, 6) if self.chars else 0.0,
            "lost_whole": len(self.lost_whole),
            "lost_part": len(self.lost_part),
            "by_rule": dict(sorted(self.by_rule.items(), key=lambda kv: -kv[1])),
            "examples_whole": self.lost_whole[:10],
            "examples_part": self.lost_part[:10],
        }


def exclusion_stats(texts: dict[str, str], titles: dict[str, str] | None = None) -> ExclusionStats:
    """Run clutter detection on documents (name -> raw text) and count what it removes.

    A document is lost wholly when nothing is left to index; in part when any of
    its text beyond the title line is left out. Characters are counted without
    white space, and the title line of a written entry is not counted (a title
    is not quoted anyway).
    """
    from ..boilerplate import find_boilerplate_corpus

    stats = ExclusionStats(documents=len(texts))
    found = find_boilerplate_corpus(texts)
    for name, text in texts.items():
        title = (titles or {}).get(name, "")
        body_start = len(title) + 2 if title and text.startswith(title + "\n\n") else 0
        body = text[body_start:]
        stats.chars += len("".join(body.split()))
        excluded = 0
        for e in found[name]:
            stats.by_rule[e.reason] = stats.by_rule.get(e.reason, 0) + 1
            lo, hi = max(e.start, body_start), e.end
            if hi > lo:
                excluded += len("".join(text[lo:hi].split()))
        stats.excluded_chars += excluded
        body_chars = len("".join(body.split()))
        if body_chars and excluded >= body_chars:
            stats.lost_whole.append(name)
        elif excluded:
            stats.lost_part.append(name)
    return stats
