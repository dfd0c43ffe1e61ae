"""Reports: what a workflow returns (tables, figures with their data, notes, the disclaimer,
the inputs) and the renderers that turn one into PNG/HTML/CSV files or bytes.

>>> from ocrelisim import reports, workflows
>>> report = workflows.demo(n=50)                  # doctest: +SKIP
>>> reports.write(report, "demo-out")              # PNG, CSV, index.html   # doctest: +SKIP
>>> report.figures["concentration"].data.head()    # the plotted percentiles # doctest: +SKIP

Importing this package does not import matplotlib or lifelines; the functions that draw do.
"""

from ._render import figure_png as figure_png
from ._render import to_html as to_html
from ._render import write as write
from ._report import Figure as Figure
from ._report import Report as Report
from .exposure import cycle_intervals as cycle_intervals
from .exposure import exposure_table as exposure_table
from .exposure import format_exposure_table as format_exposure_table
from .exposure import plot_concentration as plot_concentration
from .immune import immune_table as immune_table
from .immune import plot_bcells as plot_bcells
from .immune import plot_immune as plot_immune
from .immune import repletion_table as repletion_table
from .safety import format_infusion_table as format_infusion_table
from .safety import infusion_table as infusion_table
from .safety import plot_safety as plot_safety
from .trial import design_table as design_table
from .trial import estimates_table as estimates_table
from .trial import infections_table as infections_table
from .trial import plot_power_curve as plot_power_curve
from .trial import plot_trial as plot_trial
from .trial import power_table as power_table
from .trial import schedule_text as schedule_text
from .trial import trial_report as trial_report

__all__ = [
    "Figure",
    "Report",
    "cycle_intervals",
    "design_table",
    "estimates_table",
    "exposure_table",
    "figure_png",
    "format_exposure_table",
    "format_infusion_table",
    "immune_table",
    "infections_table",
    "infusion_table",
    "plot_bcells",
    "plot_concentration",
    "plot_immune",
    "plot_power_curve",
    "plot_safety",
    "plot_trial",
    "power_table",
    "repletion_table",
    "schedule_text",
    "to_html",
    "trial_report",
    "write",
]
