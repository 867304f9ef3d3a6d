import numpy as np
import pytest

from qa.retrieval import fusion


def test_minmax_and_convex_by_hand():
    assert fusion.minmax(np.array([1.0, 3.0, 2.0])).tolist() == [0.0, 1.0, 0.5]
    assert fusion.minmax(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]
    got = fusion.convex(np.array([0.2, 0.6, 0.4]), np.array([5.0, 0.0, 10.0]), alpha=0.75)
    assert got == pytest.approx([0.0 + 0.25 * 0.5, 0.75, 0.75 * 0.5 + 0.25])
    with pytest.raises(ValueError):
        fusion.convex(np.zeros(2), np.zeros(2), alpha=1.5)


def test_rrf_by_hand():
    dense = np.array([0.9, 0.5, 0.1])  # ranks 1, 2, 3
    lexical = np.array([0.0, 2.0, 1.0])  # ranks 3, 1, 2
    got = fusion.rrf([dense, lexical], k=60)
    assert got == pytest.approx([1 / 61 + 1 / 63, 1 / 62 + 1 / 61, 1 / 63 + 1 / 62])


def test_rocchio_moves_toward_feedback_and_stays_unit():
    q = np.array([1.0, 0.0], dtype=np.float32)
    fb = np.array([[0.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    moved = fusion.rocchio(q, fb, 1.0)
    assert moved == pytest.approx([2 ** -0.5, 2 ** -0.5])
    assert fusion.rocchio(q, fb, 0.0) is q
