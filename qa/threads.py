"""How the process's thread pools share the cores while it answers questions.

A question's path runs two kinds of maths: the model's forward pass (torch, with its own pool of
threads) and small matrix-vector products over the index (numpy, through OpenBLAS). OpenBLAS's
threads keep spinning for a while after each product, so on a machine with few cores they take
the cores the forward pass waits for (docs/performance.md has the measurements). While a question
is answered, the BLAS libraries therefore run on one thread and torch keeps the cores; a build,
which embeds in large batches outside this scope, keeps every pool as it was.

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
