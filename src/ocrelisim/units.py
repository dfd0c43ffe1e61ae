"""Internal units and the one definition of each conversion constant.

Inside ocrelisim: time in days, amounts in mg, volumes in L, concentrations in mg/L
(identical to µg/mL), body weight in kg, B cells in cells/µL.
"""

from __future__ import annotations

HOURS_PER_DAY = 24.0
MINUTES_PER_DAY = 1440.0
DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.25  # Julian year
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0  # mean calendar month, 30.4375 days
