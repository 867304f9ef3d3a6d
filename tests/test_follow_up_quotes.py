"""The follow-up quote ranker: its fit, its features and its score's parts, and what it changes in answers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import engine_over

from qa.settings import FEATURES, FollowUpRanker
from eval.follow_ups import fit, follow_up_candidates


def test_fit_returns_raw_feature_weights_that_rank_as_the_standardised_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(FEATURES))) * np.arange(1, len(FEATURES) + 1) + 5.0  # unequal scales and offsets
    y = (x[:, 0] / 1.0 - x[:, 6] / 7.0 + rng.normal(scale=0.3, size=400) > 5.0 - 5.0 / 7.0).astype(float)
    w, b = fit(x, y)
    logits = x @ w + b
    assert ((logits > 0) == (y > 0)).mean() > 0.9
    assert w[0] > 0 > w[6]  # the two features the labels depend on, with their signs
    with pytest.raises(ValueError, match="as many labels as rows"):
        fit(x, y[:-1])


def test_a_ranker_names_what_it_needs_and_its_parts_sum_to_its_score():
    with pytest.raises(ValueError, match="needs 10 weights"):
        FollowUpRanker(weights=(1.0, 2.0))
    ranker = FollowUpRanker()
    row = np.linspace(0.0, 1.0, len(FEATURES))
    parts = ranker.parts(row)
    assert set(parts) == {*FEATURES, "bias", "total"}
    assert parts["total"] == pytest.approx(sum(v for k, v in parts.items() if k != "total"))
    assert parts["total"] == pytest.approx(ranker.bias + float(np.dot(ranker.weights, row)))


# Two airlines' entries, written as documents: only one says "main base", the other "hub".
AIRLINES = {
    "singapore.txt": "Singapore Airlines\n\nSingapore Airlines Limited is the flag carrier airline of Singapore. "
    "It operates from its hub at Changi Airport and flies to more than sixty destinations in over thirty "
    "countries. Its wholly owned subsidiary Scoot manages low-cost flights on short and medium-haul routes.\n",
    "cargo.txt": "Air China Cargo\n\nAir China Cargo is a cargo airline with its head office in Beijing, China. "
    "It operates scheduled freight services to destinations in Asia, Europe and North America. Its main base "
    "is Beijing Capital International Airport.\n"}


def test_with_the_ranker_a_follow_up_quotes_the_airline_the_conversation_is_about(tmp_path, embedder):
    """"Where's its main base?" after a question about Singapore's airline: the other airline's entry
    has the words "main base"; the ranker weighs that the previous answer quoted Singapore's entry."""
    from qa.settings import ConversationParams
    from qa.engine import Engine

    engine = engine_over(tmp_path, embedder, AIRLINES)
    history = ["What is Singapore's national airline?"]
    assert engine.ask(history[0]).quotes[0].source == "singapore.txt"
    found = follow_up_candidates(engine, "Where's its main base?", history)
    assert found is not None and follow_up_candidates(engine, history[0], ["Where's its main base?"]) is None
    candidates, x = found
    assert x.shape == (len(candidates), len(FEATURES))
    column = dict(zip(FEATURES, x.T))
    assert all(v == (c.source == "singapore.txt") for c, v in zip(candidates, column["previous_source"]))

    plain = engine.ask("Where's its main base?", history=history)  # the default: no ranker
    assert plain.quotes[0].source == "cargo.txt" and plain.quotes[0].why["ranked_by"] == "follow-up question"
    # The candidates come ranked as the answer ranks them (what `eval/sweep.py --ceiling` counts on).
    assert (candidates[0].source, candidates[0].start) == (plain.quotes[0].source, plain.quotes[0].start)
    assert candidates[0].score == pytest.approx(plain.quotes[0].score)
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
    ranked = Engine(engine.retriever, answer=engine.answer_params,
                    conversation=replace(ConversationParams(), ranker=FollowUpRanker()))
    a = ranked.ask("Where's its main base?", history=history)
    assert a.context_used and a.quotes[0].source == "singapore.txt" and "Changi" in a.quotes[0].text
    why = a.quotes[0].why
    assert why["ranked_by"] == "follow-up model"
    assert why["score"]["total"] == pytest.approx(a.quotes[0].score)
    assert why["score"]["total"] == pytest.approx(sum(v for k, v in why["score"].items() if k != "total"))
    # Whether to answer is still decided by the question's own words: an off-topic one abstains.
    off = ranked.ask("Which opera does it sponsor?", history=history)
    assert off.context_used and off.abstained
