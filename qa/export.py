"""Answers exported so they can be checked later, by people and by tools that are not Python.

An export records, for each answer, the question, the reply, the index build and
model that answered, and the time; for each quote its number, text, source file,
offsets in code points (Python's `str` indexing) and in UTF-8 bytes (for every
other tool) of the text the document is read as, the SHA-256 of the source file's
bytes, the citation metadata, and why it was chosen. A quote of a PDF, web page or
Word file also records its format, the extractor and the SHA-256 of the text it
derived, and where the quote is in the original (`LOCATION_FIELDS`). `qa verify` (`verify.py`) checks an export against the files.

Formats, chosen by the file's extension:
- `.json`: `{"format": "qa-cite export 1", "answers": [record, ...]}`;
- `.jsonl`: one record per line;
- `.csv`: one row per quote (an abstention is one row without a quote), `why` as JSON.
Files are written atomically: a reader never sees half an export.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from .answer.compose import Answer
from .errors import InputError

FORMAT = "qa-cite export 1"
SUFFIXES = (".json", ".jsonl", ".csv")
# Where a quote of a PDF, web page or Word file is in the original (`ingest.formats`), and what derived its text.
LOCATION_FIELDS = ("format", "extractor", "derived_sha256", "page", "page_label", "pages", "boxes",
                   "source_start_byte", "source_end_byte", "paragraph", "paragraph_last", "paragraph_start",
                   "paragraph_end", "part")
QUOTE_FIELDS = ("n", "text", "source", "start", "end", "start_byte", "end_byte", "source_sha256",
                "title", "publisher", "date", "url", "language", *LOCATION_FIELDS, "why")
_INTEGERS = ("n", "start", "end", "start_byte", "end_byte", "page", "source_start_byte", "source_end_byte",
             "paragraph", "paragraph_last", "paragraph_start", "paragraph_end")
_JSON = ("why", "pages", "boxes")
CSV_FIELDS = ("question", "answer", "abstained", "read_as", "index_build", "model", "asked_at", *QUOTE_FIELDS)


# Characters str.splitlines() ends a line at that JSON leaves raw: a reader that splits lines that
# way would cut a record in two, so JSON lines escape them.
_LINE_BREAKS = str.maketrans({c: f"\\u{ord(c):04x}" for c in "\u0085\u2028\u2029\x1c\x1d\x1e\x0b\x0c"})


def json_line(obj) -> str:
    """One JSON document on one line, whatever line-splitting its reader uses."""
    return json.dumps(obj, ensure_ascii=False).translate(_LINE_BREAKS)


def check_path(path: str | Path) -> Path:
    """The export path, if its extension names a format."""
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise InputError(f"export file {str(p)!r}: name it .json, .jsonl or .csv (the extension picks the format)")
    return p


def record(answer: Answer, document: Callable[[str], str], *, asked_at: str | None = None) -> dict:
    """One answer as an export record.

    Args:
        document: the raw text of a source file as indexed (`Engine.document`, which refuses a
            file that changed since the build), for the UTF-8 byte offsets.
    """
    texts: dict[str, str | None] = {}
    quotes = []
    for q in answer.quotes:
        if q.source not in texts:
            try:
                texts[q.source] = document(q.source)
            except InputError:
                texts[q.source] = None  # changed since that build (a replay): no byte offsets to give
        raw = texts[q.source]
        start_byte = len(raw[: q.start].encode("utf-8")) if raw is not None else None
        quotes.append({
            "n": q.n, "text": q.text, "source": q.source, "start": q.start, "end": q.end,
            "start_byte": start_byte,
            "end_byte": start_byte + len(q.text.encode("utf-8")) if start_byte is not None else None,
            "source_sha256": q.source_sha256, "title": q.title, "publisher": q.publisher, "date": q.date,
            "url": q.url, "language": q.language, "format": q.format, **q.location, "why": q.why,
        })
    return {
        "question": answer.question, "answer": answer.answer, "abstained": answer.abstained,
        "read_as": answer.read_as, "index_build": answer.index_build, "model": answer.model,
        "asked_at": asked_at or time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quotes": quotes,
    }


def render(records: list[dict], suffix: str) -> str:
    """The export file's text in the format of `suffix`."""
    suffix = suffix.lower()
    if suffix == ".json":
        return json.dumps({"format": FORMAT, "answers": records}, ensure_ascii=False, indent=1) + "\n"
    if suffix == ".jsonl":
        return "".join(json_line(r) + "\n" for r in records)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in records:
        base = {k: r[k] for k in CSV_FIELDS if k in r and k != "quotes"}
        for q in r["quotes"] or [{}]:
            row = {**base, **{k: q.get(k) for k in QUOTE_FIELDS}}
            for k in _JSON:
                row[k] = json.dumps(q[k], ensure_ascii=False) if q.get(k) is not None else ""
            w.writerow(row)
    return out.getvalue()


def write(path: str | Path, records: list[dict]) -> Path:
    """Write records to `path` atomically, in the format its extension names."""
    p = check_path(path)
    data = render(records, p.suffix)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def read(path: str | Path) -> list[dict]:
    """The answer records of an export file, in any of the three formats."""
    p = check_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read export {str(p)!r}: {exc.strerror}") from exc
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT!r} file")
            return data["answers"]
        if p.suffix.lower() == ".jsonl":
            return [json.loads(line) for line in text.split("\n") if line.strip()]
        return _from_csv(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"export {str(p)!r} cannot be read ({exc}); was it written by `qa ask --export`?") from exc


def _from_csv(text: str) -> list[dict]:
    records: dict[tuple, dict] = {}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        key = (row["question"], row["asked_at"], row["index_build"])
        r = records.setdefault(key, {k: row[k] for k in CSV_FIELDS if k not in QUOTE_FIELDS} | {"quotes": []})
        if row["source"]:
            q = {k: row.get(k) for k in QUOTE_FIELDS}
            for k in _INTEGERS:
                q[k] = int(q[k]) if q[k] not in ("", None) else None
            for k in _JSON:
                q[k] = json.loads(q[k]) if q[k] else ({} if k == "why" else None)
            q = {k: v for k, v in q.items() if k not in LOCATION_FIELDS[1:] or v not in ("", None)}
            r["quotes"].append(q)
    return list(records.values())
