"""How kernels are compiled and cached (keyed by the engine's source, without Numba's runtime),
and what a model spec may declare about its linear states."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import ocrelisim
from ocrelisim import engine
from ocrelisim.engine._compile import source_stamp
from ocrelisim.errors import InvalidParameterError
from ocrelisim.models.pk import PK_MODEL

# A spec with one explicit and two linear states (the kernel is never called).
TWO_LINEAR = replace(PK_MODEL, states=("c", "m1", "m2"), atol_scale=(1.0, 1.0, 1.0),
                     n_explicit=1, output_reads=None, linear_reads=((0,), (0, 1)))

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


@pytest.mark.parametrize("rate_of", [
    (3,),              # one entry for two linear states
    (4, 4),            # a state's rate taken from a later state
    (3, 3, 5),         # wrong length
])
def test_a_model_spec_refuses_a_bad_rate_sharing(rate_of: tuple[int, ...]) -> None:
    with pytest.raises(InvalidParameterError, match="linear_rate_of"):
        replace(TWO_LINEAR, linear_rate_of=rate_of)


def test_a_shared_rate_must_be_read_and_own() -> None:
    three = replace(TWO_LINEAR, states=("c", "m1", "m2", "m3"), atol_scale=(1.0,) * 4,
                    linear_reads=((0,), (1,), (0, 2)), linear_rate_of=None)
    assert replace(three, linear_rate_of=(1, 1, 3)).rate_sources == (0, 1, 1, 3)
    with pytest.raises(InvalidParameterError, match="linear_rate_of"):
        replace(three, linear_rate_of=(1, 1, 1))  # m3 does not read m1
    with pytest.raises(InvalidParameterError, match="linear_rate_of"):
        replace(three, linear_rate_of=(1, 1, 2))  # m2 has no rate of its own


def test_the_immune_chain_shares_the_first_stages_rate() -> None:
    from ocrelisim.models import immune

    spec = immune.IMMUNE_MODEL
    assert spec.rate_sources[immune._M1:immune._B + 1] == (immune._M1,) * 3 + (immune._B,)
