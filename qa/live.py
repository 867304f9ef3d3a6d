"""A live index for a long-running server: a new build is picked up between requests.

`qa build` (or another process) can replace the index while the app runs (a backend that
names its live build cheaply, `Backend.live_build`: the local index); the
app's engine is swapped for one on the new build at the next request, without a
restart, reusing the loaded model. With `watch`, a background thread also notices
changed, added or removed sources (by size and modification time, hashing only
files that look changed) and rebuilds. A question is answered by one engine from
start to end, so it never mixes two builds.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

from .build.build import ensure, open_checked, recorded_settings
from .engine import Engine
from .settings import IndexSettings
from .store import Backend

log = logging.getLogger(__name__)


class LiveEngine:
    """Holds the engine of an index and replaces it when the backend's live build changes."""

    def __init__(self, engine: Engine, backend: Backend, *, watch: bool = False, interval: float = 2.0,
                 notify: Callable[[str], None] = log.warning) -> None:
        if engine.seeds is None:
            raise ValueError("a live engine needs an engine opened on a sources folder (Engine.open)")
        self._engine = engine
        self.backend = backend
        self.notify = notify
        self._lock = threading.Lock()
        self._checked = 0.0
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        if watch:
            self._stamps = _stamps(engine.seeds)
            self._watcher = threading.Thread(target=self._watch, args=(interval,), name="qa-watch", daemon=True)
            self._watcher.start()

    def current(self) -> Engine:
        """The engine of the live build (checked at most every 0.2 s: reading the live build's name is cheap)."""
        now = time.monotonic()
        if now - self._checked < 0.2:
            return self._engine
        self._checked = now
        live = self.backend.live_build()
        if live is None:
            return self._engine
        if live != self._engine.build:
            with self._lock:
                if live != self._engine.build:
                    self._switch()
        return self._engine

    def _switch(self) -> None:
        old = self._engine
        try:
            store = open_checked(self.backend)
        except Exception as exc:  # a build being replaced: keep answering from the one in hand
            log.info("new build not loadable yet (%s); keeping %s", exc, old.build)
            return
        engine = Engine.from_store(store, old.embedder, answer=old.answer_params)
        engine.seeds = old.seeds
        self._engine = engine
        self.notify(f"switched to the new index build {engine.build}")

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                stamps = _stamps(self._engine.seeds)
                if stamps == self._stamps:
                    continue
                self._stamps = stamps
                settings = recorded_settings(self.backend) or IndexSettings()  # as it was built, not the defaults
                ensure(self.backend, self._engine.seeds, settings, self._engine.embedder, notify=self.notify)
                self.current()
            except Exception as exc:  # the watcher must outlive a bad file or a failed build
                self.notify(f"rebuild after a source change failed: {exc}")

    def close(self) -> None:
        self._stop.set()


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file in the sources folder (what a change shows first)."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            st = path.stat()
            out[path.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out
