"""Shared test configuration."""

from __future__ import annotations

from pathlib import Path


def pytest_configure(config: object) -> None:
    """Drop Numba caches compiled against an older solver.py.

    Numba checks only the source file of a cached function: model kernels (pk.py) inline the
    solver, so an edited solver.py would otherwise leave stale kernels in __pycache__.
    """
    import ocrelisim.solver

    solver = Path(ocrelisim.solver.__file__)
    cache = solver.parent / "__pycache__"
    stamp = solver.stat().st_mtime
    for f in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
        try:
            if f.stat().st_mtime < stamp:
                f.unlink()
        except FileNotFoundError:  # another xdist worker removed it first
            pass
