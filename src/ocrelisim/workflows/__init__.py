"""Workflows: demo, immune, trial, power (later check, plan, forecast), each a function that
returns a :class:`ocrelisim.reports.Report`; no printing, no files, no argv.

>>> from ocrelisim import reports, workflows
>>> report = workflows.immune("iv", n=100, years=2.0)      # doctest: +SKIP
>>> report.tables["Immune variables, median (5-95%)"]       # doctest: +SKIP
>>> reports.write(report, "immune-out")                     # doctest: +SKIP

Each takes an optional ``progress(stage, done, total)`` callback; the command line draws it as
a progress bar.
"""

from ._common import DEMO_SEED as DEMO_SEED
from ._common import Progress as Progress
from ._common import covering_doses as covering_doses
from ._common import load_design as load_design
from ._common import load_regimens as load_regimens
from ._common import time_grid as time_grid
from ._demo import DEMO_DAYS as DEMO_DAYS
from ._demo import DEMO_REGIMENS as DEMO_REGIMENS
from ._demo import demo as demo
from ._immune import immune as immune
from ._trial import power as power
from ._trial import trial as trial

__all__ = [
    "DEMO_DAYS",
    "DEMO_REGIMENS",
    "DEMO_SEED",
    "Progress",
    "covering_doses",
    "demo",
    "immune",
    "load_design",
    "load_regimens",
    "power",
    "time_grid",
    "trial",
]
