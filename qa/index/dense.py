"""Dense search over unit vectors (inner product = cosine): exact below a size, HNSW above.

The vectors themselves are stored once, as `vectors.npy`, and memory-mapped on
open: fusion, feedback and quote scoring read only the rows they need. Below
`AnnSettings.threshold` rows a search is exact (one matrix-vector product; at
100,000 rows it costs about as much as FAISS's flat index, without a second copy
of the vectors in memory). From the threshold up, a FAISS HNSW graph answers
instead; its parameters are chosen by `eval/bench_scale.py` and recorded in the
manifest with the rest of the index settings.

A search can be limited to some rows (the passages of chosen sources): exact
search masks the scores; HNSW hands FAISS an ID selector, so the graph is
searched for allowed rows only, or, when few rows are allowed, they are scored
exactly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..settings import AnnSettings
from .rows import save, slices


# Neighbour slots per node, in units of M: 2 M on the bottom level, M on each level above, where a node
# reaches level l with probability M^-l; 65.05 per node at M 32 over 100k nodes (measured). A little
# more, so the array is not grown (and copied) near the end.
NEIGHBOURS_PER_NODE = 2.07


class DenseIndex:
    """Unit vectors, and an HNSW graph over them when there are enough of them."""

    def __init__(self, vectors: np.ndarray, graph=None, settings: AnnSettings = AnnSettings(), *,
                 deferred: bool = False, graph_file: Path | None = None) -> None:
        self._vectors = vectors
        self._graph = graph
        self._deferred = deferred and graph is None and graph_file is None  # a graph to build when first needed
        self._graph_file = graph_file  # a graph built and written already, read when first needed
        self.settings = settings  # its ef_search is passed with every graph search

    @classmethod
    def build(cls, vectors: np.ndarray, settings: AnnSettings = AnnSettings(), folder: Path | None = None) -> "DenseIndex":
        """The index of `vectors`.

        Args:
            folder: where to build the graph, if it needs one, now, and write it; the graph is then
                not held in memory (a build: it copies the file, and nothing searches it). None: the
                graph is built when first searched or saved (an evaluation corpus).
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) < settings.threshold:
            return cls(vectors, None, settings)
        if folder is None:
            return cls(vectors, None, settings, deferred=True)
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(_make_graph(vectors, settings), str(folder / "hnsw.faiss"))
        return cls(vectors, None, settings, graph_file=folder / "hnsw.faiss")

    @property
    def graph(self):
        """The HNSW graph (None: searched exactly)."""
        if self._deferred:
            self._graph, self._deferred = _make_graph(self._vectors, self.settings), False
        if self._graph is None and self._graph_file is not None:
            import faiss

            self._graph = faiss.read_index(str(self._graph_file))
        return self._graph

    def __len__(self) -> int:
        return len(self._vectors)

    @property
    def dimension(self) -> int:
        return int(self._vectors.shape[1])

    @property
    def kind(self) -> str:
        return "hnsw" if self._graph is not None or self._deferred or self._graph_file is not None else "exact"

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` (scores, ids) per query row, best first; ids are -1 where fewer exist.

        Args:
            allowed: if given, the ascending row numbers that may be returned.
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if self.kind == "exact" or (allowed is not None and len(allowed) <= self.settings.exact_below):
            return self.exact(queries, k, allowed)
        return self._graph_search(queries, k, allowed)

    def exact(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """As `search`, always exact: what the graph's recall is measured against."""
        queries = np.atleast_2d(queries)
        if allowed is not None and len(allowed) <= self.settings.exact_below:
            return _top_k(np.asarray(self._vectors[allowed]) @ queries.T, k, rows=allowed)
        scores = np.asarray(self._vectors @ queries.T)
        if allowed is not None:
            mask = np.ones(len(self), bool)
            mask[allowed] = False
            scores[mask] = -np.inf
            k = min(k, len(allowed))
        return _top_k(scores, k)

    def _graph_search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None):
        import faiss

        k = max(1, min(k, len(self)))
        params = faiss.SearchParametersHNSW(efSearch=max(self.settings.ef_search, k))
        if allowed is not None:
            bits = np.zeros(len(self), dtype=bool)
            bits[allowed] = True
            packed = np.packbits(bits, bitorder="little")  # must outlive the search: FAISS reads it in place
            params.sel = faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(packed))
        return self.graph.search(queries, k, params=params)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir()
        save(folder / "vectors.npy", self._vectors, np.float32)
        if self.kind == "hnsw":
            import faiss

            if self._graph is None and self._graph_file is not None:
                shutil.copyfile(self._graph_file, folder / "hnsw.faiss")
            else:  # a deferred graph is built for this, and not kept
                graph = self._graph if self._graph is not None else _make_graph(self._vectors, self.settings)
                faiss.write_index(graph, str(folder / "hnsw.faiss"))

    @classmethod
    def load(cls, folder: str | Path, settings: AnnSettings = AnnSettings()) -> "DenseIndex":
        """Memory-map the vectors; read the graph if the build made one."""
        folder = Path(folder)
        vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
        if vectors.ndim != 2 or vectors.dtype != np.float32:
            raise ValueError(f"vectors.npy holds {vectors.dtype} of shape {vectors.shape}, not rows of float32")
        graph = None
        if (folder / "hnsw.faiss").exists():
            import faiss

            graph = faiss.read_index(str(folder / "hnsw.faiss"))
            if graph.ntotal != len(vectors) or graph.d != vectors.shape[1]:
                raise ValueError(f"the HNSW graph holds {graph.ntotal} vectors of {graph.d}, vectors.npy {vectors.shape}")
        return cls(vectors, graph, settings)


def _make_graph(vectors: np.ndarray, settings: AnnSettings):
    """The HNSW graph of `vectors`, read into it a slice at a time (mapped ones are never resident whole).
    Its arrays are sized first: grown a slice at a time they would be copied at each doubling."""
    import faiss

    n = len(vectors)
    graph = faiss.IndexHNSWFlat(vectors.shape[1], settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = settings.ef_construction
    storage = faiss.downcast_index(graph.storage)
    for array, size in ((storage.codes, n * storage.code_size), (graph.hnsw.neighbors, int(n * NEIGHBOURS_PER_NODE * settings.hnsw_m))):
        array.resize(size)  # capacity kept by the resize to 0
        array.resize(0)
    for part in slices(vectors):
        graph.add(part)
    return graph


def _top_k(scores: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Best `k` per column of `scores` (rows x queries) as FAISS returns them: (queries x k) scores and ids."""
    n, m = scores.shape
    k = max(1, k)
    out_s = np.full((m, k), -np.inf, np.float32)
    out_i = np.full((m, k), -1, np.int64)
    take = min(k, n)
    for j in range(m):
        col = scores[:, j]
        top = np.argpartition(-col, take - 1)[:take] if take < n else np.arange(n)
        top = top[np.argsort(-col[top], kind="stable")]
        top = top[np.isfinite(col[top])]
        out_s[j, : len(top)] = col[top]
        out_i[j, : len(top)] = top if rows is None else rows[top]
    return out_s, out_i
