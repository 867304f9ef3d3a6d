"""Embedding speed of the embedding models, side by side in one process: texts/s over msmarco-5k passages.

    .venv/bin/python eval/bench_models.py [--texts 560] [--models all-MiniLM-L6-v2,multilingual-e5-small]

Each model embeds 40 passages to warm up, then `--texts` passages, timed. Run it with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "datasets" / "msmarco-5k" / "corpus.jsonl"


def main(argv: list[str] | None = None) -> int:
    from qa.embed import load_embedder
    from qa.text import normalize

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=560)
    ap.add_argument("--models", default="all-MiniLM-L6-v2,multilingual-e5-small")
    args = ap.parse_args(argv)
    with CORPUS.open(encoding="utf-8") as f:
        docs = [json.loads(line) for _, line in zip(range(args.texts + 40), f)]
    texts = [normalize(f"{d.get('title', '')} {d['text']}") for d in docs]
    for name in args.models.split(","):
        embedder = load_embedder(name)
        embedder.encode(texts[:40])
        started = time.perf_counter()
        embedder.encode(texts[40:])
        seconds = time.perf_counter() - started
        print(f"{name}: {len(texts) - 40} texts in {seconds:.1f} s, {(len(texts) - 40) / seconds:.1f} texts/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
