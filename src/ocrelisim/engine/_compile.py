"""Tell, through :mod:`logging`, when a kernel is compiled rather than loaded from the cache."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from numba.core import event

LOGGER = logging.getLogger("ocrelisim.engine")
"""Records ``compile_start`` and ``compile_end`` (INFO) with ``model`` and ``elapsed_s``."""


class _Listener(event.Listener):
    """Logs the start and end of compiling one dispatcher (not of the functions it inlines,
    and not a load from Numba's disk cache, which fires no compile event)."""

    def __init__(self, dispatcher: Any, model: str) -> None:
        self.dispatcher = dispatcher
        self.model = model
        self.started = 0.0

    def on_start(self, ev: event.Event) -> None:
        if ev.data.get("dispatcher") is not self.dispatcher:
            return
        self.started = time.perf_counter()
        LOGGER.info("compiling the engine for this machine (model %r), first run only",
                    self.model, extra={"event": "compile_start", "model": self.model})

    def on_end(self, ev: event.Event) -> None:
        if ev.data.get("dispatcher") is not self.dispatcher or not self.started:
            return
        elapsed = time.perf_counter() - self.started
        LOGGER.info("compiled the engine (model %r) in %.0f s; later runs load it from the "
                    "cache", self.model, elapsed,
                    extra={"event": "compile_end", "model": self.model, "elapsed_s": elapsed})


@contextmanager
def compile_notice(dispatcher: Any, model: str) -> Iterator[None]:
    """Log compile start and end of ``dispatcher`` while the block runs (nothing when it is
    already compiled in this process)."""
    if getattr(dispatcher, "signatures", None):
        yield
        return
    with event.install_listener("numba:compile", _Listener(dispatcher, model)):
        yield
