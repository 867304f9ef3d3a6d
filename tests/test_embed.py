"""The two routes of one model give the same vectors and the same answers: sentence-transformers
(torch; what builds embed with) and `qa.embed.bert_numpy` (NumPy; what questions are embedded with)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SEEDS

from qa.embed.bert_numpy import BertEncoder, supports
from qa.embed.sentence_transformers import SentenceTransformerEmbedder


def gold_questions() -> list[str]:
    rows = [json.loads(line) for name in ("seeds_gold.jsonl", "seeds_chains.jsonl")
            for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines() if line]
    return list(dict.fromkeys(r["question"] for r in rows))


@pytest.fixture(scope="module")
def through_torch():
    return SentenceTransformerEmbedder(light_questions=False)


def test_the_default_model_is_embedded_without_torch_for_questions(embedder):
    assert supports(embedder._load_from) and embedder.questions is not None


def test_both_routes_give_the_same_vectors(through_torch):
    light = BertEncoder(through_torch._load_from)
    texts = gold_questions() + [
        "Минск — столица Беларуси.", "北京是中国的首都。", "Café “déjà vu” — naïve résumé?",
        "word " * 400,  # past the model's 256 tokens: both routes cut it at the same place
        "x",
    ]
    a, b = light.encode(texts), through_torch.encode(texts)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() >= 0.9999, texts[int(np.argmin(cosine))]
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_both_routes_give_the_same_answers_on_the_gold_set(index_dir, through_torch, embedder):
    from qa.build.build import load_index
    from qa.engine import Engine

    rows = [json.loads(line) for name in ("seeds_gold.jsonl", "seeds_chains.jsonl")
            for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines() if line]
    light = Engine.from_index(load_index(index_dir, seeds=SEEDS), embedder)
    heavy = Engine.from_index(load_index(index_dir, seeds=SEEDS), through_torch)

    def shown(answer):
        return answer.abstained, [(q.source, q.start, q.end) for q in answer.quotes], answer.read_as

    differ = [r["question"] for r in rows
              if shown(light.ask(r["question"], history=r.get("history", []))) !=
              shown(heavy.ask(r["question"], history=r.get("history", [])))]
    assert not differ, differ


@pytest.mark.parametrize("command", [["ask", "--json", "Why was the visit postponed?"],
                                     ["search", "--json", "visit postponed"],
                                     ["chat"]])
def test_asking_imports_no_training_stack(index_dir, command):
    """A process that only answers (the index is built) never imports torch or transformers."""
    code = ("import sys, json; from qa.cli import main; "
            "code = main(json.loads(sys.argv[3]) + ['--seeds', sys.argv[1], '--index', sys.argv[2]]); "
            "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules); "
            "print('HEAVY', heavy, file=sys.stderr); sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", code, str(SEEDS), str(index_dir), json.dumps(command)], cwd=ROOT,
                         input="Why was the visit postponed?\n" if command == ["chat"] else None,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() and "HEAVY []" in run.stderr, run.stderr


def test_question_vectors_match_a_gpu_fp16_build():
    """The gold questions as `qa build --device cuda` embeds them (sentence-transformers in fp16 on an
    NVIDIA H200, saved by the GPU measurement in docs/performance.md) against the NumPy route here."""
    from qa.text import normalize

    questions = json.loads((ROOT / "tests" / "data" / "gpu_fp16_questions.json").read_text(encoding="utf-8"))
    gpu = np.load(ROOT / "tests" / "data" / "gpu_fp16_questions.npy", allow_pickle=False).astype(np.float32)
    gpu /= np.linalg.norm(gpu, axis=1, keepdims=True)
    here = SentenceTransformerEmbedder().encode_queries([normalize(q) for q in questions])
    assert len(questions) == len(gpu) > 100
    assert ((here * gpu).sum(axis=1)).min() >= 0.999
