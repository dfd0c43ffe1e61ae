"""Compiling a model's kernel: its decorator, a disk cache that knows the engine's source, and
a :mod:`logging` notice when a kernel is compiled rather than loaded from the cache."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from numba import njit
from numba.core import event
from numba.core.caching import FunctionCache

from ._tableau import NO_NRT

# A kernel runs without Numba's reference-counting runtime (NRT): every array it touches is
# passed in (the run and a per-task workspace), so it allocates nothing, and the views it takes
# (``k[1]``, ``ynode[j]``) cost no atomic increment and decrement through an opaque call (11% of
# the PK model's samples under perf: benchmarks/RESULTS.md). ``_nrt`` is a Numba option with a
# leading underscore; a Numba without it keeps the runtime (correct, slower).
_OPTIONS: dict[str, Any] = {"error_model": "numpy", "fastmath": {"contract"}, "nogil": True,
                            **NO_NRT}


def source_stamp(package: Path) -> str:
    """SHA-256 of the engine's and the models' source files under ``package`` (the code that
    kernels inline)."""
    digest = hashlib.sha256()
    for path in sorted([*(package / "engine").glob("*.py"), *(package / "models").glob("*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


SOURCE_STAMP = source_stamp(Path(__file__).resolve().parent.parent)
"""Part of every cached kernel's key (see :class:`_StampedCache`)."""


class _StampedCache(FunctionCache):
    """Numba's disk cache of a kernel, keyed also by :data:`SOURCE_STAMP`.

    Numba keys a cached function by the content of its own file only; a kernel is three lines
    that inline the whole engine (and, for the package's models, functions of other model
    files), so an edited or upgraded engine would otherwise load the old machine code.
    """

    def _index_key(self, sig: Any, codegen: Any) -> Any:
        return (*super()._index_key(sig, codegen), SOURCE_STAMP)  # type: ignore[no-untyped-call]


def kernel_jit(fn: Callable[..., Any]) -> Any:
    """Decorator of a model's kernel: ``@engine.kernel_jit def kernel(b0, b1, run, work)``.

    Compiled ``nogil`` without Numba's runtime, cached on disk under a key that includes the
    engine's source (:class:`_StampedCache`).
    """
    dispatcher = njit(**_OPTIONS)(fn)
    # what Dispatcher.enable_caching() does, with the key extended
    dispatcher._cache = _StampedCache(fn)  # type: ignore[no-untyped-call]
    return dispatcher

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
