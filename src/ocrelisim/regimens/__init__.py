"""Dosing regimens: IV infusions, SC injections, label presets, a short text form, NONMEM records.

Times are days since the first dose (t = 0), amounts mg, infusion rates mg/day. Source keys
(``[S3]`` ...) refer to ``shared/reference/ocrelizumab-facts.md``.

Text form (tokenised, never evaluated; words are case-insensitive)::

    regimen  := clause (";" clause)*
    clause   := NUMBER ("mg" | "g") ("IV" | "SC") [mode] [schedule]   no schedule: d0
    mode     := "label" | "short" | "over" NUMBER ("min"|"h"|"d")       IV only; default label
              | "rate" NUMBER ("mg/h"|"mg/min"|"mg/d")
    schedule := time ("," time)* | "q" NUMBER ("d"|"w") "x" INT ["from" time]
    time     := "d" NUMBER | "w" NUMBER                               day or week of the dose

``"300 mg IV d0, d14; 600 mg IV q24w x4 from d168"``: ``x`` counts doses; ``q24w x4 from d168``
means days 168, 336, 504 and 672. ``str(regimen)`` writes this form and ``Regimen.parse`` reads
it back to an equal regimen (numbers in their shortest exact form).

NONMEM records (:meth:`Regimen.to_nonmem`): TIME in days, AMT mg, RATE mg/day, CMT 1 = SC depot,
2 = central. A stepped IV infusion is written as one row per rate step, each with its RATE and
its DUR (day) so that it reads back exactly; contiguous IV rows (each starting where the previous
ended) are read back as one stepped infusion.
"""

from ._doses import CMT_CENTRAL as CMT_CENTRAL
from ._doses import CMT_DEPOT as CMT_DEPOT
from ._doses import CMT_PERIPHERAL as CMT_PERIPHERAL
from ._doses import EXTENDED_INTERVAL as EXTENDED_INTERVAL
from ._doses import LABEL_RATES_300 as LABEL_RATES_300
from ._doses import LABEL_RATES_600 as LABEL_RATES_600
from ._doses import MAINTENANCE_DOSE as MAINTENANCE_DOSE
from ._doses import SC_DOSE as SC_DOSE
from ._doses import SECOND_START_DAY as SECOND_START_DAY
from ._doses import SHORT_RATES_600 as SHORT_RATES_600
from ._doses import STARTING_DOSE as STARTING_DOSE
from ._doses import Dose as Dose
from ._doses import DoseEvents as DoseEvents
from ._doses import IVInfusion as IVInfusion
from ._doses import RateSteps as RateSteps
from ._doses import RateTable as RateTable
from ._doses import SCInjection as SCInjection
from ._guided import GuidedRule as GuidedRule
from ._guided import next_guided_date as next_guided_date
from ._guided import next_guided_dose as next_guided_dose
from ._nonmem import NonmemData as NonmemData
from ._nonmem import read_nonmem as read_nonmem
from ._regimen import PRESETS as PRESETS
from ._regimen import Regimen as Regimen

__all__ = [
    "CMT_CENTRAL",
    "CMT_DEPOT",
    "CMT_PERIPHERAL",
    "EXTENDED_INTERVAL",
    "LABEL_RATES_300",
    "LABEL_RATES_600",
    "MAINTENANCE_DOSE",
    "PRESETS",
    "SC_DOSE",
    "SECOND_START_DAY",
    "SHORT_RATES_600",
    "STARTING_DOSE",
    "Dose",
    "DoseEvents",
    "GuidedRule",
    "IVInfusion",
    "NonmemData",
    "RateSteps",
    "RateTable",
    "Regimen",
    "SCInjection",
    "next_guided_date",
    "next_guided_dose",
    "read_nonmem",
]
