"""How the process's thread pools share the cores while it answers questions.

A question's maths is small: one question's forward pass (NumPy, or torch for a model the NumPy
route does not compute) and matrix-vector products over the index. OpenBLAS's threads keep
spinning for a while after each product, so on a machine with few cores they take the cores the
next step waits for, and a product this small gains nothing from a second thread. While a question
is answered the BLAS libraries therefore run on one thread (measured on 2 cores: a question's NumPy
forward pass took 15 ms on one thread against 85 ms on two, with another process busy; the CLI's
cost per answer, docs/performance.md). A build, which embeds in large batches outside this scope,
keeps every pool as it was; a build running in the same process while questions are in flight (the
app's `--watch`) shares the limit for that time.

The limit is counted: the first question in flight sets it and the last one to finish lifts it,
so concurrent questions (the app's worker threads) never lift it under each other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_state: dict = {"controller": None, "limiter": None, "users": 0}


@contextmanager
def answering(embedder=None) -> Iterator[None]:
    """Within the block, the BLAS libraries run on one thread.

    Args:
        embedder: loaded first, so that the libraries its model brings in are loaded, and limited,
            when the first block starts (the libraries are looked up once per process).
    """
    if embedder is not None:
        embedder.dimension  # loads the model
    with _lock:
        if _state["users"] == 0:
            if _state["controller"] is None:
                from threadpoolctl import ThreadpoolController

                _state["controller"] = ThreadpoolController()
            _state["limiter"] = _state["controller"].limit(limits=1, user_api="blas")
        _state["users"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["users"] -= 1
            if _state["users"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None
