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
    # dir(): the names loaded on first use (PEP 562) as well as the eager ones
    public = {n for n in dir(ocrelisim)
              if not n.startswith("_") and not inspect.ismodule(getattr(ocrelisim, n))}
    public |= {"__version__", "trials"}  # trials: the public virtual-trial subpackage
    assert set(ocrelisim.__all__) == public


def test_version_and_subpackage_exports_are_real():
    # Added by hand to the set above, so checked here: the installed distribution's version
    # and the trials subpackage itself.
    assert ocrelisim.__version__ == importlib.metadata.version("ocrelisim")
    assert inspect.ismodule(ocrelisim.trials) and ocrelisim.trials.__name__ == "ocrelisim.trials"


def test_every_export_loads_and_import_is_light():
    """Each name of ``__all__`` resolves to the object of its module (``simulate`` the function
    even after its module is imported); a fresh ``import ocrelisim`` loads none of the optional
    heavy libraries (trials' statistics and scheduler, plotting)."""
    import subprocess
    import sys

    import ocrelisim.simulate
    assert ocrelisim.simulate is sys.modules["ocrelisim.simulate"].simulate
    for name in ocrelisim.__all__:
        assert getattr(ocrelisim, name) is not None or name == "__version__"
    code = ("import sys, ocrelisim; heavy = [m for m in ('statsmodels', 'lifelines', 'dask', "
            "'matplotlib') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_disclaimer_is_exported():
    assert "not clinical advice" in ocrelisim.DISCLAIMER
