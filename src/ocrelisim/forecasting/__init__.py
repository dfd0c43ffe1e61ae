"""Individual forecasting (issue 15): Bayesian estimates of one patient's PK and B-cell
parameters from sparse records, B-cell return forecasts and the next-dose date.

For research and education only; not clinical advice.
"""

from ._forecast import forecast as forecast
from ._forecast import forecast_many as forecast_many
from ._forecast import what_if as what_if
from ._types import Forecast as Forecast
from ._types import PatientRecord as PatientRecord
from ._types import ReturnDay as ReturnDay

__all__ = [
    "Forecast",
    "PatientRecord",
    "ReturnDay",
    "forecast",
    "forecast_many",
    "what_if",
]
