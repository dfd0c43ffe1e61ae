"""Shared test configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Compiles (or loads) one model kernel: run in a subprocess per model (the third model, the
# tests' own, is registered first).
_WARM = ("import ocrelisim as oc; from ocrelisim import models; from tests import toy_model; "
         "models.register(toy_model.MODEL); "
         "oc.simulate(oc.Regimen.preset('iv'), oc.Population.typical(), [0.0, 1.0], "
         "model={model!r})")


def pytest_configure(config: object) -> None:
    """Drop stale Numba caches, then (xdist controller only) compile the kernels once.

    Numba checks only the source file of a cached function, but model kernels inline the
    engine and the PK right-hand side: a kernel cached before an engine or model module was
    edited is dropped. With ``-n N`` every worker would otherwise compile the same kernels
    at the same time; the controller compiles each model once, in parallel subprocesses,
    and the workers load the cache.
    """
    import ocrelisim

    package = Path(ocrelisim.__file__).parent
    # the kernels are compiled from these modules (engine code is inlined into the models)
    tests = Path(__file__).parent
    sources = [*(package / "engine").glob("*.py"), *(package / "models").glob("*.py")]
    stamp = max(f.stat().st_mtime for f in sources)
    caches = [package / "models" / "__pycache__", tests / "__pycache__"]
    for f in [g for c in caches for g in (*c.glob("*.nbi"), *c.glob("*.nbc"))]:
        try:
            if f.stat().st_mtime < stamp:
                f.unlink()
        except FileNotFoundError:  # another xdist worker removed it first
            pass
    is_worker = hasattr(config, "workerinput")
    getoption = getattr(config, "getoption", None)
    parallel = getoption is not None and getoption("numprocesses", default=None)
    if is_worker or not parallel:
        return
    warm = [subprocess.Popen([sys.executable, "-c", _WARM.format(model=m)])
            for m in ("pk", "immune", "toy")]
    for p in warm:
        p.wait()
