"""Workflows: demo, immune, trial, power, safety, forecast, each a function that
returns a :class:`ocrelisim.reports.Report`; no printing, no files, no argv.

>>> from ocrelisim import reports, workflows
>>> report = workflows.immune("iv", n=100, years=2.0)      # doctest: +SKIP
>>> report.tables["Immune variables, median (5-95%)"]       # doctest: +SKIP
>>> reports.write(report, "immune-out")                     # doctest: +SKIP

Each takes an optional ``progress(stage, done, total)`` callback; the command line draws it as
a progress bar.

The workflow modules load on first use (PEP 562), so that importing this package for its
defaults (the command line does, to show its help) does not load the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._defaults import DEMO_DAYS as DEMO_DAYS
from ._defaults import DEMO_REGIMENS as DEMO_REGIMENS
from ._defaults import DEMO_SEED as DEMO_SEED

if TYPE_CHECKING:
    from ._common import Progress as Progress
    from ._common import covering_doses as covering_doses
    from ._common import load_design as load_design
    from ._common import load_regimens as load_regimens
    from ._common import time_grid as time_grid
    from ._demo import demo as demo
    from ._forecast import forecast as forecast
    from ._forecast import forecast_patients as forecast_patients
    from ._immune import immune as immune
    from ._safety import safety as safety
    from ._trial import power as power
    from ._trial import trial as trial

_LAZY = {
    "Progress": "._common",
    "covering_doses": "._common",
    "load_design": "._common",
    "load_regimens": "._common",
    "time_grid": "._common",
    "demo": "._demo",
    "forecast": "._forecast",
    "forecast_patients": "._forecast",
    "immune": "._immune",
    "safety": "._safety",
    "power": "._trial",
    "trial": "._trial",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "DEMO_DAYS",
    "DEMO_REGIMENS",
    "DEMO_SEED",
    "Progress",
    "covering_doses",
    "demo",
    "forecast",
    "forecast_patients",
    "immune",
    "load_design",
    "load_regimens",
    "power",
    "safety",
    "time_grid",
    "trial",
]
