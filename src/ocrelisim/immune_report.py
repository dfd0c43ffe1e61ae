"""Compatibility module: immune figures and tables now live in :mod:`ocrelisim.reports.immune`.

The plot functions return a :class:`ocrelisim.reports.Figure` instead of taking a file path.
"""

import warnings as _warnings

from .reports.immune import IG as IG
from .reports.immune import T_CELL_INDICES as T_CELL_INDICES
from .reports.immune import immune_table as immune_table
from .reports.immune import plot_bcells as plot_bcells
from .reports.immune import plot_immune as plot_immune
from .reports.immune import repletion_table as repletion_table

_warnings.warn("ocrelisim.immune_report moved to ocrelisim.reports.immune; import from there "
               "(plot functions now return a reports.Figure)", DeprecationWarning,
               stacklevel=2)

__all__ = ["IG", "T_CELL_INDICES", "immune_table", "plot_bcells", "plot_immune",
           "repletion_table"]
