"""Spans on disk: the corpus's passages and sentences as columns, read lazily.

A built index holds a row per passage and per sentence: its source, its character
offsets in the raw document, its text, and (for passages) the sentences it spans.
Written as JSON lines, opening an index of a million passages meant parsing every
line into a Python object. Here each field is a column (a NumPy array, memory-mapped
on open) and all texts sit end to end in one UTF-8 file, so opening reads only the
list of source names, and a row becomes an object only when someone asks for it.

On disk (one folder per table):
    sources.json    the source names; rows refer to them by number
    source.npy      int32, the row's source number (rows are grouped by source, in corpus order)
    start.npy       int64, character offsets into the raw document
    end.npy
    text.bin        the rows' texts in UTF-8, end to end
    text_ptr.npy    int64, byte offsets of each row's text in text.bin (one more than rows)
    <name>.npy      any further integer column (a passage's sentence_start and sentence_stop)

A table can also live in memory (`from_rows`), and tables are cut by rows (`take`) and joined
(`concat`) column by column, so a build can carry most of its rows over from the previous build
without making an object per row.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .rows import map_bytes, write_bytes

BASE = ("source", "start", "end")


class SpanTable(Sequence):
    """Rows of (source, start, end, text, extra columns), built into objects on access.

    Args:
        make: builds one row's object from its fields as keywords (source, start, end, text and
            the extra columns), e.g. `Passage.from_row`.
    """

    def __init__(self, sources: list[str], columns: dict[str, np.ndarray], text: bytes | mmap.mmap | memoryview,
                 text_ptr: np.ndarray, make: Callable[..., object]) -> None:
        n = len(columns["source"])
        if any(len(c) != n for c in columns.values()) or len(text_ptr) != n + 1:
            raise ValueError(f"span table columns disagree: {', '.join(f'{k} {len(v)}' for k, v in columns.items())}, "
                             f"{len(text_ptr) - 1} texts")
        self.sources = sources
        self.columns = columns
        self._text = text
        self._ptr = text_ptr
        self._make = make
        self._ranges: dict[str, tuple[int, int]] | None = None

    def __len__(self) -> int:
        return len(self.columns["source"])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"row {i} out of range (0-{len(self) - 1})")
        c = self.columns
        extra = {k: int(v[i]) for k, v in c.items() if k not in BASE}
        return self._make(source=self.sources[c["source"][i]], start=int(c["start"][i]), end=int(c["end"][i]),
                          text=self.text(i), **extra)

    def text(self, i: int) -> str:
        """Row `i`'s text, decoded without building the row."""
        return bytes(self._text[int(self._ptr[i]) : int(self._ptr[i + 1])]).decode("utf-8")

    def source(self, i: int) -> str:
        return self.sources[int(self.columns["source"][i])]

    def source_ranges(self) -> dict[str, tuple[int, int]]:
        """Each source's rows as a half-open range `[first, stop)`: rows are grouped by source."""
        if self._ranges is None:
            ids = np.asarray(self.columns["source"])
            cuts = np.flatnonzero(np.diff(ids)) + 1
            firsts = np.concatenate([[0], cuts]).astype(np.int64) if len(ids) else np.zeros(0, np.int64)
            stops = np.concatenate([cuts, [len(ids)]]).astype(np.int64) if len(ids) else np.zeros(0, np.int64)
            self._ranges = {self.sources[int(ids[f])]: (int(f), int(s)) for f, s in zip(firsts, stops)}
        return self._ranges

    def rows_of(self, names: Iterable[str]) -> np.ndarray:
        """The row numbers of the given sources, ascending (unknown names have none)."""
        ranges = self.source_ranges()
        parts = [np.arange(*ranges[n], dtype=np.int64) for n in sorted(set(names)) if n in ranges]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    # -- building -----------------------------------------------------------------------------------

    @classmethod
    def from_rows(cls, rows: Sequence, make: Callable[..., object], extra: tuple[str, ...] = ()) -> "SpanTable":
        """An in-memory table of objects with `source`, `start`, `end`, `text` (and the `extra` integer attributes).

        Rows must be grouped by source (each source's rows together), as a corpus is built.
        """
        names: dict[str, int] = {}
        source = np.empty(len(rows), np.int32)
        start = np.empty(len(rows), np.int64)
        end = np.empty(len(rows), np.int64)
        more = {k: np.empty(len(rows), np.int64) for k in extra}
        ptr = np.zeros(len(rows) + 1, np.int64)
        texts = []
        last = None
        for i, r in enumerate(rows):
            if r.source != last and r.source in names:
                raise ValueError(f"rows of {r.source!r} are not together; a span table is written in corpus order")
            last = r.source
            source[i] = names.setdefault(r.source, len(names))
            start[i], end[i] = r.start, r.end
            for k in extra:
                more[k][i] = getattr(r, k)
            data = r.text.encode("utf-8")
            texts.append(data)
            ptr[i + 1] = ptr[i] + len(data)
        return cls(list(names), {"source": source, "start": start, "end": end, **more}, b"".join(texts), ptr, make)

    def take(self, first: int, stop: int) -> "SpanTable":
        """Rows `[first, stop)` as a table of their own (columns are views; the text is a view of a
        mapped file's, or a copy of text in memory)."""
        lo, hi = int(self._ptr[first]), int(self._ptr[stop])
        columns = {k: v[first:stop] for k, v in self.columns.items()}
        text = memoryview(self._text)[lo:hi] if isinstance(self._text, mmap.mmap) else bytes(self._text[lo:hi])
        return SpanTable(self.sources, columns, text, np.asarray(self._ptr[first : stop + 1]) - lo, self._make)

    @classmethod
    def concat(cls, tables: Sequence["SpanTable"], make: Callable[..., object], folder: Path | None = None) -> "SpanTable":
        """The tables' rows one after the other, as one table; a source may not be in two of them.

        Args:
            folder: where to join the texts on disk (then memory-mapped); None: in memory.
        """
        names: dict[str, int] = {}
        sources, ptrs, texts = [], [np.zeros(1, np.int64)], []
        offset = 0
        for t in tables:
            ids = np.asarray(t.columns["source"])
            firsts = ids[np.concatenate([[0], np.flatnonzero(np.diff(ids)) + 1])] if len(ids) else ids
            renumber = np.full(len(t.sources), -1, np.int32)
            for i in firsts.tolist():
                name = t.sources[i]
                if name in names or renumber[i] >= 0:
                    raise ValueError(f"rows of {name!r} are not together; a span table is written in corpus order")
                renumber[i] = names.setdefault(name, len(names))
            sources.append(renumber[ids])
            ptrs.append(np.asarray(t._ptr[1:]) + offset)
            offset += int(t._ptr[-1])
            texts.append(t._text)
        keys = tables[0].columns.keys() if tables else ("source", "start", "end")
        columns = {k: (np.concatenate(sources).astype(np.int32) if k == "source" else
                       np.concatenate([np.asarray(t.columns[k], np.int64) for t in tables]))
                   for k in keys} if tables else {k: np.zeros(0, np.int64) for k in keys}
        if folder is None:
            text = b"".join(texts)  # bytes, or views of mapped files
        else:
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / "text.bin").open("wb") as fh:
                for t in texts:
                    write_bytes(fh, t)
            text = map_bytes(folder / "text.bin")
        return cls(list(names), columns, text, np.concatenate(ptrs), make)

    # -- files --------------------------------------------------------------------------------------

    @staticmethod
    def write(folder: Path, rows: Sequence, extra: tuple[str, ...] = ()) -> None:
        """Write objects with `source`, `start`, `end`, `text` (and the `extra` integer attributes).

        Rows must be grouped by source (each source's rows together), as a corpus is built.
        """
        SpanTable.from_rows(rows, dict, extra).save(folder)

    def save(self, folder: Path) -> None:
        """Write the table into a new folder, in the layout `open` reads."""
        folder.mkdir()
        with (folder / "text.bin").open("wb") as fh:
            write_bytes(fh, self._text)
        (folder / "sources.json").write_text(json.dumps(self.sources, ensure_ascii=False), encoding="utf-8")
        c = self.columns
        arrays = {"source": np.asarray(c["source"], np.int32), "start": np.asarray(c["start"], np.int64),
                  "end": np.asarray(c["end"], np.int64), "text_ptr": np.asarray(self._ptr, np.int64)}
        arrays.update({k: np.asarray(v, np.int64) for k, v in c.items() if k not in BASE})
        for name, array in arrays.items():
            np.save(folder / f"{name}.npy", array, allow_pickle=False)

    @classmethod
    def open(cls, folder: Path, make: Callable[..., object], extra: tuple[str, ...] = ()) -> "SpanTable":
        """Open a table written by `write`: columns memory-mapped, nothing decoded yet."""
        sources = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
        columns = {k: np.load(folder / f"{k}.npy", mmap_mode="r", allow_pickle=False) for k in (*BASE, *extra)}
        ptr = np.load(folder / "text_ptr.npy", mmap_mode="r", allow_pickle=False)
        text = map_bytes(folder / "text.bin")
        if len(ptr) and int(ptr[-1]) != len(text):
            raise ValueError(f"text.bin holds {len(text)} bytes, its pointers say {int(ptr[-1])}")
        if len(columns["source"]) and int(np.max(columns["source"])) >= len(sources):
            raise ValueError("a row names a source number beyond sources.json")
        return cls(sources, columns, text, ptr, make)
