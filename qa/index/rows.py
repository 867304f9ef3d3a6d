"""Large arrays of rows kept on disk while a build makes them, so a build's memory does not grow with the corpus.

A memory-mapped file's pages count in a process's resident memory once they are read, and stay
there while memory is free. So arrays a build copies (vectors, above all: 1.5 KB per text at
384 dimensions) are written and read here a slice at a time, and `release` hands a slice's pages
back to the page cache once it is read.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CHUNK_BYTES = 16 << 20  # what one slice of a copy holds in memory


def release(array: np.ndarray) -> None:
    """Drop the resident pages of the file `array` is mapped from (nothing for an array in memory).
    The data stays in the file and the page cache; reading it again maps it back in. For read-only
    mappings, as every one in this package is: a private writable mapping would lose its writes."""
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "_mmap", None) or getattr(base, "base", None)
    if isinstance(base, mmap.mmap) and len(base):
        base.madvise(mmap.MADV_DONTNEED)


def slices(array: np.ndarray, chunk_bytes: int = CHUNK_BYTES) -> Iterator[np.ndarray]:
    """`array`'s rows a slice at a time, each in memory, releasing the mapped pages behind them."""
    n = len(array)
    row_bytes = max(1, array.itemsize * int(np.prod(array.shape[1:], dtype=np.int64)))
    step = max(1, chunk_bytes // row_bytes)
    for start in range(0, n, step):
        yield np.array(array[start : start + step])
        release(array)


def save(path: Path, array: np.ndarray, dtype=None, transform=None) -> None:
    """`np.save` of `array` (as `dtype`), written a slice at a time so a mapped array is never resident whole.

    Args:
        transform: applied to each slice before it is written (the same shape and type out).
    """
    dtype = np.dtype(dtype or array.dtype)
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                                                  "shape": tuple(array.shape)})
        for part in slices(array):
            fh.write(np.ascontiguousarray(transform(part) if transform else part, dtype).tobytes())


def write_bytes(fh, data: bytes | mmap.mmap | memoryview) -> None:
    """Write `data` to an open file a slice at a time, releasing a mapping's pages behind it."""
    owner = data.obj if isinstance(data, memoryview) else data
    for start in range(0, len(data), CHUNK_BYTES):
        fh.write(data[start : start + CHUNK_BYTES])
        if isinstance(owner, mmap.mmap):
            owner.madvise(mmap.MADV_DONTNEED)


def map_bytes(path: Path) -> bytes | mmap.mmap:
    """A file's bytes, memory-mapped read-only (b"" for an empty file, which cannot be mapped)."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        return mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) if size else b""


def join_rows(arrays: list[np.ndarray], path: Path) -> np.ndarray:
    """The arrays' rows one after the other in a raw file at `path`, copied a slice at a time, mapped."""
    out = Appender(path, arrays[0].shape[1], arrays[0].dtype)
    for array in arrays:
        for part in slices(array):
            out.append(part)
    return out.close()


def trim_heap() -> None:
    """Hand the heap's free memory back to the system (glibc's `malloc_trim`; nothing where there is
    none). Freed Python objects and torch's activations otherwise stay resident: 350 MB after
    embedding 4,096 texts with the bundled model, measured."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class Appender:
    """Rows of one width and type appended to a raw file, then mapped as one array (`close`)."""

    def __init__(self, path: Path, width: int, dtype=np.float32) -> None:
        self.path, self.width, self.dtype = path, width, np.dtype(dtype)
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "wb")

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, self.dtype).reshape(-1, self.width)
        self._fh.write(rows.tobytes())
        self.rows += len(rows)

    def close(self) -> np.ndarray:
        """The rows written, memory-mapped read-only."""
        self._fh.close()
        if not self.rows:
            return np.zeros((0, self.width), self.dtype)
        return np.memmap(self.path, self.dtype, mode="r", shape=(self.rows, self.width))
