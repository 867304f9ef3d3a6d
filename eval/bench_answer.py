"""What an answer costs: `Engine.ask` and `qa ask --jsonl` against one question embedding, and answers/s under load.

    .venv/bin/python eval/bench_answer.py [--questions 30] [--clients 8] [--per-client 25]

1. For the seeds and for dbpedia-5k written as documents (one file per entry: title
   line, blank line, abstract): p50 and p95 of `Engine.ask` in one process; p50 and
   mean of one answer through the CLI (`qa ask --jsonl`, a line written and its answer
   read, one at a time, after three to warm up); and the denominator, p50 of one
   question embedding measured alone in a quiet process of its own with the index's
   model. Each cost is given as a ratio to that embedding.
2. The app on the seeds, served on loopback: `--clients` concurrent clients each asking
   `--per-client` questions through the `ask` API; answers/s, p50 and p95 latency,
   errors, and whether every quote is verbatim. Twice: with gradio_client, and with a
   plain HTTP client of Gradio's documented API (POST /gradio_api/call/ask, then read
   the event stream). gradio_client polls in 50-100 ms sleep loops on threads of its
   own and, on a 2-core machine, uses more CPU per request than the server does: the
   plain client shows what the server itself sustains.

The dbpedia folder and its index are kept in the cache (`~/.cache/qa-cite/bench`),
so only the first run embeds the corpus. Run it with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASETS = ROOT.parent / "shared" / "datasets"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU seconds this process (the clients' threads) has used."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa-cite" / "bench"


def time_engine(name: str, engine, questions: list[str]) -> dict:
    from qa.text import normalize

    for q in questions[:3]:  # warm up: first calls pay for lazy imports and allocations
        engine.ask(q)
    asks, embeds = [], []
    for q in questions:
        t0 = time.perf_counter()
        engine.embedder.encode([normalize(q)])
        embeds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        engine.ask(q)
        asks.append(time.perf_counter() - t0)
    row = {"corpus": name, "passages": len(engine.store.all_passages), "sentences": len(engine.store.quotes),
           "ask_p50_ms": 1000 * statistics.median(asks), "ask_p95_ms": 1000 * pct(asks, 0.95),
           "embed_p50_ms": 1000 * statistics.median(embeds)}
    row["ratio"] = row["ask_p50_ms"] / row["embed_p50_ms"]
    return row


def embedding_alone(questions: list[str]) -> float:
    """p50 of one question's embedding, in a process that does nothing else (the default model)."""
    code = """
import json, statistics, sys, time
from qa.embed import load_embedder
from qa.text import normalize
questions = json.load(sys.stdin)
embedder = load_embedder()
for q in questions[:3]:
    embedder.encode_one(normalize(q))
times = []
for q in questions:
    t0 = time.perf_counter()
    embedder.encode_one(normalize(q))
    times.append(time.perf_counter() - t0)
print(statistics.median(times))
"""
    run = subprocess.run([sys.executable, "-c", code], input=json.dumps(questions), capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return float(run.stdout.strip().splitlines()[-1])


def time_cli(seeds: Path, index: Path, questions: list[str]) -> list[float]:
    """Seconds per answer through `qa ask --jsonl`: each line written, then its answer read."""
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "ask", "--jsonl", "--seeds", str(seeds), "--index", str(index)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            bufsize=1)
    times = []
    try:
        for i, q in enumerate([*questions[:3], *questions]):
            t0 = time.perf_counter()
            proc.stdin.write(json.dumps({"question": q}) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("qa ask --jsonl stopped answering")
            if i >= 3:
                times.append(time.perf_counter() - t0)
    finally:
        proc.stdin.close()
        proc.wait()
    return times


def with_cli(row: dict, seeds: Path, index: Path, questions: list[str], embed_alone: float) -> dict:
    cli = time_cli(seeds, index, questions)
    row.update({"cli_p50_ms": 1000 * statistics.median(cli), "cli_mean_ms": 1000 * statistics.mean(cli),
                "embed_alone_p50_ms": 1000 * embed_alone})
    row["ask_ratio"] = row["ask_p50_ms"] / row["embed_alone_p50_ms"]
    row["cli_ratio"] = row["cli_p50_ms"] / row["embed_alone_p50_ms"]
    return row


def dbpedia_engine(embedder):
    from qa.engine import Engine
    from qa.evaluation.beir import read_corpus
    from qa.evaluation.documents import entries, write_documents

    folder = cache_root() / "dbpedia-5k"
    write_documents(entries(read_corpus(DATASETS / "dbpedia-5k")), folder / "seeds")
    engine = Engine.open(folder / "seeds", folder / "index", progress=sys.stderr.isatty(),
                         notify=lambda m: print(f"bench: {m}", file=sys.stderr, flush=True))
    return engine


def queries(name: str, n: int) -> list[str]:
    rows = [json.loads(line) for line in (DATASETS / name / "queries.jsonl").read_text(encoding="utf-8").split("\n") if line]
    return [r["text"] for r in rows][:n]


def gold_questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "seeds_gold.jsonl").read_text(encoding="utf-8").split("\n") if line]
    return [r["question"] for r in rows][:n]


class HttpClient:
    """Gradio's documented HTTP API with the standard library: one POST, one event stream."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def predict(self, question: str, k: int, api_name: str) -> dict:
        body = json.dumps({"data": [question, k, None]}).encode()  # every parameter, history included
        req = urllib.request.Request(f"{self.url}/gradio_api/call{api_name}", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            event = json.load(r)["event_id"]
        with urllib.request.urlopen(f"{self.url}/gradio_api/call{api_name}/{event}", timeout=60) as r:
            stream = r.read().decode("utf-8")
        kind = data = None
        for line in stream.split("\n"):
            if line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: "):
                data = line[6:]
        if kind != "complete" or data is None:
            raise RuntimeError(f"{kind}: {data}")
        return json.loads(data)[0]

    def close(self) -> None:
        pass


def load_test(port: int, index: str, questions: list[str], clients: int, per_client: int,
              client_kind: str = "gradio_client") -> dict:
    from gradio_client import Client

    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--index", index], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit("app.py did not start")
                time.sleep(0.1)
        latencies: list[float] = []
        errors: list[str] = []
        wrong = 0
        lock = threading.Lock()
        sources = {}

        def worker(c: int) -> None:
            nonlocal wrong
            url = f"http://127.0.0.1:{port}/"
            client = Client(url, verbose=False) if client_kind == "gradio_client" else HttpClient(url)
            for i in range(per_client):
                q = questions[(c * per_client + i) % len(questions)]
                t0 = time.perf_counter()
                try:
                    out = client.predict(q, 5, api_name="/ask")
                except Exception as exc:  # counted, not raised: the load test reports them
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                dt = time.perf_counter() - t0
                bad = 0
                for quote in out["quotes"]:
                    if quote["source"] not in sources:
                        sources[quote["source"]] = (ROOT / "seeds" / quote["source"]).read_bytes().decode("utf-8")
                    bad += sources[quote["source"]][quote["start"]:quote["end"]] != quote["text"]
                with lock:
                    latencies.append(dt)
                    wrong += bad or out["question"] != q
            client.close()

        threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
        server0, client0 = process_cpu(proc.pid), own_cpu()
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        server_cpu, client_cpu = process_cpu(proc.pid) - server0, own_cpu() - client0
    finally:
        proc.terminate()
        proc.wait()
    return {"client": client_kind, "clients": clients, "answers": len(latencies), "errors": len(errors), "wrong": wrong,
            "answers_per_s": len(latencies) / wall, "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * pct(latencies, 0.95),
            "server_cpu_ms_per_answer": 1000 * server_cpu / max(len(latencies), 1),
            "client_cpu_ms_per_answer": 1000 * client_cpu / max(len(latencies), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=30)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-client", type=int, default=25)
    ap.add_argument("--port", type=int, default=7871)
    ap.add_argument("--skip-load", action="store_true", help="only the in-process timings")
    ap.add_argument("--json", action="store_true", help="print one JSON object last")
    args = ap.parse_args()

    from qa.engine import Engine

    seeds_index = str(cache_root() / "seeds-index")
    seeds = Engine.open(ROOT / "seeds", seeds_index, notify=lambda m: None)
    dbpedia = dbpedia_engine(seeds.embedder)
    corpora = [("seeds", seeds, ROOT / "seeds", Path(seeds_index), gold_questions(args.questions)),
               ("dbpedia-5k as documents", dbpedia, dbpedia.seeds, cache_root() / "dbpedia-5k" / "index",
                queries("dbpedia-5k", args.questions))]
    rows = [time_engine(name, engine, qs) for name, engine, _, _, qs in corpora]
    for row, (_, _, folder, index, qs) in zip(rows, corpora):
        with_cli(row, folder, index, qs, embedding_alone(qs))
    print(f"{'corpus':26s} {'passages':>9s} {'ask p50':>8s} {'ask p95':>8s} {'cli p50':>8s} {'cli mean':>9s} "
          f"{'embed alone':>11s} {'ask/embed':>9s} {'cli/embed':>9s}")
    for r in rows:
        print(f"{r['corpus']:26s} {r['passages']:9d} {r['ask_p50_ms']:6.1f}ms {r['ask_p95_ms']:6.1f}ms "
              f"{r['cli_p50_ms']:6.1f}ms {r['cli_mean_ms']:7.1f}ms {r['embed_alone_p50_ms']:9.1f}ms "
              f"{r['ask_ratio']:8.2f}x {r['cli_ratio']:8.2f}x")
    result = {"engine": rows}
    if not args.skip_load:
        result["load"] = []
        for kind in ("gradio_client", "http"):
            load = load_test(args.port, seeds_index, gold_questions(55), args.clients, args.per_client, kind)
            print(f"app on the seeds, {load['clients']} concurrent {kind} clients: {load['answers']} answers, "
                  f"{load['errors']} errors, {load['wrong']} wrong; {load['answers_per_s']:.1f} answers/s, "
                  f"p50 {load['p50_ms']:.0f} ms, p95 {load['p95_ms']:.0f} ms; CPU per answer: server "
                  f"{load['server_cpu_ms_per_answer']:.0f} ms, clients {load['client_cpu_ms_per_answer']:.0f} ms")
            result["load"].append(load)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
