"""How kernels are compiled and cached: keyed by the engine's source, without Numba's runtime."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

import ocrelisim
from ocrelisim import engine
from ocrelisim.engine._compile import source_stamp
from ocrelisim.models.pk import PK_MODEL

PACKAGE = Path(ocrelisim.__file__).resolve().parent


def _copy(tmp: Path) -> Path:
    for part in ("engine", "models"):
        shutil.copytree(PACKAGE / part, tmp / part, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "other.py").write_text("x = 1\n")
    return tmp


def test_the_stamp_changes_with_engine_or_model_source_only(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = source_stamp(root)
    assert before == engine.SOURCE_STAMP  # the installed package's own stamp
    (root / "other.py").write_text("x = 2\n")  # not inlined into kernels
    assert source_stamp(root) == before
    radau = root / "engine" / "_radau.py"
    radau.write_text(radau.read_text() + "\n# an edit\n")
    edited = source_stamp(root)
    assert edited != before
    immune = root / "models" / "immune.py"  # inlines pk functions: both files count
    immune.write_text(immune.read_text() + "\n# an edit\n")
    assert source_stamp(root) not in (before, edited)


def test_a_cached_kernel_is_keyed_by_the_stamp() -> None:
    kernel = PK_MODEL.kernel
    if not kernel.signatures:  # compile (or load) it
        ocrelisim.simulate(ocrelisim.Regimen.preset("iv"), ocrelisim.Population.sample(2, seed=1),
                           np.array([0.0, 1.0]))
    sig = kernel.signatures[0]
    key = kernel._cache._index_key(sig, kernel.targetctx.codegen())
    assert key[-1] == engine.SOURCE_STAMP


def test_kernels_run_without_numbas_runtime_where_numba_allows_it() -> None:
    from numba.core.cpu import CPUTargetOptions

    if hasattr(CPUTargetOptions, "_nrt"):
        assert PK_MODEL.kernel.targetoptions["_nrt"] is False
    assert PK_MODEL.kernel.targetoptions["nogil"] is True
