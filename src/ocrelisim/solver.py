"""Deprecated alias of :mod:`ocrelisim.engine` (the engine moved there)."""

import warnings as _warnings

from .engine import *  # noqa: F403
from .engine import __all__ as __all__

_warnings.warn("ocrelisim.solver moved to ocrelisim.engine; import from there",
               DeprecationWarning, stacklevel=2)
