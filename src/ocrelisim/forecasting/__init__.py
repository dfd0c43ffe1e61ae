"""Individual forecasting (issue 15): Bayesian estimates of one patient's PK and B-cell
parameters from sparse records, B-cell return forecasts and the next-dose date.

For research and education only; not clinical advice.
"""

from ._forecast import forecast as forecast
from ._forecast import forecast_many as forecast_many
from ._forecast import what_if as what_if
from ._records import read_records as read_records
from ._records import record_from_dict as record_from_dict
from ._types import Forecast as Forecast
from ._types import PatientRecord as PatientRecord
from ._types import ReturnDay as ReturnDay

__all__ = [
    "Forecast",
    "PatientRecord",
    "ReturnDay",
    "forecast",
    "forecast_many",
    "read_records",
    "record_from_dict",
    "what_if",
]
