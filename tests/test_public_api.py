from __future__ import annotations

import importlib.metadata
import inspect

import ocrelisim


def _isort_key(name: str) -> tuple[int, str]:
    """ruff RUF022 order: CONSTANTS, then Classes, then everything else, each alphabetical."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_complete():
    assert ocrelisim.__all__ == sorted(ocrelisim.__all__, key=_isort_key)
    public = {n for n, v in vars(ocrelisim).items()
              if not n.startswith("_") and not inspect.ismodule(v)}
    public |= {"__version__", "trials"}  # trials: the public virtual-trial subpackage
    assert set(ocrelisim.__all__) == public


def test_version_and_subpackage_exports_are_real():
    # Added by hand to the set above, so checked here: the installed distribution's version
    # and the trials subpackage itself.
    assert ocrelisim.__version__ == importlib.metadata.version("ocrelisim")
    assert inspect.ismodule(ocrelisim.trials) and ocrelisim.trials.__name__ == "ocrelisim.trials"


def test_disclaimer_is_exported():
    assert "not clinical advice" in ocrelisim.DISCLAIMER
