"""How the index scales: build, disk, open, memory, dense search and answers at N passages.

    .venv/bin/python eval/bench_scale.py --passages 100000 [--vectors synthetic|model] [--json]
    .venv/bin/python eval/bench_scale.py --passages 200000 --sweep-ef 32,48,64,96,128
    .venv/bin/python eval/bench_scale.py --passages 1000000 --build-only

1. Documents are made of real sentences, recombined: every sentence of the BEIR
   corpora in ../shared/datasets and of the seeds, drawn at random (seeded) into
   documents of 24-40 sentences, until the passage count reaches N. They are
   written to `--work` (default ~/.cache/qa-cite/scale/N) and built with `qa build`'s
   own code, so clutter removal, splitting, BM25 and the dense index are the product's.
2. `--vectors model` embeds them with the bundled model. `--vectors synthetic` skips
   embedding: each text gets a mixture of two real passage vectors (of 2,000 embedded
   once from the same corpora) plus Gaussian noise, normalised. Such vectors cluster as
   text does; uniform random vectors would be the worst case for ANN and say little.
3. The build runs in a new process: `build_s`, its wall time, and `build_peak_mb`, its peak
   resident memory (the kernel's high-water mark for the process, as `/usr/bin/time -v` reports
   it; the build starts no processes of its own); `texts_per_passage`, passages and sentences
   per passage. `--build-only` stops there.
4. Then: `open_s`, a new Python process importing `qa` and opening the index (no model
   load; PYTHONDONTWRITEBYTECODE as the caller has it), and its `rss_mb` after opening;
   `search_p50_ms`, the index's own dense search of one query, and `flat_search_p50_ms`,
   exact search on the same vectors in the same run; `recall_at_10` of the first against
   the second; `ask_p50_ms`, `Engine.ask` on BEIR questions (with synthetic vectors the
   question embedding is the synthetic one: add one model embedding, about 15 ms);
   `first_ask_s`, a new process importing `qa`, loading the bundled model, opening the index
   and answering one question with the model's question vector (median of 3).
   Query vectors are held out of the index, made the same way; `--sweep-ef` tunes the
   HNSW search breadth on the first half of them and reports every row on the second.

With `--json` the last line is one JSON object of the table's keys. Run it with nothing
else on the machine; the build of 1M passages peaks at about 2.5 GB of memory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASETS = ROOT.parent / "shared" / "datasets"

SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“])")
NOISE = 0.03  # per dimension: the noise vector's norm is about 0.6 of a passage vector's (384 dimensions)
BASE_VECTORS = 2000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def real_sentences() -> list[str]:
    """Every sentence of the BEIR corpora and the seeds (at least five words)."""
    from qa.evaluation.beir import read_corpus

    texts = []
    for folder in sorted(DATASETS.glob("*")):
        if (folder / "corpus.jsonl").exists():
            texts += [row.get("text", "") for row in read_corpus(folder)]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    out = []
    for t in texts:
        out += [s.strip() for s in SENTENCE_RE.split(" ".join(t.split())) if len(s.split()) >= 5]
    return out


def write_documents(folder: Path, passages: int, seed: int = 0) -> int:
    """Documents of recombined sentences, about `passages` passages in all; returns the file count."""
    from qa.settings import IndexSettings

    done = folder / ".complete"
    if done.exists():
        return int(done.read_text())
    pool = real_sentences()
    rng = random.Random(seed)
    per_passage = IndexSettings().passage_words * 0.6  # new words per passage, one sentence overlapping (measured)
    words, n = 0, 0
    target = passages * per_passage
    while words < target:
        sub = folder / f"{n // 1000:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        body = [rng.choice(pool) for _ in range(rng.randint(24, 40))]
        paragraphs = ["\n".join([" ".join(body[i : i + 4])]) for i in range(0, len(body), 4)]
        text = f"Document {n}\n\n" + "\n\n".join(paragraphs) + "\n"
        (sub / f"doc{n:07d}.txt").write_text(text, encoding="utf-8")
        words += sum(len(s.split()) for s in body)
        n += 1
    done.write_text(str(n))
    return n


class SyntheticEmbedder:
    """Vectors near real ones without a model: a mixture of two base vectors plus noise, by text hash."""

    def __init__(self, base: np.ndarray) -> None:
        self.base = base
        self.model_id = f"synthetic-mixture-of-{len(base)}"
        self.dimension = base.shape[1]

    def encode(self, texts, *, progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(t.encode("utf-8")).digest()[:8], "little")
            rng = np.random.default_rng(seed)
            a, b = rng.integers(len(self.base), size=2)
            w = rng.uniform(0.5, 0.9)
            v = w * self.base[a] + (1 - w) * self.base[b] + rng.normal(0, NOISE, self.dimension)
            out[i] = v / np.linalg.norm(v)
        return out

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


def base_vectors(cache: Path) -> np.ndarray:
    path = cache / f"base-{BASE_VECTORS}.npy"
    if path.exists():
        return np.load(path)
    from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder

    rng = random.Random(1)
    pool = real_sentences()
    texts = [" ".join(rng.choice(pool) for _ in range(3)) for _ in range(BASE_VECTORS)]
    vectors = Embedder().encode(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


OPEN_SCRIPT = """
import json, sys, time
t = time.perf_counter()
from qa.build.build import load_index
idx = load_index(sys.argv[1])
retriever_parts = (len(idx.passages), len(idx.dense), len(idx.bm25), len(idx.quotes))
seconds = time.perf_counter() - t
rss = int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024
print(json.dumps({"open_s": seconds, "rss_mb": rss}))
"""


BUILD_SCRIPT = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
import numpy as np
from qa.build.build import build_index
if sys.argv[3] == "model":
    from qa.embed import load_embedder
    embedder = load_embedder()
else:
    from bench_scale import SyntheticEmbedder
    embedder = SyntheticEmbedder(np.load(sys.argv[3]))
t = time.perf_counter()
report = build_index(sys.argv[1], sys.argv[2], embedder=embedder, keep_builds=1)
print(json.dumps({"build_s": time.perf_counter() - t, "passages": report.passages, "embedded": report.embedded,
                  "texts": report.passages + report.sentences}))
"""


def measure_build(docs: Path, index: Path, vectors: str, cache: Path) -> dict:
    """Build in a new process: its wall time and its peak resident memory (the process's high-water
    mark, as `/usr/bin/time -v` reports it; the build starts no processes of its own)."""
    import resource

    base = str(cache / f"base-{BASE_VECTORS}.npy") if vectors == "synthetic" else "model"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([sys.executable, "-c", BUILD_SCRIPT, str(docs), str(index), base, str(ROOT / "eval")],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["build_peak_mb"] = round(max(peak, before) / 1024, 1)  # ru_maxrss: KiB on Linux
    row["texts_per_passage"] = round(row.pop("texts") / row["passages"], 2)
    return row


def measure_open(index: Path, runs: int = 3) -> dict:
    """Median over `runs` new processes (the first also warms the page cache)."""
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", OPEN_SCRIPT, str(index)], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"open_s": statistics.median(r["open_s"] for r in rows), "rss_mb": statistics.median(r["rss_mb"] for r in rows)}


FIRST_ASK_SCRIPT = """
import sys, time
t = time.perf_counter()
from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder
from qa.engine import Engine
from qa.build.build import load_index
from qa.retrieval import Retriever
embedder = Embedder()
embedder.encode_one("warm")  # loads the model, as a first question would
idx = load_index(sys.argv[1])
# The index holds synthetic vectors: the model's question vector searches them (answers are
# meaningless, the work is the real one), so the model check is passed by hand.
engine = Engine(Retriever(idx.store(), embedder))
engine.ask(sys.argv[2])
print(time.perf_counter() - t)
"""


def measure_first_ask(index: Path, question: str, runs: int = 3) -> float:
    """A new Python process: imports, the bundled model loaded, the index opened, one question
    answered (median of `runs`; PYTHONDONTWRITEBYTECODE as the caller has it)."""
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", FIRST_ASK_SCRIPT, str(index), question], capture_output=True,
                             text=True, check=True, cwd=ROOT)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def search_stats(dense, queries: np.ndarray, k: int = 10) -> dict:
    ann_ms, flat_ms, recall = [], [], []
    for q in queries:
        t = time.perf_counter()
        _, got = dense.search(q[None, :], k)
        ann_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        _, exact = dense.exact(q[None, :], k)
        flat_ms.append((time.perf_counter() - t) * 1000)
        recall.append(len(set(got[0].tolist()) & set(exact[0].tolist())) / k)
    return {"search_p50_ms": statistics.median(ann_ms), "flat_search_p50_ms": statistics.median(flat_ms),
            "recall_at_10": float(np.mean(recall))}


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024 / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", type=int, required=True)
    ap.add_argument("--vectors", choices=["synthetic", "model"], default="synthetic")
    ap.add_argument("--work", type=Path, help="where documents and index go (default: ~/.cache/qa-cite/scale/N)")
    ap.add_argument("--queries", type=int, default=200, help="held-out query vectors for search timing and recall")
    ap.add_argument("--questions", type=int, default=30, help="BEIR questions for ask timing")
    ap.add_argument("--sweep-ef", default="", help="comma-separated HNSW efSearch values to compare")
    ap.add_argument("--add-one", type=int, nargs="?", const=1, default=0, metavar="RUNS",
                    help="then add one document to the folder and time the rebuild, RUNS times (each run's "
                         "document replaces the last one's); add_one_s is the median")
    ap.add_argument("--skip-build", action="store_true", help="open the index an earlier run left in --work")
    ap.add_argument("--build-only", action="store_true", help="write the documents, build (timed, with its peak "
                                                                  "memory), and stop")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from qa.engine import Engine
    from qa.evaluation.beir import load_queries
    from qa.retrieval import Retriever
    from qa.build.build import build_index, load_index

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa-cite" / "scale"
    work = args.work or cache / f"{args.passages}"
    docs = work / "docs"
    files = write_documents(docs, args.passages)
    index = work / f"index-{args.vectors}"
    if args.vectors == "model":
        from qa.embed.sentence_transformers import SentenceTransformerEmbedder as Embedder

        embedder = Embedder()
    else:
        embedder = SyntheticEmbedder(base_vectors(cache))
    built = {}
    if not (args.skip_build and (index / "CURRENT").exists()):
        built = measure_build(docs, index, args.vectors, cache)
        print(f"build: {json.dumps(built)}", file=sys.stderr, flush=True)
    if args.build_only:
        return
    idx = load_index(index)
    build_s = built.get("build_s")
    model_rate = args.vectors == "model" and built.get("embedded")
    row = {"passages": len(idx.passages), "sentences": len(idx.quotes), "documents": files, "vectors": args.vectors,
           "dense_index": idx.dense.kind, "build_s": round(build_s, 1) if build_s else None,
           "build_passages_per_s": round(built["passages"] / build_s, 1) if model_rate else None,
           "build_peak_mb": built.get("build_peak_mb"), "texts_per_passage": built.get("texts_per_passage"),
           "embedded": built.get("embedded"), "disk_mb": round(folder_mb(idx.path), 1)}
    row.update(measure_open(index))

    probe = SyntheticEmbedder(embedder.base) if args.vectors == "synthetic" else embedder
    queries = probe.encode([f"held-out query {i}" for i in range(args.queries)])
    half = len(queries) // 2
    if args.sweep_ef and idx.dense.kind == "hnsw":
        from dataclasses import replace

        default = idx.dense.settings
        for ef in [int(x) for x in args.sweep_ef.split(",")]:
            idx.dense.settings = replace(default, ef_search=ef)
            tune, test = search_stats(idx.dense, queries[:half]), search_stats(idx.dense, queries[half:])
            print(f"efSearch {ef:4d}: tune recall@10 {tune['recall_at_10']:.3f}  "
                  f"report recall@10 {test['recall_at_10']:.3f} p50 {test['search_p50_ms']:.2f} ms "
                  f"(exact {test['flat_search_p50_ms']:.2f} ms)", file=sys.stderr, flush=True)
        idx.dense.settings = default
    row.update(search_stats(idx.dense, queries[half:]))

    engine = Engine(Retriever(idx.store(), embedder))
    questions = list(load_queries(DATASETS / "msmarco-5k").values())[: args.questions]
    engine.ask(questions[0])
    times = []
    for q in questions:
        t = time.perf_counter()
        engine.ask(q)
        times.append((time.perf_counter() - t) * 1000)
    row["ask_p50_ms"] = statistics.median(times)
    row["first_ask_s"] = measure_first_ask(index, questions[0])
    if args.add_one:
        extra = docs / "added" / "one-more.txt"
        extra.parent.mkdir(exist_ok=True)
        pool, runs = real_sentences(), []
        for run in range(args.add_one):
            rng = random.Random(len(idx.passages) + run)
            extra.write_text("One more document\n\n" + " ".join(rng.choice(pool) for _ in range(30)) + "\n",
                             encoding="utf-8")
            t = time.perf_counter()
            again = build_index(docs, index, embedder=embedder, keep_builds=1)
            runs.append(time.perf_counter() - t)
            print(f"add one, run {run + 1}: {runs[-1]:.2f} s, {again.processed} documents processed, "
                  f"{again.embedded} texts embedded", file=sys.stderr, flush=True)
        extra.unlink()
        row["add_one_s"] = statistics.median(runs)
        row["add_one_runs_s"] = [round(r, 2) for r in runs]
        row["add_one_embedded"] = again.embedded
    row = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}
    keys = ["passages", "dense_index", "build_passages_per_s", "build_peak_mb", "disk_mb", "open_s", "rss_mb", "search_p50_ms",
            "flat_search_p50_ms", "recall_at_10", "ask_p50_ms", "first_ask_s"] + (["add_one_s"] if args.add_one else [])
    print(" | ".join(keys))
    print(" | ".join(str(row[k]) for k in keys))
    if args.json:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
