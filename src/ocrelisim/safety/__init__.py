"""Safety: infusion and injection reactions, infections, and the pre-dose check (issue 13).

The pre-dose check (:func:`check`) answers for one patient record "may we dose today, and what
must be checked or watched?" under the US or EU label, with every answer traced to its rule
(``rules.yaml``) and source. It reports what the label rules and sources give; it is not a
treatment decision. The reaction model (:func:`sample_infusion_reactions`,
:func:`sample_course_reactions`) draws infusion-related reactions (IV, by infusion number, dose,
protocol and premedication) and SC injection reactions, with the infusion's actual duration
under the label's management; the infection model (:func:`sample_infections`) draws serious and
non-serious infections from IgG trajectories (more while IgG is below the LLN). For research
and education only; not clinical advice.
"""

from .check import SYMPTOM_CODES as SYMPTOM_CODES
from .check import Advice as Advice
from .check import Card as Card
from .check import CheckResult as CheckResult
from .check import Interval as Interval
from .check import TraceEntry as TraceEntry
from .check import check as check
from .check import rule_ids as rule_ids
from .infections import rates_per_100py as rates_per_100py
from .infections import sample_infections as sample_infections
from .infections import serious_rate as serious_rate
from .parameters import INFECTIONS as INFECTIONS
from .parameters import REACTIONS as REACTIONS
from .parameters import InfectionParameters as InfectionParameters
from .parameters import ReactionParameters as ReactionParameters
from .reactions import Visit as Visit
from .reactions import label_course as label_course
from .reactions import sample_course_reactions as sample_course_reactions
from .reactions import sample_infusion_reactions as sample_infusion_reactions
from .record import PatientRecord as PatientRecord
from .record import load_record as load_record
from .record import parse_record as parse_record
from .rules import Rule as Rule
from .rules import rules as rules

__all__ = [
    "INFECTIONS",
    "REACTIONS",
    "SYMPTOM_CODES",
    "Advice",
    "Card",
    "CheckResult",
    "InfectionParameters",
    "Interval",
    "PatientRecord",
    "ReactionParameters",
    "Rule",
    "TraceEntry",
    "Visit",
    "check",
    "label_course",
    "load_record",
    "parse_record",
    "rates_per_100py",
    "rule_ids",
    "rules",
    "sample_course_reactions",
    "sample_infections",
    "sample_infusion_reactions",
    "serious_rate",
]
