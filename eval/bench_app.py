"""Seconds from `python app.py` to a usable page (cold: no index; warm: index present), and answer latency.

    .venv/bin/python eval/bench_app.py [--port 7870] [--runs 3]

"Page" means the page's config answers: the server listens once the index is open,
while the model loads in the background. "First answer" is from the same start to
the first `ask` call's reply (asked as soon as the page is up: it waits for the model).
Latency is measured through gradio_client over the gold questions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(port: int, index: str) -> tuple[subprocess.Popen, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--index", index], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "QA_INDEX": index})
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=1) as r:
                if r.status == 200:
                    return proc, time.perf_counter() - t0
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit("app.py exited before serving")
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7870)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from gradio_client import Client

    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "seeds_gold.jsonl").read_text().splitlines() if line]
    cold, warm, first, latencies = [], [], [], []
    for _ in range(args.runs):
        index = tempfile.mkdtemp(prefix="qa-bench-")
        for bucket in (cold, warm):
            t0 = time.perf_counter()
            proc, seconds = start(args.port, index)
            bucket.append(seconds)
            if bucket is warm:
                client = Client(f"http://127.0.0.1:{args.port}/", verbose=False)
                client.predict(questions[0], 5, api_name="/ask")
                first.append(time.perf_counter() - t0)
                client.close()
            if bucket is warm and not latencies:
                client = Client(f"http://127.0.0.1:{args.port}/", verbose=False)
                for q in questions:
                    t0 = time.perf_counter()
                    client.predict(q, 5, api_name="/ask")
                    latencies.append(time.perf_counter() - t0)
                client.close()
            proc.terminate()
            proc.wait()
    print(f"start to page, cold (builds the index):   median {statistics.median(cold):.1f} s over {len(cold)} runs")
    print(f"start to page, warm (index present):      median {statistics.median(warm):.1f} s over {len(warm)} runs")
    print(f"start to first answer, warm:              median {statistics.median(first):.1f} s over {len(first)} runs")
    lat = sorted(latencies)
    print(f"answer latency via the ask API: median {statistics.median(lat) * 1000:.0f} ms, "
          f"p90 {lat[int(0.9 * (len(lat) - 1))] * 1000:.0f} ms over {len(lat)} questions")


if __name__ == "__main__":
    main()
