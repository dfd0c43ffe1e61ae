"""Compatibility module: trial tables and figures now live in :mod:`ocrelisim.reports.trial`.

The plot functions return a :class:`ocrelisim.reports.Figure` instead of taking a file path.
"""

from __future__ import annotations

import os
import warnings as _warnings
from pathlib import Path

from .reports import write
from .reports.trial import design_table as design_table
from .reports.trial import estimates_table as estimates_table
from .reports.trial import plot_power_curve as plot_power_curve
from .reports.trial import plot_trial as plot_trial
from .reports.trial import power_table as power_table
from .reports.trial import schedule_text as schedule_text
from .reports.trial import trial_report
from .trials import TrialResult

_warnings.warn("ocrelisim.trial_report moved to ocrelisim.reports.trial; import from there "
               "(plot functions now return a reports.Figure)", DeprecationWarning,
               stacklevel=2)


def write_trial_report(result: TrialResult, out: str | os.PathLike[str]) -> list[Path]:
    """trial.png, replicates.csv, summary.csv and report.html in ``out`` (created if missing)."""
    return write(trial_report(result), out, html_name="report.html")


__all__ = ["design_table", "estimates_table", "plot_power_curve", "plot_trial", "power_table",
           "schedule_text", "write_trial_report"]
