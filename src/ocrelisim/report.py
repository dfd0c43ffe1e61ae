"""Compatibility module: exposure tables and figures now live in :mod:`ocrelisim.reports`.

The plot functions return a :class:`ocrelisim.reports.Figure` (write it with
:func:`ocrelisim.reports.write` or :func:`ocrelisim.reports.figure_png`) instead of taking a
file path.
"""

import warnings as _warnings

from .reports.exposure import METRICS as METRICS
from .reports.exposure import PERCENTILES as PERCENTILES
from .reports.exposure import cycle_intervals as cycle_intervals
from .reports.exposure import exposure_table as exposure_table
from .reports.exposure import format_exposure_table as format_exposure_table
from .reports.exposure import plot_concentration as plot_concentration

_warnings.warn("ocrelisim.report moved to ocrelisim.reports; import from there "
               "(plot functions now return a reports.Figure)", DeprecationWarning,
               stacklevel=2)

__all__ = ["METRICS", "PERCENTILES", "cycle_intervals", "exposure_table",
           "format_exposure_table", "plot_concentration"]
