"""Shared test configuration."""

from __future__ import annotations

import subprocess
import sys

# Compiles (or loads) one model kernel: run in a subprocess per model (the third model, the
# tests' own, is registered first).
_WARM = ("import ocrelisim as oc; from ocrelisim import models; from tests import toy_model; "
         "models.register(toy_model.MODEL); "
         "oc.simulate(oc.Regimen.preset('iv'), oc.Population.typical(), [0.0, 1.0], "
         "model={model!r})")


def pytest_configure(config: object) -> None:
    """With ``-n N``, compile the kernels once in the controller (xdist workers load them).

    Every worker would otherwise compile the same kernels at the same time; the controller
    compiles each model once, in parallel subprocesses. A kernel cached before an engine or
    model module was edited is not loaded: the cache key includes their source
    (``ocrelisim.engine.SOURCE_STAMP``).
    """
    is_worker = hasattr(config, "workerinput")
    getoption = getattr(config, "getoption", None)
    parallel = getoption is not None and getoption("numprocesses", default=None)
    if is_worker or not parallel:
        return
    warm = [subprocess.Popen([sys.executable, "-c", _WARM.format(model=m)])
            for m in ("pk", "immune", "toy")]
    for p in warm:
        p.wait()
